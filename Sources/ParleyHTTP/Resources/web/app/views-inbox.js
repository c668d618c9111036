// The inbox: folders (Active, Unassigned, Mine, Resolved, Archived, Live visitors), the list of
// conversations by last activity, and the open conversation (views-chat.js).
//
// The list is loaded over REST (GET /api/v1/admin/chats with the folder's query, keyset paged)
// and kept live from the inbox channel: `message.created` moves a conversation to the top with its
// new preview and unread mark, `session.updated` changes its state (and drops it when it leaves
// the folder), `session.created` reloads. Live visitors come from GET /api/v1/admin/visitors/live
// and `visitor.online` / `visitor.offline`.

import { api, qs } from './api.js';
import { h, icon, replace, fmt, avatar, badge, debounce, empty, spinner, select, checkbox } from './dom.js';
import { on, can, myId, agentName, visitorName } from './state.js';
import { openChat, startChatWith, STATUS } from './views-chat.js';

const OPEN = 'ai_active,agent_active,escalated';
const FOLDERS = [
  { id: 'active', label: 'Active', icon: 'inbox', query: { status: OPEN } },
  { id: 'unassigned', label: 'Unassigned', icon: 'users', query: { status: OPEN, assigned: 'unassigned' } },
  { id: 'mine', label: 'Mine', icon: 'user', query: { status: OPEN, assigned: 'me' } },
  { id: 'resolved', label: 'Resolved', icon: 'check', query: { status: 'closed' } },
  { id: 'archived', label: 'Archived', icon: 'archive', query: { archived: 'true' } },
];

/** Whether a conversation belongs in a folder (for live updates without a reload). */
function inFolder(folder, s) {
  const open = s.status !== 'closed';
  switch (folder) {
    case 'active': return !s.archivedAt && open;
    case 'unassigned': return !s.archivedAt && open && !s.assignedAgentId;
    case 'mine': return !s.archivedAt && open && s.assignedAgentId === myId();
    case 'resolved': return !s.archivedAt && !open;
    case 'archived': return !!s.archivedAt;
    default: return false;
  }
}

/** "example.com/pricing" for a visitor's page (the full address is in the tooltip). */
function pageLabel(url) {
  if (!url) return 'Page unknown';
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return url;
  }
}

