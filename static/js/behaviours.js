// Small page behaviours declared with data attributes. They were inline handlers (onclick=,
// onchange=, onsubmit=, hx-on) and evaluated htmx trigger filters ("event[expression]"), which
// the Content-Security-Policy refuses to run: it allows script from this site's files only, with
// neither 'unsafe-inline' nor 'unsafe-eval'. A template needing a new behaviour adds it here.
(function () {
  // htmx inserts a <style> element for its request indicators; the policy refuses inline style
  // elements, and no page uses htmx-indicator.
  htmx.config.includeIndicatorStyles = false;

  // <button data-bs-dismiss="alert"> closes the alert around it. Requests from inside it end with
  // it: a bulk result may still wait for the re-read of its lines, whose out-of-band answer would
  // have nowhere to go (htmx:oobErrorNoTarget).
  document.addEventListener("click", function (evt) {
    const button = evt.target.closest && evt.target.closest('[data-bs-dismiss="alert"]');
    const alert = button && button.closest(".alert");
    if (!alert) return;
    alert.querySelectorAll("[hx-get], [hx-post]").forEach(function (elt) { htmx.trigger(elt, "htmx:abort"); });
    alert.remove();
  });

  // <select data-autosubmit>: a filter that applies as soon as it is chosen.
  document.addEventListener("change", function (evt) {
    const select = evt.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) select.form.submit();
  });

  // <form data-confirm> and <button data-confirm> are asked in the page by confirm.js, which
  // stops the event before it reaches a listener here.

  // <form data-drop-empty>: empty fields stay out of its htmx requests (and of the pushed URL).
  document.addEventListener("htmx:configRequest", function (evt) {
    if (!evt.detail.elt.closest("[data-drop-empty]")) return;
    const parameters = evt.detail.parameters;
    for (const [name, value] of [...parameters]) if (!value) parameters.delete(name);
  });

  // A live message may carry signals (<!-- kv-signal:wiring-5 -->, see apps/core/realtime.signal):
  // each fires kv:<name> on the body, for an element that re-reads itself on it (hx-trigger=
  // "kv:wiring-5 from:body"): cheaper than rendering the whole part for every subscriber.
  document.addEventListener("htmx:wsAfterMessage", function (evt) {
    for (const m of String(evt.detail.message).matchAll(/kv-signal:([\w-]+)/g)) htmx.trigger(document.body, "kv:" + m[1]);
  });

  // Secrets have no libvirt events: a live message about a secret operation tells the secret
  // table (hx-trigger="kv:secrets-changed from:body") to re-read itself.
  document.addEventListener("htmx:wsAfterMessage", function (evt) {
    if (String(evt.detail.message).includes("secret.")) htmx.trigger(document.body, "kv:secrets-changed");
  });

  // <div data-op-row="op-12" hx-trigger="kv:op-finished">: fires once, when operation 12's row in
  // the operations panel shows it finished, whether the row was finished before the element
  // arrived or arrives finished later over the WebSocket. Any new content may be either, so each
  // load looks at every element still waiting (a VM tab has one at most).
  const FINISHED = ["succeeded", "failed", "cancelled"];
  document.addEventListener("htmx:load", function () {
    document.querySelectorAll("[data-op-row]:not([data-op-fired])").forEach(function (waiter) {
      const row = document.getElementById(waiter.dataset.opRow);
      if (!row || !FINISHED.includes(row.dataset.status)) return;
      waiter.dataset.opFired = "1";
      htmx.trigger(waiter, "kv:op-finished");
    });
  });
})();
