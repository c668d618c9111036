// Tickets: the list (filters, search, sorting, keyset paging) and one ticket (thread, notes,
// properties limited to the transitions the server allows, live SLA clocks, the AI's draft, CSAT).
//
// The list reloads its first page when the inbox channel says a ticket changed. An open ticket
// follows `support:<ticketId>` (subscribed with `after` = its last seq): `message.created` adds to
// the thread (each seq once), `ticket.updated` reloads the ticket for its new allowed statuses
// and SLA states.
//
// Above the reply box the agent reads how a public reply reaches the customer before sending it
// (`reachedBy` on the ticket: the widget they have open, email, or nowhere, and why).

import { api, qs, missingRoute } from './api.js';
import { h, icon, replace, fmt, avatar, toast, select, debounce, empty, spinner, countdown } from './dom.js';
import { realtime } from './realtime.js';
import { on, emit, can, myId, agentName, agentOptions } from './state.js';
import { cannedPicker } from './canned.js';
import { sourcesElement, attachmentsElement } from './views-chat.js';

export const STATUSES = ['open', 'pending', 'in_progress', 'waiting_on_customer', 'resolved', 'closed'];
const PRIORITIES = ['low', 'medium', 'high', 'urgent'];
const STATUS_TABS = [
  { id: 'unsolved', label: 'Unsolved', status: 'open,pending,in_progress,waiting_on_customer', count: (c) => (c.open || 0) + (c.pending || 0) + (c.in_progress || 0) + (c.waiting_on_customer || 0) },
  ...STATUSES.map((s) => ({ id: s, label: fmt.label(s), status: s, count: (c) => c[s] || 0 })),
  { id: 'all', label: 'All', status: '', count: null },
];

// The list's filters outlive the screen, so coming back from a ticket finds the same list.
const filters = { tab: 'unsolved', q: '', priority: '', assignee: '', tag: '', source: '', sla: '', from: '', to: '', sort: 'newest' };

export function statusElement(status) {
  return h('span', { class: `status s-${status}`, text: fmt.label(status) });
}

export function priorityElement(priority) {
  return h('span', { class: `prio p-${priority}`, text: fmt.label(priority) });
}

/** Who asked, for lists and headers: a chat handed over by an anonymous visitor has no email yet. */
export function requesterLabel(t) {
  if (t.requesterEmail) return t.requesterName ? `${t.requesterName} · ${t.requesterEmail}` : t.requesterEmail;
  return t.requesterName ? `${t.requesterName} (no email yet)` : 'Visitor (no email yet)';
}

/**
 * How a public reply on ticket `t` reaches the customer now, from the server's `reachedBy`:
 * `{kind, text, sent}` (the hint shown before sending, the toast after), or null when the server
 * does not say. "Nowhere" names what is missing: the address, the mail server, or both.
 */
export function delivery(t) {
  if (t.reachedBy === 'widget') {
    return { kind: 'widget', text: 'Your reply reaches the customer in the widget now', sent: 'Reply sent: the customer sees it in the widget' };
  }
  if (t.reachedBy === 'email') {
    return { kind: 'email', text: `Your reply reaches the customer by email (${t.requesterEmail})`, sent: `Reply sent by email to ${t.requesterEmail}` };
  }
  if (t.reachedBy !== 'none') return null;
  const noAddress = !t.requesterEmail;
  const noServer = t.emailConfigured === false;
  const missing = [noAddress && 'no email address', noServer && 'email is not configured'].filter(Boolean);
  const needed = [noAddress && 'the customer has an email address', noServer && 'email is configured'].filter(Boolean);
  return {
    kind: 'none',
    text: missing.length ? `Your reply goes nowhere: ${missing.join(' and ')}` : 'Your reply goes nowhere: the customer is not in the widget',
    sent: `Saved on the ticket; it reaches nobody${needed.length ? ` until ${needed.join(' and ')}` : ' for now'}`,
  };
}

/** The clock that matters most now: first response until it is met, then resolution. */
function slaCell(t) {
  const sla = t.sla || {};
  const pick = sla.firstResponse && !['met', 'none'].includes(sla.firstResponse) && sla.firstResponseDueAt
    ? { state: sla.firstResponse, due: sla.firstResponseDueAt, label: 'Reply' }
    : sla.resolution && !['met', 'none'].includes(sla.resolution) && sla.resolutionDueAt
      ? { state: sla.resolution, due: sla.resolutionDueAt, label: 'Resolve' }
      : null;
  if (!pick || ['resolved', 'closed'].includes(t.status)) return h('span', { class: 'sla none', text: sla.resolution === 'met' ? 'Met' : '—' });
  return h('span', { class: `sla ${pick.state}`, title: `${pick.label} by ${fmt.full(pick.due)}` },
    h('span', { class: 'sla-dot', 'aria-hidden': 'true' }), h('span', { class: 'sla-what', text: `${pick.label}:` }),
    countdown(pick.due, { paused: !!sla.paused && pick.label === 'Resolve' }));
}

