// Live updates arrive as out-of-band fragments over the htmx ws extension. Events are
// notifications, not state: whenever the socket opens the page asks for its partials again
// ("kv:resync"), since anything pushed before it was open (between the page's render and the
// first connect, or while it was down) is lost.
(function () {
  // A swap settles at once: htmx wires new content (its hx-trigger listeners) when the swap
  // settles, 20 ms later by default, and a live ask to re-read sent to an element in between
  // reaches no listener. No page animates the settling.
  htmx.config.defaultSettleDelay = 0;
  // An element that re-reads itself on a live ask (hx-get, hx-trigger="kv:…") and is asked again
  // while its last re-read is on its way would lose the ask: htmx queues it on the element, the
  // answer replaces the element, and htmx sends nothing for an element that left the page. The
  // ask is kept by id and repeated on the element that took its place once the answer is in, as
  // that answer may have been read before the change the second ask is about.
  const askedAgain = {};
  document.addEventListener("htmx:trigger", function (evt) {
    const elt = evt.target;
    if (!elt.id || !elt.hasAttribute("hx-get") || !(elt.getAttribute("hx-trigger") || "").includes("kv:")) return;
    if (!(elt.getAttribute("hx-swap") || "").startsWith("outerHTML")) return; // htmx's own queue holds
    if (elt.classList.contains(htmx.config.requestClass)) askedAgain[elt.id] = true;
  });
  function askAgainSoon() {
    if (Object.keys(askedAgain).length === 0) return;
    setTimeout(function () {
      Object.keys(askedAgain).forEach(function (id) {
        const elt = document.getElementById(id);
        if (elt && elt.classList.contains(htmx.config.requestClass)) return; // still on its way
        delete askedAgain[id];
        if (elt) htmx.ajax("GET", elt.getAttribute("hx-get"), { source: elt });
      });
    }, 0);
  }
  document.addEventListener("htmx:afterRequest", askAgainSoon);
  document.addEventListener("htmx:afterSettle", askAgainSoon);
  // An answer whose target left the page while it was on its way (a live fragment replaced it) is
  // dropped. Swapped into the detached element it would show nowhere, and htmx would first move
  // the page's hx-preserve elements (an open volume menu, with what was typed in it) into that
  // detached copy, where they are lost with it. A re-read is asked again of the element that took
  // its place. htmx fires beforeSwap on the target itself, which no longer bubbles to the
  // document once detached: the listener sits on the target.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    const target = evt.detail.target;
    if (target && target.addEventListener) target.addEventListener("htmx:beforeSwap", dropIfGone, { once: true });
  });
  function dropIfGone(evt) {
    const target = evt.detail.target;
    if (!target || target.isConnected) return;
    evt.detail.shouldSwap = false;
    const now = target.id && document.getElementById(target.id);
    if (now && now.hasAttribute("hx-get") && (now.getAttribute("hx-trigger") || "").includes("kv:")) askedAgain[target.id] = true;
  }
  function setStatus(text, cls) {
    const el = document.getElementById("live-status");
    if (!el) return;
    el.textContent = text;
    el.className = "badge me-3 text-bg-" + cls;
  }
  document.addEventListener("htmx:wsOpen", function () {
    setStatus("live", "success");
    htmx.trigger(document.body, "kv:resync");
  });
  // The server closes a socket when the user's rights or session change (apps/core/realtime.py):
  // 1012 and the extension reconnects, rejoining with the rights as they are now; 4001 and the
  // session is over, which the page says instead of retrying.
  document.addEventListener("htmx:wsClose", function (evt) {
    const closed = evt.detail && evt.detail.event;
    if (closed && closed.code === 4001) {
      setStatus("signed out", "danger");
      showEnded(closed.reason || "Your session has ended; sign in again.");
      return;
    }
    setStatus("reconnecting", "warning");
    if (closed && closed.reason) document.getElementById("live-status").title = closed.reason;
  });
  function showEnded(reason) {
    if (document.getElementById("kv-session-ended")) return;
    const box = document.createElement("div");
    box.id = "kv-session-ended";
    box.setAttribute("role", "alert");
    box.className = "alert alert-danger m-3";
    box.append(reason + " ");
    const link = document.createElement("a");
    link.href = "/login/?next=" + encodeURIComponent(location.pathname + location.search);
    link.textContent = "Sign in";
    box.append(link);
    document.body.prepend(box);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    const xhr = evt.detail.xhr;
    const msg = xhr.status === 403 ? "You are not allowed to do that." : "Request failed (" + xhr.status + ").";
    window.alert(msg);
  });
  // The VM page's tab bar: the chosen tab is marked here; htmx loads it and pushes ?tab= to history.
  document.addEventListener("click", function (evt) {
    const link = evt.target.closest("#vm-tabs a[data-tab]");
    if (!link) return;
    link.closest("#vm-tabs").querySelectorAll("a.nav-link").forEach(function (a) {
      a.classList.toggle("active", a === link);
    });
  });
  // The VM list's "select all" box.
  document.addEventListener("change", function (evt) {
    if (evt.target.id !== "vm-select-all") return;
    document.querySelectorAll("#vm-table input.vm-select").forEach(function (box) {
      box.checked = evt.target.checked;
    });
  });
  // Markers pushed over the WebSocket: a VM was created (the list re-reads itself, keeping its
  // filter, sort and page), or a VM changed (the open tab of that VM re-reads itself).
  document.addEventListener("htmx:load", function (evt) {
    const marker = evt.target;
    if (!marker.classList) return;
    if (marker.classList.contains("kv-list-changed")) {
      const table = document.getElementById("vm-table");
      if (table) htmx.trigger(table, "kv:refresh");
      return;
    }
    if (marker.classList.contains("kv-vm-changed")) refreshTab(marker.dataset.vm);
  });
  // A VM's open tab re-reads itself when the VM changes. While a load is in flight in the tab
  // area (a click, an earlier re-read, a form's post) the re-read waits for the tab that load
  // brings: fired now, its answer could land on a tab already replaced, and the change be lost.
  // It also waits while a tab just swapped in is not yet processed by htmx: it carries
  // htmx-added from the swap until the settle step (~20 ms later) wires its hx-trigger, and a
  // kv:refresh sent to it before then reaches no listener.
  const pendingTabs = {};
  function refreshTab(vm) {
    const tab = document.getElementById("vm-tab-" + vm);
    if (!tab) return;
    const area = document.getElementById("vm-tab-area");
    const loading = area && (area.classList.contains("htmx-request") || area.querySelector(".htmx-request"));
    if (loading || tab.classList.contains(htmx.config.addedClass)) {
      pendingTabs[vm] = true;
      return;
    }
    if (tab.dataset.kvDirty) {
      pendingTabs[vm] = true;
      markStale(tab);
      return;
    }
    htmx.trigger(tab, "kv:refresh");
  }
  // Someone typing in a tab's form does not lose it to a re-read: the tab says it is behind, and
  // is re-read when the form is sent (its answer brings the tab back) or when they ask.
  document.addEventListener("input", function (evt) {
    const tab = evt.target.closest && evt.target.closest(".vm-tab");
    if (tab) tab.dataset.kvDirty = "1";
  });
  // A re-read already on its way when they started typing is not applied either: its answer is
  // dropped and the tab says it is behind. (A tab click, or a form's own answer, still swaps.)
  document.addEventListener("htmx:beforeSwap", function (evt) {
    const tab = evt.detail.target;
    const config = evt.detail.requestConfig;
    if (!tab || !tab.classList || !tab.classList.contains("vm-tab") || !tab.dataset.kvDirty) return;
    if (!config || config.elt !== tab) return;
    evt.detail.shouldSwap = false;
    pendingTabs[tab.dataset.vm] = true;
    markStale(tab);
  });
  // Sending the form is what the typing was for: from then on the tab follows the VM again.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    const tab = evt.target.closest && evt.target.closest(".vm-tab");
    if (tab && evt.detail.requestConfig && evt.detail.requestConfig.verb !== "get") delete tab.dataset.kvDirty;
  });
  function markStale(tab) {
    if (tab.querySelector(".kv-stale")) return;
    const note = document.createElement("div");
    note.className = "alert alert-info small py-1 kv-stale";
    note.setAttribute("role", "status");
    const link = document.createElement("a");
    link.href = "#";
    link.className = "kv-reread";
    link.textContent = "re-read it now";
    note.append("The VM changed while you were typing here: this tab is re-read when you send the form, or ", link,
      " (what you typed is dropped).");
    tab.prepend(note);
  }
  document.addEventListener("click", function (evt) {
    const link = evt.target.closest && evt.target.closest("a.kv-reread");
    if (!link) return;
    evt.preventDefault();
    const tab = link.closest(".vm-tab");
    delete tab.dataset.kvDirty;
    htmx.trigger(tab, "kv:refresh");
  });
  // When a load ends, a change that waited for it is read: once a swap has settled (htmx has
  // processed the new content, and taken back the classes, htmx-request among them, that it lends
  // a new element keeping an old one's id), or when a request that swapped nothing ends.
  // refreshTab checks again, so a call that comes too early only waits longer.
  function readPendingSoon() {
    if (Object.keys(pendingTabs).length === 0) return;
    setTimeout(function () {
      Object.keys(pendingTabs).forEach(function (vm) {
        delete pendingTabs[vm];
        refreshTab(vm);
      });
    }, 0);
  }
  document.addEventListener("htmx:afterRequest", readPendingSoon);
  document.addEventListener("htmx:afterSettle", readPendingSoon);
})();
