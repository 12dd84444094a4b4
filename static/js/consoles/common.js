// What the graphical and the serial console share: finding the consoles a page (or an htmx swap)
// brings, ending them when htmx removes them, saying why a socket closed, and coming back when
// the VM changes.
//
// A console area ([data-console-area]: the VM page's tab, or the pop-out window's console part)
// is never re-read by the page's live updates, which would cut a console in use. Instead, when
// the VM changes (kvmweb.js swaps a .kv-vm-changed marker into #vm-signal-PK), an area whose
// console is not open is re-read from its data-reread URL: a VM that was stopped shows its
// console once it runs, one that lost its display says so.

// The close codes of kvmweb's console sockets (apps/consoles/consumers.py), for a close that
// came without a reason.
const CLOSED = {
  1000: "The console was closed.",
  1001: "kvmweb is restarting.",
  1006: "The connection to kvmweb was lost.",
  4000: "Closed by an administrator.",
  4001: "Your session has ended; sign in again.",
  4400: "The browser sent something the console could not read.",
  4403: "You may not use this console.",
  4404: "No such virtual machine.",
  4409: "The console is not available now.",
  4429: "You have too many consoles open.",
};

export function closeReason(event) {
  if (event.reason) return event.reason;
  return CLOSED[event.code] || "The console was closed (code " + event.code + ").";
}

// A console that closed for this reason comes back by itself when the VM changes (it stopped,
// had no display, its host was down); one closed by a person (an administrator, a take-over, a
// revoked right, a signed-out session) waits for the user's Reconnect.
export function comesBack(event) {
  return event.code === 4409 && !/^Taken over/.test(event.reason || "");
}

// The status line: "state" is connecting / connected / disconnected (CSS colours it).
export function setStatus(root, state, text) {
  const status = root.querySelector(".console-status");
  status.dataset.state = state;
  status.textContent = text;
  root.dataset.state = state;
  root.querySelectorAll(".console-reconnect").forEach(function (button) {
    button.classList.toggle("btn-primary", state === "disconnected");
    button.classList.toggle("btn-outline-secondary", state !== "disconnected");
  });
}

export function socketUrl(path) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}

// Re-read a console area: a fresh one replaces it and connects (or says why it cannot).
export function reread(area) {
  if (!area || !area.isConnected) return;
  htmx.ajax("GET", area.dataset.reread, { source: area, target: area, swap: "outerHTML" });
}

// Typing in a console (xterm's hidden text box, the clipboard and paste boxes) is not typing in a
// form: kvmweb.js would mark the VM tab as being edited and, at the VM's next change, show a
// "changed while you were typing" note. The input stops at the console area.
function quiet(area) {
  if (!area || area.dataset.quiet) return;
  area.dataset.quiet = "1";
  area.addEventListener("input", function (evt) {
    evt.stopPropagation();
  });
}

// start(root) for every console of this kind on the page now and in what htmx swaps in later;
// it returns stop(), called when htmx removes the console (another tab chosen, area re-read).
export function onConsoles(kind, start) {
  const stops = new WeakMap();
  function startWithin(elt) {
    if (!elt.querySelectorAll) return;
    const found = Array.from(elt.querySelectorAll('.kv-console[data-console="' + kind + '"]'));
    if (elt.matches && elt.matches('.kv-console[data-console="' + kind + '"]')) found.push(elt);
    found.forEach(function (root) {
      if (root.dataset.started) return;
      root.dataset.started = "1";
      quiet(root.closest("[data-console-area]"));
      stops.set(root, start(root));
    });
  }
  startWithin(document);
  document.addEventListener("htmx:load", function (evt) {
    startWithin(evt.target);
  });
  document.addEventListener("htmx:beforeCleanupElement", function (evt) {
    const stop = stops.get(evt.target);
    if (!stop) return;
    stops.delete(evt.target);
    stop();
  });
}

// A VM changed: its console areas whose console is not open (or closed in a way that may now be
// over) are re-read. Registered once, whichever console module loads first.
if (!window.kvConsolesFollowVm) {
  window.kvConsolesFollowVm = true;
  document.addEventListener("htmx:load", function (evt) {
    const marker = evt.target;
    if (!marker.classList || !marker.classList.contains("kv-vm-changed")) return;
    const vm = marker.dataset.vm;
    document.querySelectorAll('[data-console-area][data-vm="' + vm + '"]').forEach(function (area) {
      const root = area.querySelector(".kv-console");
      if (root && root.dataset.state !== "disconnected") return; // open, or on its way
      if (root && !root.dataset.comesBack) return; // closed by a person: the user reconnects
      reread(area);
    });
    // The pop-out window's power buttons follow the VM's state.
    document.querySelectorAll('[data-console-power][data-vm="' + vm + '"]').forEach(function (part) {
      htmx.trigger(part, "console-power");
    });
  });
  // The toolbar's menus (<details>) close when the person clicks elsewhere or presses Escape.
  function closeMenus(except) {
    document.querySelectorAll(".kv-console details.console-menu[open]").forEach(function (menu) {
      if (!except || !menu.contains(except)) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (evt) {
    closeMenus(evt.target);
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape") closeMenus(null);
  });
  // The Reconnect button: a fresh console replaces the one shown.
  document.addEventListener("click", function (evt) {
    const button = evt.target.closest && evt.target.closest(".console-reconnect");
    if (!button) return;
    reread(button.closest("[data-console-area]"));
  });
}
