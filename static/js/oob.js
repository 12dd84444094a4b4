// Live messages carry a fragment for every place that may show the thing that changed (the
// operations panel, a bulk result, a VM's row in the list, a pool's page); a page shows only some
// of them. htmx logs an error (htmx:oobErrorNoTarget) for each fragment whose target is not on
// the page, so this extension drops those before the ws extension swaps the message.
(function () {
  // Where an out-of-band fragment goes: "strategy:selector", or the fragment's own id.
  function targetOf(elt) {
    const spec = elt.getAttribute("hx-swap-oob") || "true";
    const colon = spec.indexOf(":");
    if (colon >= 0) return spec.slice(colon + 1).trim();
    return elt.id ? "#" + CSS.escape(elt.id) : "";
  }
  function present(selector) {
    try {
      return Boolean(selector) && document.querySelector(selector) !== null;
    } catch (e) {
      return false; // not a selector this page can answer: nothing to swap it into
    }
  }
  htmx.defineExtension("kv-oob", {
    transformResponse: function (text, xhr) {
      // Only socket messages (no xhr): every top-level element of one is an out-of-band swap,
      // while an HTTP answer's main content has no hx-swap-oob and must be left alone.
      if (xhr) return text;
      const template = document.createElement("template");
      template.innerHTML = text;
      let dropped = false;
      Array.from(template.content.children).forEach(function (child) {
        if (!present(targetOf(child))) {
          child.remove();
          dropped = true;
        }
      });
      return dropped ? template.innerHTML : text;
    },
  });
  // The live socket's element uses it alongside the ws extension (base.html may say so itself).
  document.querySelectorAll("[ws-connect]").forEach(function (root) {
    const ext = (root.getAttribute("hx-ext") || "").split(",").map(function (s) { return s.trim(); });
    if (!ext.includes("kv-oob")) root.setAttribute("hx-ext", ext.concat("kv-oob").filter(Boolean).join(","));
  });
})();
