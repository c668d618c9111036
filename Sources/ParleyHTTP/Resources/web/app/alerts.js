// Alerts: a short sound and a desktop notification when something needs the signed-in agent now,
// as their preferences say (`sound` and `desktop` of GET /api/v1/me/preferences):
//
//   - a new conversation: `session.created` on the inbox (not one the agent started themselves);
//   - a handoff: `notification.created` of kind `handoff` for this agent, or a conversation that
//     becomes `escalated` (unassigned or assigned to this agent) while the dashboard watches it;
//   - a customer's reply on the agent's own work: a visitor's message in a conversation assigned
//     to this agent (`message.created`, then the `session.updated` of the same commit tells whose
//     it is), or `notification.created` of kind `customer_reply` for this agent (tickets).
//
// A notification kind the agent turned off for the bell (handoff, customer_reply) does not alert
// either, as it does not pop up a toast (notifications.js); a handoff seen as session.updated
// follows the `handoff` setting too. The agent's own actions never alert: agents cannot escalate,
// their messages are not the visitor's, and a chat they start with a live visitor is announced
// here first (`expectOwnChat`). A handoff reported twice, or a burst of replies in one
// conversation, alerts once; with the dashboard in several tabs, one tab alerts.
//
// The sound is made with the Web Audio API (no file, nothing inline: the CSP stays strict).
// Browsers let a page start audio only after the person has clicked or typed in it, so the audio
// is unlocked on the first click or key press. <body data-alert-sounds> counts the sounds actually
// started (a test hook; it stays put when the browser refused to play).

import { api } from './api.js';
import { on, state, myId, visitorName } from './state.js';
import { toast } from './dom.js';

/** The same thing reported twice (e.g. a handoff's session.updated, then its notification). */
const SAME_ALERT_WITHIN = 15000;
/** Several alerts at once (a burst of messages) make one sound. */
const ONE_SOUND_PER = 1200;
/** How long a chat the agent starts is expected to show up as session.created. */
const OWN_CHAT_WITHIN = 15000;

const statuses = new Map();        // sessionId -> the last status seen (to notice "became escalated")
const visitorMessages = new Map(); // sessionId -> {seq, body, at}: waiting for the session.updated that says whose it is
const alerted = new Map();         // "kind:id" -> when it was alerted
const ownChats = new Map();        // visitorId -> when this agent started a chat with them
let leader = true;                 // whether this tab alerts (one tab of the browser does; see mountAlerts)

/** Tells the alerts that this agent is about to start a chat with a visitor: no "new conversation" for it. */
export function expectOwnChat(visitorId) {
  if (visitorId) ownChats.set(visitorId, Date.now());
}

// MARK: - Sound

let audio = null;
let lastSound = 0;
let blockedHintShown = false;

function audioContext() {
  if (!audio) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    try { audio = new Context(); } catch { return null; }
  }
  return audio;
}

/** Called on the agent's clicks and key presses: the browser allows audio from then on. */
function unlock() {
  if (!state.prefs?.sound) return;
  const context = audioContext();
  if (context && context.state === 'suspended') context.resume().catch(() => {});
}

/**
 * Plays a short two-note chime. Resolves true when the sound was started, false when the browser
 * has no Web Audio or does not allow audio yet (nobody has clicked in the page since it loaded).
 */
