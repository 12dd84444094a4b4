// The operations panel (operations/panel.html): hidden or shown, and its "mine / failed"
// filters, remembered in this browser. The server filters the list it sends; rows that arrive
// live afterwards are hidden by the same classes (static/css/panel.css) when they do not match.
(function () {
  const KEY = "kv-ops-panel";
  function load() {
    try {
      return JSON.parse(localStorage.getItem(KEY)) || {};
    } catch (e) {
      return {};
    }
  }
  function save(state) {
    try {
      localStorage.setItem(KEY, JSON.stringify(state));
    } catch (e) {
      /* private mode: remembered for this page only */
    }
  }
  function apply(state) {
    const box = document.getElementById("ops-box");
    if (!box) return;
    const root = box.closest("#live-root") || document.body;
    root.classList.toggle("ops-collapsed", Boolean(state.hidden));
    const toggle = document.getElementById("ops-toggle");
    if (toggle) {
      toggle.textContent = state.hidden ? "Show" : "Hide";
      toggle.setAttribute("aria-expanded", state.hidden ? "false" : "true");
    }
    ["mine", "failed"].forEach(function (name) {
      const box = document.getElementById("ops-filter-" + name);
      if (box) box.checked = Boolean(state[name]);
      box.classList.toggle("ops-only-" + name, Boolean(state[name]));
    });
  }
  // Deferred scripts run before htmx loads the list, so the first load carries the filters.
  apply(load());

  document.addEventListener("click", function (evt) {
    if (!evt.target.closest || !evt.target.closest("#ops-toggle")) return;
    const state = load();
    state.hidden = !state.hidden;
    save(state);
    apply(state);
  });
  document.addEventListener("change", function (evt) {
    const box = evt.target;
    if (!box.classList || !box.classList.contains("ops-filter")) return;
    const state = load();
    state[box.name] = box.checked;
    save(state);
    apply(state);
    htmx.trigger(document.getElementById("ops-panel"), "kv:ops-filter");
  });
})();
