/* Aqualine live refresh and spoken reminders (B1a, B1d). No build step, no dependencies.
 *
 * base.html renders <div id="aq-live" data-ws=... data-voice=... data-say-<event>=...> with the
 * translated texts, and loads this file for signed-in users. The script keeps a WebSocket open to
 * data-ws (reconnecting with backoff, e.g. after a server restart) and, for each order event:
 *
 * Page contract: an element with `data-live-region` and an `id` is refreshed when an order event
 * arrives; with `data-live-order="<pk>"` only by events of that order. Refreshing fetches the
 * current URL (same query string), takes the element with the same id from the response and
 * swaps it in. While the user is typing in a form inside the region (a focused field, or values
 * changed), nothing is swapped: the region shows a notice (its `data-live-notice` text, else
 * "this work order has just been changed") with a button that swaps on request.
 * Bursts of events are coalesced. After a swap the new element fires "aqualine:live-refreshed"
 * (bubbling); every event also fires "aqualine:order-event" on document (detail: the message).
 *
 * When a message says `speak`, the browser speaks data-say-<event> (with {number} filled in)
 * through speechSynthesis, if the user's voice reminders are on (data-voice, the top-bar switch).
 */
(function () {
  "use strict";

  var config = document.getElementById("aq-live");
  if (!config) {
    return;
  }
  var DEBOUNCE_MS = 300;
  var MAX_BACKOFF_MS = 30000;
  var voiceOn = config.getAttribute("data-voice") === "1";

  // --- refreshing regions ---------------------------------------------------------------------

  var pending = {}; // region id -> "force" | true
  var timer = null;
  var inFlight = false;

  function regions() {
    return document.querySelectorAll("[data-live-region][id]");
  }

  function concerns(region, orderId) {
    var only = region.getAttribute("data-live-order");
    return !only || String(orderId) === only;
  }

  function selectChanged(select) {
    var options = select.options;
    var hasDefault = false;
    var i;
    for (i = 0; i < options.length; i++) {
      if (options[i].defaultSelected) {
        hasDefault = true;
      }
    }
    if (!hasDefault) {
      return select.multiple ? select.selectedOptions.length > 0 : select.selectedIndex > 0;
    }
    for (i = 0; i < options.length; i++) {
      if (options[i].selected !== options[i].defaultSelected) {
        return true;
      }
    }
    return false;
  }

  function isBusy(region) {
    var active = document.activeElement;
    if (active && active !== document.body && region.contains(active) &&
        active.matches("input, textarea, select, [contenteditable]")) {
      return true;
    }
    var fields = region.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      var type = (field.getAttribute("type") || "").toLowerCase();
      if (field.tagName === "SELECT") {
        if (selectChanged(field)) {
          return true;
        }
      } else if (type === "checkbox" || type === "radio") {
        if (field.checked !== field.defaultChecked) {
          return true;
        }
      } else if (type === "file") {
        if (field.files && field.files.length) {
          return true;
        }
      } else if (type !== "hidden" && field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function showNotice(region) {
    if (region.querySelector(".live-notice")) {
      return;
    }
    var list = document.createElement("ul");
    list.className = "messages live-notice";
    var item = document.createElement("li");
    item.className = "msg-warning";
    item.setAttribute("role", "status");
    var text = region.getAttribute("data-live-notice") || config.getAttribute("data-text-changed");
    item.appendChild(document.createTextNode(text + " "));
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = config.getAttribute("data-text-refresh");
    button.addEventListener("click", function () {
      schedule([region.id], "force", 0);
    });
    item.appendChild(button);
    list.appendChild(item);
    region.insertBefore(list, region.firstChild);
  }

  function swap(id, doc, force) {
    var current = document.getElementById(id);
    var fresh = doc.getElementById(id);
    if (!current || !fresh) {
      return;
    }
    if (!force && isBusy(current)) {
      showNotice(current);
      return;
    }
    var adopted = document.importNode(fresh, true);
    current.replaceWith(adopted);
    if (window.htmx) {
      window.htmx.process(adopted);
    }
    adopted.dispatchEvent(new CustomEvent("aqualine:live-refreshed", { bubbles: true }));
  }

  function schedule(ids, mode, delay) {
    ids.forEach(function (id) {
      if (pending[id] !== "force") {
        pending[id] = mode || true;
      }
    });
    clearTimeout(timer);
    timer = setTimeout(flush, delay === undefined ? DEBOUNCE_MS : delay);
  }

  function flush() {
    if (inFlight) {
      return; // flushed again when the current fetch ends
    }
    var batch = pending;
    pending = {};
    var ids = Object.keys(batch);
    if (!ids.length) {
      return;
    }
    inFlight = true;
    fetch(window.location.href, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-Aqualine-Live": "1" },
    })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("live refresh: HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          swap(id, doc, batch[id] === "force");
        });
      })
      .catch(function (error) {
        if (window.console) {
          window.console.warn(error);
        }
      })
      .then(function () {
        inFlight = false;
        if (Object.keys(pending).length) {
          clearTimeout(timer);
          timer = setTimeout(flush, DEBOUNCE_MS);
        }
      });
  }

  function refreshAll() {
    var ids = [];
    regions().forEach(function (region) {
      ids.push(region.id);
    });
    if (ids.length) {
      schedule(ids);
    }
  }

  // --- spoken reminders -----------------------------------------------------------------------

  var toggle = document.querySelector("form[data-voice-toggle]");

  function soundBlocked() {
    return voiceOn && navigator.userActivation && !navigator.userActivation.hasBeenActive;
  }

  function showVoice() {
    if (!toggle) {
      return;
    }
    var button = toggle.querySelector("button");
    button.setAttribute("aria-pressed", voiceOn ? "true" : "false");
    button.textContent = button.getAttribute(voiceOn ? "data-label-on" : "data-label-off");
    toggle.querySelector("input[name=enabled]").value = voiceOn ? "0" : "1";
    var hint = toggle.querySelector("[data-voice-hint]");
    if (hint) {
      hint.hidden = !soundBlocked();
    }
  }

  function speak(message) {
    if (!voiceOn || !("speechSynthesis" in window)) {
      return;
    }
    var template = config.getAttribute("data-say-" + message.speak);
    if (!template) {
      return;
    }
    // Characters apart, so that the number is read out digit by digit.
    var number = String(message.number || "").split("").join(" ");
    var utterance = new SpeechSynthesisUtterance(template.replace("{number}", number));
    utterance.lang = config.getAttribute("data-lang") || document.documentElement.lang;
    window.speechSynthesis.speak(utterance);
  }

  if (toggle) {
    toggle.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(toggle.action, {
        method: "POST",
        body: new FormData(toggle),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("voice reminders: HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          voiceOn = Boolean(data.voice_reminders);
          config.setAttribute("data-voice", voiceOn ? "1" : "0");
          showVoice();
          try {
            window.localStorage.setItem("aqualine.voice", voiceOn ? "1" : "0");
          } catch (ignored) {
            // storage may be disabled; other tabs then update on their next load
          }
        })
        .catch(function () {
          toggle.submit();
        });
    });
    window.addEventListener("storage", function (event) {
      if (event.key === "aqualine.voice" && event.newValue !== null) {
        voiceOn = event.newValue === "1";
        config.setAttribute("data-voice", voiceOn ? "1" : "0");
        showVoice();
      }
    });
    // Browsers speak only after the user has interacted with the page: say so until then.
    ["pointerdown", "keydown"].forEach(function (type) {
      window.addEventListener(type, function () {
        setTimeout(showVoice, 0);
      }, { once: true, capture: true });
    });
    showVoice();
  }

  // --- the WebSocket --------------------------------------------------------------------------

  function onMessage(message) {
    if (!message || message.type !== "order.event") {
      return;
    }
    var ids = [];
    regions().forEach(function (region) {
      if (concerns(region, message.order)) {
        ids.push(region.id);
      }
    });
    if (ids.length) {
      schedule(ids);
    }
    if (message.speak) {
      speak(message);
    }
    document.dispatchEvent(new CustomEvent("aqualine:order-event", { detail: message }));
  }

  var path = config.getAttribute("data-ws");
  var attempts = 0;
  var opened = false;

  function reconnect() {
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempts));
    attempts += 1;
    setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + window.location.host + path);
    } catch (error) {
      reconnect();
      return;
    }
    socket.addEventListener("open", function () {
      config.setAttribute("data-state", "open");
      attempts = 0;
      if (opened) {
        refreshAll(); // events may have been missed while disconnected
      }
      opened = true;
    });
    socket.addEventListener("message", function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      onMessage(message);
    });
    socket.addEventListener("close", function () {
      config.setAttribute("data-state", "closed");
      reconnect();
    });
  }

  if (path && "WebSocket" in window) {
    connect();
  }
})();
