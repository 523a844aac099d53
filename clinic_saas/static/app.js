// clinic_saas page behaviour. Loaded as a file: the CSP allows no inline script.
(function () {
  "use strict";

  // Ask before destructive one-click actions (buttons with data-confirm).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Suggest a web address from the clinic name until the user edits it.
  document.querySelectorAll("[data-slug-source]").forEach(function (nameInput) {
    var slugInput = document.querySelector(nameInput.getAttribute("data-slug-source"));
    if (!slugInput) { return; }
    var touched = slugInput.value !== "";
    slugInput.addEventListener("input", function () { touched = true; });
    nameInput.addEventListener("input", function () {
      if (touched) { return; }
      slugInput.value = nameInput.value.toLowerCase()
        .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
    });
  });
})();
