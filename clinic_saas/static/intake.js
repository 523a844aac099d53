// The intake form: small conveniences only; the form works the same without this file.
// (Sending a signed form once, whatever the number of taps, is app.js's job, as on every page.)
(function () {
  "use strict";

  // Show a "where?" or "details" field only once its condition is ticked (all show without JS).
  function syncShown(form) {
    form.querySelectorAll("[data-shown-by]").forEach(function (block) {
      var box = document.getElementById(block.getAttribute("data-shown-by"));
      var input = block.querySelector("input");
      block.hidden = !!box && !box.checked && !(input && input.value);
    });
  }

  document.querySelectorAll("form.intake-form").forEach(function (form) {
    syncShown(form);
    form.addEventListener("change", function (event) {
      var target = event.target;
      var checklist = target.closest("[data-checklist]");
      if (checklist && target.checked) {
        // "None of these" and a ticked condition exclude each other.
        if (target.hasAttribute("data-checklist-none")) {
          checklist.querySelectorAll("[data-checklist-code]").forEach(function (box) { box.checked = false; });
        } else if (target.hasAttribute("data-checklist-code")) {
          var none = checklist.querySelector("[data-checklist-none]");
          if (none) { none.checked = false; }
        }
      }
      syncShown(form);
    });
  });
})();