export function mount(container, params) {
  let instance = null;
  function show(p) {
    instance?.destroy?.();
    container.replaceChildren();
    instance = p.ticket ? ticketView(container, p.ticket) : listView(container);
  }
  show(params);
  return { update: show, destroy: () => instance?.destroy?.() };
}

// MARK: - The list

function listView(container) {
  let rows = [];
  let cursor = null;
  let loading = 0;
  const offs = [];

  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Ticket status' });
  const tabCounts = {};
  const tabButtons = STATUS_TABS.map((t) => {
    tabCounts[t.id] = h('span', { class: 'count', hidden: true });
    const b = h('button', { type: 'button', role: 'tab', class: 'tab', 'aria-selected': String(filters.tab === t.id), 'data-tab': t.id, onclick: () => { filters.tab = t.id; paintTabs(); load(false); } }, h('span', { text: t.label }), tabCounts[t.id]);
    tabs.appendChild(b);
    return b;
  });
  tabs.addEventListener('keydown', (event) => {
    const i = tabButtons.indexOf(document.activeElement);
    if (i < 0 || !['ArrowRight', 'ArrowLeft'].includes(event.key)) return;
    const next = tabButtons[(i + (event.key === 'ArrowRight' ? 1 : -1) + tabButtons.length) % tabButtons.length];
    next.focus();
    next.click();
  });
  function paintTabs() {
    tabButtons.forEach((b) => {
      const selected = b.dataset.tab === filters.tab;
      b.setAttribute('aria-selected', String(selected));
      b.tabIndex = selected ? 0 : -1;
    });
  }

  const q = h('input', { type: 'search', placeholder: 'Search subjects and messages', 'aria-label': 'Search tickets', value: filters.q });
  const priority = select([['', 'Any priority'], ...PRIORITIES.map((p) => [p, fmt.label(p)])], filters.priority, { 'aria-label': 'Priority' });
  const assignee = select([['', 'Anyone'], ['me', 'Assigned to me'], ['unassigned', 'Unassigned'], ...agentOptions()], filters.assignee, { 'aria-label': 'Assignee' });
  const source = select([['', 'Any source'], ['chat', 'Chat'], ['form', 'Form'], ['email', 'Email']], filters.source, { 'aria-label': 'Source' });
  const sla = select([['', 'Any SLA'], ['warning', 'SLA warning'], ['breached', 'SLA breached']], filters.sla, { 'aria-label': 'SLA state' });
  const tag = h('input', { type: 'text', placeholder: 'Tag', 'aria-label': 'Tag', value: filters.tag, class: 'tag-filter' });
  const from = h('input', { type: 'date', 'aria-label': 'Created from', value: filters.from });
  const to = h('input', { type: 'date', 'aria-label': 'Created until', value: filters.to });
  const sort = select([['newest', 'Newest first'], ['oldest', 'Oldest first'], ['updated', 'Recently updated']], filters.sort, { 'aria-label': 'Sort' });
  // Admins export what the list shows (same filters) as CSV: a plain download with the cookie.
  const exportLink = can('manageSettings') ? h('a', { class: 'btn', download: 'tickets.csv', title: 'Download these tickets as CSV (no messages)' }, icon('download', 14), 'Export CSV') : null;
  const apply = () => {
    Object.assign(filters, { q: q.value.trim(), priority: priority.value, assignee: assignee.value, source: source.value, sla: sla.value, tag: tag.value.trim(), from: from.value, to: to.value, sort: sort.value });
    load(false);
  };
  q.addEventListener('input', debounce(apply, 300));
  tag.addEventListener('input', debounce(apply, 400));
  [priority, assignee, source, sla, from, to, sort].forEach((el) => el.addEventListener('change', apply));

  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'btn', text: 'Load more', onclick: () => load(true) });
  const pager = h('div', { class: 'pager', hidden: true }, more);
  const summary = h('p', { class: 'muted', role: 'status' });
  const table = h('table', { class: 'data tickets-table' },
    h('caption', { class: 'sr-only', text: 'Tickets' }),
    h('thead', {}, h('tr', {}, ['Subject', 'Status', 'Priority', 'Assignee', 'SLA', 'Updated'].map((x) => h('th', { scope: 'col', text: x })))),
    tbody);
  container.appendChild(h('div', { class: 'page' },
    tabs,
    h('div', { class: 'toolbar' }, h('div', { class: 'search' }, icon('search', 15), q), priority, assignee, source, sla, tag,
      h('span', { class: 'range' }, from, h('span', { class: 'muted', text: '–' }), to), sort, exportLink),
    h('div', { class: 'panel' }, h('div', { class: 'table-wrap' }, table), pager),
    summary));
  paintTabs();

  function query(cursorValue) {
    const tab = STATUS_TABS.find((t) => t.id === filters.tab) || STATUS_TABS[0];
    return {
      status: tab.status, q: filters.q, priority: filters.priority, assignee: filters.assignee, source: filters.source,
      sla: filters.sla, tag: filters.tag, from: filters.from,
      to: filters.to ? fmt.isoDay(new Date(new Date(`${filters.to}T00:00:00`).getTime() + 86400000)) : '',
      sort: filters.sort, limit: 50, cursor: cursorValue,
    };
  }

  async function load(append) {
    const mine = ++loading;
    if (exportLink) {
      const q = query(null);
      delete q.limit;
      delete q.cursor;
      exportLink.href = `/api/v1/admin/export/tickets${qs({ format: 'csv', ...q })}`;
    }
    if (!append) replace(tbody, h('tr', {}, h('td', { colspan: 6 }, spinner())));
    try {
      const page = await api.get(`/api/v1/admin/tickets${qs(query(append ? cursor : null))}`);
      if (mine !== loading) return;
      rows = append ? rows.concat(page.data || []) : page.data || [];
      cursor = page.nextCursor;
      paint();
    } catch (e) {
      if (mine === loading) replace(tbody, h('tr', {}, h('td', { colspan: 6 }, empty('The tickets could not be loaded', e.message))));
    }
  }
  const reload = debounce(() => { if (!cursor || rows.length <= 50) load(false); }, 400);

  async function loadCounts() {
    try {
      const c = await api.get('/api/v1/admin/tickets/counts');
      for (const t of STATUS_TABS) {
        if (!t.count) continue;
        const n = t.count(c);
        tabCounts[t.id].hidden = !n;
        tabCounts[t.id].textContent = String(n);
      }
    } catch { /* no counts */ }
  }
  const reloadCounts = debounce(loadCounts, 400);

  function paint() {
    if (!rows.length) {
      replace(tbody, h('tr', {}, h('td', { colspan: 6 }, empty('No tickets match', 'Change the filters, or wait for customers to write in.'))));
    } else {
      replace(tbody, rows.map((t) => h('tr', { 'data-id': t.id, class: 'ticket-row' },
        h('td', {}, h('div', { class: 'cell-main' },
          h('a', { class: 'cell-title', href: `#/tickets/${t.id}`, text: t.subject || '(no subject)' }),
          h('span', { class: 'cell-sub', text: `${requesterLabel(t)} · #${t.id.slice(0, 8)} · ${fmt.label(t.source)}${t.tags?.length ? ` · ${t.tags.join(', ')}` : ''}` }))),
        h('td', {}, statusElement(t.status)),
        h('td', {}, priorityElement(t.priority)),
        h('td', {}, t.assigneeId ? h('span', { text: agentName(t.assigneeId) }) : h('span', { class: 'muted', text: 'Unassigned' })),
        h('td', {}, slaCell(t)),
        h('td', { title: fmt.full(t.updatedAt) }, h('span', { class: 'muted', text: fmt.ago(t.updatedAt) })))));
    }
    pager.hidden = !cursor;
    summary.textContent = `${rows.length}${cursor ? '+' : ''} ticket${rows.length === 1 ? '' : 's'}`;
  }
  // A click anywhere on a row opens it (the subject is the keyboard's link).
  tbody.addEventListener('click', (event) => {
    const tr = event.target.closest('tr[data-id]');
    if (tr && !event.target.closest('a, button')) location.hash = `#/tickets/${tr.dataset.id}`;
  });

  offs.push(on('inbox', (event) => {
    if (event.type === 'subscribed' && event.resumed) { load(false); loadCounts(); return; }
    if (event.type === 'event' && /^ticket\./.test(event.name)) { reload(); reloadCounts(); }
  }));
  load(false);
  loadCounts();
  return { destroy: () => offs.forEach((off) => off()) };
}

