// Settings › Delivery failures: the dead-letter queue of everything that leaves the server
// (webhook deliveries and emails) after its last retry failed. GET /api/v1/admin/outbox?status=dead,
// keyset paged; each item can be sent again (POST …/{id}/retry, back to pending) or discarded
// (DELETE …/{id}). Summaries and errors are untrusted text, shown with textContent.

import { api, qs, missingRoute } from './api.js';
import { h, icon, replace, fmt, toast, confirmDialog, empty, spinner } from './dom.js';
import { sectionHead } from './views-settings.js';

const BASE = '/api/v1/admin/outbox';
const KINDS = { webhook: ['Webhook', 'webhook'], email: ['Email', 'mail'] };

export function outboxSection(page) {
  const holder = h('div', { class: 'panel' }, spinner());
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'btn small', text: 'Load more' });
  const pager = h('div', { class: 'pager', hidden: true }, more);
  const refresh = h('button', { type: 'button', class: 'btn', onclick: () => load() }, icon('refresh', 14), 'Refresh');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'data outbox' },
    h('caption', { class: 'sr-only', text: 'Deliveries that failed every retry' }),
    h('thead', {}, h('tr', {}, [['Kind'], ['What'], ['Attempts', 'num'], ['Failed'], ['']].map(([x, cls]) => h('th', { scope: 'col', class: cls || null, text: x })))),
    tbody));
  page.append(
    sectionHead('Delivery failures', 'Webhook deliveries and emails that failed every retry. Send them again once the receiver is fixed, or discard them.', refresh),
    holder);

  let items = [];
  let cursor = null;

  async function load() {
    refresh.disabled = true;
    try {
      const result = await api.get(`${BASE}${qs({ status: 'dead', limit: 50 })}`);
      items = result.data || [];
      cursor = result.nextCursor || null;
      paint();
    } catch (e) {
      replace(holder, missingRoute(e) ? empty('This Parley server does not list failed deliveries yet', 'Update it to see them here.')
        : empty('The failed deliveries could not be loaded', e.message));
    } finally { refresh.disabled = false; }
  }

  function paint() {
    pager.hidden = !cursor;
    if (!items.length && !cursor) {
      replace(holder, h('div', { class: 'empty all-clear' },
        h('span', { class: 'empty-icon ok', 'aria-hidden': 'true' }, icon('check', 22)),
        h('p', { class: 'empty-title', text: 'Nothing has failed' }),
        h('p', { class: 'empty-text', text: 'Every webhook delivery and email went out. Those that still fail after all their retries will wait here.' })));
      return;
    }
    replace(tbody, items.map(row));
    replace(holder, table, pager);
  }

  function row(item) {
    const [kindLabel, kindIcon] = KINDS[item.kind] || [item.kind, 'file'];
    const retry = h('button', { type: 'button', class: 'btn small', 'aria-label': `Retry ${item.summary}` }, icon('restore', 13), 'Retry');
    const discard = h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Discard ${item.summary}` }, icon('trash', 13), 'Discard');
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      try {
        await api.post(`${BASE}/${encodeURIComponent(item.id)}/retry`, {});
        drop(item);
        toast('Queued to be sent again', 'success');
      } catch (e) { toast(e.message, 'error'); retry.disabled = false; }
    });
    discard.addEventListener('click', async () => {
      if (!await confirmDialog(`“${item.summary}” will not be sent. This cannot be undone.`, { title: 'Discard this delivery?', confirm: 'Discard', danger: true })) return;
      try {
        await api.del(`${BASE}/${encodeURIComponent(item.id)}`);
        drop(item);
        toast('Discarded', 'success');
      } catch (e) { toast(e.message, 'error'); }
    });
    return h('tr', { 'data-item': item.id },
      h('td', {}, h('span', { class: `kind kind-${item.kind}` }, icon(kindIcon, 14), h('span', { text: kindLabel }))),
      h('td', { class: 'outbox-what' }, h('div', { class: 'cell-main' },
        h('span', { class: 'cell-title', title: item.summary, text: item.summary }),
        item.error ? h('span', { class: 'cell-error', title: item.error, text: item.error }) : null)),
      h('td', { class: 'num', text: String(item.attempts ?? 0) }),
      h('td', {}, h('time', { datetime: item.updatedAt, title: `First tried ${fmt.full(item.createdAt)}`, text: fmt.full(item.updatedAt) })),
      h('td', {}, h('div', { class: 'row-actions' }, retry, discard)));
  }

  function drop(item) {
    items = items.filter((x) => x.id !== item.id);
    paint();
    if (!items.length && cursor) loadMore();
  }

  async function loadMore() {
    more.disabled = true;
    try {
      const result = await api.get(`${BASE}${qs({ status: 'dead', limit: 50, cursor })}`);
      const ids = new Set(items.map((x) => x.id));
      items = items.concat((result.data || []).filter((x) => !ids.has(x.id)));
      cursor = result.nextCursor || null;
      paint();
    } catch (e) { toast(e.message, 'error'); } finally { more.disabled = false; }
  }
  more.addEventListener('click', loadMore);

  load();
}
