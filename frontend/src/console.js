// The advisor's console: an incoming call rings here (the page polls the advisor's calls)
// with accept and decline, and a browser notification when the person allowed them.
import { api, errorText } from "./lib/api.js";

const box = document.getElementById("incoming");
const text = box.querySelector("[data-incoming-text]");
const error = box.querySelector("[data-incoming-error]");
let ringing = null;
let notified = null;

function announce(call) {
  const name = call.caller_name || box.dataset.anonymous;
  const template = { chat: box.dataset.textChat, video: box.dataset.textVideo }[call.kind];
  text.textContent = (template || box.dataset.text).replace("{name}", name);
  box.hidden = false;
  if (notified !== call.id && "Notification" in window && Notification.permission === "granted") {
    new Notification(text.textContent);
  }
  notified = call.id;
}

async function poll() {
  try {
    const page = await api("GET", "/api/v1/calls?limit=5");
    const call = page.results.find((item) => item.status === "ringing");
    if (call) {
      ringing = call;
      announce(call);
    } else if (ringing) {
      ringing = null;
      box.hidden = true;
      window.location.reload(); // presence changed (missed or taken back): show it
      return;
    }
  } catch (failure) {
    error.textContent = errorText(failure);
  }
  setTimeout(poll, 1500);
}

box.querySelectorAll("[data-incoming]").forEach((button) => {
  button.addEventListener("click", async () => {
    if (!ringing) return;
    const action = button.dataset.incoming;
    error.textContent = "";
    try {
      await api("POST", `/api/v1/calls/${ringing.id}/${action}`);
      if (action === "accept") window.location.assign(`/calls/${ringing.id}/`);
      else window.location.reload();
    } catch (failure) {
      error.textContent = errorText(failure);
    }
  });
});

if ("Notification" in window && Notification.permission === "default") {
  document.addEventListener("click", () => Notification.requestPermission(), { once: true });
}
poll();

// The kinds of session offered: a kind's rate is sent only while its box is ticked.
for (const toggle of document.querySelectorAll("[data-kind-toggle]")) {
  const rate = document.getElementById(toggle.dataset.kindToggle);
  const sync = () => { rate.disabled = !toggle.checked; };
  toggle.addEventListener("change", sync);
  sync();
}
