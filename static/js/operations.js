// The task center and an operation's page (templates/operations/), and the toasts that tell a
// person their own operation ended (operations/live_ended.html). Loaded on every page by the
// operations panel.
(function () {
  // Re-reads. <div id="x" data-kv-reread-on="ops-new op-12" hx-trigger="kv:reread"> re-reads
  // itself when a live signal of one of those names arrives (<!-- kv-signal:op-12 -->, see
  // apps/core/realtime.signal). A burst of signals (a transfer's progress) makes one re-read;
  // one arriving while a re-read is on its way makes one more after it, so the last is not lost.
  const DELAY_MS = 300;
  const pending = {};
  function fire(id) {
    const elt = document.getElementById(id);
    if (!elt) {
      delete pending[id];
      return;
    }
    if (elt.classList.contains("htmx-request")) {
      pending[id] = setTimeout(function () { fire(id); }, DELAY_MS);
      return;
    }
    delete pending[id];
    htmx.trigger(elt, "kv:reread");
  }
  document.addEventListener("htmx:wsAfterMessage", function (evt) {
    for (const m of String(evt.detail.message).matchAll(/kv-signal:([\w-]+)/g)) {
      document.querySelectorAll("[data-kv-reread-on]").forEach(function (elt) {
        if (!elt.id || pending[elt.id]) return;
        if (elt.dataset.kvRereadOn.split(/\s+/).includes(m[1])) {
          pending[elt.id] = setTimeout(function () { fire(elt.id); }, DELAY_MS);
        }
      });
    }
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
