// The session screen (voice, video or chat), for the caller and the advisor. The meter, the
// low-funds warning and the end come from the server's call state (polled); audio and video
// go through LiveKit. A chat's messages are stored through the API (the history everybody
// reads) and nudged over the room's data channel. With the offline LiveKit sandbox there is
// no media: joining and leaving are played through it instead, and its signed webhooks drive
// talk time and billing as LiveKit's would.
import { Room, RoomEvent, Track } from "livekit-client";
import { api, errorText, formatMoney, formatSeconds } from "./lib/api.js";

const config = JSON.parse(document.getElementById("call-config").textContent);
const base = `/api/v1/calls/${config.id}`;
const statusLine = document.querySelector("[data-call-status]");
const errorLine = document.querySelector("[data-call-error]");
const buttons = Object.fromEntries(
  [...document.querySelectorAll("[data-action]")].map((node) => [node.dataset.action, node]),
);
const TERMINAL = new Set(["completed", "missed", "declined", "cancelled"]);
const state = {
  joined: false, joining: false, left: false, muted: false, cameraOff: false, room: null, ended: false,
};
// The room's data topics, named for what they carry (tenant_apps/calls/livekit_gateway.py
// names the same): chat messages, and the server's in-call events such as low credit.
const CHAT_TOPIC = "chat";
const EVENTS_TOPIC = "call-events";

function show(name, visible) {
  if (buttons[name]) buttons[name].hidden = !visible;
}

function say(key) {
  if (statusLine.dataset[key]) statusLine.textContent = statusLine.dataset[key];
}

function render(call) {
  document.querySelector("[data-meter-seconds]").textContent = formatSeconds(call.talk_seconds);
  document.querySelector("[data-meter-cost]").textContent = formatMoney(
    call.cost, call.currency, config.exponent,
  );
  const left = document.querySelector("[data-meter-left]");
  if (left) left.textContent = call.seconds_left == null ? "—" : formatSeconds(call.seconds_left);
  const warning = document.querySelector("[data-low-funds]");
  if (warning && call.low_funds && call.status === "connected") warning.hidden = false;
}

// The server's in-call event arrives before the next poll would show it.
function inCallEvent(payload) {
  let event;
  try {
    event = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return;
  }
  const warning = document.querySelector("[data-low-funds]");
  if (event.type === "low_funds" && warning) warning.hidden = false;
}

async function join() {
  if (state.joining || state.joined) return;
  state.joining = true;
  errorLine.textContent = "";
  say("joining");
  try {
    if (config.sandbox) {
      await api("POST", `${base}/sandbox/presence`, { present: true });
      document.querySelector("[data-sandbox-panel]").hidden = false;
    } else {
      const pass = await api("POST", `${base}/join`);
      const room = new Room();
      room.on(RoomEvent.TrackSubscribed, (track) => {
        if (track.kind === Track.Kind.Audio) track.attach(document.querySelector("[data-remote-audio]"));
        if (track.kind === Track.Kind.Video) track.attach(document.querySelector("[data-remote-video]"));
      });
      room.on(RoomEvent.LocalTrackPublished, (publication) => {
        const local = document.querySelector("[data-local-video]");
        if (local && publication.track?.kind === Track.Kind.Video) publication.track.attach(local);
      });
      room.on(RoomEvent.DataReceived, (payload, _participant, _kind, topic) => {
        if (topic === CHAT_TOPIC) chat.refresh();
        if (topic === EVENTS_TOPIC) inCallEvent(payload);
      });
      room.on(RoomEvent.Disconnected, () => {
        state.joined = false;
        state.room = null;
        if (!state.ended) {
          say("left");
          show("rejoin", true);
          show("mute", false);
          show("leave", false);
        }
      });
      await room.connect(pass.livekit_url, pass.token);
      // The browser asks for the microphone (and camera) here, only when really joining
      // LiveKit; a chat's pass grants neither.
      if (config.kind !== "chat") await room.localParticipant.setMicrophoneEnabled(true);
      if (config.kind === "video") await room.localParticipant.setCameraEnabled(true);
      state.room = room;
    }
    state.joined = true;
    state.left = false;
    say("connected");
    show("join", false);
    show("rejoin", false);
    show("mute", true);
    show("camera", true);
    show("leave", true);
  } catch (failure) {
    errorLine.textContent = errorText(failure);
    show("join", true);
  } finally {
    state.joining = false;
  }
}

async function leave() {
  errorLine.textContent = "";
  try {
    if (config.sandbox) await api("POST", `${base}/sandbox/presence`, { present: false });
    else if (state.room) await state.room.disconnect();
  } catch (failure) {
    errorLine.textContent = errorText(failure);
    return;
  }
  state.joined = false;
  state.left = true;
  say("left");
  show("leave", false);
  show("mute", false);
  show("rejoin", true);
}

