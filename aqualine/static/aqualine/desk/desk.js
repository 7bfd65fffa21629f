/* The agent desktop (templates/desk/desk.html): the agent's state and its buttons, the call bar,
 * the screen pop and the knowledge search. No build step, no dependencies (common.js first).
 *
 * State comes from data-state-url (read on every WebSocket (re)connection and when the switch
 * says events may have been missed) and from the switch's events on /ws/desk/agent/:
 *   call.offered          the screen pop: the intake form opens in the frame with the caller's
 *                         number and the call ID (?caller=...&call_id=...), the call bar fills
 *   agent.state_changed   the state, its start, the call bar (talking, missed)
 *   call.ended            the call bar
 * A button is enabled only when the agent's state allows its command (#desk-commands, from the
 * ACD's transition table); hang up only while talking. Texts come from #desk-texts.
 * performance marks "desk-pop:<call id>" (bar shown) and "desk-pop-loaded:<call id>" (intake
 * form loaded) let bench/screen_pop.py measure the pop.
 */
(function () {
  "use strict";

  var root = document.getElementById("desk");
  if (!root || !window.AqDesk) {
    return;
  }
  var Aq = window.AqDesk;
  var commands = JSON.parse(document.getElementById("desk-commands").textContent);
  var texts = JSON.parse(document.getElementById("desk-texts").textContent);
  var me = root.getAttribute("data-agent");
  var csrf = root.getAttribute("data-csrf");
  var CALL_KEY = "aqualine.desk.call." + me;
  var EXT_KEY = "aqualine.desk.extension." + me;

  function $(id) {
    return document.getElementById(id);
  }

  var el = {
    state: $("desk-state"),
    duration: $("desk-duration"),
    wrapup: $("desk-wrapup"),
    login: $("desk-login"),
    extension: $("desk-extension"),
    extShown: $("desk-ext-shown"),
    ext: $("desk-ext"),
    reason: $("desk-reason"),
    error: $("desk-error"),
    switchDown: $("desk-switch-down"),
    call: $("desk-call"),
    callStatus: $("desk-call-status"),
    caller: $("desk-caller"),
    ivr: $("desk-ivr"),
    queue: $("desk-queue"),
    waited: $("desk-waited"),
    callDuration: $("desk-call-duration"),
    hangup: $("desk-hangup"),
    pop: $("desk-pop"),
    popEmpty: $("desk-pop-empty"),
    popNumber: $("desk-pop-number"),
    popLink: $("desk-pop-link"),
    popClose: $("desk-pop-close"),
    frame: $("desk-pop-frame"),
    popNext: $("desk-pop-next"),
  };
  var noCallText = el.callStatus.textContent;

  var skew = 0; // server clock minus this browser's clock (ms)
  var agent = { state: "logged_out", reason: "", extension: "", call_id: "" };
  var sinceMs = null;
  var wrapUntilMs = null;
  var call = null; // {call_id, caller, ivr_path, queue, waited, state, startMs}
  var switchOk = true;
  var loaded = false; // the state has been read once
  var inFlight = false;

  try {
    el.extension.value = window.localStorage.getItem(EXT_KEY) || "";
  } catch (ignored) {
    // storage may be disabled
  }

  function serverNow() {
    return Date.now() + skew;
  }

  function parse(iso) {
    var ms = iso ? Date.parse(iso) : NaN;
    return isNaN(ms) ? null : ms;
  }

  // --- rendering ------------------------------------------------------------------------------

  function stateLabel() {
    var label = texts.states[agent.state] || agent.state;
    if (agent.state === "not_ready" && agent.reason) {
      label += " · " + (texts.reasons[agent.reason] || agent.reason);
    }
    return label;
  }

  function allowed(command) {
    var list = commands[agent.state] || [];
    return list.indexOf(command) >= 0;
  }

  function render() {
    el.state.textContent = stateLabel();
    el.state.setAttribute("data-state", agent.state);
    root.setAttribute("data-state", agent.state);
    root.toggleAttribute("data-busy", inFlight); // a command is on its way
    var loggedIn = agent.state !== "logged_out";
    el.login.hidden = loggedIn;
    el.extShown.hidden = !loggedIn || !agent.extension;
    el.ext.textContent = agent.extension || "";
    document.querySelectorAll("#desk [data-command]").forEach(function (button) {
      button.disabled = inFlight || !switchOk || !allowed(button.getAttribute("data-command"));
    });
    el.reason.disabled = inFlight || !switchOk || !allowed("not_ready");
    el.hangup.disabled = inFlight || !switchOk || agent.state !== "talking";
    el.switchDown.hidden = switchOk;
    root.setAttribute("data-switch", !loaded ? "unknown" : switchOk ? "up" : "down");
    renderCall();
    tick();
  }

  function renderCall() {
    if (!call) {
      el.call.setAttribute("data-call", "none");
      el.callStatus.textContent = noCallText;
      [el.caller, el.ivr, el.queue, el.waited, el.callDuration].forEach(function (node) {
        node.textContent = "";
      });
      return;
    }
    el.call.setAttribute("data-call", call.state);
    el.call.setAttribute("data-call-id", call.call_id);
    el.callStatus.textContent = {
      offered: texts.call_offered,
      talking: texts.call_talking,
      missed: texts.call_missed,
      ended: texts.call_ended,
    }[call.state] || "";
    el.caller.textContent = call.caller || "";
    el.ivr.textContent = call.ivr_path || "";
    el.queue.textContent = (texts.queues || {})[call.queue] || call.queue || "";
    el.waited.textContent =
      call.waited !== undefined && call.waited !== null
        ? texts.waited.replace("{seconds}", String(Math.round(call.waited)))
        : "";
  }

  function tick() {
    var now = serverNow();
    el.duration.textContent = sinceMs === null ? "--:--" : Aq.clock((now - sinceMs) / 1000);
    if (agent.state === "after_call_work" && wrapUntilMs !== null) {
      var left = Math.max(0, Math.ceil((wrapUntilMs - now) / 1000));
      el.wrapup.textContent = texts.wrap_up_left.replace("{seconds}", String(left));
      el.wrapup.setAttribute("data-seconds", String(left));
      el.wrapup.hidden = false;
    } else {
      el.wrapup.hidden = true;
    }
    if (call && (call.state === "offered" || call.state === "talking") && call.startMs) {
      el.callDuration.textContent = Aq.clock((now - call.startMs) / 1000);
    } else if (call) {
      el.callDuration.textContent = "";
    }
  }
  setInterval(tick, 250);

  function showError(text) {
    el.error.textContent = text || "";
    el.error.hidden = !text;
  }

  // --- the agent's state ------------------------------------------------------------------------

  function applyAgent(view) {
    if (!view) {
      return;
    }
    agent = {
      state: view.state || "logged_out",
      reason: view.reason || "",
      extension: view.extension || "",
      call_id: view.call_id || "",
      queue: view.queue || "",
    };
    sinceMs = parse(view.since);
    wrapUntilMs = parse(view.wrap_up_until);
  }

  function remember(c) {
    try {
      window.sessionStorage.setItem(CALL_KEY, JSON.stringify(c));
    } catch (ignored) {
      // storage may be disabled
    }
  }

  function remembered(callId) {
    try {
      var c = JSON.parse(window.sessionStorage.getItem(CALL_KEY) || "null");
      return c && c.call_id === callId ? c : null;
    } catch (ignored) {
      return null;
    }
  }

  var loading = null;

  function loadState() {
    if (loading) {
      return loading;
    }
    loading = fetch(root.getAttribute("data-state-url"), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("desk state: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        var server = parse(data.now);
        if (server !== null) {
          skew = server - Date.now();
        }
        switchOk = Boolean(data.switch_ok);
        loaded = true;
        applyAgent(data.agent);
        if (agent.call_id && (agent.state === "ringing" || agent.state === "talking")) {
          if (!call || call.call_id !== agent.call_id) {
            var known = remembered(agent.call_id);
            var info = data.call || {};
            call = known || { call_id: agent.call_id, caller: info.caller || "", queue: agent.queue };
            if (!known && call.caller) {
              openPop(call);
            }
          }
          call.state = agent.state === "talking" ? "talking" : "offered";
          call.startMs = sinceMs;
        }
        render();
      })
      .catch(function (error) {
        if (window.console) {
          window.console.warn(error);
        }
      })
      .then(function () {
        loading = null;
      });
    return loading;
  }

  // --- the screen pop -----------------------------------------------------------------------------

  function intakeUrl(c) {
    return (
      root.getAttribute("data-intake-url") +
      "?caller=" + encodeURIComponent(c.caller) +
      "&call_id=" + encodeURIComponent(c.call_id)
    );
  }

  function frameDirty() {
    // Unsaved input in the intake form of the previous call (same origin: readable).
    try {
      var form = el.frame.contentDocument && el.frame.contentDocument.getElementById("intake-form");
      if (!form) {
        return false;
      }
      return Array.prototype.some.call(form.elements, function (field) {
        var type = (field.type || "").toLowerCase();
        if (type === "hidden" || type === "submit" || type === "button") {
          return false;
        }
        if (field.tagName === "SELECT") {
          return Array.prototype.some.call(field.options, function (option) {
            return option.selected !== option.defaultSelected;
          });
        }
        if (type === "checkbox" || type === "radio") {
          return field.checked !== field.defaultChecked;
        }
        return field.value !== field.defaultValue;
      });
    } catch (ignored) {
      return false;
    }
  }

  function openPop(c) {
    if (!c.caller) {
      return;
    }
    var url = intakeUrl(c);
    var current = el.frame.getAttribute("data-call-id");
    if (current && current !== c.call_id && !el.pop.hidden && frameDirty()) {
      // Never throw away what the agent is typing: offer the new call's form in a new tab.
      var link = el.popNext.querySelector("a");
      link.href = url;
      link.textContent = texts.next_call.replace("{number}", c.caller);
      el.popNext.hidden = false;
      return;
    }
    el.popNext.hidden = true;
    el.popNumber.textContent = c.caller;
    el.popLink.href = url;
    el.pop.hidden = false;
    el.popEmpty.hidden = true;
    el.pop.setAttribute("data-call-id", c.call_id);
    if (el.frame.getAttribute("data-call-id") !== c.call_id) {
      el.frame.setAttribute("data-call-id", c.call_id);
      el.frame.setAttribute("data-loaded", "");
      el.frame.src = url;
    }
  }

  el.frame.addEventListener("load", function () {
    // The intake page in the frame: the desktop keeps its own bar and menu, hide the frame's.
    try {
      var doc = el.frame.contentDocument;
      var style = doc.createElement("style");
      style.textContent =
        ".topbar, .sidebar { display: none !important; } .content { padding: .6rem; }";
      doc.head.appendChild(style);
    } catch (ignored) {
      // another origin (never here): leave it as it is
    }
    var callId = el.frame.getAttribute("data-call-id") || "";
    el.frame.setAttribute("data-loaded", callId);
    if (callId && window.performance && performance.mark) {
      performance.mark("desk-pop-loaded:" + callId);
    }
  });

  el.popClose.addEventListener("click", function () {
    el.pop.hidden = true;
    el.popNext.hidden = true;
    el.popEmpty.hidden = false;
    el.frame.removeAttribute("data-call-id");
    el.frame.src = "about:blank";
  });

  // --- events ------------------------------------------------------------------------------------

  function onEvent(event) {
    if (event.type === "call.offered") {
      if (event.agent_id !== me) {
        return;
      }
      call = {
        call_id: event.call_id,
        caller: event.caller,
        ivr_path: event.ivr_path,
        queue: event.queue,
        waited: event.waited,
        state: "offered",
        startMs: parse(event.at),
      };
      remember(call);
      openPop(call);
      render();
      if (window.performance && performance.mark) {
        performance.mark("desk-pop:" + event.call_id);
      }
    } else if (event.type === "agent.state_changed") {
      if (event.agent_id !== me) {
        return;
      }
      var old = event.old_state;
      agent.state = event.new_state;
      agent.reason = event.reason || "";
      agent.extension = event.new_state === "logged_out" ? "" : event.extension || agent.extension;
      agent.call_id = event.call_id || "";
      sinceMs = parse(event.at);
      wrapUntilMs = null;
      if (call && event.call_id === call.call_id) {
        if (event.new_state === "talking") {
          call.state = "talking";
          call.startMs = sinceMs;
        } else if (old === "ringing") {
          call.state = "missed";
        } else if (old === "talking") {
          call.state = "ended";
        }
      }
      if (event.new_state === "after_call_work") {
        loadState(); // the wrap-up limit (per queue) comes with the state
      } else if (event.new_state === "talking" && (!call || call.call_id !== event.call_id)) {
        loadState(); // the offer was missed (a reconnection): the call comes with the state
      }
      render();
    } else if (event.type === "call.ended") {
      if (call && call.call_id === event.call_id) {
        call.state = call.state === "talking" || call.state === "ended" ? "ended" : "missed";
        render();
      }
    }
  }

  Aq.socket(root.getAttribute("data-ws-path"), {
    root: root,
    open: loadState,
    message: function (data) {
      if (data.type === "event") {
        onEvent(data.event || {});
      } else if (data.type === "resync") {
        switchOk = true;
        loadState();
      } else if (data.type === "link") {
        switchOk = Boolean(data.up);
        render();
      }
    },
  });

  // --- commands ------------------------------------------------------------------------------------

  function send(command) {
    var fields = { command: command };
    if (command === "login") {
      fields.extension = el.extension.value.trim();
      try {
        window.localStorage.setItem(EXT_KEY, fields.extension);
      } catch (ignored) {
        // storage may be disabled
      }
    } else if (command === "not_ready") {
      fields.reason = el.reason.value;
    }
    inFlight = true;
    render();
    Aq.post(root.getAttribute("data-command-url"), fields, csrf)
      .then(function (result) {
        if (result.data && result.data.ok) {
          showError("");
          applyAgent(result.data.agent);
        } else {
          showError((result.data && result.data.error) || texts.command_failed);
        }
      })
      .catch(function () {
        showError(texts.command_failed);
      })
      .then(function () {
        inFlight = false;
        render();
      });
  }

  document.querySelectorAll("#desk [data-command]").forEach(function (button) {
    button.addEventListener("click", function () {
      send(button.getAttribute("data-command"));
    });
  });

  el.extension.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      send("login");
    }
  });

  el.hangup.addEventListener("click", function () {
    inFlight = true;
    render();
    Aq.post(root.getAttribute("data-hangup-url"), {}, csrf)
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
      .then(function () {
        inFlight = false;
        render();
      });
  });

  // --- knowledge search ------------------------------------------------------------------------------

  var searchUrl = root.getAttribute("data-search-url");
  var kbForm = $("desk-kb-form");
  if (searchUrl && kbForm) {
    var kbInput = $("desk-kb-q");
    var kbResults = $("desk-kb-results");
    var kbTimer = null;
    var kbSeq = 0;

    var search = function () {
      var query = kbInput.value.trim();
      var seq = ++kbSeq;
      if (!query) {
        kbResults.innerHTML = "";
        return;
      }
      fetch(searchUrl + "?limit=8&q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("knowledge search: HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          if (seq !== kbSeq) {
            return;
          }
          kbResults.innerHTML = "";
          if (!data.results.length) {
            var none = document.createElement("li");
            none.className = "muted";
            none.textContent = texts.no_results;
            kbResults.appendChild(none);
          }
          data.results.forEach(function (hit) {
            var item = document.createElement("li");
            var link = document.createElement("a");
            link.href = hit.url;
            link.target = "_blank";
            link.rel = "noopener";
            link.innerHTML = hit.title_html; // escaped by the server except <mark>
            var snippet = document.createElement("div");
            snippet.className = "snippet";
            snippet.innerHTML = hit.snippet_html; // escaped by the server except <mark>
            item.appendChild(link);
            item.appendChild(snippet);
            kbResults.appendChild(item);
          });
        })
        .catch(function () {
          if (seq === kbSeq) {
            kbResults.textContent = texts.search_failed;
          }
        });
    };

    kbForm.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(kbTimer);
      search();
    });
    kbInput.addEventListener("input", function () {
      clearTimeout(kbTimer);
      kbTimer = setTimeout(search, 300);
    });
  }

  render();
})();
