// The task center and an operation's page (templates/operations/), and the toasts that tell a
// person their own operation ended (operations/live_ended.html). Loaded on every page by the
// operations panel.
(function () {
  // Re-reads. <div id="x" data-kv-reread-on="ops-new op-12" hx-trigger="kv:reread"> re-reads
  // itself when a live signal of one of those names arrives (<!-- kv-signal:op-12 -->, see
  // apps/core/realtime.signal); with data-kv-reread-busy="op-" also when a signal starting so
  // arrives while a request that will replace it is on its way: a row's live update swapped into
  // the old table would be lost under an answer read before it. A burst of signals (a transfer's
  // progress) makes one re-read; one arriving while a re-read is on its way makes one more after
  // it, so the last word is never lost.
  const DELAY_MS = 300;
  const pending = {};
  const inflight = {}; // element id -> the requests on their way that will replace it
  function busy(elt) {
    return Boolean((inflight[elt.id] && inflight[elt.id].size) || elt.classList.contains("htmx-request") ||
      elt.classList.contains(htmx.config.addedClass));
  }
  function fire(id) {
    const elt = document.getElementById(id);
    if (!elt) {
      delete pending[id];
    } else if (busy(elt)) {
      pending[id] = setTimeout(function () { fire(id); }, DELAY_MS);
    } else {
      delete pending[id];
      htmx.trigger(elt, "kv:reread");
    }
  }
  function wants(elt, name) {
    if (elt.dataset.kvRereadOn.split(/\s+/).includes(name)) return true;
    const prefix = elt.dataset.kvRereadBusy;
    return Boolean(prefix) && name.startsWith(prefix) && busy(elt);
  }
  document.addEventListener("htmx:wsAfterMessage", function (evt) {
    for (const m of String(evt.detail.message).matchAll(/kv-signal:([\w-]+)/g)) {
      document.querySelectorAll("[data-kv-reread-on]").forEach(function (elt) {
        if (!elt.id || pending[elt.id] || !wants(elt, m[1])) return;
        pending[elt.id] = setTimeout(function () { fire(elt.id); }, DELAY_MS);
      });
    }
  });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    const target = evt.detail.target;
    if (!target || !target.id || !target.hasAttribute("data-kv-reread-on")) return;
    (inflight[target.id] = inflight[target.id] || new Set()).add(evt.detail.xhr);
  });
  ["htmx:afterRequest", "htmx:sendAbort", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function (evt) {
      Object.values(inflight).forEach(function (requests) { requests.delete(evt.detail.xhr); });
    });
  });

  // Toasts: a corner of the page they stack in (bottom right), a close button, and those that
  // ended well leave by themselves; a failure stays until it is closed (and its operation stays
  // counted beside "Operations" until it is opened).
  const MAX_TOASTS = 5;
  const box = document.createElement("div");
  box.id = "kv-toasts";
  box.className = "toast-container position-fixed bottom-0 end-0 p-3";
  box.setAttribute("aria-live", "polite");
  document.body.append(box);

  document.addEventListener("click", function (evt) {
    const button = evt.target.closest && evt.target.closest('[data-kv-dismiss="toast"]');
    const toast = button && button.closest(".toast");
    if (toast) toast.remove();
  });
  document.addEventListener("htmx:load", function () {
    const toasts = box.querySelectorAll(".kv-toast");
    for (let i = 0; i < toasts.length - MAX_TOASTS; i++) toasts[i].remove();
    box.querySelectorAll(".kv-toast[data-autohide]:not([data-timed])").forEach(function (toast) {
      toast.dataset.timed = "1";
      setTimeout(function () { toast.remove(); }, Number(toast.dataset.autohide) || 8000);
    });
  });
})();
