// The bell in the top bar: the signed-in agent's notifications (GET /api/v1/admin/notifications)
// with the unread count, kept live by `notification.created` on the inbox channel (every agent's
// notifications go there, so only our own are taken), marked read one by one or all at once.

import { api } from './api.js';
import { h, icon, replace, fmt, toast, empty, spinner } from './dom.js';
import { state, on, myId } from './state.js';

const KIND = {
  assignment: { icon: 'user', label: 'Assigned to you' },
  customer_reply: { icon: 'chat', label: 'Customer reply' },
  sla_warning: { icon: 'clock', label: 'SLA warning' },
  sla_breach: { icon: 'alert', label: 'SLA breached' },
  handoff: { icon: 'users', label: 'Handoff' },
};

/** Draws the bell into `container`; returns the function that takes its listeners away. */
export function mountBell(container) {
  let items = [];
  let unread = 0;
  let open = false;
  const count = h('span', { class: 'bell-count', hidden: true, 'aria-hidden': 'true' });
  const button = h('button', { type: 'button', class: 'icon-btn bell', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': 'notif-panel' }, icon('bell', 18), count);
  const list = h('ul', { class: 'notif-list', role: 'list' });
  const markAll = h('button', { type: 'button', class: 'btn link small', text: 'Mark all as read', onclick: readAll });
  const panel = h('div', { class: 'notif-panel', id: 'notif-panel', role: 'dialog', 'aria-label': 'Notifications', hidden: true },
    h('div', { class: 'notif-head' }, h('h2', { text: 'Notifications' }), markAll),
    list);
  container.append(h('div', { class: 'bell-wrap' }, button, panel));

  function paintCount() {
    count.hidden = unread === 0;
    count.textContent = unread > 99 ? '99+' : String(unread);
    button.setAttribute('aria-label', unread ? `Notifications, ${unread} unread` : 'Notifications');
    markAll.disabled = unread === 0;
  }

  function target(n) {
    if (n.ticketId) return `#/tickets/${n.ticketId}`;
    if (n.sessionId) return `#/chats/${n.sessionId}`;
    return null;
  }

  function paint() {
    paintCount();
    if (!items.length) { replace(list, h('li', {}, empty('You are all caught up', 'Assignments, customer replies, SLA alerts and handoffs appear here.'))); return; }
    replace(list, items.map((n) => {
      const kind = KIND[n.kind] || { icon: 'bell', label: fmt.label(n.kind) };
      const href = target(n);
      const body = [
        h('span', { class: `notif-icon kind-${n.kind}` }, icon(kind.icon, 16)),
        h('span', { class: 'notif-text' },
          h('span', { class: 'notif-title', text: n.title }),
          h('span', { class: 'notif-meta', text: `${kind.label} · ${fmt.ago(n.createdAt)}` })),
        n.readAt ? null : h('span', { class: 'unread-dot', title: 'Unread' }, h('span', { class: 'sr-only', text: 'Unread' })),
      ];
      const el = href
        ? h('a', { href, class: 'notif-item', onclick: () => { readOne(n); close(); } }, body)
        : h('button', { type: 'button', class: 'notif-item', onclick: () => readOne(n) }, body);
      return h('li', { class: n.readAt ? 'read' : 'unread' }, el);
    }));
  }

  async function load() {
    try {
      const page = await api.get('/api/v1/admin/notifications?limit=30');
      items = page.data || [];
      unread = page.unread ?? items.filter((n) => !n.readAt).length;
      paint();
    } catch { /* keep what we have */ }
  }

  async function readOne(n) {
    if (n.readAt) return;
    n.readAt = new Date().toISOString();
    unread = Math.max(0, unread - 1);
    paint();
    try {
      const result = await api.post('/api/v1/admin/notifications/read', { ids: [n.id] });
      if (typeof result?.unread === 'number') { unread = result.unread; paintCount(); }
    } catch (e) { toast(e.message, 'error'); }
  }

  async function readAll() {
    try {
      await api.post('/api/v1/admin/notifications/read', {});
      const now = new Date().toISOString();
      items.forEach((n) => { n.readAt = n.readAt || now; });
      unread = 0;
      paint();
    } catch (e) { toast(e.message, 'error'); }
  }

  function onOutside(event) {
    if (!panel.contains(event.target) && !button.contains(event.target)) close();
  }
  function onKey(event) {
    if (event.key === 'Escape') { close(); button.focus(); }
  }
  function toggle() { if (open) close(); else show(); }
  function show() {
    open = true;
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    replace(list, h('li', {}, spinner()));
    load().then(() => (panel.querySelector('a, button:not([disabled])') || panel).focus?.());
    document.addEventListener('mousedown', onOutside);
    document.addEventListener('keydown', onKey);
  }
  function close() {
    open = false;
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('mousedown', onOutside);
    document.removeEventListener('keydown', onKey);
  }
  button.addEventListener('click', toggle);

  const off = on('inbox', (event) => {
    if (event.type === 'subscribed' && event.resumed) { load(); return; }
    if (event.type !== 'event' || event.name !== 'notification.created') return;
    const n = event.data;
    if (n.agentId && n.agentId !== myId()) return;
    if (items.some((x) => x.id === n.id)) return;
    items.unshift({ id: n.id, kind: n.kind, title: n.title, ticketId: n.ticketId, sessionId: n.sessionId, createdAt: n.createdAt, readAt: null });
    unread += 1;
    paint();
    // The agent's own preferences decide what pops up (the server decides what is stored).
    const prefs = state.prefs?.notifications;
    if (!prefs || prefs[n.kind] !== false) toast(n.title, 'info');
  });
  load();
  return () => { off(); close(); };
}
