// "Join the queue" on a busy advisor's page: the caller's place and estimated wait (polled),
// then, at their turn, "Start now" within the offer's window (a push says so too).
import { api, errorText } from "./lib/api.js";

const panel = document.querySelector("[data-queue]");
const base = `/api/v1/advisors/${panel.dataset.advisor}/queue`;
const form = panel.querySelector("[data-queue-join]");
const status = panel.querySelector("[data-queue-status]");
const start = panel.querySelector("[data-queue-start]");
const leave = panel.querySelector("[data-queue-leave]");
const error = panel.querySelector("[data-queue-error]");
let place = null;
let timer = null;

function render() {
  form.hidden = place !== null;
  leave.hidden = place === null;
  start.hidden = !place || place.status !== "offered";
  status.hidden = place === null;
  if (!place) return;
  status.textContent = place.status === "offered"
    ? panel.dataset.textOffered
    : panel.dataset.textWaiting
      .replace("{position}", place.position)
      .replace("{minutes}", Math.max(1, Math.round(place.estimated_wait_seconds / 60)));
}

async function poll() {
  clearTimeout(timer);
  try {
    place = await api("GET", base);
  } catch (failure) {
    place = null;
    if (failure.status !== 404) error.textContent = errorText(failure);
  }
  render();
  if (place) timer = setTimeout(poll, 2000);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  try {
    place = await api("POST", base, { kind: form.elements.kind.value });
    render();
    timer = setTimeout(poll, 2000);
  } catch (failure) {
    error.textContent = errorText(failure);
  }
});

leave.addEventListener("click", async () => {
  error.textContent = "";
  try {
    await api("DELETE", base);
    place = null;
    render();
  } catch (failure) {
    error.textContent = errorText(failure);
  }
});

start.addEventListener("click", async () => {
  error.textContent = "";
  try {
    const call = await api("POST", "/api/v1/calls", {
      advisor_id: Number(panel.dataset.advisor), kind: place.kind,
    });
    window.location.assign(`/calls/${call.id}/`);
  } catch (failure) {
    error.textContent = errorText(failure);
  }
});

// A reload finds the caller's place again; otherwise there is nothing to ask yet.
if (panel.dataset.queued) poll();
else render();
