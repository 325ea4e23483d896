// The wallet's top-up: create the top-up through the API, pay it (Stripe Elements, or the
// offline sandbox's test cards when the licensee is connected to the local Stripe sandbox),
// then wait until Stripe's webhook has credited the wallet.
// The "pure" entry loads Stripe.js only when a card form is really needed (never in the
// sandbox), instead of on import.
import { loadStripe } from "@stripe/stripe-js/pure";
import { api, errorText, formatMoney, message, toMinor } from "./lib/api.js";

const config = JSON.parse(document.getElementById("topup-config").textContent);
const form = document.getElementById("topup-form");
const step = document.getElementById("payment-step");
const status = document.getElementById("topup-status");
const paymentError = document.getElementById("payment-error");
const amountField = document.getElementById("topup-amount");
let topup = null;

function requestBody() {
  const chosen = form.querySelector('input[name="package"]:checked');
  if (chosen && chosen.value) return { package: chosen.value };
  const amount = toMinor(amountField.value, Number(amountField.dataset.exponent || 2));
  if (Number.isNaN(amount) || amount <= 0) return null;
  return { amount };
}

async function waitForCredit(id) {
  status.textContent = status.dataset.waiting;
  for (let attempt = 0; attempt < 120; attempt += 1) {
    const current = await api("GET", `/api/v1/wallet/topups/${id}`);
    if (current.status === "succeeded") {
      const wallet = await api("GET", "/api/v1/wallet");
      const exponent = Number(amountField.dataset.exponent || 2);
      document.querySelector("[data-wallet-balance]").textContent = formatMoney(
        wallet.available, wallet.currency, exponent,
      );
      status.textContent = status.dataset.done;
      step.hidden = true;
      form.hidden = false;
      form.reset();
      return;
    }
    if (current.status === "failed" || current.status === "canceled") {
      status.textContent = status.dataset.failed;
      step.hidden = true;
      form.hidden = false;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

let stripeCard = null;

async function payWithStripe() {
  const cardForm = document.getElementById("stripe-card");
  cardForm.hidden = false;
  if (stripeCard) return;
  const stripe = await loadStripe(topup.publishable_key);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  stripeCard = card;
  cardForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    paymentError.textContent = "";
    const result = await stripe.confirmCardPayment(topup.client_secret, {
      payment_method: { card },
    });
    if (result.error) {
      paymentError.textContent = result.error.message || message("default");
      return;
    }
    await waitForCredit(topup.id);
  });
}

const sandboxPanel = document.getElementById("sandbox-card");
sandboxPanel.querySelectorAll("[data-sandbox-pay]").forEach((button) => {
  button.addEventListener("click", async () => {
    paymentError.textContent = "";
    sandboxPanel.querySelectorAll("button").forEach((node) => { node.disabled = true; });
    try {
      await api("POST", `/api/v1/wallet/topups/${topup.id}/sandbox/pay`, {
        succeed: button.dataset.sandboxPay === "succeed",
      });
      await waitForCredit(topup.id);
    } catch (failure) {
      paymentError.textContent = errorText(failure);
    } finally {
      sandboxPanel.querySelectorAll("button").forEach((node) => { node.disabled = false; });
    }
  });
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = form.querySelector('[data-role="error"]');
  error.textContent = "";
  status.textContent = "";
  const body = requestBody();
  if (!body) {
    amountField.setAttribute("aria-invalid", "true");
    amountField.focus();
    error.textContent = message("invalid_topup");
    return;
  }
  amountField.removeAttribute("aria-invalid");
  try {
    topup = await api("POST", "/api/v1/wallet/topups", body);
  } catch (failure) {
    error.textContent = errorText(failure);
    return;
  }
  form.hidden = true;
  step.hidden = false;
  if (config.sandbox) sandboxPanel.hidden = false;
  else await payWithStripe();
});

amountField.addEventListener("input", () => {
  const custom = document.getElementById("package-custom");
  if (custom && amountField.value) custom.checked = true;
});
