// The VM list's bulk actions. The buttons wait for a selection and say how many rows are chosen;
// once an action is sent the selection is cleared, and its result (compute/_bulk_result.html)
// follows each queued operation live.
(function () {
  function boxes() {
    return document.querySelectorAll('input.vm-select[form="bulk-form"]');
  }
  function update() {
    const form = document.getElementById("bulk-form");
    if (!form) return;
    const n = Array.from(boxes()).filter(function (box) { return box.checked; }).length;
    const count = document.getElementById("bulk-count");
    if (count) count.textContent = n === 0 ? "None selected" : n + " selected";
    form.querySelectorAll("button[name=action]").forEach(function (button) { button.disabled = n === 0; });
    const all = document.getElementById("vm-select-all");
    if (all) all.checked = n > 0 && n === boxes().length;
  }
  document.addEventListener("change", function (evt) {
    if (evt.target.id === "vm-select-all") {
      boxes().forEach(function (box) { box.checked = evt.target.checked; });
    }
    if (evt.target.id === "vm-select-all" || (evt.target.classList && evt.target.classList.contains("vm-select"))) update();
  });
  // Rows come and go (filters, pages, live updates): count again whenever content arrives.
  document.addEventListener("htmx:load", update);
  document.addEventListener("DOMContentLoaded", update);

  // An action sent (whatever it answered per VM) clears the selection, so the next one starts afresh.
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (evt.detail.elt.id !== "bulk-form" || !evt.detail.successful) return;
    boxes().forEach(function (box) { box.checked = false; });
    update();
  });

  // A line of a bulk result only moves forward (queued, running, then how it ended): its re-read
  // (on load, in case an operation ended before its line was on the page) may answer after a live
  // update already brought a later state, and must not take it back. The panel's rows likewise.
  const RANK = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };
  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    const current = evt.detail.target;
    if (!current || !current.classList || !(current.classList.contains("op-line") || current.classList.contains("op"))) return;
    const incoming = evt.detail.fragment && evt.detail.fragment.firstElementChild;
    if (!incoming || !incoming.dataset) return;
    const was = RANK[current.dataset.status], now = RANK[incoming.dataset.status];
    if (was !== undefined && now !== undefined && now < was) evt.detail.shouldSwap = false;
  });
})();
