/* The wallboard (B7). No build step, no dependencies, no texts: every label is in the template.
 *
 * Keeps a WebSocket open to #wallboard[data-ws] and shows each snapshot it receives (see
 * aqualine/wallboard/selectors.py for its fields): an element with data-figure="calls.inbound"
 * shows snapshot.calls.inbound (data-format "duration": m:ss, "percent": a ratio as %); the
 * department table is rebuilt. The server pushes a snapshot every ~2 s and after order changes,
 * and one at once on connect; the page never polls.
 *
 * #wallboard[data-state]: "connecting", "open" or "reconnecting" (the socket closed: the server
 * restarted or the network broke; it reconnects with a growing, jittered backoff up to 30 s and
 * the page shows its reconnecting marker). data-switch="down" when the switch does not answer.
 * A close with 4403 (signed out or no longer permitted) reloads the page, which leads to the
 * login page. The page also reloads once a day, after midnight, to renew its sign-in.
 */
(function () {
  "use strict";

  var root = document.getElementById("wallboard");
  if (!root) {
    return;
  }
  var MAX_BACKOFF_MS = 30000;
  var CLOSE_NOT_ALLOWED = 4403;
  var SERVICE_LEVEL_GOOD = 0.8;
  var SERVICE_LEVEL_FAIR = 0.6;
  var LONG_WAIT_SECONDS = 60;

  function lookup(snapshot, path) {
    var value = snapshot;
    var parts = path.split(".");
    for (var i = 0; i < parts.length; i++) {
      if (value === null || value === undefined) {
        return undefined;
      }
      value = value[parts[i]];
    }
    return value;
  }

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function format(value, kind) {
    if (value === null || value === undefined || value === "") {
      return "—";
    }
    if (kind === "duration") {
      var seconds = Math.floor(Number(value));
      return Math.floor(seconds / 60) + ":" + pad(seconds % 60);
    }
    if (kind === "percent") {
      return Math.round(Number(value) * 100) + "%";
    }
    return String(value);
  }

  // A figure wider than its tile (a four-digit count in a narrow tile) is made smaller.
  function fit(element) {
    element.style.fontSize = "";
    var room = element.parentNode.clientWidth * 0.94;
    if (room > 0 && element.scrollWidth > room) {
      var size = parseFloat(window.getComputedStyle(element).fontSize);
      element.style.fontSize = Math.floor((size * room) / element.scrollWidth) + "px";
    }
  }

  function showFigures(snapshot) {
    var elements = root.querySelectorAll("[data-figure]");
    for (var i = 0; i < elements.length; i++) {
      var element = elements[i];
      var value = lookup(snapshot, element.getAttribute("data-figure"));
      var text = format(value, element.getAttribute("data-format"));
      if (element.textContent !== text) {
        element.textContent = text;
        fit(element);
      }
    }
    var level = lookup(snapshot, "calls.service_level");
    var sl = root.querySelector('[data-figure="calls.service_level"]');
    if (sl) {
      if (level === null || level === undefined) {
        sl.removeAttribute("data-level");
      } else {
        sl.setAttribute(
          "data-level",
          level >= SERVICE_LEVEL_GOOD ? "good" : level >= SERVICE_LEVEL_FAIR ? "fair" : "poor"
        );
      }
    }
    var waiting = root.querySelector('[data-figure="switch.waiting"]');
    var wait = root.querySelector('[data-figure="switch.longest_wait"]');
    var longWait = (lookup(snapshot, "switch.longest_wait") || 0) >= LONG_WAIT_SECONDS;
    if (waiting) {
      waiting.toggleAttribute("data-alert", (lookup(snapshot, "switch.waiting") || 0) > 0);
    }
    if (wait) {
      wait.toggleAttribute("data-alert", longWait);
    }
  }

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = String(text);
    if (className) {
      td.className = className;
    }
    return td;
  }

  function showDepartments(departments) {
    var body = root.querySelector("[data-departments]");
    var empty = root.querySelector("[data-departments-empty]");
    if (!body) {
      return;
    }
    var rows = document.createDocumentFragment();
    (departments || []).forEach(function (department) {
      var row = document.createElement("tr");
      row.appendChild(cell(department.name));
      row.appendChild(cell(department.new));
      row.appendChild(cell(department.open));
      row.appendChild(cell(department.overdue, department.overdue > 0 ? "wb-late" : ""));
      rows.appendChild(row);
    });
    body.replaceChildren(rows);
    if (empty) {
      empty.hidden = Boolean(departments && departments.length);
    }
  }

  function show(snapshot) {
    if (!snapshot || snapshot.type !== "snapshot") {
      return;
    }
    var up = Boolean(snapshot.switch && snapshot.switch.up);
    root.setAttribute("data-switch", up ? "up" : "down");
    showFigures(snapshot);
    showDepartments(snapshot.orders && snapshot.orders.departments);
    root.setAttribute("data-at", snapshot.at || "");
  }

  // --- the clock, and a daily reload (renews a wallboard account's sign-in) -----------------

  var dateElement = root.querySelector("[data-clock-date]");
  var timeElement = root.querySelector("[data-clock-time]");
  var loadedOn = new Date().toDateString();

  function tick() {
    var now = new Date();
    if (dateElement) {
      dateElement.textContent =
        now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
    }
    if (timeElement) {
      timeElement.textContent =
        pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
    }
    if (now.toDateString() !== loadedOn && root.getAttribute("data-state") === "open") {
      window.location.reload();
    }
  }
  tick();
  setInterval(tick, 1000);

  // --- the WebSocket ------------------------------------------------------------------------

  var path = root.getAttribute("data-ws");
  var attempts = 0;

  function reconnect() {
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempts));
    attempts += 1;
    setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
  }

  // A refused handshake (the session expired) looks like a network failure to the page: ask
  // for the page itself, and reload when the server answers but not with it (login, 403).
  function probe() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected || response.status === 403) {
          window.location.reload();
        }
      })
      .catch(function () {
        // the server is down: keep reconnecting
      });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + window.location.host + path);
    } catch (error) {
      root.setAttribute("data-state", "reconnecting");
      reconnect();
      return;
    }
    socket.addEventListener("open", function () {
      root.setAttribute("data-state", "open");
      attempts = 0;
    });
    socket.addEventListener("message", function (event) {
      var snapshot;
      try {
        snapshot = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      show(snapshot);
    });
    var opened = false;
    socket.addEventListener("open", function () {
      opened = true;
    });
    socket.addEventListener("close", function (event) {
      if (event.code === CLOSE_NOT_ALLOWED) {
        window.location.reload();
        return;
      }
      root.setAttribute("data-state", "reconnecting");
      if (!opened) {
        probe();
      }
      reconnect();
    });
  }

  if (path && "WebSocket" in window) {
    connect();
  }
})();
