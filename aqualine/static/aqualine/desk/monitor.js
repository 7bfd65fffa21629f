/* The supervisor's monitor (templates/desk/monitor.html): every agent's state and time in it,
 * the current call, today's counts; the queues; today's missed calls. No build step (common.js
 * first).
 *
 * The tables come from data-state-url, read on every WebSocket (re)connection, when the switch
 * says events may have been missed, and (coalesced) after events. An agent.state_changed event
 * updates its row at once. Force buttons are enabled only in states where the command works
 * (#mon-commands, from the ACD's transition table). When a call ends unanswered, the missed-call
 * list (data-missed-url) is read again; "mark handled" posts without leaving the page.
 *
 * Supervision (when the page has data-supervise-url): each agent's live call has listen in /
 * whisper / barge in buttons (button[data-supervise=listen|whisper|barge]) that ring the
 * supervisor's extension (#mon-extension, else the one they are logged in on) into the call,
 * and stop monitoring (button[data-supervise=stop]); call.control events "supervising" and
 * "supervision_ended" mark the mode in use (aria-pressed). With data-dial-url, a missed call's
 * "call back" (button[data-dial]) dials its number from the supervisor's own extension.
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
  var me = root.getAttribute("data-me") || "";
  var superviseUrl = root.getAttribute("data-supervise-url");
  var stopUrl = root.getAttribute("data-stop-url");
  var dialUrl = root.getAttribute("data-dial-url");
  var extensionInput = document.getElementById("mon-extension");
  var noticeBox = document.getElementById("mon-notice");
  var MODES = ["listen", "whisper", "barge"];
  var EXT_KEY = "aqualine.monitor.extension." + me;
  var supervised = {}; // call ID -> the mode this supervisor is in

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
    if (superviseUrl && agent.agent_id !== me && agent.state === "talking" && agent.call_id) {
      MODES.concat(["stop"]).forEach(function (mode) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = texts.supervise[mode];
        button.setAttribute("data-supervise", mode);
        button.setAttribute("data-call-id", agent.call_id);
        if (mode !== "stop") {
          button.setAttribute("aria-pressed", String(supervised[agent.call_id] === mode));
        }
        button.disabled = !switchOk;
        button.addEventListener("click", function () {
          supervise(agent, mode, button);
        });
        actions.appendChild(button);
      });
    }
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
          if (agent.agent_id === me && extensionInput) {
            extensionInput.placeholder = agent.extension || "";
          }
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
    } else if (event.type === "call.control") {
      var mode = MODES.indexOf(event.detail) >= 0 ? event.detail : event.target;
      if (event.action === "supervising" && MODES.indexOf(mode) >= 0) {
        supervised[event.call_id] = mode; // (any supervisor's: the call is being monitored)
        renderAgents();
      } else if (event.action === "supervision_ended") {
        delete supervised[event.call_id];
        renderAgents();
      }
    } else if (event.type === "call.ended") {
      delete supervised[event.call_id];
    }
    if (event.type === "call.ended" && event.outcome !== "answered") {
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

  function showNotice(text) {
    noticeBox.textContent = text || "";
    noticeBox.hidden = !text;
  }

  if (extensionInput) {
    try {
      extensionInput.value = window.localStorage.getItem(EXT_KEY) || "";
    } catch (ignored) {
      // storage may be disabled
    }
    extensionInput.addEventListener("change", function () {
      try {
        window.localStorage.setItem(EXT_KEY, extensionInput.value.trim());
      } catch (ignored) {
        // storage may be disabled
      }
    });
  }

  function supervise(agent, mode, button) {
    var callId = agent.call_id;
    var url =
      mode === "stop"
        ? stopUrl.replace("CALL", encodeURIComponent(callId))
        : superviseUrl.replace("CALL", encodeURIComponent(callId)).replace("MODE", mode);
    var fields = mode === "stop" ? {} : { extension: extensionInput ? extensionInput.value.trim() : "" };
    button.disabled = true;
    Aq.post(url, fields, csrf)
      .then(function (result) {
        if (result.data && result.data.ok) {
          showError("");
          if (mode === "stop") {
            delete supervised[callId];
            showNotice("");
          } else {
            supervised[callId] = mode;
            showNotice(
              texts.supervising
                .replace("{agent}", agent.agent_id + (agent.name ? " " + agent.name : ""))
                .replace("{mode}", texts.supervise[mode])
            );
          }
        } else {
          showError((result.data && result.data.error) || texts.command_failed);
        }
      })
      .catch(function () {
        showError(texts.command_failed);
      })
      .then(renderAgents);
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-dial]") : null;
    if (!button || !dialUrl) {
      return;
    }
    var number = button.getAttribute("data-dial");
    button.disabled = true;
    Aq.post(dialUrl, { number: number }, csrf)
      .then(function (result) {
        if (result.data && result.data.ok) {
          showError("");
          showNotice(texts.control.dialing.replace("{target}", number));
        } else {
          showError((result.data && result.data.error) || texts.command_failed);
        }
      })
      .catch(function () {
        showError(texts.command_failed);
      })
      .then(function () {
        button.disabled = false;
      });
  });

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
