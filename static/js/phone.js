// Narrow-screen behaviours, declared with data attributes (no Bootstrap script is loaded):
// - data-kv-toggle="collapse" data-kv-target="#id": the navigation folded behind its toggler;
// - data-kv-toggle="drawer" data-kv-target="#id": the operations panel slides in (offcanvas-lg),
//   closed by data-kv-dismiss="drawer", its backdrop or Escape;
// - data-kv-toggle="menu" inside .kv-actions: row and page actions in a menu (static/css/phone.css);
//   a click anywhere else, or on an action, closes it.
(function () {
  let backdrop = null;

  function setExpanded(target, open) {
    document.querySelectorAll('[data-kv-target="#' + target.id + '"]').forEach(function (toggle) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function closeDrawer(drawer) {
    drawer.classList.remove("show");
    setExpanded(drawer, false);
    if (backdrop) { backdrop.remove(); backdrop = null; }
  }

  function openDrawer(drawer) {
    drawer.classList.add("show");
    setExpanded(drawer, true);
    if (!backdrop) {
      backdrop = document.createElement("div");
      backdrop.className = "offcanvas-backdrop fade show d-lg-none";
      backdrop.addEventListener("click", function () { closeDrawer(drawer); });
      document.body.appendChild(backdrop);
    }
    drawer.focus();
  }

  function closeMenus(except) {
    document.querySelectorAll(".kv-actions.open").forEach(function (menu) {
      if (menu === except) return;
      menu.classList.remove("open");
      const toggle = menu.querySelector('[data-kv-toggle="menu"]');
      if (toggle) toggle.setAttribute("aria-expanded", "false");
    });
  }

  document.addEventListener("click", function (evt) {
    const dismiss = evt.target.closest('[data-kv-dismiss="drawer"]');
    if (dismiss) { closeDrawer(dismiss.closest(".offcanvas-lg")); return; }
    const toggle = evt.target.closest("[data-kv-toggle]");
    if (!toggle) { closeMenus(null); return; }
    const kind = toggle.dataset.kvToggle;
    if (kind === "menu") {
      const menu = toggle.closest(".kv-actions");
      closeMenus(menu);
      const open = menu.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    const target = document.querySelector(toggle.dataset.kvTarget);
    if (!target) return;
    if (kind === "collapse") {
      setExpanded(target, target.classList.toggle("show"));
    } else if (kind === "drawer") {
      if (target.classList.contains("show")) closeDrawer(target); else openDrawer(target);
    }
  });

  // A live update replaces a row or the VM summary whole; an actions menu open in it stays open.
  const reopen = new Set();
  function rememberOpen(evt) {
    const target = evt.detail.target;
    if (target && target.id && target.querySelector && target.querySelector(".kv-actions.open")) reopen.add(target.id);
  }
  function restoreOpen() {
    reopen.forEach(function (id) {
      const menu = document.getElementById(id) && document.getElementById(id).querySelector(".kv-actions");
      if (!menu) return;
      menu.classList.add("open");
      const toggle = menu.querySelector('[data-kv-toggle="menu"]');
      if (toggle) toggle.setAttribute("aria-expanded", "true");
    });
    reopen.clear();
  }
  document.addEventListener("htmx:oobBeforeSwap", rememberOpen);
  document.addEventListener("htmx:beforeSwap", rememberOpen);
  document.addEventListener("htmx:oobAfterSwap", restoreOpen);
  document.addEventListener("htmx:afterSettle", restoreOpen);

  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") return;
    closeMenus(null);
    document.querySelectorAll(".offcanvas-lg.show").forEach(closeDrawer);
  });
})();
