/* The agent desktop (templates/desk/desk.html): the agent's state and its buttons, the call bar,
 * the screen pop and the knowledge search. No build step, no dependencies (common.js first).
 *
 * State comes from data-state-url (read on every WebSocket (re)connection and when the switch
 * says events may have been missed) and from the switch's events on /ws/desk/agent/:
 *   call.offered          the screen pop: the intake form opens in the frame with the caller's
 *                         number and the call ID (?caller=...&call_id=...), the call bar fills
 *   agent.state_changed   the state, its start, the call bar (talking, missed)
 *   call.ended            the call bar
 *   call.control          call control on the agent's call: held, unheld, transferring,
 *                         transferred, transfer_failed, consulting, consult_answered,
 *                         consult_failed, consult_ended, conference, dialing, dial_answered,
 *                         dial_failed (#desk-control-status, #desk-call[data-control])
 * A button is enabled only when the agent's state allows its command (#desk-commands, from the
 * ACD's transition table); hang up only while talking. Texts come from #desk-texts.
 *
 * Call control (when the page has data-call-url): hold / retrieve, transfer and consult (a
 * dialog that lists the other agents with their states, or takes an extension or a number),
 * complete the transfer, three-party call, cancel the consultation; click-to-dial and call
 * back the screen pop's caller. Their buttons follow the call's control state (`ctl`, kept per
 * call in sessionStorage so that a reload keeps it); a refusal shows in #desk-call-error (in
 * #desk-target-error while the dialog is open).
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
  var CTL_KEY = "aqualine.desk.control." + me;
  var DIAL_STATES = ["idle", "not_ready", "after_call_work"]; // where click-to-dial works

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
    controlStatus: $("desk-control-status"),
    callError: $("desk-call-error"),
    dialNumber: $("desk-dial-number"),
    dial: $("desk-dial"),
    callback: $("desk-callback"),
    dialog: $("desk-target-dialog"),
    dialogTitle: $("desk-target-title"),
    targetAgents: $("desk-target-agents"),
    target: $("desk-target"),
    targetError: $("desk-target-error"),
    targetGo: $("desk-target-go"),
    targetCancel: $("desk-target-cancel"),
  };
  var callUrl = root.getAttribute("data-call-url");
  var noCallText = el.callStatus.textContent;

  var skew = 0; // server clock minus this browser's clock (ms)
  var agent = { state: "logged_out", reason: "", extension: "", call_id: "" };
  var sinceMs = null;
  var wrapUntilMs = null;
  var call = null; // {call_id, caller, ivr_path, queue, waited, state, startMs}
  var switchOk = true;
  var loaded = false; // the state has been read once
  var inFlight = false;
  // The control state of the agent's call: held, a consultation ({target, answered}), a
  // three-party call, an outbound call still ringing (the number), and the last notice
  // ({key, target, detail}: transferring, a failure, ...).
  var ctl = emptyControl("");
  var pendingDial = ""; // the number of a click-to-dial on its way to the switch
  var controlEvents = 0; // call.control events applied (the switch's word beats a guess)

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
    renderControlButtons();
    el.switchDown.hidden = switchOk;
    root.setAttribute("data-switch", !loaded ? "unknown" : switchOk ? "up" : "down");
    renderCall();
    tick();
  }

  function renderCall() {
    renderControlStatus();
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
    el.call.toggleAttribute("data-outbound", Boolean(call.outbound));
    el.callStatus.textContent = {
      offered: texts.call_offered,
      dialing: texts.call_dialing,
      talking: call.outbound ? texts.call_dialing : texts.call_talking,
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
    var live = call && (call.state === "offered" || call.state === "dialing" || call.state === "talking");
    if (live && call.startMs) {
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
            var outbound = info.direction === "outbound" || (pendingDial && agent.state === "talking");
            call = known || {
              call_id: agent.call_id,
              caller: outbound ? info.callee || pendingDial : info.caller || "",
              queue: agent.queue,
              outbound: outbound,
            };
            controlFor(call.call_id);
            if (!known && call.caller && !call.outbound) {
              openPop(call);
            }
          }
          call.state = agent.state === "talking" ? "talking" : "offered";
          call.startMs = sinceMs;
          if (data.call && data.call.control) {
            syncControl(call.call_id, data.call.control); // held / consulting after a reload
          }
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
    if (event.type === "call.control") {
      if (event.agent_id === me) {
        onControl(event);
      }
      return;
    }
    if (event.type === "call.offered") {
      if (event.agent_id !== me) {
        return;
      }
      controlFor(event.call_id);
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
      if (call && event.call_id === call.call_id && old === "talking") {
        clearControlFlags(); // the call is over for this agent (hung up, transferred)
      }
      if (event.new_state === "after_call_work") {
        loadState(); // the wrap-up limit (per queue) comes with the state
      } else if (event.new_state === "talking" && (!call || call.call_id !== event.call_id)) {
        if (pendingDial && event.call_id) {
          startOutbound(event.call_id, pendingDial, sinceMs); // click-to-dial: the agent's leg
        } else {
          loadState(); // the offer was missed (a reconnection): the call comes with the state
        }
      } else if (event.new_state === "ringing" && event.call_id) {
        // A call transferred to this agent may come without call.offered: read it if the
        // offer has not arrived shortly after the ring.
        var ringing = event.call_id;
        setTimeout(function () {
          if (agent.state === "ringing" && agent.call_id === ringing && (!call || call.call_id !== ringing)) {
            loadState();
          }
        }, 1000);
      }
      render();
    } else if (event.type === "call.ended") {
      if (call && call.call_id === event.call_id) {
        if (call.outbound) {
          call.state = "ended";
        } else {
          call.state = call.state === "talking" || call.state === "ended" ? "ended" : "missed";
        }
        clearControlFlags();
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

  // --- call control --------------------------------------------------------------------------------

  function emptyControl(callId) {
    return {
      call_id: callId,
      held: false,
      consult: null,
      conference: false,
      dialing: "",
      notice: null,
    };
  }

  function saveControl() {
    try {
      window.sessionStorage.setItem(CTL_KEY, JSON.stringify(ctl));
    } catch (ignored) {
      // storage may be disabled
    }
  }

  function controlFor(callId) {
    // The control state of `callId`: the one kept (a reload), else a fresh one.
    if (ctl.call_id === callId) {
      return;
    }
    var kept = null;
    try {
      kept = JSON.parse(window.sessionStorage.getItem(CTL_KEY) || "null");
    } catch (ignored) {
      kept = null;
    }
    ctl = kept && kept.call_id === callId ? kept : emptyControl(callId);
    saveControl();
  }

  function clearControlFlags() {
    ctl.held = false;
    ctl.consult = null;
    ctl.conference = false;
    ctl.dialing = "";
    saveControl();
  }

  function notice(key, target, detail) {
    ctl.notice = key ? { key: key, target: target || "", detail: detail || "" } : null;
  }

  function onControl(event) {
    if (event.action === "dialing" && (!call || call.call_id !== event.call_id)) {
      startOutbound(event.call_id, event.target || pendingDial, serverNow());
    }
    if (!call || call.call_id !== event.call_id) {
      return; // not the call on this desk (an old one)
    }
    controlFor(event.call_id);
    controlEvents += 1;
    var target = event.target || "";
    switch (event.action) {
      case "held":
        ctl.held = true;
        notice(null);
        break;
      case "unheld":
        ctl.held = false;
        notice(null);
        break;
      case "transferring":
        notice("transferring", target);
        break;
      case "transferred":
        ctl.consult = null;
        ctl.conference = false;
        notice("transferred", target);
        break;
      case "transfer_failed":
        notice("transfer_failed", target, event.detail);
        break;
      case "consulting":
        ctl.consult = { target: target, answered: false };
        ctl.held = true; // the caller hears music meanwhile
        notice(null);
        break;
      case "consult_answered":
        ctl.consult = { target: target || (ctl.consult && ctl.consult.target) || "", answered: true };
        notice(null);
        break;
      case "consult_failed":
        ctl.consult = null;
        ctl.held = false;
        notice("consult_failed", target, event.detail);
        break;
      case "consult_ended":
        ctl.consult = null;
        ctl.conference = false;
        ctl.held = false;
        notice("consult_ended", target);
        break;
      case "conference":
        ctl.conference = true;
        ctl.held = false;
        notice(null);
        break;
      case "dialing":
        call.caller = target || call.caller;
        ctl.dialing = target || call.caller || "-";
        notice(null);
        break;
      case "dial_answered":
        ctl.dialing = "";
        call.state = "talking";
        notice("dial_answered", target);
        break;
      case "dial_failed":
        ctl.dialing = "";
        call.state = "ended";
        notice("dial_failed", target, event.detail);
        break;
      default:
        return;
    }
    saveControl();
    render();
  }

  function controlShown() {
    // What #desk-control-status says: {key, target, detail} or null.
    if (!call || ctl.call_id !== call.call_id) {
      return null;
    }
    if (ctl.notice) {
      return ctl.notice;
    }
    if (ctl.conference) {
      return { key: "conference" };
    }
    if (ctl.consult) {
      return { key: ctl.consult.answered ? "consulting" : "consult_ringing", target: ctl.consult.target };
    }
    if (ctl.dialing) {
      return { key: "dialing", target: ctl.dialing };
    }
    if (ctl.held) {
      return { key: "held" };
    }
    return null;
  }

  function renderControlStatus() {
    var shown = controlShown();
    el.call.setAttribute("data-control", shown ? shown.key : "");
    el.call.toggleAttribute("data-held", Boolean(shown && ctl.held));
    if (!shown) {
      el.controlStatus.textContent = "";
      return;
    }
    el.controlStatus.textContent = (texts.control[shown.key] || shown.key)
      .replace("{target}", shown.target || "")
      .replace("{detail}", shown.detail || texts.no_detail);
  }

  function setDisabled(node, disabled) {
    if (node) {
      node.disabled = disabled;
    }
  }

  function renderControlButtons() {
    if (!callUrl) {
      return;
    }
    var ready = switchOk && !inFlight;
    var mine = Boolean(call && ctl.call_id === call.call_id);
    var onCall = ready && agent.state === "talking" && Boolean(call) && !(mine && ctl.dialing);
    var consult = mine ? ctl.consult : null;
    var conference = mine && ctl.conference;
    var held = mine && ctl.held;
    var enabled = {
      hold: onCall && !held && !consult && !conference,
      unhold: onCall && held && !consult && !conference,
      transfer: onCall && !consult && !conference,
      consult: onCall && !consult && !conference,
      complete_transfer: onCall && Boolean(consult && consult.answered),
      conference: onCall && Boolean(consult && consult.answered) && !conference,
      cancel_consult: onCall && Boolean(consult),
    };
    document.querySelectorAll("#desk [data-call-command], #desk [data-call-dialog]").forEach(function (button) {
      var name = button.getAttribute("data-call-command") || button.getAttribute("data-call-dialog");
      button.disabled = !enabled[name];
    });
    var canDial = ready && DIAL_STATES.indexOf(agent.state) >= 0;
    setDisabled(el.dialNumber, !canDial);
    setDisabled(el.dial, !canDial);
    setDisabled(el.callback, !canDial || el.pop.hidden || !el.popNumber.textContent);
  }

  function showCallError(text) {
    el.callError.textContent = text || "";
    el.callError.hidden = !text;
  }

  function startOutbound(callId, number, startMs) {
    // This desk's click-to-dial call: the call bar shows the number (no screen pop).
    if (!callId || (call && call.call_id === callId)) {
      return;
    }
    controlFor(callId);
    call = {
      call_id: callId,
      caller: number || "",
      outbound: true,
      state: agent.state === "talking" ? "talking" : "dialing",
      startMs: startMs || serverNow(),
    };
    ctl.dialing = number || "-";
    notice(null);
    saveControl();
    remember(call);
    pendingDial = "";
  }

  function afterRefusal(code) {
    // Put the buttons right when the switch knows better than this page.
    if (code === "already_held") {
      ctl.held = true;
    } else if (code === "not_held") {
      ctl.held = false;
    } else if (code === "no_consult") {
      ctl.consult = null;
      ctl.conference = false;
    } else if (code === "consult_pending" && ctl.consult) {
      ctl.consult.answered = false;
    } else if (code === "no_call" || code === "not_talking") {
      clearControlFlags();
    }
    saveControl();
  }

  function applyCommand(command, fields) {
    // What a command the switch accepted changed (its events will say the same, and win).
    if (call) {
      controlFor(call.call_id);
    }
    if (command === "hold") {
      ctl.held = true;
      notice(null);
    } else if (command === "unhold") {
      ctl.held = false;
      notice(null);
    } else if (command === "transfer") {
      notice("transferring", fields.target);
    } else if (command === "consult") {
      ctl.consult = { target: fields.target, answered: false };
      ctl.held = true;
      notice(null);
    } else if (command === "complete_transfer") {
      notice("transferring", ctl.consult ? ctl.consult.target : "");
    } else if (command === "conference") {
      ctl.conference = true;
      ctl.held = false;
      notice(null);
    } else if (command === "cancel_consult") {
      ctl.consult = null;
      ctl.conference = false;
      ctl.held = false;
      notice(null);
    }
    saveControl();
  }

  function syncControl(callId, snapshot) {
    // The call's control state as the switch answered a command ({held, conference, consult:
    // {target, state}}), when its answer has it.
    if (!snapshot || typeof snapshot.held !== "boolean" || !call || callId !== call.call_id) {
      return;
    }
    ctl.held = snapshot.held;
    ctl.conference = Boolean(snapshot.conference);
    ctl.consult = snapshot.consult
      ? { target: snapshot.consult.target || "", answered: snapshot.consult.state === "talking" }
      : null;
    saveControl();
  }

  function callCommand(command, fields, errorBox) {
    var show = errorBox || showCallError;
    var eventsBefore = controlEvents;
    inFlight = true;
    render();
    return Aq.post(callUrl.replace("COMMAND", command), fields || {}, csrf)
      .then(function (result) {
        var data = result.data || {};
        if (data.ok) {
          show("");
          showCallError("");
          if (controlEvents === eventsBefore) {
            // No event of the switch yet (it usually comes before this answer): its answer
            // says what the call is now, else assume what the command does.
            applyCommand(command, fields || {});
            syncControl(data.call_id, data.call);
          }
          if (data.agent) {
            applyAgent(data.agent);
          }
          return true;
        }
        afterRefusal(data.code);
        show(data.error || texts.command_failed);
        return false;
      })
      .catch(function () {
        show(texts.command_failed);
        return false;
      })
      .then(function (ok) {
        inFlight = false;
        render();
        return ok;
      });
  }

  function dial(number) {
    number = (number || "").replace(/[\s()-]/g, ""); // as the server reads it
    pendingDial = number;
    inFlight = true;
    render();
    Aq.post(root.getAttribute("data-dial-url"), { number: number }, csrf)
      .then(function (result) {
        var data = result.data || {};
        if (data.ok) {
          showCallError("");
          if (data.agent) {
            applyAgent(data.agent);
          }
          startOutbound(data.call_id, number, serverNow());
          if (el.dialNumber) {
            el.dialNumber.value = "";
          }
        } else {
          pendingDial = "";
          showCallError(data.error || texts.command_failed);
        }
      })
      .catch(function () {
        pendingDial = "";
        showCallError(texts.command_failed);
      })
      .then(function () {
        inFlight = false;
        render();
      });
  }

  if (callUrl) {
    document.querySelectorAll("#desk [data-call-command]").forEach(function (button) {
      button.addEventListener("click", function () {
        callCommand(button.getAttribute("data-call-command"), {});
      });
    });
    el.dial.addEventListener("click", function () {
      dial(el.dialNumber.value);
    });
    // Click-to-dial from any phone number on screen (tel: links, here and in the screen pop):
    // dialled through the switch when the agent may dial now, else put in the dial field.
    var dialFromLink = function (event) {
      var link = event.target && event.target.closest && event.target.closest('a[href^="tel:"]');
      if (!link) {
        return;
      }
      event.preventDefault();
      var number = decodeURIComponent(link.getAttribute("href").slice(4));
      el.dialNumber.value = number;
      if (!el.dial.disabled) {
        dial(number);
      } else {
        el.dialNumber.focus();
      }
    };
    document.addEventListener("click", dialFromLink);
    if (el.frame) {
      el.frame.addEventListener("load", function () {
        try {
          el.frame.contentDocument.addEventListener("click", dialFromLink);
        } catch (ignored) {
          // not the same origin: its links behave as links
        }
      });
    }
    el.dialNumber.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        if (!el.dial.disabled) {
          dial(el.dialNumber.value);
        }
      }
    });
    if (el.callback) {
      el.callback.addEventListener("click", function () {
        dial(el.popNumber.textContent);
      });
    }
  }

  // The transfer / consultation dialog: pick an idle agent or type an extension or number.
  var dialogMode = "";
  var pickedKind = "";
  var targetsTimer = null;

  function showTargetError(text) {
    el.targetError.textContent = text || "";
    el.targetError.hidden = !text;
  }

  function renderTargets(data) {
    el.targetAgents.innerHTML = "";
    if (!data.agents.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = texts.no_agents;
      el.targetAgents.appendChild(none);
    }
    data.agents.forEach(function (other) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-target-agent", other.agent_id);
      button.setAttribute("data-state", other.state);
      button.setAttribute("aria-pressed", String(pickedKind === "agent" && el.target.value === other.agent_id));
      button.disabled = other.state !== "idle";
      var who = document.createElement("span");
      who.textContent = other.agent_id + (other.name ? " " + other.name : "");
      var state = document.createElement("span");
      state.className = "mon-state";
      state.setAttribute("data-state", other.state);
      state.textContent = texts.states[other.state] || other.state;
      button.appendChild(who);
      button.appendChild(state);
      button.addEventListener("click", function () {
        el.target.value = other.agent_id;
        pickedKind = "agent";
        el.targetAgents.querySelectorAll("button").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
        showTargetError("");
      });
      item.appendChild(button);
      el.targetAgents.appendChild(item);
    });
  }

  function loadTargets() {
    fetch(root.getAttribute("data-targets-url"), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("agents: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (el.dialog.open) {
          renderTargets(data);
        }
      })
      .catch(function (error) {
        if (window.console) {
          window.console.warn(error);
        }
      });
  }

  function closeTargetDialog() {
    clearInterval(targetsTimer);
    targetsTimer = null;
    if (el.dialog.open) {
      el.dialog.close();
    }
  }

  function openTargetDialog(mode) {
    dialogMode = mode;
    pickedKind = "";
    el.target.value = "";
    el.dialog.setAttribute("data-mode", mode);
    el.dialogTitle.textContent = texts[mode];
    el.targetGo.textContent = texts[mode];
    el.targetAgents.innerHTML = "";
    showTargetError("");
    if (typeof el.dialog.showModal === "function") {
      el.dialog.showModal();
    } else {
      el.dialog.setAttribute("open", "");
    }
    el.target.focus();
    loadTargets();
    clearInterval(targetsTimer);
    targetsTimer = setInterval(loadTargets, 3000); // the agents' states change meanwhile
  }

  if (callUrl && el.dialog) {
    document.querySelectorAll("#desk [data-call-dialog]").forEach(function (button) {
      button.addEventListener("click", function () {
        openTargetDialog(button.getAttribute("data-call-dialog"));
      });
    });
    el.target.addEventListener("input", function () {
      pickedKind = "";
      el.targetAgents.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-target-agent") === el.target.value.trim()));
      });
    });
    el.dialog.addEventListener("close", function () {
      clearInterval(targetsTimer);
      targetsTimer = null;
    });
    el.targetCancel.addEventListener("click", closeTargetDialog);
    el.dialog.querySelector("form").addEventListener("submit", function (event) {
      event.preventDefault();
      var target = el.target.value.trim();
      if (!target) {
        showTargetError(texts.choose_target);
        return;
      }
      el.targetGo.disabled = true;
      callCommand(dialogMode, { target: target, kind: pickedKind }, showTargetError).then(function (ok) {
        el.targetGo.disabled = false;
        if (ok) {
          closeTargetDialog();
        }
      });
    });
  }

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
