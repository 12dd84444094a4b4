// The New VM wizard (templates/compute/create/wizard.html): shows only the fields of the chosen
// install source, and after "Review" (or a refusal) brings what the answer says into view: the
// answer replaces the whole form, whose buttons sit at the bottom of a long page.
(function () {
  "use strict";
  if (window.kvWizard) return; // loaded again by a boosted navigation: the listeners exist
  window.kvWizard = true;

  function showSource(form) {
    const checked = form.querySelector('input[name="source"]:checked');
    const source = checked ? checked.value : "";
    form.querySelectorAll("[data-source]").forEach(function (el) {
      el.classList.toggle("d-none", el.dataset.source !== source);
    });
  }

  document.addEventListener("change", function (event) {
    const input = event.target;
    if (input.name === "source" && input.form && input.form.id === "create-form") showSource(input.form);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail && event.detail.target;
    if (!target || target.id !== "create-wizard") return;
    const review = document.getElementById("create-review");
    const refusal = document.querySelector("#create-wizard .alert-danger, #create-wizard .invalid-feedback");
    const land = review || refusal;
    if (!land) return;
    land.scrollIntoView({ block: "start" });
    if (land === review) review.focus({ preventScroll: true });
  });
})();
