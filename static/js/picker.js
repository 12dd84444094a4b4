// The grant form's "On" field (templates/accounts/_grants.html): a grouped list (Everywhere, Hosts,
// Virtual machines, Storage pools…) with a search box above it that hides the entries whose name
// does not hold what was typed, and the groups left empty. Nothing is chosen until the person
// picks an entry, "Everything" included; the server refuses a grant with none.
(function () {
  "use strict";

  function setUp(box) {
    const select = box.querySelector("select");
    const search = box.querySelector("input[type=search]");
    if (!select || !search || box.dataset.pickerReady) return;
    box.dataset.pickerReady = "1";
    select.required = true;
    const count = box.querySelector(".scope-picker-count");

    function filter() {
      const text = search.value.trim().toLowerCase();
      let shown = 0;
      select.querySelectorAll("optgroup").forEach(function (group) {
        let any = false;
        group.querySelectorAll("option").forEach(function (option) {
          const match = !text || option.textContent.toLowerCase().includes(text);
          option.hidden = !match;
          if (match) { any = true; shown += 1; }
        });
        group.hidden = !any;
      });
      if (count) count.textContent = text ? shown + " found" : "";
    }

    search.addEventListener("input", filter);
    // Enter in the search box picks the first entry shown rather than sending the form blank.
    search.addEventListener("keydown", function (evt) {
      if (evt.key !== "Enter") return;
      evt.preventDefault();
      const first = select.querySelector("optgroup:not([hidden]) option:not([hidden])");
      if (first) { select.value = first.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
    });
  }

  function scan(root) {
    (root || document).querySelectorAll("[data-scope-picker]").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (evt) { scan(evt.target); });
})();
