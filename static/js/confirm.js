// Destructive actions ask in the page, not with the browser's confirm() pop-up: a dialog in
// Bootstrap's modal style (a <dialog>, so focus, Escape and the backdrop come from the browser).
// - hx-confirm="question" on anything htmx sends: the request waits for the answer;
// - data-confirm="question" on a button or a plain form: the click or submit waits for it.
// data-confirm-button names the confirming button (default "Confirm").
(function () {
  let dialog = null;

  function build() {
    dialog = document.createElement("dialog");
    dialog.id = "kv-confirm";
    dialog.className = "kv-confirm p-0 border-0 rounded-3 shadow";
    dialog.setAttribute("aria-labelledby", "kv-confirm-text");
    const content = document.createElement("form");
    content.method = "dialog";
    content.className = "modal-content";
    const body = document.createElement("div");
    body.className = "modal-body";
    const text = document.createElement("p");
    text.id = "kv-confirm-text";
    text.className = "mb-0";
    body.append(text);
    const footer = document.createElement("div");
    footer.className = "modal-footer";
    const cancel = document.createElement("button");
    cancel.value = "cancel";
    cancel.className = "btn btn-secondary";
    cancel.textContent = "Cancel";
    const ok = document.createElement("button");
    ok.value = "ok";
    ok.id = "kv-confirm-ok";
    ok.className = "btn btn-danger";
    footer.append(cancel, ok);
    content.append(body, footer);
    dialog.append(content);
    document.body.append(dialog);
  }

  // Ask `question`; `then` runs only if they confirm.
  function ask(question, button, then) {
    if (!dialog) build();
    dialog.querySelector("#kv-confirm-text").textContent = question;
    dialog.querySelector("#kv-confirm-ok").textContent = button || "Confirm";
    dialog.returnValue = "";
    dialog.addEventListener("close", function once() {
      dialog.removeEventListener("close", once);
      if (dialog.returnValue === "ok") then();
    });
    dialog.showModal();
    dialog.querySelector("button[value=cancel]").focus();
  }

  // A live update may replace the asking element while the dialog is open (a snapshot's row is
  // re-read when another operation ends); htmx sends nothing for an element that left the page.
  // The answer then goes to the element that took its place: the same markup where it stood.
  function current(elt, markup) {
    if (elt.isConnected) return elt;
    const same = Array.from(document.getElementsByTagName(elt.tagName)).filter(function (e) {
      return e.outerHTML === markup;
    });
    return same.length === 1 ? same[0] : null;
  }
  function gone() {
    ask("The page changed while you were deciding, and what you confirmed is no longer shown. Nothing was sent.", "OK", function () {});
  }

  // Elements whose confirmation was answered for another copy of them: sent without asking.
  const answered = new WeakSet();
  document.addEventListener("htmx:confirm", function (evt) {
    if (!evt.detail.question) return;
    evt.preventDefault();
    const elt = evt.detail.elt;
    if (answered.has(elt)) {
      answered.delete(elt);
      evt.detail.issueRequest(true);
      return;
    }
    const markup = elt.outerHTML;
    ask(evt.detail.question, elt.dataset && elt.dataset.confirmButton, function () {
      const now = current(elt, markup);
      if (now === elt) {
        evt.detail.issueRequest(true);
      } else if (now) {
        answered.add(now);
        htmx.ajax(evt.detail.verb, evt.detail.path, { source: now });
      } else {
        gone();
      }
    });
  });

  // Confirmed clicks and submits go through once without asking again.
  const confirmed = new WeakSet();
  document.addEventListener("click", function (evt) {
    const button = evt.target.closest && evt.target.closest("button[data-confirm]");
    if (!button || button.disabled) return;
    if (confirmed.has(button)) {
      confirmed.delete(button);
      return;
    }
    evt.preventDefault();
    evt.stopImmediatePropagation();
    const markup = button.outerHTML;
    ask(button.dataset.confirm, button.dataset.confirmButton, function () {
      const now = current(button, markup);
      if (!now) return gone();
      confirmed.add(now);
      now.click();
    });
  }, true);
  document.addEventListener("submit", function (evt) {
    const form = evt.target;
    if (!form.dataset || !form.dataset.confirm) return;
    evt.preventDefault();
    evt.stopImmediatePropagation();
    const markup = form.outerHTML;
    ask(form.dataset.confirm, form.dataset.confirmButton, function () {
      const now = current(form, markup);
      if (!now) return gone();
      // submit() sends the form without a submit event, so nothing asks a second time.
      HTMLFormElement.prototype.submit.call(now);
    });
  }, true);
})();