async function toggleMute() {
  state.muted = !state.muted;
  if (state.room) await state.room.localParticipant.setMicrophoneEnabled(!state.muted);
  const button = buttons.mute;
  button.setAttribute("aria-pressed", String(state.muted));
  button.textContent = state.muted ? button.dataset.labelUnmute : button.dataset.labelMute;
}

async function toggleCamera() {
  state.cameraOff = !state.cameraOff;
  if (state.room) await state.room.localParticipant.setCameraEnabled(!state.cameraOff);
  const button = buttons.camera;
  button.setAttribute("aria-pressed", String(state.cameraOff));
  button.textContent = state.cameraOff ? button.dataset.labelOn : button.dataset.labelOff;
}

// --- Chat --------------------------------------------------------------------------------

const chat = (() => {
  const panel = document.querySelector("[data-chat]");
  if (!panel) return { refresh() {}, start() {} };
  const log = panel.querySelector("[data-chat-log]");
  const typing = panel.querySelector("[data-chat-typing]");
  const form = panel.querySelector("[data-chat-form]");
  const text = form?.querySelector("textarea");
  let lastTypingSent = 0;
  let readUpTo = 0;
  let busy = false;

  function line(message) {
    const item = document.createElement("li");
    item.className = message.mine ? "chat-message mine" : "chat-message";
    item.dataset.messageId = message.id;
    const from = document.createElement("span");
    from.className = "chat-from";
    from.textContent = message.mine ? panel.dataset.labelMe : panel.dataset.labelPeer;
    const body = document.createElement("span");
    body.className = "chat-text";
    body.textContent = message.text;
    item.append(from, " ", body);
    if (message.mine) {
      const receipt = document.createElement("small");
      receipt.className = "chat-receipt";
      receipt.dataset.readState = message.read_at ? "read" : "sent";
      receipt.textContent = message.read_at ? panel.dataset.labelRead : panel.dataset.labelSent;
      item.append(" ", receipt);
    }
    return item;
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const page = await api("GET", `${base}/messages`);
      log.replaceChildren(...page.results.map(line));
      log.scrollTop = log.scrollHeight;
      if (typing) typing.hidden = !page.peer_typing;
      const unread = page.results.filter((m) => !m.mine && !m.read_at);
      const newest = Math.max(0, ...unread.map((m) => m.id));
      if (newest > readUpTo && !document.hidden) {
        readUpTo = newest;
        await api("POST", `${base}/messages/read`, { up_to: newest });
      }
    } catch (failure) {
      errorLine.textContent = errorText(failure);
    } finally {
      busy = false;
    }
  }

  async function send(event) {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    errorLine.textContent = "";
    try {
      await api("POST", `${base}/messages`, { text: value });
      text.value = "";
      if (state.room) {
        await state.room.localParticipant.publishData(new TextEncoder().encode("new"), {
          reliable: true, topic: CHAT_TOPIC,
        });
      }
      await refresh();
    } catch (failure) {
      errorLine.textContent = errorText(failure);
    }
  }

  function typed() {
    const now = Date.now();
    if (now - lastTypingSent < 2000) return;
    lastTypingSent = now;
    api("POST", `${base}/typing`).catch(() => {});
  }

  function start() {
    form?.addEventListener("submit", send);
    text?.addEventListener("input", typed);
    text?.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) send(event);
    });
    const tick = async () => {
      if (state.ended) return;
      await refresh();
      setTimeout(tick, 1000);
    };
    tick();
  }

  return { refresh, start };
})();

async function hangup() {
  errorLine.textContent = "";
  buttons.hangup.disabled = true;
  try {
    const call = await api("POST", `${base}/hangup`);
    await finish(call);
  } catch (failure) {
    errorLine.textContent = errorText(failure);
    buttons.hangup.disabled = false;
  }
}

async function finish(call) {
  if (state.ended) return;
  state.ended = true;
  render(call);
  say("ended");
  Object.keys(buttons).forEach((name) => show(name, false));
  if (state.room) await state.room.disconnect();
  // The server renders the receipt and the rating form for an ended call.
  setTimeout(() => window.location.reload(), 800);
}

async function poll() {
  if (state.ended) return;
  try {
    const call = await api("GET", base);
    render(call);
    if (TERMINAL.has(call.status)) {
      await finish(call);
      return;
    }
    if (call.status === "ringing") say(config.role === "caller" ? "ringing" : "ringingAdvisor");
    if (call.status === "connected" && !state.joined && !state.left) await join();
  } catch (failure) {
    errorLine.textContent = errorText(failure);
  }
  setTimeout(poll, 1000);
}

buttons.join?.addEventListener("click", join);
buttons.rejoin?.addEventListener("click", () => { state.left = false; join(); });
buttons.leave?.addEventListener("click", leave);
buttons.mute?.addEventListener("click", toggleMute);
buttons.camera?.addEventListener("click", toggleCamera);
buttons.hangup?.addEventListener("click", hangup);
chat.start();
poll();
