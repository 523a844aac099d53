// The pay page: confirm the card with Stripe.js, then let the server charge it (STRIPE.md's flow).
// 1. start: the server opens a card attempt and a SetupIntent; 2. confirmCardSetup with the card
// element; 3. charge: the server creates and confirms the PaymentIntent for the balance; 4. if the
// card asks for 3-D Secure, confirmCardPayment, then confirm: the server re-reads the intent.
// Only the server decides that the invoice is paid.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var data = form.dataset;
  var stripe = data.stripeAccount
    ? Stripe(data.publishableKey, { stripeAccount: data.stripeAccount })
    : Stripe(data.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var button = document.getElementById("pay-button");
  var errorBox = document.getElementById("pay-error");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var UNEXPECTED = "The payment could not be completed: nothing was taken. Please try again.";

  function showError(message) {
    errorBox.textContent = message || UNEXPECTED;
    errorBox.hidden = false;
    button.disabled = false;
  }

  function post(url, fields) {
    var body = new FormData();
    Object.keys(fields).forEach(function (name) { body.append(name, fields[name]); });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return { status: "refused" }; });
    });
  }

  function finish(answer) {
    if (answer.status === "succeeded" && answer.receipt_url) {
      window.location.assign(answer.receipt_url);
      return;
    }
    showError(answer.message);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) { return; }
    button.disabled = true;
    errorBox.hidden = true;
    var keep = document.getElementById("keep-card");
    var keepCard = keep && keep.checked ? "1" : "0";
    var attempt = null;
    post(data.startUrl, { keep_card: keepCard })
      .then(function (started) {
        if (started.status !== "started") { throw started; }
        attempt = started.attempt;
        return stripe.confirmCardSetup(started.client_secret, { payment_method: { card: card } });
      })
      .then(function (setup) {
        if (setup.error || !setup.setupIntent) {
          throw { message: (setup.error && setup.error.message) || UNEXPECTED };
        }
        return post(data.chargeUrl, {
          attempt: attempt, setup_intent: setup.setupIntent.id, keep_card: keepCard
        });
      })
      .then(function (answer) {
        if (answer.status !== "requires_action") { return answer; }
        return stripe.confirmCardPayment(answer.client_secret).then(function () {
          return post(data.confirmUrl, { attempt: attempt });
        });
      })
      .then(finish)
      .catch(function (problem) { showError(problem && problem.message); });
  });
})();
