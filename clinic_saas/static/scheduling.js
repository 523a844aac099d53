// Roster page behaviour. Loaded as a file: the CSP allows no inline script.
(function () {
  "use strict";

  // A checkbox with data-disables="<selector>" disables the inputs it makes irrelevant
  // ("Whole days" needs no clock times; "Not working that day" needs no hours).
  document.querySelectorAll("[data-disables]").forEach(function (box) {
    var form = box.form;
    var apply = function () {
      form.querySelectorAll(box.getAttribute("data-disables")).forEach(function (part) {
        part.querySelectorAll("input, select").forEach(function (input) {
          input.disabled = box.checked;
        });
      });
    };
    box.addEventListener("change", apply);
    apply();
  });

  // Choosing a site shows its roster at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