// MARK: - One ticket

function ticketView(container, ticketId) {
  let ticket = null;
  let loadedAt = 0; // when the ticket (and so how a reply reaches the customer) was last loaded
  let drafts = [];
  let destroyed = false;
  let unsubscribe = null;
  let mode = 'reply';
  let pendingFiles = []; // uploaded, to send with the next reply: [{id, name}]
  const seqs = new Set();
  const offs = [];

  const head = h('header', { class: 'ticket-head' });
  const thread = h('div', { class: 'thread', role: 'log', 'aria-label': 'Ticket thread', tabindex: '0' });
  const live = h('div', { class: 'sr-only', 'aria-live': 'polite' });
  // The side is painted in parts, so a live update of the properties never wipes a draft being
  // edited or a tag being typed.
  const sideTop = h('div', { class: 'side-part' });
  const sideDraft = h('div', { class: 'side-part' });
  const sideBottom = h('div', { class: 'side-part' });
  const sideActivity = h('div', { class: 'side-part' });
  const side = h('aside', { class: 'side', 'aria-label': 'Ticket properties' }, sideTop, sideDraft, sideBottom, sideActivity);
  const tagInput = h('input', { type: 'text', placeholder: 'Add a tag', 'aria-label': 'Add a tag', id: 'tk-tag' });
  const draftEdits = new Map(); // draft id -> the agent's edited text
  const composer = buildComposer();
  const main = h('section', { class: 'ticket-main', 'aria-label': 'Ticket' }, head, thread, composer.el, live);
  const root = h('div', { class: 'ticket' }, main, side);
  container.appendChild(h('div', { class: 'chat-loading' }, spinner('Loading the ticket…')));

  async function load() {
    try {
      const t = await api.get(`/api/v1/admin/tickets/${encodeURIComponent(ticketId)}`);
      if (destroyed) return;
      loadedAt = Date.now();
      const first = !ticket;
      const closedChanged = !first && (ticket.status === 'closed') !== (t.status === 'closed');
      ticket = t;
      if (closedChanged) paintDraft();
      if (first) {
        container.replaceChildren(root);
        emit('title', 'Ticket');
      }
      paintHead();
      paintThread();
      paintSide();
      loadActivity();
      if (!unsubscribe) unsubscribe = realtime.subscribe(`support:${ticketId}`, onEvent, { after: ticket.lastSeq || 0 });
      if (first) { thread.scrollTop = thread.scrollHeight; loadDrafts(); }
    } catch (e) {
      if (destroyed) return;
      if (!ticket) replace(container, h('div', { class: 'page' }, h('a', { class: 'back', href: '#/tickets' }, icon('back', 14), 'All tickets'), empty(e.status === 404 ? 'This ticket does not exist' : 'The ticket could not be loaded', e.message)));
      else toast(e.message, 'error');
    }
  }
  const reload = debounce(load, 250);

  /** Who did what to the ticket (the audit log, admins only), newest first. */
  const loadActivity = debounce(async () => {
    if (!can('manageSettings') || destroyed) return;
    try {
      const page = await api.get(`/api/v1/admin/audit-log${qs({ entity: ticketId, limit: 20 })}`);
      const entries = page.data || [];
      const actor = (e) => (e.actorAgentId ? agentName(e.actorAgentId) : fmt.label(e.actorKind === 'api_key' ? 'API key' : e.actorKind));
      replace(sideActivity, h('section', {}, h('h3', { text: 'Activity' }),
        h('ol', { class: 'activity' }, entries.map((e) => h('li', {},
          h('span', { class: 'activity-what', text: `${fmt.label(e.action.replace(/^ticket\./, ''))}${e.details ? `: ${e.details}` : ''}` }),
          h('span', { class: 'activity-meta', text: `${actor(e)} · ${fmt.ago(e.createdAt)}` }))))));
    } catch { sideActivity.replaceChildren(); }
  }, 500);

  async function loadDrafts() {
    try {
      const page = await api.get(`/api/v1/admin/tickets/${ticketId}/drafts`);
      drafts = page.data || [];
    } catch { drafts = []; }
    if (!destroyed) paintDraft();
  }

  function onEvent(event) {
    if (event.type === 'subscribed') { if (!event.recovered) load(); return; }
    if (event.type !== 'event') return;
    if (event.name === 'message.created') {
      const m = event.data;
      if (seqs.has(m.seq)) return;
      ticket.messages = [...(ticket.messages || []), m];
      paintThread(true);
      if (!(m.role === 'agent' && m.authorAgentId === myId())) live.textContent = `${authorOf(m)}: ${m.body}`;
      if (m.role === 'customer') setTimeout(loadDrafts, 1500); // the assistant drafts an answer to it
      reload();
    } else if (event.name === 'ticket.updated') {
      reload();
    }
  }

  function authorOf(m) {
    if (m.role === 'customer') return ticket.requesterName || ticket.requesterEmail || (ticket.chatSessionId ? 'Visitor' : 'Customer');
    if (m.role === 'ai') return 'AI assistant';
    if (m.role === 'system') return 'Parley';
    if (m.authorAgentId === myId()) return 'You';
    return agentName(m.authorAgentId) || 'Agent';
  }

  function paintHead() {
    replace(head,
      h('a', { class: 'back', href: '#/tickets' }, icon('back', 14), 'All tickets'),
      h('h2', { text: ticket.subject || '(no subject)' }),
      h('div', { class: 'ticket-meta' }, statusElement(ticket.status), priorityElement(ticket.priority),
        h('span', { class: 'mono', text: `#${ticket.id.slice(0, 8)}` }), h('span', { text: `via ${fmt.label(ticket.source)}` }),
        h('span', { text: `opened ${fmt.full(ticket.createdAt)}` }),
        ticket.aiResolved ? h('span', { class: 'badge ai', text: 'Resolved by AI' }) : null));
  }

  function paintThread(scroll) {
    const near = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 160;
    const messages = [...(ticket.messages || [])].sort((a, b) => a.seq - b.seq);
    seqs.clear();
    messages.forEach((m) => seqs.add(m.seq));
    replace(thread, messages.map((m) => {
      if (m.role === 'system') return h('div', { class: 'tmsg role-system', 'data-seq': m.seq }, h('span', { text: `${m.body} · ${fmt.full(m.createdAt)}` }));
      return h('article', { class: `tmsg role-${m.role}${m.internal ? ' internal' : ''}`, 'data-seq': m.seq, 'aria-label': m.internal ? 'Internal note' : `Message from ${authorOf(m)}` },
        h('div', { class: 'tmsg-head' }, avatar(m.authorAgentId ? agentName(m.authorAgentId) : authorOf(m), m.authorAgentId || m.role, 'sm'),
          h('span', { class: `who ${m.role}` }, m.internal ? icon('lock', 12) : null, authorOf(m)),
          m.internal ? h('span', { class: 'badge warn', text: 'Internal note' }) : m.role === 'customer' ? h('span', { class: 'muted', text: 'Customer' }) : null,
          h('time', { datetime: m.createdAt, title: fmt.full(m.createdAt), text: `${fmt.short(m.createdAt)} ${fmt.time(m.createdAt)}` })),
        h('div', { class: 'tmsg-body', text: m.body }),
        attachmentsElement(m.attachments));
    }));
    if (!messages.length) thread.appendChild(empty('No messages yet'));
    if (scroll && near) thread.scrollTop = thread.scrollHeight;
    composer.sync();
  }

  function clock(label, state, due, paused) {
    const text = state === 'none' || !due ? 'No target' : state === 'met' ? 'Met' : null;
    return h('div', { class: `clock ${state || 'none'}` },
      h('span', { class: 'clock-label' }, h('span', { text: label }), h('span', { class: `sla ${state}` }, h('span', { class: 'sla-dot', 'aria-hidden': 'true' }), h('span', { text: fmt.label(state || 'none') }))),
      text ? h('span', { class: 'clock-time', text }) : countdown(due, { paused, cls: 'clock-time' }),
      due && state !== 'none' ? h('span', { class: 'hint', text: `Due ${fmt.full(due)}${paused ? ' · paused while waiting on the customer' : ''}` }) : null);
  }

  function paintSide() {
    if (!ticket) return;
    const allowed = ticket.allowedStatuses || [];
    const status = select([[ticket.status, fmt.label(ticket.status)], ...allowed.filter((s) => s !== ticket.status).map((s) => [s, fmt.label(s)])], ticket.status, { id: 'tk-status' });
    status.disabled = !allowed.length;
    status.addEventListener('change', () => change('status', { status: status.value }, `Status: ${fmt.label(status.value)}`));
    const prio = select(PRIORITIES.map((p) => [p, fmt.label(p)]), ticket.priority, { id: 'tk-priority' });
    prio.disabled = ticket.status === 'closed';
    prio.addEventListener('change', () => change('priority', { priority: prio.value }, `Priority: ${fmt.label(prio.value)}`));
    const assignee = select([['', 'Unassigned'], ...agentOptions()], ticket.assigneeId || '', { id: 'tk-assignee' });
    assignee.disabled = ticket.status === 'closed';
    assignee.addEventListener('change', () => change('assign', { agentId: assignee.value || null }, assignee.value ? `Assigned to ${agentName(assignee.value)}` : 'Unassigned'));
    const addTag = () => {
      const value = tagInput.value.trim().toLowerCase();
      if (!value || (ticket.tags || []).includes(value)) { tagInput.value = ''; return; }
      change('tags', { tags: [...(ticket.tags || []), value] }, `Tagged ${value}`);
    };
    tagInput.onkeydown = (event) => { if (event.key === 'Enter') { event.preventDefault(); addTag(); } };
    const sla = ticket.sla || {};
    const sat = ticket.satisfaction;
    replace(sideTop,
      h('section', {}, h('h3', { text: 'Properties' }),
        h('div', { class: 'prop-row' }, h('label', { for: 'tk-status', text: 'Status' }), status),
        h('div', { class: 'prop-row' }, h('label', { for: 'tk-priority', text: 'Priority' }), prio),
        h('div', { class: 'prop-row' }, h('label', { for: 'tk-assignee', text: 'Assignee' }), assignee),
        h('div', { class: 'prop-row' }, h('span', { text: 'Tags' }), h('div', { class: 'tags' },
          (ticket.tags || []).map((t) => h('span', { class: 'tag' }, h('span', { text: t }),
            h('button', { type: 'button', 'aria-label': `Remove tag ${t}`, onclick: () => change('tags', { tags: ticket.tags.filter((x) => x !== t) }, `Removed ${t}`) }, icon('close', 11)))),
          (ticket.tags || []).length ? null : h('span', { class: 'muted', text: 'None' }))),
        h('div', { class: 'prop-row' }, h('span', { 'aria-hidden': 'true' }), h('div', { class: 'tag-input' }, tagInput, h('button', { type: 'button', class: 'btn small', text: 'Add', onclick: addTag }))),
        h('div', { class: 'prop-row' }, h('span', { text: 'Category' }), h('span', { text: ticket.category ? fmt.label(ticket.category) : '—' }))),
      h('section', { 'aria-label': 'SLA' }, h('h3', { text: 'SLA' }),
        clock('First response', sla.firstResponse, sla.firstResponseDueAt, false),
        clock('Resolution', sla.resolution, sla.resolutionDueAt, sla.paused)));
    replace(sideBottom,
      h('section', {}, h('h3', { text: 'Requester' }),
        h('div', { class: 'prop-row' }, h('span', { text: 'Name' }), h('span', { text: ticket.requesterName || '—' })),
        h('div', { class: 'prop-row' }, h('span', { text: 'Email' }), ticket.requesterEmail ? h('span', { text: ticket.requesterEmail }) : h('span', { class: 'muted', text: 'No email yet' })),
        ticket.chatSessionId ? h('a', { class: 'ticket-link', href: `#/chats/${ticket.chatSessionId}` }, icon('chat', 14), 'Open the conversation') : null),
      h('section', {}, h('h3', { text: 'Satisfaction' }),
        sat ? h('div', { class: 'csat' },
          h('span', { class: 'stars', role: 'img', 'aria-label': `${sat.stars} out of 5 stars` }, [1, 2, 3, 4, 5].map((i) => h('span', { class: i <= sat.stars ? 'on' : 'off' }, icon('star', 16)))),
          sat.comment ? h('p', { class: 'kb-excerpt', text: `“${sat.comment}”` }) : null)
          : h('p', { class: 'muted', text: ['resolved', 'closed'].includes(ticket.status) ? 'Not rated yet.' : 'Asked once the ticket is resolved.' })),
      h('section', {}, h('h3', { text: 'Dates' }),
        h('div', { class: 'prop-row' }, h('span', { text: 'First reply' }), h('span', { text: fmt.full(ticket.firstResponseAt) })),
        h('div', { class: 'prop-row' }, h('span', { text: 'Resolved' }), h('span', { text: fmt.full(ticket.resolvedAt) })),
        h('div', { class: 'prop-row' }, h('span', { text: 'Updated' }), h('span', { text: fmt.full(ticket.updatedAt) }))));
  }

  function paintDraft() {
    if (ticket) replace(sideDraft, draftSection());
  }

  /** The assistant's pending draft: edit, send (accept) or dismiss; or ask for one. */
  function draftSection() {
    const pending = drafts.find((d) => d.status === 'pending');
    const history = drafts.filter((d) => d.status !== 'pending');
    const closed = ticket.status === 'closed';
    if (!pending) {
      return h('section', {}, h('h3', { text: 'AI draft' }),
        h('p', { class: 'muted', text: history.length ? `${history.length} earlier draft${history.length > 1 ? 's' : ''} (${[...new Set(history.map((d) => fmt.label(d.status)))].join(', ')}).` : 'No draft for this ticket yet.' }),
        closed ? null : h('button', { type: 'button', class: 'btn small', onclick: requestDraft }, icon('sparkle', 14), 'Draft a reply'));
    }
    const body = h('textarea', { 'aria-label': 'Draft reply (you can edit it)', value: draftEdits.get(pending.id) ?? pending.body,
      oninput: () => draftEdits.set(pending.id, body.value) });
    const cites = (pending.citations || []).filter((c) => c && c.title);
    return h('section', {}, h('h3', { text: 'AI draft' }),
      h('div', { class: 'draft' },
        h('div', { class: 'draft-head' }, icon('sparkle', 14), h('span', { text: fmt.ago(pending.createdAt) === 'now' ? 'Suggested just now' : `Suggested ${fmt.ago(pending.createdAt)} ago` })),
        body,
        sourcesElement(cites, pending.confidence),
        h('div', { class: 'draft-actions' },
          h('button', { type: 'button', class: 'btn small primary', onclick: () => acceptDraft(pending, body.value) }, icon('send', 13), 'Send draft'),
          h('button', { type: 'button', class: 'btn small', onclick: () => dismissDraft(pending) }, 'Dismiss'))));
  }

  async function requestDraft() {
    try {
      await api.post(`/api/v1/admin/tickets/${ticketId}/drafts`, {});
      await loadDrafts();
    } catch (e) {
      toast(e.code === 'no_draft' ? 'The assistant has no answer to suggest for this ticket.' : e.message, 'error');
    }
  }

  async function acceptDraft(draft, text) {
    try {
      const edited = text.trim() !== draft.body.trim();
      await api.post(`/api/v1/admin/tickets/${ticketId}/drafts/${draft.id}/accept`, edited ? { body: text.trim() } : {});
      await Promise.all([loadDrafts(), load()]);
      const reach = delivery(ticket);
      if (reach?.kind === 'none') toast(`${edited ? 'Edited draft' : 'Draft'} ${reach.sent.charAt(0).toLowerCase()}${reach.sent.slice(1)}`, 'info');
      else toast(edited ? 'Edited draft sent' : 'Draft sent', 'success');
    } catch (e) { toast(e.message, 'error'); }
  }

  async function dismissDraft(draft) {
    try {
      await api.post(`/api/v1/admin/tickets/${ticketId}/drafts/${draft.id}/dismiss`, {});
      await loadDrafts();
    } catch (e) { toast(e.message, 'error'); }
  }

  async function change(action, body, done) {
    try {
      const updated = await api.post(`/api/v1/admin/tickets/${ticketId}/${action}`, body);
      // The answer is the whole ticket (null fields left out): replace it, never merge.
      if (updated?.id) { ticket = { ...updated, messages: updated.messages || ticket.messages }; loadedAt = Date.now(); }
      paintHead();
      paintSide();
      paintThread();
      toast(done, 'success');
      emit('refresh-counts');
    } catch (e) {
      toast(e.message, 'error');
      paintSide();
    }
  }

  function buildComposer() {
    const textarea = h('textarea', { class: 'composer-input', rows: 3, placeholder: 'Reply to the customer… Type / for canned responses', 'aria-label': 'Reply to the customer' });
    const replyTab = h('button', { type: 'button', class: 'mode active', 'aria-pressed': 'true', text: 'Reply', onclick: () => setMode('reply') });
    const noteTab = h('button', { type: 'button', class: 'mode', 'aria-pressed': 'false', onclick: () => setMode('note') }, icon('lock', 12), 'Internal note');
    const fileInput = h('input', { type: 'file', class: 'sr-only', accept: 'image/png,image/jpeg,image/gif,image/webp,application/pdf', tabindex: '-1', 'aria-hidden': 'true' });
    const attach = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Attach an image or PDF', title: 'Attach an image or PDF', onclick: () => fileInput.click() }, icon('clip', 16));
    const files = h('div', { class: 'chips' });
    const send = h('button', { type: 'submit', class: 'btn primary', text: 'Send reply' });
    const hint = h('span', { class: 'composer-hint', text: 'A reply waits on the customer · Ctrl+Enter to send' });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    // How a public reply reaches the customer, said before it is sent (hidden for notes).
    const reachText = h('span', { id: `tk-reach-${ticketId}` });
    const reach = h('p', { class: 'delivery-hint', 'data-testid': 'delivery-hint', hidden: true }, h('span', { class: 'reach-icon' }), reachText);
    const form = h('form', { class: 'composer', 'aria-label': 'Reply' },
      h('div', { class: 'composer-modes', role: 'group', 'aria-label': 'Message kind' }, replyTab, noteTab),
      reach, textarea, files, error, h('div', { class: 'composer-foot' }, attach, fileInput, hint, send));
    const picker = cannedPicker(textarea, () => ({ ticketId }));
    form.insertBefore(picker.el, textarea);

    function setMode(next) {
      mode = next;
      replyTab.classList.toggle('active', mode === 'reply');
      noteTab.classList.toggle('active', mode === 'note');
      replyTab.setAttribute('aria-pressed', String(mode === 'reply'));
      noteTab.setAttribute('aria-pressed', String(mode === 'note'));
      form.classList.toggle('note-mode', mode === 'note');
      textarea.setAttribute('aria-label', mode === 'note' ? 'Internal note for the team' : 'Reply to the customer');
      textarea.placeholder = mode === 'note' ? 'Write an internal note: the customer never sees it' : 'Reply to the customer… Type / for canned responses';
      send.textContent = mode === 'note' ? 'Add note' : 'Send reply';
      hint.textContent = mode === 'note' ? 'Notes change nothing for the customer · Ctrl+Enter to add' : 'A reply waits on the customer · Ctrl+Enter to send';
      sync();
      textarea.focus();
    }

    function paintFiles() {
      replace(files, pendingFiles.map((f) => h('span', { class: 'tag' }, icon('file', 12), h('span', { text: f.name }),
        h('button', { type: 'button', 'aria-label': `Remove ${f.name}`, onclick: () => { pendingFiles = pendingFiles.filter((x) => x !== f); paintFiles(); } }, icon('close', 11)))));
    }

    textarea.addEventListener('keydown', (event) => {
      if (picker.handleKey(event)) return;
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
    });
    // Whether the visitor is still in the widget changes without any event: starting a reply
    // on a ticket loaded a while ago asks again.
    textarea.addEventListener('focus', () => { if (ticket && Date.now() - loadedAt > 30000) reload(); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = textarea.value.trim();
      if (!body) { error.textContent = 'Write something first.'; error.hidden = false; return; }
      send.disabled = true;
      error.hidden = true;
      try {
        const payload = { body, internal: mode === 'note' };
        if (pendingFiles.length) payload.attachments = pendingFiles.map((f) => f.id);
        const updated = await api.post(`/api/v1/admin/tickets/${ticketId}/reply`, payload);
        textarea.value = '';
        pendingFiles = [];
        paintFiles();
        if (updated?.id) {
          ticket = { ...updated, messages: updated.messages || ticket.messages };
          loadedAt = Date.now();
          paintHead(); paintThread(); paintSide();
          thread.scrollTop = thread.scrollHeight;
        }
        const reached = delivery(ticket);
        if (mode === 'note') toast('Note added', 'success');
        else toast(reached?.sent || 'Reply sent', reached?.kind === 'none' ? 'info' : 'success');
        loadDrafts();
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      } finally {
        send.disabled = false;
      }
    });
    fileInput.addEventListener('change', async () => {
      const file = fileInput.files[0];
      fileInput.value = '';
      if (!file) return;
      if (file.size > 10 * 1024 * 1024) { toast('This file is too big: at most 10 MB.', 'error'); return; }
      try {
        const result = await api.post(`/api/v1/admin/tickets/${ticketId}/attachments${qs({ name: file.name })}`, file);
        pendingFiles.push({ id: result.attachment.id, name: result.attachment.name });
        paintFiles();
      } catch (e) { toast(missingRoute(e) ? 'This server does not take ticket files yet.' : e.message, 'error'); }
    });

    function sync() {
      const closed = ticket?.status === 'closed';
      textarea.disabled = closed && mode === 'reply';
      if (closed && mode === 'reply') textarea.placeholder = 'This ticket is closed. Internal notes are still possible.';
      const reached = ticket && mode === 'reply' && !closed ? delivery(ticket) : null;
      reach.hidden = !reached;
      if (reached) {
        reach.className = `delivery-hint reach-${reached.kind}`;
        reach.dataset.reachedBy = reached.kind;
        replace(reach.firstChild, icon(reached.kind === 'widget' ? 'chat' : reached.kind === 'email' ? 'mail' : 'alert', 14));
        if (reachText.textContent !== reached.text) reachText.textContent = reached.text;
        textarea.setAttribute('aria-describedby', reachText.id);
      } else {
        textarea.removeAttribute('aria-describedby');
      }
    }
    return { el: form, sync };
  }

  offs.push(on('agents', () => { if (ticket) { paintSide(); paintThread(); } }));
  load();
  return {
    destroy() {
      destroyed = true;
      unsubscribe?.();
      offs.forEach((off) => off());
    },
  };
}

