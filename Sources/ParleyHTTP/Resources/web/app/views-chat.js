// One conversation, as the agent works it (the right-hand side of the inbox).
//
// Loads GET /api/v1/admin/chats/{id} (session, visitor card, last 100 messages), then follows the
// conversation's channel `supportChat:<id>` subscribed with `after` = the last seq loaded, so no
// message between the load and the subscription is lost. Messages are kept by seq (each shown
// once, in order). `message.delta` events show the AI's reply growing; the stored
// `message.created` replaces it. `typing` frames go both ways. Replies take the conversation over
// from the AI; internal notes (metadata.internal) stay with the team. Agents mark the AI's answers
// Right or Wrong (…/messages/{id}/review, read back from …/reviews), and "Hand back to AI"
// (POST …/assistant) gives an escalated or agent-held conversation back to the assistant.
//
// A conversation and its ticket are one thread: the detail names the ticket (`ticketId`), the head
// links to it, and a conversation without one (or whose ticket is closed) offers "Make a ticket".
//
// The server leaves null fields out of its JSON, so a conversation's state from the server
// (REST or `session.updated`) replaces the one held here; merging would keep stale values.

import { api, qs, clientId, attachmentURL, missingRoute } from './api.js';
import { h, icon, replace, fmt, avatar, badge, toast, openDialog, confirmDialog, field, select, download, debounce, spinner, empty } from './dom.js';
import { realtime } from './realtime.js';
import { state, on, emit, myId, agentName, agentOptions, visitorName } from './state.js';
import { cannedPicker } from './canned.js';
import { expectOwnChat } from './alerts.js';

export const STATUS = {
  ai_active: { label: 'AI answering', kind: 'ai' },
  agent_active: { label: 'With an agent', kind: 'agent' },
  escalated: { label: 'Waiting for a person', kind: 'warn' },
  closed: { label: 'Closed', kind: 'muted' },
};

const MAX_FILE = 10 * 1024 * 1024;
const FILE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];

function parseJSON(text, fallback) {
  try { return JSON.parse(text); } catch { return fallback; }
}