export async function playChime() {
  const context = audioContext();
  if (!context) return false;
  if (context.state !== 'running') {
    // Without a click first, resume() never settles in Chromium: do not wait for it forever.
    await Promise.race([context.resume().catch(() => {}), new Promise((r) => setTimeout(r, 300))]);
    if (context.state !== 'running') return false;
  }
  const start = context.currentTime + 0.01;
  const gain = context.createGain();
  gain.connect(context.destination);
  gain.gain.setValueAtTime(0.0001, start);
  [[880, 0], [1318.5, 0.13]].forEach(([frequency, offset]) => {
    const t = start + offset;
    const tone = context.createOscillator();
    tone.type = 'sine';
    tone.frequency.setValueAtTime(frequency, t);
    tone.connect(gain);
    gain.gain.exponentialRampToValueAtTime(0.18, t + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
    tone.start(t);
    tone.stop(t + 0.24);
  });
  document.body.dataset.alertSounds = String(Number(document.body.dataset.alertSounds || 0) + 1);
  return true;
}

async function sound() {
  const now = Date.now();
  if (now - lastSound < ONE_SOUND_PER) return;
  lastSound = now;
  const played = await playChime();
  if (!played && !blockedHintShown && audioContext()) {
    blockedHintShown = true;
    toast('Click anywhere in Parley once to let it play alert sounds (the browser asks for that).', 'info');
  }
}

// MARK: - Desktop notifications

/** 'granted', 'denied', 'default', or 'unsupported' when the browser has no notifications. */
export function desktopPermission() {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

function desktop({ key, title, body, href }) {
  if (desktopPermission() !== 'granted') return;
  let shown;
  try {
    // One notification per conversation or ticket: a newer one replaces the older (also across tabs).
    shown = new Notification(title, { body, tag: `parley-${key}`, icon: '/app/logo.svg' });
  } catch (error) {
    console.warn('Parley: the desktop notification failed', error);
    return;
  }
  shown.onclick = (event) => {
    event.preventDefault();
    window.focus();
    if (href) location.hash = href;
    shown.close();
  };
}

// MARK: - Deciding

/** Alerts once per `key` (a kind and a conversation or ticket) within SAME_ALERT_WITHIN. */
async function alertAgent({ key, title, body, href, describe }) {
  const prefs = state.prefs;
  if (!leader || !prefs || (!prefs.sound && !prefs.desktop)) return;
  const now = Date.now();
  for (const [k, at] of alerted) if (now - at > SAME_ALERT_WITHIN) alerted.delete(k);
  if (alerted.has(key)) return;
  alerted.set(key, now);
  if (prefs.sound) sound().catch((error) => console.warn('Parley: the alert sound failed', error));
  if (prefs.desktop && desktopPermission() === 'granted') {
    if (describe) body = (await describe().catch(() => null)) || body;
    desktop({ key, title, body, href });
  }
}

/** Whether the agent is looking at this conversation right now (then the screen says it already). */
function watching(sessionId) {
  return location.hash === `#/chats/${sessionId}` && document.visibilityState === 'visible' && document.hasFocus();
}

function wanted(kind) {
  return state.prefs?.notifications?.[kind] !== false;
}

function short(text, max = 140) {
  const flat = String(text || '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Who a conversation is with, and the page they are on, for a notification's text. */
async function conversation(sessionId) {
  const detail = await api.get(`/api/v1/admin/chats/${encodeURIComponent(sessionId)}`);
  return { who: visitorName(detail.visitor), page: detail.visitor?.currentPage || null };
}

function onInbox(event) {
  if (event.type !== 'event') return;
  const d = event.data || {};
  const me = myId();
  if (!me) return;
  switch (event.name) {
    case 'session.created': {
      statuses.set(d.id, d.status);
      const startedByMe = ownChats.get(d.visitorId);
      if (startedByMe && Date.now() - startedByMe < OWN_CHAT_WITHIN) { ownChats.delete(d.visitorId); return; }
      if (d.assignedAgentId && d.assignedAgentId !== me) return;
      alertAgent({
        key: `new:${d.id}`, title: 'New conversation', body: 'A visitor started a conversation.',
        href: `#/chats/${d.id}`,
        describe: async () => {
          const { who, page } = await conversation(d.id);
          return page ? `${who} started a conversation on ${short(page, 80)}` : `${who} started a conversation.`;
        },
      });
      break;
    }
    case 'message.created': {
      // A visitor's message (role `user`); whose conversation it is comes with its session.updated.
      if (d.role === 'user' && d.sessionId) visitorMessages.set(d.sessionId, { seq: d.seq, body: d.body, at: Date.now() });
      break;
    }
    case 'session.updated': {
      const before = statuses.get(d.id);
      if (statuses.size > 5000) statuses.clear(); // a long day: forget, at worst one handoff is heard only from its notification
      statuses.set(d.id, d.status);
      const mine = d.assignedAgentId === me;
      const message = visitorMessages.get(d.id);
      visitorMessages.delete(d.id);
      if (message && Date.now() - message.at < SAME_ALERT_WITHIN && mine && !watching(d.id)) {
        alertAgent({ key: `reply:${d.id}`, title: 'The customer replied', body: short(message.body) || 'A new message in your conversation.', href: `#/chats/${d.id}` });
      }
      // Became escalated while this page watched it: the team (or its assignee, if that is us) is needed.
      if (d.status === 'escalated' && before && before !== 'escalated' && (!d.assignedAgentId || mine) && wanted('handoff')) {
        alertAgent({
          key: `handoff:${d.id}`, title: 'A conversation needs a person', body: 'A visitor is waiting for the team.',
          href: `#/chats/${d.id}`, describe: async () => `${(await conversation(d.id)).who} is waiting for a person.`,
        });
      }
      break;
    }
    case 'notification.created': {
      if (d.agentId !== me || !wanted(d.kind)) return;
      const href = d.ticketId ? `#/tickets/${d.ticketId}` : d.sessionId ? `#/chats/${d.sessionId}` : null;
      if (d.kind === 'handoff') {
        alertAgent({ key: `handoff:${d.sessionId || d.ticketId || d.id}`, title: 'A conversation needs a person', body: d.title, href });
      } else if (d.kind === 'customer_reply') {
        alertAgent({ key: `reply:${d.ticketId || d.sessionId || d.id}`, title: 'The customer replied', body: d.title, href });
      }
      break;
    }
    default:
      break;
  }
}

/** Starts listening to the inbox; returns the function that stops it (sign-out). */
export function mountAlerts() {
  const off = on('inbox', onInbox);
  document.addEventListener('pointerdown', unlock, true);
  document.addEventListener('keydown', unlock, true);
  // With the dashboard open in several tabs, one of them alerts: the one holding this lock (the
  // next in line takes over when it closes). Without Web Locks (plain http), every tab does.
  let resign = null;
  const waiting = new AbortController();
  if (navigator.locks?.request) {
    leader = false;
    navigator.locks.request('parley-alerts', { signal: waiting.signal }, () => new Promise((release) => { leader = true; resign = release; }))
      .catch((error) => { if (error.name !== 'AbortError') leader = true; });
  }
  return () => {
    off();
    waiting.abort(); // no longer in line (signed out)…
    resign?.();      // …or no longer the tab that alerts
    leader = true;
    document.removeEventListener('pointerdown', unlock, true);
    document.removeEventListener('keydown', unlock, true);
    statuses.clear();
    visitorMessages.clear();
    alerted.clear();
    ownChats.clear();
  };
}
