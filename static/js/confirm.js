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

  document.addEventListener("htmx:confirm", function (evt) {
    if (!evt.detail.question) return;
    evt.preventDefault();
    const elt = evt.detail.elt;
    ask(evt.detail.question, elt.dataset && elt.dataset.confirmButton, function () {
      evt.detail.issueRequest(true);
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
    ask(button.dataset.confirm, button.dataset.confirmButton, function () {
      confirmed.add(button);
      button.click();
    });
  }, true);
  document.addEventListener("submit", function (evt) {
    const form = evt.target;
    if (!form.dataset || !form.dataset.confirm) return;
    evt.preventDefault();
    evt.stopImmediatePropagation();
    ask(form.dataset.confirm, form.dataset.confirmButton, function () {
      // submit() sends the form without a submit event, so nothing asks a second time.
      HTMLFormElement.prototype.submit.call(form);
    });
  }, true);
})();