function isWebURL(url) { return typeof url === 'string' && /^https?:\/\//i.test(url); }

/** The articles an AI reply cites (metadata.citations, JSON) or the one it offers (articleTitle/Url). */
export function sourcesOf(metadata = {}) {
  let items = metadata.citations ? parseJSON(metadata.citations, []) : [];
  if (!Array.isArray(items)) items = [];
  if (metadata.articleTitle) items.push({ title: metadata.articleTitle, url: metadata.articleUrl });
  return items.filter((x) => x && x.title);
}

export function sourcesElement(items, confidence) {
  if (!items.length && confidence === undefined) return null;
  const pct = confidence !== undefined && confidence !== null && confidence !== '' ? Math.round(Number(confidence) * 100) : null;
  return h('div', { class: 'sources' },
    items.length ? h('span', { class: 'sources-label' }, icon('book', 13), 'Sources') : null,
    items.map((x) => (isWebURL(x.url)
      ? h('a', { class: 'source', href: x.url, target: '_blank', rel: 'noopener noreferrer', text: String(x.title) })
      : h('span', { class: 'source', text: String(x.title) }))),
    // `confidence` is the answer's grounding support: how much of it the cited passages back.
    pct !== null && !Number.isNaN(pct)
      ? h('span', { class: `confidence ${pct >= 75 ? 'high' : pct >= 50 ? 'mid' : 'low'}`, title: 'How much of the answer our articles support', text: `Support ${pct}%` })
      : null);
}

/** Files of a message: images shown from blob: URLs, other files as download buttons. */
export function attachmentsElement(list) {
  if (!list || !list.length) return null;
  return h('div', { class: 'attachments' }, list.map((a) => {
    if (String(a.contentType).startsWith('image/')) {
      const img = h('img', { class: 'att-img', alt: a.name || 'Image', width: 160, height: 120 });
      const link = h('a', { class: 'att-link', href: '#', title: `Open ${a.name}` }, img);
      attachmentURL(a.id).then((url) => {
        img.src = url;
        link.href = url;
        link.target = '_blank';
        link.rel = 'noopener';
        img.removeAttribute('width');
        img.removeAttribute('height');
      }).catch(() => { img.alt = `${a.name} (could not be loaded)`; });
      return link;
    }
    return h('button', {
      type: 'button', class: 'att-file',
      onclick: async () => {
        try {
          const url = await attachmentURL(a.id);
          const blob = await (await fetch(url)).blob();
          download(blob, a.name || 'file');
        } catch (e) { toast(`The file could not be downloaded: ${e.message}`, 'error'); }
      },
    }, icon('file', 16), h('span', { text: a.name || 'File' }), h('span', { class: 'muted', text: a.size ? fmt.bytes(a.size) : '' }));
  }));
}

/**
 * Opens a conversation in `pane`. `hooks.onSession(session)` tells the list about changes made
 * here (read, assigned…). Returns {destroy}.
 */
export function openChat(pane, sessionId, hooks = {}) {
  const messages = new Map(); // seq -> message
  const streams = new Map();  // streamId -> {el, text}
  let session = null;
  let visitor = null;
  let ticket = null; // the conversation's ticket: {id, subject, status}
  let destroyed = false;
  let unsubscribe = null;
  let renderedMax = 0;
  let typingTimer = null;
  let typingOn = false;
  let typingIdle = null;
  let mode = 'reply';
  const reviews = new Map(); // messageId -> 'right' | 'wrong': the team's marks on the AI's answers
  let reviewing = false;     // whether the server takes marks (GET …/reviews answered)
  const channel = `supportChat:${sessionId}`;
  const offs = [];

  const liveRegion = h('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'false' });
  const timeline = h('div', { class: 'timeline', role: 'log', 'aria-label': 'Messages', 'aria-live': 'off', tabindex: '0' });
  const streamBox = h('div', { class: 'streams', 'aria-hidden': 'true' });
  const typingEl = h('div', { class: 'typing', hidden: true });
  const scroller = h('div', { class: 'chat-scroll' }, timeline, streamBox, typingEl);
  const head = h('header', { class: 'chat-head' });
  const banner = h('div', { class: 'ai-banner', hidden: true });
  const card = h('aside', { class: 'visitor-card', 'aria-label': 'Visitor details' });
  const composer = buildComposer();
  const chat = h('section', { class: 'chat', 'aria-label': 'Conversation' }, head, scroller, banner, composer.el, liveRegion);
  const wrap = h('div', { class: 'chat-wrap' }, chat, card);
  replace(pane, h('div', { class: 'chat-loading' }, spinner('Loading the conversation…')));

  // MARK: Loading

  async function load() {
    try {
      const [detail] = await Promise.all([api.get(`/api/v1/admin/chats/${encodeURIComponent(sessionId)}`), loadReviews()]);
      if (destroyed) return;
      session = detail.session;
      visitor = detail.visitor;
      // The link is drawn at once; the ticket's subject and status follow (loadTicket).
      ticket = detail.ticketId ? (ticket?.id === detail.ticketId ? ticket : { id: detail.ticketId, subject: '', status: '' }) : null;
      messages.clear();
      for (const m of detail.messages || []) messages.set(m.seq, m);
      replace(pane, wrap);
      paintHead();
      paintCard();
      renderAll();
      scrollToEnd(true);
      if (!unsubscribe) {
        const after = Math.max(0, ...messages.keys());
        unsubscribe = realtime.subscribe(channel, onEvent, { after });
      }
      markRead();
      loadTicket(detail.ticketId);
      composer.textarea.focus({ preventScroll: true });
    } catch (error) {
      if (destroyed) return;
      replace(pane, empty(error.status === 404 ? 'This conversation does not exist' : 'The conversation could not be loaded', error.message));
    }
  }

  /** The team's marks on the AI's answers; without them (an older server) no buttons are shown. */
  async function loadReviews() {
    try {
      const page = await api.get(`/api/v1/admin/chats/${encodeURIComponent(sessionId)}/reviews`);
      reviews.clear();
      for (const r of page.data || []) if (r.verdict) reviews.set(r.messageId, r.verdict);
      reviewing = true;
    } catch {
      reviewing = false;
    }
  }

  /** The conversation's ticket (`ticketId` of its detail), for its subject and status. */
  async function loadTicket(id) {
    if (!id) {
      if (ticket) { ticket = null; paintHead(); paintCard(); }
      return;
    }
    let found = { id, subject: '', status: '' };
    try {
      const t = await api.get(`/api/v1/admin/tickets/${encodeURIComponent(id)}`);
      found = { id: t.id, subject: t.subject, status: t.status };
    } catch { /* the link still works */ }
    if (destroyed) return;
    ticket = found;
    paintHead();
    paintCard();
  }

  /** Asks the server which ticket the conversation has now (after a 409, say). */
  async function reloadTicket() {
    try {
      const detail = await api.get(`/api/v1/admin/chats/${encodeURIComponent(sessionId)}`);
      if (!destroyed) await loadTicket(detail.ticketId);
    } catch { /* keep what is shown */ }
  }

  /** Whether the conversation's ticket is still being worked (closing the chat leaves it open). */
  function ticketOpen() {
    return !!ticket && !['resolved', 'closed'].includes(ticket.status);
  }

  const markRead = debounce(async () => {
    if (destroyed || !session || document.visibilityState !== 'visible') return;
    const last = Math.max(0, ...messages.keys());
    if (!session.unread && session.agentReadSeq >= last) return;
    try {
      const updated = await api.post(`/api/v1/admin/chats/${sessionId}/read`, { seq: last });
      if (updated?.id) { session = { ...updated, unread: false }; hooks.onSession?.(session); }
    } catch { /* not important */ }
  }, 400);
  const onVisible = () => markRead();
  document.addEventListener('visibilitychange', onVisible);

  // MARK: Realtime

  function onEvent(event) {
    if (event.type === 'subscribed') {
      if (!event.recovered) load(); // too much was missed: page it over REST again
      return;
    }
    if (event.type === 'error') { console.warn('conversation channel:', event.message); return; }
    const data = event.data;
    switch (event.name) {
      case 'message.created':
        addMessage(data, true);
        break;
      case 'message.delta':
        onDelta(data);
        break;
      case 'session.updated':
        session = { ...data }; // a whole view: fields left out are null, so never merge
        paintHead();
        paintCard();
        paintSeen();
        hooks.onSession?.(session);
        break;
      case 'typing':
        showTyping(data);
        break;
      case 'read':
        if (data.byVisitor) { session = { ...session, visitorReadSeq: data.seq }; paintSeen(); }
        break;
      default:
        break;
    }
  }

  function addMessage(m, live) {
    if (!m || typeof m.seq !== 'number' || messages.has(m.seq)) return;
    messages.set(m.seq, m);
    if (m.metadata?.streamId) dropStream(m.metadata.streamId);
    if (m.role === 'user' || m.role === 'ai') hideTyping();
    if (m.seq > renderedMax) appendMessage(m);
    else renderAll();
    if (live && !(m.role === 'agent' && m.authorAgentId === myId())) {
      liveRegion.textContent = `${authorOf(m)}: ${m.body}`;
    }
    scrollToEnd(false);
    if (live) markRead();
  }

  function onDelta(d) {
    let s = streams.get(d.streamId);
    if (!s) {
      const text = h('div', { class: 'bubble' });
      const el = h('div', { class: 'msg msg-ai streaming' },
        h('div', { class: 'msg-head' }, h('span', { class: 'who ai' }, icon('sparkle', 12), 'AI assistant'), h('span', { class: 'muted', text: 'writing…' })),
        text);
      s = { el, text, body: '' };
      streams.set(d.streamId, s);
      streamBox.appendChild(el);
    }
    if (d.delta) {
      s.body += d.delta;
      s.text.textContent = s.body;
    }
    if (d.done) setTimeout(() => dropStream(d.streamId), d.outcome === 'answer' || d.outcome === 'resolve' ? 1500 : 0);
    scrollToEnd(false);
  }

  function dropStream(id) {
    const s = streams.get(id);
    if (s) { s.el.remove(); streams.delete(id); }
  }

  function showTyping(d) {
    if (!d.on) { hideTyping(); return; }
    const who = d.role === 'user' ? visitorName(visitor) : d.name || 'A teammate';
    typingEl.replaceChildren(h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), h('span', { text: `${who} is typing…` }));
    typingEl.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 8000);
    scrollToEnd(false);
  }

  function hideTyping() {
    typingEl.hidden = true;
    clearTimeout(typingTimer);
  }

  // MARK: Drawing

  function authorOf(m) {
    if (m.role === 'user') return visitorName(visitor);
    if (m.role === 'ai') return m.metadata?.kind === 'article' ? 'Suggested article' : 'AI assistant';
    if (m.role === 'system') return 'Parley';
    if (m.authorAgentId && m.authorAgentId === myId()) return 'You';
    return m.metadata?.authorName || agentName(m.authorAgentId) || 'Agent';
  }

  function messageElement(m) {
    const md = m.metadata || {};
    if (m.role === 'system') {
      return h('div', { class: 'msg msg-system', 'data-seq': m.seq }, h('span', { text: m.body }), h('time', { datetime: m.createdAt, text: fmt.time(m.createdAt) }));
    }
    const internal = md.internal === 'true';
    const mine = m.role === 'agent' && m.authorAgentId === myId();
    const cls = internal ? 'msg-note' : `msg-${m.role}${mine ? ' mine' : ''}`;
    const who = h('span', { class: `who ${m.role}` },
      m.role === 'ai' ? icon('sparkle', 12) : null,
      internal ? icon('lock', 12) : null,
      internal ? `Internal note · ${authorOf(m)}` : authorOf(m));
    const extra = [];
    if (m.role === 'ai') {
      const sources = sourcesElement(sourcesOf(md), md.confidence);
      const review = reviewElement(m);
      if (sources || review) extra.push(h('div', { class: 'msg-foot' }, sources, review));
    }
    return h('div', { class: `msg ${cls}`, 'data-seq': m.seq, 'data-role': internal ? 'note' : m.role, 'data-id': m.id },
      h('div', { class: 'msg-head' }, who, h('time', { datetime: m.createdAt, title: fmt.full(m.createdAt), text: fmt.time(m.createdAt) })),
      m.body ? h('div', { class: 'bubble', text: m.body }) : null,
      attachmentsElement(m.attachments),
      extra,
      h('div', { class: 'seen', hidden: true, text: 'Seen' }));
  }

  /** "Right" / "Wrong" under an AI answer: the agent's mark (pressed), cleared by pressing it again. */
  function reviewElement(m) {
    if (!reviewing || !m.id) return null;
    const verdict = reviews.get(m.id) || null;
    const button = (value, label, name, tip) => h('button', {
      type: 'button', class: `btn small review-btn ${value}`, 'data-verdict': value, 'aria-pressed': String(verdict === value),
      title: tip, onclick: () => review(m.id, value),
    }, icon(name, 13), label);
    return h('div', { class: 'review', role: 'group', 'aria-label': 'Your review of this answer', 'data-message': m.id },
      button('right', 'Right', 'check', 'The answer is right'), button('wrong', 'Wrong', 'close', 'The answer is wrong'));
  }

  async function review(messageId, value) {
    const group = [...timeline.querySelectorAll('.review')].find((el) => el.dataset.message === messageId);
    const buttons = group ? [...group.querySelectorAll('button')] : [];
    const verdict = reviews.get(messageId) === value ? null : value;
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const saved = await api.post(`/api/v1/admin/chats/${sessionId}/messages/${encodeURIComponent(messageId)}/review`, { verdict });
      if (saved?.verdict) reviews.set(messageId, saved.verdict); else reviews.delete(messageId);
    } catch (e) {
      toast(missingRoute(e) ? 'This Parley server cannot record reviews yet.' : e.message, 'error');
    } finally {
      buttons.forEach((b) => {
        b.disabled = false;
        b.setAttribute('aria-pressed', String(reviews.get(messageId) === b.dataset.verdict));
      });
    }
  }

  let lastDay = null;
  function appendMessage(m) {
    const day = new Date(m.createdAt).toDateString();
    if (day !== lastDay) {
      timeline.appendChild(h('div', { class: 'day-sep', role: 'separator' }, h('span', { text: fmt.day(m.createdAt) })));
      lastDay = day;
    }
    timeline.appendChild(messageElement(m));
    renderedMax = Math.max(renderedMax, m.seq);
    paintSeen();
  }

  function renderAll() {
    timeline.replaceChildren();
    lastDay = null;
    renderedMax = 0;
    const sorted = [...messages.values()].sort((a, b) => a.seq - b.seq);
    if (sorted.length && sorted[0].seq > 1) {
      timeline.appendChild(h('div', { class: 'load-earlier' }, h('button', { type: 'button', class: 'btn small', text: 'Load earlier messages', onclick: loadEarlier })));
    }
    if (!sorted.length) timeline.appendChild(empty('No messages yet', 'Write the first message below.'));
    sorted.forEach(appendMessage);
  }

  async function loadEarlier() {
    const first = Math.min(...messages.keys());
    try {
      const page = await api.get(`/api/v1/admin/chats/${sessionId}/messages${qs({ after: Math.max(0, first - 101), limit: 100 })}`);
      for (const m of page.data || []) if (m.seq < first) messages.set(m.seq, m);
      const top = scroller.scrollHeight - scroller.scrollTop;
      renderAll();
      scroller.scrollTop = scroller.scrollHeight - top;
    } catch (e) { toast(e.message, 'error'); }
  }

  /** "Seen" under the agent's latest message the visitor has read. */
  function paintSeen() {
    if (!session) return;
    timeline.querySelectorAll('.seen').forEach((el) => { el.hidden = true; });
    const agentMsgs = [...timeline.querySelectorAll('.msg-agent')];
    const lastSeen = agentMsgs.filter((el) => Number(el.dataset.seq) <= (session.visitorReadSeq || 0)).pop();
    if (lastSeen) lastSeen.querySelector('.seen').hidden = false;
  }

  function scrollToEnd(force) {
    const near = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 160;
    if (force || near) requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; });
  }

  function paintHead() {
    if (!session) return;
    const st = STATUS[session.status] || { label: session.status, kind: '' };
    const assign = select([['', 'Unassigned'], ...agentOptions()], session.assignedAgentId || '', { 'aria-label': 'Assignee', class: 'assign-select' });
    assign.addEventListener('change', () => act('assign', { agentId: assign.value || null }, assign.value ? `Assigned to ${agentName(assign.value)}` : 'Unassigned'));
    // Compact icon buttons (named for assistive technology and in their tooltips).
    const tool = (label, name, onclick, extra = {}) => h('button', { type: 'button', class: 'btn small tool', 'aria-label': label, title: label, onclick, ...extra }, icon(name, 15));
    // One thread with a ticket: open it; none yet (or only a closed one): make one.
    const ticketActions = h('div', { class: 'chat-ticket' },
      ticket ? h('a', { class: 'btn small', href: `#/tickets/${ticket.id}`, title: ticket.subject ? `Ticket: ${ticket.subject}` : 'The ticket of this conversation' }, icon('ticket', 14), 'Open ticket') : null,
      !ticket || ticket.status === 'closed' ? h('button', { type: 'button', class: 'btn small', onclick: makeTicket }, icon('ticket', 14), 'Make a ticket') : null);
    const buttons = [];
    if (session.status === 'escalated' || session.status === 'agent_active') {
      // (On narrow screens only its icon shows: the name and the tooltip stay.)
      buttons.push(h('button', { type: 'button', class: 'btn small hand-back', onclick: handBack, 'aria-label': 'Hand back to AI', title: 'Hand back to AI: the assistant answers the visitor\'s next message' },
        icon('sparkle', 14), h('span', { class: 'btn-label', text: 'Hand back to AI' })));
    }
    if (session.status !== 'closed') buttons.push(h('button', { type: 'button', class: 'btn small', onclick: closeChat }, icon('check', 14), 'Close'));
    if (session.archivedAt) buttons.push(tool('Restore from the archive', 'restore', () => act('restore', {}, 'Restored')));
    else buttons.push(tool('Archive', 'archive', () => act('archive', {}, 'Archived')));
    buttons.push(tool('Export as JSON', 'download', exportJSON));
    buttons.push(tool('Visitor details', 'user', toggleCard, { class: 'btn small tool details-toggle', 'aria-expanded': String(wrap.classList.contains('show-card')) }));
    replace(head,
      avatar(visitorName(visitor), visitor?.id),
      h('div', { class: 'chat-title' },
        h('h2', { text: visitorName(visitor) }),
        h('div', { class: 'chat-sub' }, badge(st.label, st.kind), session.archivedAt ? badge('Archived', 'muted') : null,
          visitor?.email && visitor.email !== visitorName(visitor) ? h('span', { class: 'muted', text: visitor.email }) : null)),
      ticketActions,
      h('div', { class: 'chat-actions' }, assign, buttons));
    banner.hidden = session.status !== 'ai_active';
    replace(banner, icon('sparkle', 14), h('span', { text: 'The AI assistant is answering this conversation. Your reply takes it over.' }),
      h('button', { type: 'button', class: 'btn small', text: 'Take over', onclick: takeOver }));
    composer.sync();
  }

  function toggleCard() {
    wrap.classList.toggle('show-card');
    head.querySelector('.details-toggle')?.setAttribute('aria-expanded', String(wrap.classList.contains('show-card')));
  }

  function paintCard() {
    if (!session) return;
    const v = visitor || {};
    const rows = [
      ['Email', v.email], ['User id', v.externalId], ['Visitor id', v.anonymousId],
      ['Current page', v.currentPage], ['First seen', fmt.full(v.firstSeenAt)], ['Last seen', fmt.full(v.lastSeenAt)],
    ];
    const traits = Object.entries(v.traits || {}).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]);
    const dl = (pairs) => h('dl', { class: 'props' }, pairs.filter(([, x]) => x).map(([k, x]) => [
      h('dt', { text: k }),
      h('dd', {}, k === 'Current page' && isWebURL(x) ? h('a', { href: x, target: '_blank', rel: 'noopener noreferrer', text: x }) : h('span', { text: String(x) })),
    ]));
    replace(card,
      h('div', { class: 'card-top' }, avatar(visitorName(v), v.id, 'lg'), h('h3', { text: visitorName(v) }),
        badge(v.externalId ? 'Identified' : 'Anonymous', v.externalId ? 'ok' : 'muted')),
      h('section', {}, h('h4', { text: 'Visitor' }), dl(rows)),
      traits.length ? h('section', {}, h('h4', { text: 'Traits' }), dl(traits)) : null,
      h('section', {}, h('h4', { text: 'Conversation' }), dl([
        ['Started', fmt.full(session.createdAt)], ['Status', (STATUS[session.status] || {}).label || session.status],
        ['Assignee', agentName(session.assignedAgentId) || 'Unassigned'], ['Messages', String(session.lastSeq || 0)],
      ])),
      ticket ? h('section', {}, h('h4', { text: 'Ticket' }), h('a', { class: 'ticket-link', href: `#/tickets/${ticket.id}` }, icon('ticket', 14), h('span', { text: ticket.subject || `#${ticket.id.slice(0, 8)}` }))) : null);
  }

  // MARK: Actions

  async function act(action, body, done) {
    try {
      const result = await api.post(`/api/v1/admin/chats/${sessionId}/${action}`, body);
      const updated = result?.session || result;
      if (updated?.id) { session = { ...updated }; paintHead(); paintCard(); hooks.onSession?.(session); }
      if (done) toast(done, 'success');
      emit('refresh-counts');
    } catch (e) {
      toast(e.message, 'error');
      paintHead();
    }
  }

  async function closeChat() {
    const keeps = ticketOpen();
    const text = `The visitor sees that the conversation ended. A new message from them opens it again.${keeps ? ' Its ticket stays open.' : ''}`;
    if (await confirmDialog(text, { title: 'Close this conversation?', confirm: 'Close conversation' })) {
      act('close', {}, keeps ? 'Conversation closed; its ticket stays open.' : 'Conversation closed');
    }
  }

  /** "Make a ticket": the conversation goes on as one thread with a new ticket, opened here. */
  async function makeTicket(event) {
    const button = event?.currentTarget;
    if (button) button.disabled = true;
    try {
      const made = await api.post(`/api/v1/admin/chats/${sessionId}/ticket`, {});
      ticket = { id: made.id, subject: made.subject, status: made.status };
      toast('Ticket made: the conversation and the ticket are one thread', 'success');
      emit('refresh-counts');
      location.hash = `#/tickets/${made.id}`;
    } catch (e) {
      if (button) button.disabled = false;
      toast(missingRoute(e) ? 'This Parley server cannot make tickets from conversations yet.' : e.message, 'error');
      if (e.status === 409) reloadTicket(); // someone else made it: link to theirs
    }
  }

  /** "Hand back to AI": the assistant answers the conversation again (409 when it cannot). */
  async function handBack(event) {
    const button = event?.currentTarget;
    if (button) button.disabled = true;
    try {
      const updated = await api.post(`/api/v1/admin/chats/${sessionId}/assistant`, {});
      if (updated?.id) { session = { ...updated }; paintHead(); paintCard(); hooks.onSession?.(session); }
      toast('Handed back: the AI assistant answers this conversation again', 'success');
      emit('refresh-counts');
    } catch (e) {
      if (button) button.disabled = false;
      toast(missingRoute(e) ? 'This Parley server cannot hand conversations back to the AI yet.' : e.message, 'error');
    }
  }

  function takeOver() {
    if (session && !session.assignedAgentId) act('assign', { agentId: myId() });
    composer.setMode('reply');
    composer.textarea.focus();
  }

  async function exportJSON() {
    try {
      const detail = await api.get(`/api/v1/admin/chats/${sessionId}`);
      download(new Blob([JSON.stringify(detail, null, 2)], { type: 'application/json' }), `conversation-${sessionId}.json`);
    } catch (e) { toast(e.message, 'error'); }
  }

  // MARK: Composer

  function buildComposer() {
    const textarea = h('textarea', { class: 'composer-input', rows: 3, placeholder: 'Write a reply… Type / for canned responses', 'aria-label': 'Reply to the visitor' });
    const replyTab = h('button', { type: 'button', class: 'mode active', 'aria-pressed': 'true', text: 'Reply', onclick: () => setMode('reply') });
    const noteTab = h('button', { type: 'button', class: 'mode', 'aria-pressed': 'false', onclick: () => setMode('note') }, icon('lock', 12), 'Internal note');
    const fileInput = h('input', { type: 'file', class: 'sr-only', accept: FILE_TYPES.join(','), tabindex: '-1', 'aria-hidden': 'true' });
    const attach = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Attach an image or PDF', title: 'Attach an image or PDF', onclick: () => fileInput.click() }, icon('clip', 16));
    const send = h('button', { type: 'submit', class: 'btn primary', text: 'Send' });
    const hint = h('span', { class: 'composer-hint', text: 'Enter to send · Shift+Enter for a new line · / for canned responses' });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'composer', 'aria-label': 'Reply' },
      h('div', { class: 'composer-modes', role: 'group', 'aria-label': 'Message kind' }, replyTab, noteTab),
      textarea, error,
      h('div', { class: 'composer-foot' }, attach, fileInput, hint, send));
    const picker = cannedPicker(textarea, () => ({ sessionId }));
    form.insertBefore(picker.el, textarea);

    function setMode(next) {
      // Notes on conversations came with the preferences endpoint. An older server would ignore
      // `internal` and send the "note" to the visitor, so without it there are no notes.
      if (next === 'note' && !state.features.preferences) {
        toast('Internal notes on conversations need a newer Parley server.', 'error');
        return;
      }
      mode = next;
      replyTab.classList.toggle('active', mode === 'reply');
      noteTab.classList.toggle('active', mode === 'note');
      replyTab.setAttribute('aria-pressed', String(mode === 'reply'));
      noteTab.setAttribute('aria-pressed', String(mode === 'note'));
      form.classList.toggle('note-mode', mode === 'note');
      textarea.placeholder = mode === 'note' ? 'Write an internal note: only your team sees it' : 'Write a reply… Type / for canned responses';
      textarea.setAttribute('aria-label', mode === 'note' ? 'Internal note for the team' : 'Reply to the visitor');
      send.textContent = mode === 'note' ? 'Add note' : 'Send';
      attach.disabled = mode === 'note';
      if (mode === 'note') setTyping(false);
      textarea.focus();
    }

    function setTyping(on) {
      if (typingOn === on) return;
      typingOn = on;
      realtime.typing(channel, on);
    }

    textarea.addEventListener('input', () => {
      error.hidden = true;
      if (mode !== 'reply') return;
      if (textarea.value.trim()) setTyping(true);
      clearTimeout(typingIdle);
      typingIdle = setTimeout(() => setTyping(false), 3000);
    });
    textarea.addEventListener('blur', () => setTimeout(() => setTyping(false), 200));
    textarea.addEventListener('keydown', (event) => {
      if (picker.handleKey(event)) return;
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = textarea.value.trim();
      if (!body) return;
      send.disabled = true;
      error.hidden = true;
      const payload = mode === 'note' ? { body, internal: true, clientId: clientId() } : { body, clientId: clientId() };
      try {
        const result = await api.post(`/api/v1/admin/chats/${sessionId}/reply`, payload);
        textarea.value = '';
        setTyping(false);
        if (result?.message) addMessage(result.message, false);
        if (result?.session) { session = { ...result.session }; paintHead(); paintCard(); hooks.onSession?.(session); }
        scrollToEnd(true);
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      } finally {
        send.disabled = false;
        textarea.focus();
      }
    });

    fileInput.addEventListener('change', async () => {
      const file = fileInput.files[0];
      fileInput.value = '';
      if (!file) return;
      if (!FILE_TYPES.includes(file.type)) { toast('Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent.', 'error'); return; }
      if (file.size > MAX_FILE) { toast('This file is too big: at most 10 MB.', 'error'); return; }
      attach.disabled = true;
      try {
        const result = await api.post(`/api/v1/admin/chats/${sessionId}/attachments${qs({ name: file.name, clientId: clientId() })}`, file);
        if (result?.message) addMessage(result.message, false);
        toast(`${file.name} sent`, 'success');
      } catch (e) {
        toast(missingRoute(e) ? 'This server does not take files from agents yet.' : `The file was not sent: ${e.message}`, 'error');
      } finally {
        attach.disabled = false;
      }
    });

    function sync() {
      const closed = session?.status === 'closed';
      textarea.placeholder = mode === 'note' ? 'Write an internal note: only your team sees it'
        : closed ? 'This conversation is closed. A reply opens it again.' : 'Write a reply… Type / for canned responses';
    }

    return { el: form, textarea, setMode, sync };
  }

  // Names change when the team list loads after this view.
  offs.push(on('agents', () => { if (session) { paintHead(); paintCard(); renderAll(); } }));
  offs.push(on('inbox', (event) => {
    if (event.type !== 'event' || !event.data) return;
    if (event.name === 'ticket.created' && event.data.sessionId === sessionId) loadTicket(event.data.ticketId);
    if (event.name === 'ticket.updated' && ticket && event.data.id === ticket.id) {
      ticket = { id: ticket.id, subject: event.data.subject ?? ticket.subject, status: event.data.status ?? ticket.status };
      paintHead();
      paintCard();
    }
  }));

  load();

  return {
    destroy() {
      destroyed = true;
      if (typingOn) realtime.typing(channel, false);
      clearTimeout(typingIdle);
      clearTimeout(typingTimer);
      unsubscribe?.();
      offs.forEach((off) => off());
      document.removeEventListener('visibilitychange', onVisible);
    },
  };
}

/** Asks for the first message and starts a conversation with a live visitor. */
export async function startChatWith(visitorObj) {
  const text = h('textarea', { rows: 4, required: true, placeholder: 'Hi! Can I help you with anything?' });
  let started = null;
  const ok = await openDialog({
    title: `Start a chat with ${visitorName(visitorObj)}`,
    body: [field('First message', text, 'It appears in their widget right away.')],
    actions: [{ label: 'Cancel', value: null }, { label: 'Start chat', kind: 'primary', value: 'start', submit: true }],
    async onSubmit() {
      if (!text.value.trim()) throw new Error('Write a first message.');
      try {
        expectOwnChat(visitorObj.id); // our own new conversation is no news to us
        started = await api.post(`/api/v1/admin/visitors/${encodeURIComponent(visitorObj.id)}/chat`, { body: text.value.trim() });
      } catch (e) {
        if (missingRoute(e)) throw new Error('This Parley server cannot start chats with visitors yet.');
        throw e;
      }
    },
  });
  if (ok && started?.session?.id) location.hash = `#/chats/${started.session.id}`;
}
