// The one WebSocket of the dashboard (GET /api/v1/realtime, authenticated by the session cookie),
// shared by every screen.
//
// Screens subscribe to channels (`inbox:<orgId>`, `supportChat:<sessionId>`, `support:<ticketId>`)
// with a handler; the client joins each channel once, however many screens listen. It remembers
// the last `seq` of each conversation or ticket channel (from its message.created events, or the
// `after` a screen gave when it had loaded the history over REST). When the socket drops it
// reconnects with backoff and subscribes again with `after` = that seq, so the server replays
// exactly what was missed, in order; a message seen twice (same seq) is dropped here. The inbox
// has nothing to replay: its handlers get {type: 'subscribed', resumed: true} and reload their lists.

const PING_EVERY = 25000;
const PONG_WITHIN = 10000;

export class Realtime {
  constructor() {
    this.ws = null;
    /** channel -> {handlers: Set, lastSeq: number|null, joinedOnce: boolean} */
    this.channels = new Map();
    this.status = 'connecting';
    this.statusListeners = new Set();
    this.attempt = 0;
    this.stopped = true;
    this.timer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.everConnected = false;
    window.addEventListener('online', () => { if (!this.stopped && this.status !== 'online') this.reconnectNow(); });
    window.addEventListener('offline', () => { if (!this.stopped) this.ws?.close(); });
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes for good (sign-out); subscriptions are forgotten. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopPing();
    this.channels.clear();
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.setStatus('offline');
  }

  onStatus(fn) { this.statusListeners.add(fn); fn(this.status); return () => this.statusListeners.delete(fn); }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    document.body.dataset.connection = status;
    this.statusListeners.forEach((fn) => fn(status));
  }

  connect() {
    clearTimeout(this.timer);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}/api/v1/realtime`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.setStatus(this.everConnected ? 'reconnecting' : 'connecting');
    ws.onopen = () => {
      const resumed = this.everConnected;
      this.everConnected = true;
      this.attempt = 0;
      this.setStatus('online');
      for (const channel of this.channels.keys()) this.join(channel, resumed);
      this.startPing();
    };
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.handle(frame);
    };
    ws.onclose = () => {
      this.stopPing();
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.setStatus(navigator.onLine === false ? 'offline' : 'reconnecting');
      this.scheduleReconnect();
    };
  }

  scheduleReconnect() {
    clearTimeout(this.timer);
    // 0.5 s, 1 s, 2 s … up to 15 s, with jitter so a restarted server is not hit all at once.
    const delay = Math.min(15000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    this.attempt = 0;
    if (this.ws) { const old = this.ws; this.ws = null; old.onclose = null; old.close(); }
    this.connect();
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: 'ping' })) return;
      clearTimeout(this.pongTimer);
      // No pong in time: the connection is dead even if the browser has not noticed yet.
      this.pongTimer = setTimeout(() => this.ws?.close(), PONG_WITHIN);
    }, PING_EVERY);
  }

  stopPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  join(channel, resumed) {
    const state = this.channels.get(channel);
    if (!state) return;
    state.resumed = resumed && state.joinedOnce;
    const frame = { type: 'subscribe', channel };
    if (!channel.startsWith('inbox:') && state.lastSeq !== null) frame.after = state.lastSeq;
    this.send(frame);
  }

  /**
   * Listens to a channel. `after`: the last seq the caller already has (from REST), so nothing
   * between its load and the subscription is lost. Returns the function that stops listening.
   */
  subscribe(channel, handler, { after = null } = {}) {
    let state = this.channels.get(channel);
    const fresh = !state;
    if (!state) {
      state = { handlers: new Set(), lastSeq: after, joinedOnce: false, resumed: false };
      this.channels.set(channel, state);
    } else if (after !== null && (state.lastSeq === null || after > state.lastSeq)) {
      state.lastSeq = after;
    }
    state.handlers.add(handler);
    if (fresh && this.status === 'online') this.join(channel, false);
    return () => {
      state.handlers.delete(handler);
      if (state.handlers.size === 0 && this.channels.get(channel) === state) {
        this.channels.delete(channel);
        this.send({ type: 'unsubscribe', channel });
      }
    };
  }

  /** Starts or stops "typing" on a conversation the socket has joined. */
  typing(channel, on) { return this.send({ type: 'typing', channel, on }); }

  dispatch(channel, event) {
    const state = this.channels.get(channel);
    if (!state) return;
    for (const handler of [...state.handlers]) {
      try { handler(event); } catch (error) { console.error('realtime handler failed', error); }
    }
  }

  handle(frame) {
    switch (frame.type) {
      case 'event': {
        const state = this.channels.get(frame.channel);
        if (!state) return;
        if (frame.name === 'message.created' && typeof frame.seq === 'number' && !frame.channel.startsWith('inbox:')) {
          if (state.lastSeq !== null && frame.seq <= state.lastSeq) return; // already seen: a replay overlap
          state.lastSeq = frame.seq;
        }
        this.dispatch(frame.channel, { type: 'event', name: frame.name, seq: frame.seq, data: frame.data || {} });
        break;
      }
      case 'subscribed': {
        const state = this.channels.get(frame.channel);
        if (!state) return;
        const resumed = state.resumed;
        state.joinedOnce = true;
        if (state.lastSeq === null && frame.session && typeof frame.session.lastSeq === 'number') state.lastSeq = frame.session.lastSeq;
        this.dispatch(frame.channel, { type: 'subscribed', recovered: frame.recovered !== false, resumed, session: frame.session });
        break;
      }
      case 'pong':
        clearTimeout(this.pongTimer);
        break;
      case 'error':
        if (frame.channel) this.dispatch(frame.channel, { type: 'error', code: frame.code, message: frame.message });
        else console.warn('realtime:', frame.code, frame.message);
        break;
      default:
        break;
    }
  }
}

export const realtime = new Realtime();
