/* The supervisor's monitor (templates/desk/monitor.html): every agent's state and time in it,
 * the current call, today's counts; the queues; today's missed calls. No build step (common.js
 * first).
 *
 * The tables come from data-state-url, read on every WebSocket (re)connection, when the switch
 * says events may have been missed, and (coalesced) after events. An agent.state_changed event
 * updates its row at once. Force buttons are enabled only in states where the command works
 * (#mon-commands, from the ACD's transition table). When a call ends unanswered, the missed-call
 * list (data-missed-url) is read again; "mark handled" posts without leaving the page.
 */
(function () {
  "use strict";

  var root = document.getElementById("monitor");
  if (!root || !window.AqDesk) {
    return;
  }
  var Aq = window.AqDesk;
  var commands = JSON.parse(document.getElementById("mon-commands").textContent);
  var texts = JSON.parse(document.getElementById("desk-texts").textContent);
  var csrf = root.getAttribute("data-csrf");
  var agentsBody = document.querySelector("#mon-agents tbody");
  var queuesBody = document.querySelector("#mon-queues tbody");
  var errorBox = document.getElementById("mon-error");
  var switchDown = document.getElementById("mon-switch-down");
  var REFRESH_MS = 400;

  var skew = 0;
  var agents = []; // the agents' views, with sinceMs
  var queues = []; // with fetchedMs
  var switchOk = true;

  function serverNow() {
    return Date.now() + skew;
  }

  function parse(iso) {
    var ms = iso ? Date.parse(iso) : NaN;
    return isNaN(ms) ? null : ms;
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) {
      td.className = className;
    }
    td.textContent = text === undefined || text === null ? "" : String(text);
    row.appendChild(td);
    return td;
  }

  function stateLabel(agent) {
    var label = texts.states[agent.state] || agent.state;
    if (agent.state === "not_ready" && agent.reason) {
      label += " · " + (texts.reasons[agent.reason] || agent.reason);
    }
    return label;
  }

  function agentRow(agent) {
    var row = document.createElement("tr");
    row.setAttribute("data-agent", agent.agent_id);
    row.setAttribute("data-state", agent.state);
    cell(row, agent.agent_id);
    cell(row, agent.name);
    cell(row, agent.extension);
    var state = cell(row, "");
    var badge = document.createElement("span");
    badge.className = "mon-state";
    badge.setAttribute("data-state", agent.state);
    badge.textContent = stateLabel(agent);
    state.appendChild(badge);
    cell(row, "", "mon-since num");
    var busyWithCall = agent.state === "ringing" || agent.state === "talking";
    cell(row, busyWithCall && agent.call ? agent.call.caller : "", "mon-caller");
    cell(row, "", "mon-call-duration num");
    cell(row, agent.answered_today || 0, "num");
    cell(row, agent.missed_today || 0, "num");
    cell(row, Aq.clock(agent.talk_seconds_today || 0), "num");
    var actions = cell(row, "", "mon-actions");
    ["force_sign_off", "force_ready"].forEach(function (command) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = texts[command];
      button.setAttribute("data-force", command);
      button.disabled = !switchOk || (commands[agent.state] || []).indexOf(command) < 0;
      button.addEventListener("click", function () {
        force(agent.agent_id, command, button);
      });
      actions.appendChild(button);
    });
    return row;
  }

  function renderAgents() {
    agentsBody.innerHTML = "";
    agents.forEach(function (agent) {
      agentsBody.appendChild(agentRow(agent));
    });
    tick();
  }

  function renderQueues() {
    queuesBody.innerHTML = "";
    queues.forEach(function (queue) {
      var row = document.createElement("tr");
      row.setAttribute("data-queue", queue.name);
      cell(row, queue.display_name || queue.name);
      cell(row, queue.staffed, "num");
      cell(row, queue.idle, "num");
      cell(row, (queue.callers || []).length, "num mon-waiting");
      cell(row, "", "num mon-longest");
      queuesBody.appendChild(row);
    });
    tick();
  }

  function render() {
    switchDown.hidden = switchOk;
    root.setAttribute("data-switch", switchOk ? "up" : "down");
    renderAgents();
    renderQueues();
  }

  function tick() {
    var now = serverNow();
    agents.forEach(function (agent, index) {
      var row = agentsBody.children[index];
      if (!row) {
        return;
      }
      row.querySelector(".mon-since").textContent =
        agent.sinceMs === null ? "" : Aq.clock((now - agent.sinceMs) / 1000);
      row.querySelector(".mon-call-duration").textContent =
        agent.state === "talking" && agent.sinceMs !== null
          ? Aq.clock((now - agent.sinceMs) / 1000)
          : "";
    });
    queues.forEach(function (queue, index) {
      var row = queuesBody.children[index];
      if (!row) {
        return;
      }
      var waiting = (queue.callers || []).length;
      var longest = waiting ? (queue.longest_wait || 0) + (Date.now() - queue.fetchedMs) / 1000 : 0;
      row.querySelector(".mon-longest").textContent = waiting ? Aq.clock(longest) : "";
    });
  }
  setInterval(tick, 500);

  // --- reading the state ----------------------------------------------------------------------

  var loading = false;
  var again = false;
  var timer = null;

  function load() {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    fetch(root.getAttribute("data-state-url"), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("monitor state: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        var server = parse(data.now);
        if (server !== null) {
          skew = server - Date.now();
        }
        switchOk = Boolean(data.switch_ok);
        agents = data.agents.map(function (agent) {
          agent.sinceMs = parse(agent.since);
          return agent;
        });
        var fetched = Date.now();
        queues = data.queues.map(function (queue) {
          queue.fetchedMs = fetched;
          return queue;
        });
        render();
      })
      .catch(function (error) {
        if (window.console) {
          window.console.warn(error);
        }
      })
      .then(function () {
        loading = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(load, REFRESH_MS);
  }

  function agentOf(agentId) {
    var found = null;
    agents.forEach(function (candidate) {
      if (candidate.agent_id === agentId) {
        found = candidate;
      }
    });
    return found;
  }

  function onEvent(event) {
    var agent = event.agent_id ? agentOf(event.agent_id) : null;
    if (event.type === "call.offered") {
      if (agent) {
        agent.call = { call_id: event.call_id, caller: event.caller };
        renderAgents();
      }
    } else if (event.type === "agent.state_changed") {
      if (agent) {
        agent.state = event.new_state;
        agent.reason = event.reason || "";
        agent.extension = event.new_state === "logged_out" ? "" : event.extension;
        agent.call_id = event.call_id || "";
        agent.sinceMs = parse(event.at);
        renderAgents();
      }
    } else if (event.type === "call.ended" && event.outcome !== "answered") {
      refreshMissed(1500);
      refreshMissed(6000); // the switch writes the call record just after the call ends
    }
    schedule(); // counts, calls and queues
  }

  Aq.socket(root.getAttribute("data-ws-path"), {
    root: root,
    open: load,
    message: function (data) {
      if (data.type === "event") {
        onEvent(data.event || {});
      } else if (data.type === "resync") {
        load();
      } else if (data.type === "link") {
        switchOk = Boolean(data.up);
        render();
      }
    },
  });

  // --- commands ----------------------------------------------------------------------------------

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function force(agentId, command, button) {
    var url = root
      .getAttribute("data-force-url")
      .replace("AGENT", encodeURIComponent(agentId))
      .replace("COMMAND", command);
    button.disabled = true;
    Aq.post(url, {}, csrf)
      .then(function (result) {
        if (result.data && result.data.ok) {
          showError("");
        } else {
          showError((result.data && result.data.error) || texts.command_failed);
        }
      })
      .catch(function () {
        showError(texts.command_failed);
      })
      .then(load);
  }

  // --- missed calls ------------------------------------------------------------------------------

  function swapMissed(html) {
    var current = document.getElementById("desk-missed");
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("desk-missed");
    if (current && fresh) {
      current.replaceWith(document.importNode(fresh, true));
    }
  }

  function refreshMissed(delay) {
    setTimeout(function () {
      fetch(root.getAttribute("data-missed-url"), { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html) {
            swapMissed(html);
          }
        })
        .catch(function () {});
    }, delay || 0);
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-missed-form")) {
      return;
    }
    event.preventDefault();
    Aq.post(form.action, {}, csrf, { "X-Requested-With": "fetch" })
      .then(function (result) {
        if (result.ok && typeof result.data === "string") {
          swapMissed(result.data);
        } else {
          form.submit();
        }
      })
      .catch(function () {
        form.submit();
      });
  });
})();
