/* Live updates for a page: connects the HTMX ws extension and shows a status pill (Live, Reconnecting, Offline).
   Reconnection backs off 1, 2, 4, 8, 16 s, then every 30 s. Where WebSockets are unavailable (or the extension
   cannot load) the page fetches itself every 30 s and swaps in the same fragments. The page works without this. */
// Deferred scripts run in page order and htmx's comes later in the page, so start once all of them have run.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var root = document.getElementById("live-updates");
  if (!root || !window.htmx) { return; }
  var pill = root.querySelector(".live-pill");
  var GIVE_UP_AFTER = 5; // failed attempts before the pill says Offline (the retries go on every 30 s)

  function show(state) {
    pill.hidden = false;
    pill.dataset.state = state;
    pill.textContent = root.dataset["label" + state.charAt(0).toUpperCase() + state.slice(1)];
  }

  // One element fetches the page and takes its fragments: every 30 s when polling, once after a reconnect
  // (so that what changed while disconnected is caught up).
  function fetcher(trigger) {
    var el = document.createElement("div");
    el.hidden = true;
    // The address now, not at render time: list pages change their query string as filters are applied.
    el.setAttribute("hx-get", window.location.pathname + window.location.search || root.dataset.livePoll);
    el.setAttribute("hx-trigger", trigger);
    el.setAttribute("hx-select-oob", root.dataset.liveSelect);
    el.setAttribute("hx-swap", "none");
    root.appendChild(el);
    window.htmx.process(el);
    return el;
  }

  function poll() {
    fetcher("every 30s");
    show("polling");
  }

  if (!("WebSocket" in window)) { poll(); return; }

  window.htmx.config.wsReconnectDelay = function (retries) { return Math.min(1000 * Math.pow(2, retries), 30000); };
  var catchUp = fetcher("live-catch-up");
  var opened = false;
  var failures = 0;

  root.addEventListener("htmx:wsOpen", function () {
    if (opened) { window.htmx.trigger(catchUp, "live-catch-up"); }
    opened = true;
    failures = 0;
    show("live");
  });
  root.addEventListener("htmx:wsClose", function () {
    failures += 1;
    show(failures >= GIVE_UP_AFTER || navigator.onLine === false ? "offline" : "reconnecting");
  });
  window.addEventListener("offline", function () { show("offline"); });

  // List pages receive rows for every project that changed; only rows this page shows are swapped in (an id
  // missing from the page would otherwise be reported by htmx as an error).
  window.htmx.defineExtension("live-present", {
    transformResponse: function (text, xhr) {
      if (xhr) { return text; } // an HTTP response (the catch-up fetch) is taken as it is
      var template = document.createElement("template");
      template.innerHTML = text;
      Array.prototype.slice.call(template.content.children).forEach(function (child) {
        if (!child.id || !document.getElementById(child.id)) { child.remove(); }
      });
      return template.innerHTML;
    }
  });

  // The ws extension is loaded with htmx itself (base.html), so it is registered, and its WebSocket factory set,
  // on the same htmx object before this runs; loading it here later raced with htmx's own processing.
  if (typeof window.htmx.createWebSocket !== "function") { poll(); return; }
  root.setAttribute("hx-ext", "ws,live-present");
  // The split layout serves sockets from their own process, on another port of the same host.
  var port = root.dataset.liveWsPort;
  root.setAttribute("ws-connect", port
    ? (location.protocol === "https:" ? "wss://" : "ws://") + location.hostname + ":" + port + root.dataset.liveWs
    : root.dataset.liveWs);
  window.htmx.process(root);
  show("reconnecting");
});
