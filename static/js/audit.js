// The audit log shows one line per action. When an action ends, its outcome arrives over the
// WebSocket as the action's whole line (same data-line as the "requested" line already shown):
// it takes that line's place instead of standing as a second line at the top.
(function () {
  document.addEventListener("htmx:load", function (evt) {
    const line = evt.detail.elt;
    if (!line.dataset || !line.dataset.line) return;
    document.querySelectorAll('[data-line="' + CSS.escape(line.dataset.line) + '"]').forEach(function (older) {
      if (older !== line) older.replaceWith(line);
    });
  });
})();
