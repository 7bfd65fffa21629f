/* Shared by the agent desktop and the monitor (no build step, no dependencies).
 *
 * AqDesk.socket(path, handlers): keeps a WebSocket to `path` open, reconnecting with backoff;
 * calls handlers.open() on every (re)connection and handlers.message(data) for each message;
 * sets data-ws="open|closed" on `handlers.root`.
 * AqDesk.post(url, fields, csrf): POST form fields; resolves to {ok, status, data}.
 * AqDesk.clock(seconds): "mm:ss" or "h:mm:ss".
 */
(function () {
  "use strict";
  var MAX_BACKOFF_MS = 30000;

  function socket(path, handlers) {
    var attempts = 0;
    function reconnect() {
      var delay = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, attempts));
      attempts += 1;
      setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
    }
    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var ws;
      try {
        ws = new WebSocket(scheme + window.location.host + path);
      } catch (error) {
        reconnect();
        return;
      }
      ws.addEventListener("open", function () {
        attempts = 0;
        handlers.root.setAttribute("data-ws", "open");
        handlers.open();
      });
      ws.addEventListener("message", function (event) {
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (error) {
          return;
        }
        handlers.message(data);
      });
      ws.addEventListener("close", function () {
        handlers.root.setAttribute("data-ws", "closed");
        reconnect();
      });
    }
    if ("WebSocket" in window) {
      connect();
    }
  }

  function post(url, fields, csrf, extraHeaders) {
    var body = new URLSearchParams();
    Object.keys(fields || {}).forEach(function (key) {
      body.set(key, fields[key]);
    });
    var headers = { "X-CSRFToken": csrf, Accept: "application/json" };
    Object.keys(extraHeaders || {}).forEach(function (key) {
      headers[key] = extraHeaders[key];
    });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: headers,
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var read = type.indexOf("json") >= 0 ? response.json() : response.text();
      return read.then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + two(m) : two(m)) + ":" + two(s % 60);
  }

  window.AqDesk = { socket: socket, post: post, clock: clock };
})();