export function mount(container, params) {
  let folder = sessionStorage.getItem('parley.folder') || 'active';
  let rows = [];           // [{session, visitor}]
  let cursor = null;
  let visitors = [];
  let chatId = null;
  let chat = null;
  let loading = 0;
  const filters = { from: '', to: '', feedback: '', escalated: false };
  const offs = [];

  // MARK: Layout

  const folderLinks = {};
  const folderCounts = {};
  const folderList = h('ul', { class: 'folder-list' }, FOLDERS.map((f) => {
    folderCounts[f.id] = h('span', { class: 'folder-count' });
    folderLinks[f.id] = h('a', { href: `#/inbox/${f.id}`, class: 'folder' }, icon(f.icon, 15), h('span', { class: 'folder-label', text: f.label }), folderCounts[f.id]);
    return h('li', {}, folderLinks[f.id]);
  }));
  folderCounts.live = h('span', { class: 'folder-count live-count' });
  folderLinks.live = h('a', { href: '#/inbox/live', class: 'folder' }, h('span', { class: 'pulse', 'aria-hidden': 'true' }), h('span', { class: 'folder-label', text: 'Live visitors' }), folderCounts.live);
  const folders = h('nav', { class: 'folders', 'aria-label': 'Inbox folders' },
    h('h2', { class: 'folders-title', text: 'Inbox' }), folderList,
    h('ul', { class: 'folder-list sep' }, h('li', {}, folderLinks.live)));

  const listTitle = h('h2', { id: 'list-title', class: 'list-title' });
  const filterToggle = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Filters', title: 'Filters', 'aria-expanded': 'false', 'aria-controls': 'inbox-filters' }, icon('filter', 16));
  // Admins export the folder as filtered here (CSV, streamed by the server; kept in step by loadList).
  const exportLink = can('manageSettings') ? h('a', { class: 'btn link small', download: 'conversations.csv', href: '/api/v1/admin/export/conversations?format=csv', text: 'Export CSV' }) : null;

  const filterBox = buildFilters();
  const listEl = h('ul', { class: 'rows', role: 'list', 'aria-labelledby': 'list-title' });
  const more = h('button', { type: 'button', class: 'btn small block', text: 'Load more', hidden: true, onclick: () => loadList(true) });
  const listLive = h('div', { class: 'sr-only', 'aria-live': 'polite' });
  const list = h('section', { class: 'conv-list', 'aria-labelledby': 'list-title' },
    h('header', { class: 'list-head' }, listTitle, filterToggle), filterBox, h('div', { class: 'rows-scroll' }, listEl, more), listLive);
  const pane = h('div', { class: 'conv-pane' });
  const root = h('div', { class: 'inbox' }, folders, list, pane);
  container.appendChild(root);

  filterToggle.addEventListener('click', () => {
    filterBox.hidden = !filterBox.hidden;
    filterToggle.setAttribute('aria-expanded', String(!filterBox.hidden));
  });

  function buildFilters() {
    const from = h('input', { type: 'date', 'aria-label': 'Active from' });
    const to = h('input', { type: 'date', 'aria-label': 'Active until' });
    const feedback = select([['', 'Any rating'], ['up', 'Thumbs up'], ['down', 'Thumbs down']], '', { 'aria-label': 'Visitor feedback on the AI' });
    const esc = checkbox('Escalated only', false);
    const clear = h('button', { type: 'button', class: 'btn link small', text: 'Clear' });
    const apply = () => {
      filters.from = from.value; filters.to = to.value; filters.feedback = feedback.value; filters.escalated = esc.input.checked;
      filterToggle.classList.toggle('on', !!(filters.from || filters.to || filters.feedback || filters.escalated));
      loadList(false);
    };
    [from, to, feedback, esc.input].forEach((el) => el.addEventListener('change', apply));
    clear.addEventListener('click', () => { from.value = ''; to.value = ''; feedback.value = ''; esc.input.checked = false; apply(); });
    return h('div', { class: 'filters', id: 'inbox-filters', hidden: true },
      h('div', { class: 'filter-row' }, h('label', { class: 'mini' }, h('span', { text: 'From' }), from), h('label', { class: 'mini' }, h('span', { text: 'To' }), to)),
      h('div', { class: 'filter-row' }, feedback, esc.wrap),
      h('div', { class: 'filter-actions' }, exportLink, clear));
  }

  // MARK: Loading

  function query(cursorValue) {
    const f = FOLDERS.find((x) => x.id === folder) || FOLDERS[0];
    const q = { ...f.query, limit: 50, cursor: cursorValue };
    if (filters.escalated) q.escalated = 'true';
    if (filters.from) q.from = filters.from;
    if (filters.feedback) q.feedback = filters.feedback; // the server keeps conversations rated so
    // The API's `to` is exclusive (a day's start); the picker's day is meant inclusive.
    if (filters.to) q.to = fmt.isoDay(new Date(new Date(`${filters.to}T00:00:00`).getTime() + 86400000));
    return q;
  }

  async function loadList(append) {
    if (folder === 'live') { loadVisitors(); return; }
    const mine = ++loading;
    if (exportLink) {
      const q = query(null);
      delete q.limit;
      delete q.cursor;
      exportLink.href = `/api/v1/admin/export/conversations${qs({ format: 'csv', ...q })}`;
    }
    if (!append) { cursor = null; replace(listEl, h('li', {}, spinner())); }
    try {
      const page = await api.get(`/api/v1/admin/chats${qs(query(append ? cursor : null))}`);
      if (mine !== loading) return;
      let data = page.data || [];
      rows = append ? rows.concat(data) : data;
      cursor = page.nextCursor;
      paintList();
    } catch (e) {
      if (mine === loading) replace(listEl, h('li', {}, empty('The conversations could not be loaded', e.message)));
    }
  }
  const reload = debounce(() => loadList(false), 300);

  async function loadVisitors() {
    try {
      const page = await api.get('/api/v1/admin/visitors/live');
      visitors = page.data || [];
    } catch { visitors = []; }
    paintCounts();
    if (folder === 'live') paintVisitors();
  }

  async function loadCounts() {
    try {
      const c = await api.get('/api/v1/admin/chats/counts');
      const set = (id, n) => { folderCounts[id].textContent = n ? String(n) : ''; };
      set('active', (c.ai_active || 0) + (c.agent_active || 0) + (c.escalated || 0));
      set('resolved', c.closed || 0);
      set('archived', c.archived || 0);
    } catch { /* counts stay */ }
  }
  const reloadCounts = debounce(loadCounts, 500);

  // MARK: Drawing

  function paintCounts() {
    folderCounts.live.textContent = visitors.length ? String(visitors.length) : '';
  }

  function selectFolderLink() {
    for (const [id, link] of Object.entries(folderLinks)) {
      if (id === folder) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    listTitle.textContent = folder === 'live' ? 'Live visitors' : (FOLDERS.find((f) => f.id === folder) || FOLDERS[0]).label;
    filterToggle.hidden = folder === 'live';
    if (folder === 'live') filterBox.hidden = true;
  }

  function preview(s) {
    const text = (s.lastMessagePreview || '').replace(/\s+/g, ' ').trim();
    let who = '';
    if (s.lastMessageRole === 'agent') who = s.lastAuthorId ? (s.lastAuthorId === myId() ? 'You: ' : `${agentName(s.lastAuthorId)}: `) : (s.assignedAgentId === myId() ? 'You: ' : 'Agent: ');
    else if (s.lastMessageRole === 'ai') who = 'AI: ';
    return { who, text: text || 'No messages yet' };
  }

  function rowElement(r) {
    const s = r.session;
    const st = STATUS[s.status] || { label: s.status, kind: '' };
    const p = preview(s);
    const selected = s.id === chatId;
    const name = visitorName(r.visitor);
    return h('li', { 'data-id': s.id },
      h('a', { href: `#/chats/${s.id}`, class: `row${s.unread && !selected ? ' unread' : ''}${selected ? ' selected' : ''}`, 'aria-current': selected ? 'true' : null },
        avatar(name, r.visitor?.id),
        h('span', { class: 'row-main' },
          h('span', { class: 'row-top' }, h('span', { class: 'row-name', text: name }),
            h('time', { class: 'row-time', datetime: s.lastMessageAt || s.createdAt, title: fmt.full(s.lastMessageAt || s.createdAt), text: fmt.ago(s.lastMessageAt || s.createdAt) })),
          h('span', { class: 'row-preview' }, p.who ? h('span', { class: 'row-who', text: p.who }) : null, h('span', { text: p.text })),
          h('span', { class: 'row-tags' }, badge(st.label, st.kind),
            s.assignedAgentId ? h('span', { class: 'row-assignee' }, icon('user', 11), h('span', { text: agentName(s.assignedAgentId) })) : null)),
        s.unread && !selected ? h('span', { class: 'unread-dot' }, h('span', { class: 'sr-only', text: 'Unread' })) : null));
  }

  function paintList() {
    if (folder === 'live') { paintVisitors(); return; }
    if (!rows.length) {
      replace(listEl, h('li', {}, empty(folder === 'mine' ? 'Nothing assigned to you' : 'No conversations here', 'New conversations appear here as they start.')));
    } else {
      replace(listEl, rows.map(rowElement));
    }
    more.hidden = !cursor;
  }

  function paintVisitors() {
    more.hidden = true;
    if (!visitors.length) { replace(listEl, h('li', {}, empty('No visitors online', 'Visitors with the widget open in the last two minutes appear here.'))); return; }
    replace(listEl, visitors.map((v) => h('li', { class: 'visitor-row' },
      avatar(visitorName(v), v.id),
      h('span', { class: 'row-main' },
        h('span', { class: 'row-top' }, h('span', { class: 'row-name', text: visitorName(v) }), h('span', { class: 'online-dot', title: 'Online' }, h('span', { class: 'sr-only', text: 'Online' }))),
        h('span', { class: 'row-preview', title: v.currentPage || '', text: pageLabel(v.currentPage) }),
        h('span', { class: 'row-tags' }, h('span', { class: 'muted', text: `Seen ${fmt.ago(v.lastSeenAt)}` }))),
      h('button', { type: 'button', class: 'btn small', onclick: () => startChatWith(v), 'aria-label': `Start a chat with ${visitorName(v)}` }, icon('chat', 14), 'Chat'))));
  }

  function paintPane() {
    if (chatId) return;
    chat?.destroy();
    chat = null;
    replace(pane, h('div', { class: 'pane-empty' }, empty('Pick a conversation', 'Select one on the left to read and answer it. New messages arrive live.'),
      h('p', { class: 'kbd-hint', text: 'Tip: type / in a reply to insert a canned response.' })));
  }

  // MARK: Live updates

  function upsert(session, visitor) {
    const i = rows.findIndex((r) => r.session.id === session.id);
    const row = i >= 0 ? rows[i] : { session, visitor };
    row.session = { ...row.session, ...session };
    if (visitor) row.visitor = visitor;
    if (i >= 0) rows.splice(i, 1);
    return row;
  }

  function byActivity(a, b) {
    return new Date(b.session.lastMessageAt || b.session.createdAt) - new Date(a.session.lastMessageAt || a.session.createdAt);
  }

  function onInbox(event) {
    if (event.type === 'subscribed') {
      if (event.resumed) { loadList(false); loadCounts(); loadVisitors(); }
      return;
    }
    if (event.type !== 'event') return;
    const d = event.data || {};
    const filtered = !!(filters.from || filters.to || filters.feedback || filters.escalated);
    switch (event.name) {
      case 'message.created': {
        if (d.metadata?.internal === 'true') return; // notes change no preview
        const i = rows.findIndex((r) => r.session.id === d.sessionId);
        if (i < 0) { if (folder !== 'live' && !filtered) reload(); return; }
        const row = upsert({
          id: d.sessionId, lastMessagePreview: d.body, lastMessageRole: d.role, lastMessageAt: d.createdAt,
          lastAuthorId: d.authorAgentId || null,
          unread: d.role === 'user' ? d.sessionId !== chatId || document.visibilityState !== 'visible' : rows[i].session.unread,
        });
        rows.unshift(row);
        rows.sort(byActivity);
        if (folder !== 'live') paintList();
        if (d.role === 'user' && d.sessionId !== chatId) listLive.textContent = `New message from ${visitorName(row.visitor)}`;
        break;
      }
      case 'session.created':
        if (folder !== 'live') reload();
        reloadCounts();
        break;
      case 'session.updated': {
        reloadCounts();
        if (folder === 'live') return;
        if (filtered) { reload(); return; }
        const i = rows.findIndex((r) => r.session.id === d.id);
        if (i < 0) { if (inFolder(folder, d)) reload(); return; }
        // The event is the whole state (null fields left out): replace, keeping what only we know.
        const merged = { ...d, lastAuthorId: d.lastAuthorId ?? rows[i].session.lastAuthorId };
        if (d.id === chatId) merged.unread = false;
        if (!inFolder(folder, merged)) rows.splice(i, 1);
        else rows[i] = { ...rows[i], session: merged };
        rows.sort(byActivity);
        paintList();
        break;
      }
      case 'visitor.online': {
        const v = { id: d.visitorId, name: d.name, email: d.email, currentPage: d.page, lastSeenAt: new Date().toISOString() };
        visitors = [v, ...visitors.filter((x) => x.id !== d.visitorId)];
        paintCounts();
        if (folder === 'live') paintVisitors();
        break;
      }
      case 'visitor.offline':
        visitors = visitors.filter((x) => x.id !== d.visitorId);
        paintCounts();
        if (folder === 'live') paintVisitors();
        break;
      default:
        break;
    }
  }
  offs.push(on('inbox', onInbox));
  offs.push(on('agents', () => paintList()));
  // Ages ("5m") move on by themselves; visitors who left without a word drop out of the live list.
  const ager = setInterval(() => { if (folder !== 'live') paintList(); loadVisitors(); }, 60000);

  /** The open conversation changed (read, assigned, closed…): mirror it in the list. */
  function onSession(s) {
    const i = rows.findIndex((r) => r.session.id === s.id);
    if (i < 0) return;
    const merged = { ...s, lastAuthorId: s.lastAuthorId ?? rows[i].session.lastAuthorId, unread: false };
    if (!inFolder(folder, merged)) rows.splice(i, 1);
    else rows[i] = { ...rows[i], session: merged };
    paintList();
  }

  // MARK: Routing

  function update(p) {
    const nextFolder = p.tab && (FOLDERS.some((f) => f.id === p.tab) || p.tab === 'live') ? p.tab : null;
    if (nextFolder && nextFolder !== folder) {
      folder = nextFolder;
      sessionStorage.setItem('parley.folder', folder);
      selectFolderLink();
      loadList(false);
    }
    if (p.chat !== chatId) {
      chat?.destroy();
      chat = null;
      chatId = p.chat;
      root.classList.toggle('has-chat', !!chatId);
      if (chatId) {
        chat = openChat(pane, chatId, { onSession });
        const row = rows.find((r) => r.session.id === chatId);
        if (row) row.session.unread = false;
      }
      paintList();
      paintPane();
    }
  }

  selectFolderLink();
  chatId = params.chat;
  if (params.tab && (FOLDERS.some((f) => f.id === params.tab) || params.tab === 'live')) {
    folder = params.tab;
    selectFolderLink();
  }
  root.classList.toggle('has-chat', !!chatId);
  if (chatId) chat = openChat(pane, chatId, { onSession });
  paintPane();
  loadList(false);
  loadCounts();
  loadVisitors();

  return {
    update,
    destroy() {
      chat?.destroy();
      offs.forEach((off) => off());
      clearInterval(ager);
    },
  };
}

