/* Announcements pushed live (aqualine/notices/consumers.py, at data-ws of #aq-notices-live).
   Keeps the unread badge of the top bar current and pops up a new or changed announcement with a
   link to it, without reloading the page. Texts come translated from the template
   (templates/notices/_badge.html). #aq-notices-live gets data-state="open" or "closed". */
(function () {
  "use strict";
  var live = document.getElementById("aq-notices-live");
  var badge = document.getElementById("aq-notices-badge");
  var count = document.getElementById("aq-notices-count");
  var toasts = document.getElementById("aq-notices-toasts");
  if (!live || !badge || !count || !toasts || !live.dataset.ws || !window.WebSocket) return;
  var CLOSE_NOT_ALLOWED = 4403;
  var delay = 1000;

  function setUnread(n) {
    count.textContent = String(n);
    count.dataset.count = String(n);
    count.hidden = n <= 0;
    badge.setAttribute("aria-label", n > 0
      ? badge.dataset.labelUnread.replace("__N__", String(n))
      : badge.dataset.label);
  }

  function removeToast(id) {
    var old = toasts.querySelector('[data-notice="' + id + '"]');
    if (old) old.remove();
  }

  function showToast(message) {
    removeToast(message.announcement);
    var box = document.createElement("div");
    box.className = "notices-toast";
    box.setAttribute("role", "status");
    box.dataset.notice = String(message.announcement);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.textContent = "×";
    close.setAttribute("aria-label", live.dataset.textClose);
    close.addEventListener("click", function () { box.remove(); });
    var kind = document.createElement("span");
    kind.className = "notices-toast-kind";
    var label = message.type === "notice.updated" ? live.dataset.textUpdated : live.dataset.textPublished;
    kind.textContent = label + " · " + message.notice_type;
    var link = document.createElement("a");
    link.href = message.url;
    link.textContent = message.title;
    box.append(close, kind, link);
    toasts.prepend(box);
  }

  function handle(message) {
    if (typeof message.unread === "number") setUnread(message.unread);
    if (message.type === "notice.published" || message.type === "notice.updated") {
      if (message.current) showToast(message);
      else removeToast(message.announcement);
    } else if (message.type === "notice.withdrawn" || message.type === "notice.read") {
      removeToast(message.announcement);
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + live.dataset.ws);
    socket.addEventListener("open", function () {
      live.dataset.state = "open";
      delay = 1000;
    });
    socket.addEventListener("message", function (event) {
      try { handle(JSON.parse(event.data)); } catch (error) { /* a malformed message */ }
    });
    socket.addEventListener("close", function (event) {
      live.dataset.state = "closed";
      if (event.code === CLOSE_NOT_ALLOWED) return;
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  connect();
})();
