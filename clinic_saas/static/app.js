// clinic_saas page behaviour. Loaded as a file: the CSP allows no inline script.
(function () {
  "use strict";

  // Print buttons (data-print): the page's own print stylesheet does the rest.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

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

// A form that records something (a sale, a booking) is sent once: a double click does not send
// it twice. The server still refuses what has changed since the page was shown.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post") { return; }
    if (form.dataset.sent === "1") { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.classList.add("disabled");
      button.setAttribute("aria-disabled", "true");
    });
  });
  // Coming back to a page from the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.classList.remove("disabled");
        button.removeAttribute("aria-disabled");
      });
    });
  });
})();
