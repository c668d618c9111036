// Settings › Webhooks: the organization's endpoints (GET/POST/PATCH/DELETE /api/v1/admin/webhooks),
// their signing secret (shown once, after creation and after a roll), a test event, and each
// endpoint's delivery log (keyset paged, with a retry for deliveries that are not through yet).
//
// URLs, descriptions, errors and response excerpts are untrusted text: they reach the page as
// textContent and input values only.

import { api, qs, missingRoute, APIError } from './api.js';
import { h, icon, replace, fmt, badge, toast, openDialog, confirmDialog, field, checkbox, copyText, empty, spinner, uid, withError } from './dom.js';
import { sectionHead, panel } from './views-settings.js';

const BASE = '/api/v1/admin/webhooks';
const PAGE = 20;
const POLL_MS = 2500;

/** What each event means, for the checkboxes (types the server adds later show their name only). */
const EVENT_TEXT = {
  'conversation.created': 'A visitor starts a conversation',
  'message.created': 'A message is posted in a conversation',
  'conversation.escalated': 'A conversation is handed over to the team',
  'conversation.closed': 'A conversation is closed',
  'ticket.created': 'A ticket is opened',
  'ticket.updated': 'A ticket changes status, priority or assignee',
  'ticket.replied': 'Someone replies on a ticket',
  'ticket.rated': 'A customer rates a ticket',
  'feedback.created': 'A visitor rates an AI answer',
};

const STATUS = {
  delivered: ['Delivered', 'ok'],
  pending: ['Pending', 'warn'],
  dead: ['Failed', 'danger'],
};

export function webhooksSection(page) {
  const list = h('div', { class: 'stack' }, spinner());
  const addButton = h('button', { type: 'button', class: 'btn primary', onclick: () => edit(null) }, icon('plus', 14), 'Add endpoint');
  page.append(
    sectionHead('Webhooks', 'Parley POSTs events to your endpoints as they happen, signed, at least once.', addButton),
    list,
    signatureHelp());

  let eventTypes = Object.keys(EVENT_TEXT);
  let endpoints = [];
  const logs = new Map(); // endpoint id -> delivery log (kept across repaints)
  let alive = true;

  async function load() {
    try {
      const result = await api.get(BASE);
      endpoints = result.data || [];
      if (Array.isArray(result.eventTypes) && result.eventTypes.length) eventTypes = result.eventTypes;
      paint();
    } catch (e) {
      addButton.disabled = missingRoute(e);
      replace(list, missingRoute(e) ? empty('This Parley server has no webhooks yet', 'Update it to send events to other systems.')
        : empty('The webhooks could not be loaded', e.message));
    }
  }

  function paint() {
    for (const id of [...logs.keys()]) if (!endpoints.some((x) => x.id === id)) { logs.get(id).stop(); logs.delete(id); }
    if (!endpoints.length) {
      replace(list, h('div', { class: 'panel' }, empty('No endpoints yet', 'Add the URL of a service that should hear about new conversations, tickets and ratings.',
        h('button', { type: 'button', class: 'btn', onclick: () => edit(null) }, icon('plus', 14), 'Add endpoint'))));
      return;
    }
    replace(list, endpoints.map((x) => endpointCard(x)));
  }

  function endpointCard(x) {
    if (!logs.has(x.id)) logs.set(x.id, deliveryLog(x.id, () => alive));
    const log = logs.get(x.id);
    if (!log.el.id) log.el.id = uid('log');
    const toggle = h('button', { type: 'button', class: 'btn small log-toggle', 'aria-expanded': String(log.isOpen()), 'aria-controls': log.el.id, 'aria-label': `Deliveries of ${x.url}` },
      icon('clock', 13), 'Deliveries');
    toggle.addEventListener('click', () => {
      log.setOpen(!log.isOpen());
      toggle.setAttribute('aria-expanded', String(log.isOpen()));
    });
    const test = h('button', { type: 'button', class: 'btn small', 'aria-label': `Send test event to ${x.url}` }, icon('send', 13), 'Send test event');
    test.addEventListener('click', async () => {
      test.disabled = true;
      try {
        const delivery = await api.post(`${BASE}/${x.id}/test`, {});
        toast('Test event queued', 'success');
        log.add(delivery);
        if (!log.isOpen()) toggle.click();
      } catch (e) { toast(e.message, 'error'); } finally { test.disabled = false; }
    });
    return h('section', { class: 'panel endpoint', 'data-endpoint': x.id, 'aria-label': `Endpoint ${x.url}` },
      h('div', { class: 'panel-head endpoint-head' },
        h('div', { class: 'endpoint-id' },
          h('div', { class: 'endpoint-title' }, icon('webhook', 15), h('span', { class: 'endpoint-url mono', text: x.url }),
            x.active ? badge('Active', 'ok') : badge('Paused', 'muted')),
          x.description ? h('p', { class: 'hint endpoint-desc', text: x.description }) : null),
        h('div', { class: 'row-actions endpoint-actions' },
          h('button', { type: 'button', class: 'btn small', onclick: () => edit(x), 'aria-label': `Edit ${x.url}` }, icon('edit', 13), 'Edit'),
          test,
          h('button', { type: 'button', class: 'btn small', onclick: () => roll(x), 'aria-label': `Roll secret of ${x.url}` }, icon('refresh', 13), 'Roll secret'),
          h('button', { type: 'button', class: 'btn small danger', onclick: () => remove(x), 'aria-label': `Delete ${x.url}` }, icon('trash', 13)))),
      h('div', { class: 'endpoint-body' },
        h('div', { class: 'tags', 'aria-label': 'Events' }, (x.events || []).map((e) => h('span', { class: 'tag mono', text: e }))),
        h('div', { class: 'endpoint-foot' },
          h('span', { class: 'hint', text: `Added ${fmt.full(x.createdAt)}${x.updatedAt && x.updatedAt !== x.createdAt ? ` · changed ${fmt.full(x.updatedAt)}` : ''}` }),
          toggle)),
      log.el);
  }

  async function edit(x) {
    const url = h('input', { type: 'url', value: x?.url || '', required: true, placeholder: 'https://example.com/parley-webhook', autocomplete: 'off', spellcheck: 'false' });
    const description = h('input', { type: 'text', value: x?.description || '', maxlength: 200, placeholder: 'CRM sync' });
    const active = checkbox('Active: send events to this endpoint', x ? x.active : true);
    const chosen = new Set(x ? x.events || [] : eventTypes);
    const boxes = eventTypes.map((type) => {
      const c = checkbox(type, chosen.has(type), { value: type });
      c.wrap.classList.add('event-check');
      c.wrap.lastChild.classList.add('mono');
      if (EVENT_TEXT[type]) c.wrap.append(h('span', { class: 'hint', text: EVENT_TEXT[type] }));
      return c;
    });
    const setAll = (on) => boxes.forEach((b) => { b.input.checked = on; });
    const urlField = withError(field('URL', url, 'Where Parley POSTs the events: http or https, reachable from the server.'), url);
    const descField = withError(field('Description', description, 'Optional: what listens there.'), description);
    const eventsId = uid('events');
    const eventsSet = h('fieldset', { class: 'events-field', 'aria-describedby': `${eventsId}-error` },
      h('legend', { class: 'field-label', text: 'Events' }),
      h('div', { class: 'events-tools' },
        h('button', { type: 'button', class: 'btn link small', text: 'Select all', onclick: () => setAll(true) }),
        h('button', { type: 'button', class: 'btn link small', text: 'Select none', onclick: () => setAll(false) })),
      h('div', { class: 'events-grid' }, boxes.map((b) => b.wrap)));
    const eventsField = withError(eventsSet, eventsSet, `${eventsId}-error`);
    const errors = { url: urlField, events: eventsField, description: descField };
    let saved = null;
    const ok = await openDialog({
      title: x ? 'Edit endpoint' : 'Add an endpoint',
      wide: true,
      body: [urlField.el, descField.el, eventsField.el, active.wrap],
      actions: [{ label: 'Cancel', value: null }, { label: x ? 'Save' : 'Add endpoint', kind: 'primary', value: 'ok', submit: true }],
      async onSubmit() {
        Object.values(errors).forEach((f) => f.clear());
        const events = boxes.filter((b) => b.input.checked).map((b) => b.input.value);
        const target = url.value.trim();
        if (!/^https?:\/\/\S+$/i.test(target)) { urlField.set('Enter an http:// or https:// URL.'); return false; }
        if (!events.length) { eventsField.set('Choose at least one event.'); return false; }
        const body = { url: target, events, description: description.value.trim() || null, active: active.input.checked };
        try {
          saved = x ? await api.patch(`${BASE}/${x.id}`, body) : await api.post(BASE, body);
        } catch (e) {
          const name = e instanceof APIError && e.status === 422 ? fieldOf(e, Object.keys(errors)) : null;
          if (!name) throw e;
          errors[name].set(withoutField(e.message, name));
          return false;
        }
        return true;
      },
    });
    if (!ok || !saved) return;
    toast(x ? 'Endpoint saved' : 'Endpoint added', 'success');
    await load();
    if (!x && saved.secret) await showSecret(saved.secret, 'Your endpoint\'s signing secret');
  }

  async function roll(x) {
    if (!await confirmDialog(`Deliveries to ${x.url} are signed with the new secret from now on; the old one stops verifying. Update the receiver right after.`,
      { title: 'Roll the signing secret?', confirm: 'Roll secret', danger: true })) return;
    try {
      const updated = await api.post(`${BASE}/${x.id}/secret`, {});
      endpoints = endpoints.map((e) => (e.id === x.id ? { ...e, ...withoutSecret(updated) } : e));
      paint();
      await showSecret(updated.secret, 'The new signing secret');
    } catch (e) { toast(e.message, 'error'); }
  }

  async function remove(x) {
    if (!await confirmDialog(`${x.url} gets no more events, and its delivery log is deleted.`, { title: 'Delete this endpoint?', confirm: 'Delete', danger: true })) return;
    try {
      await api.del(`${BASE}/${x.id}`);
      toast('Endpoint deleted', 'success');
      await load();
    } catch (e) { toast(e.message, 'error'); }
  }

  load();
  return () => {
    alive = false;
    logs.forEach((log) => log.stop());
  };
}

function withoutSecret(endpoint) {
  const copy = { ...endpoint };
  delete copy.secret;
  return copy;
}

// MARK: - The secret, once

function showSecret(secret, title) {
  const input = h('input', { type: 'text', readOnly: true, value: secret, class: 'mono secret-value', 'aria-label': 'Signing secret', spellcheck: 'false' });
  return openDialog({
    title,
    className: 'secret-dialog',
    body: [h('p', { class: 'callout' }, icon('alert', 16), h('span', { text: 'Copy it now: it won\'t be shown again. Your receiver needs it to check that deliveries come from Parley.' })),
      h('div', { class: 'secret-box' }, input, h('button', { type: 'button', class: 'btn', onclick: () => copyText(secret, input), 'aria-label': 'Copy the signing secret' }, icon('copy', 13), 'Copy'))],
    actions: [{ label: 'Done', kind: 'primary', value: 'done' }],
  });
}

// MARK: - Errors next to their field

/** Which of `names` a 422 is about: the message names it ("url: … private address"). */
function fieldOf(error, names) {
  if (error.field && names.includes(error.field)) return error.field;
  const lead = /^\s*([A-Za-z]+)/.exec(error.message || '');
  if (lead && names.includes(lead[1])) return lead[1];
  return names.find((n) => new RegExp(`\\b${n}\\b`, 'i').test(error.message || '')) || null;
}

/** "url: The address is private." -> "The address is private." */
function withoutField(message, name) {
  const text = String(message || '').replace(new RegExp(`^\\s*${name}\\s*[:\\-–]\\s*`, 'i'), '');
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : String(message);
}

// MARK: - The delivery log of one endpoint

function deliveryLog(endpointId, isAlive) {
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'btn small', text: 'Load more' });
  const pager = h('div', { class: 'pager', hidden: true }, more);
  const refresh = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Refresh the delivery log' }, icon('refresh', 13), 'Refresh');
  const note = h('span', { class: 'hint', 'aria-live': 'polite' });
  const table = h('table', { class: 'data deliveries' },
    h('caption', { class: 'sr-only', text: 'Deliveries, newest first' }),
    h('thead', {}, h('tr', {}, ['Status', 'Event', 'Attempts', 'HTTP', 'Latency', 'Time', ''].map((x, i) => h('th', { scope: 'col', class: i >= 2 && i <= 4 ? 'num' : null, text: x })))),
    tbody);
  const body = h('div', { class: 'log-body' }, spinner());
  const el = h('div', { class: 'delivery-log', hidden: true },
    h('div', { class: 'log-head' }, h('h4', { text: 'Delivery log' }), note, refresh), body, pager);
  let open = false;
  let loaded = false;
  let items = [];
  let cursor = null;
  const expanded = new Set();
  let timer = null;

  async function fetchPage(after) {
    return api.get(`${BASE}/${endpointId}/deliveries${qs({ cursor: after, limit: PAGE })}`);
  }

  async function load() {
    try {
      const result = await fetchPage(null);
      items = result.data || [];
      cursor = result.nextCursor || null;
      loaded = true;
      paint();
    } catch (e) { replace(body, empty('The deliveries could not be loaded', e.message)); }
  }

  /** Reloads the newest page and merges it in (older pages already loaded stay). */
  async function refreshNewest() {
    try {
      const result = await fetchPage(null);
      const fresh = result.data || [];
      const ids = new Set(fresh.map((d) => d.id));
      const older = items.filter((d) => !ids.has(d.id));
      if (!older.length) cursor = result.nextCursor || null;
      items = fresh.concat(older);
      paint();
    } catch { schedule(); /* the next tick tries again */ }
  }

  function paint() {
    schedule();
    pager.hidden = !cursor;
    if (!items.length) {
      replace(body, empty('No deliveries yet', 'Send a test event to see one here.'));
      return;
    }
    replace(tbody, items.map(rows));
    if (body.firstChild !== table) replace(body, h('div', { class: 'table-wrap' }, table));
    const pending = items.filter((d) => d.status === 'pending').length;
    note.textContent = pending ? `${pending} pending: refreshing` : '';
  }

  function rows(d) {
    const [label, kind] = STATUS[d.status] || [fmt.label(d.status), ''];
    const detailId = `delivery-${d.id}`;
    const isOpen = expanded.has(d.id);
    const details = h('button', { type: 'button', class: 'icon-btn small-icon', 'aria-expanded': String(isOpen), 'aria-controls': detailId, 'aria-label': `Details of delivery ${d.id}`, title: 'Details' }, icon(isOpen ? 'back' : 'eye', 14));
    details.addEventListener('click', () => { if (expanded.has(d.id)) expanded.delete(d.id); else expanded.add(d.id); paint(); });
    const retry = d.status !== 'delivered'
      ? h('button', { type: 'button', class: 'btn small', 'aria-label': `Retry delivery ${d.id}` }, icon('restore', 13), 'Retry') : null;
    retry?.addEventListener('click', async () => {
      retry.disabled = true;
      try {
        const updated = await api.post(`${BASE}/${endpointId}/deliveries/${encodeURIComponent(d.id)}/retry`, {});
        items = items.map((x) => (x.id === d.id ? updated : x));
        toast('Delivery queued again', 'success');
        paint();
      } catch (e) { toast(e.message, 'error'); retry.disabled = false; }
    });
    const when = d.deliveredAt || d.lastAttemptAt || d.createdAt;
    const row = h('tr', { 'data-delivery': d.id, 'data-status': d.status },
      h('td', {}, badge(label, kind)),
      h('td', {}, h('span', { class: 'mono', text: d.eventType })),
      h('td', { class: 'num', text: String(d.attempts ?? 0) }),
      h('td', { class: 'num' }, d.responseStatus === null || d.responseStatus === undefined ? h('span', { class: 'muted', text: '—' })
        : h('span', { class: `http ${d.responseStatus >= 200 && d.responseStatus < 300 ? 'ok' : 'bad'}`, text: String(d.responseStatus) })),
      h('td', { class: 'num', text: d.latencyMs === null || d.latencyMs === undefined ? '—' : `${d.latencyMs} ms` }),
      h('td', {}, h('time', { datetime: when, text: fmt.full(when) })),
      h('td', {}, h('div', { class: 'row-actions' }, retry, details)));
    if (!isOpen) return row;
    const facts = [
      ['Delivery id', d.id],
      ['Created', fmt.full(d.createdAt)],
      d.lastAttemptAt ? ['Last attempt', fmt.full(d.lastAttemptAt)] : null,
      d.nextAttemptAt && d.status === 'pending' ? ['Next attempt', fmt.full(d.nextAttemptAt)] : null,
      d.deliveredAt ? ['Delivered', fmt.full(d.deliveredAt)] : null,
    ].filter(Boolean);
    const detail = h('tr', { class: 'delivery-detail', id: detailId },
      h('td', { colspan: 7 }, h('div', { class: 'detail-grid' },
        h('dl', { class: 'props' }, facts.map(([k, v]) => [h('dt', { text: k }), h('dd', { class: k === 'Delivery id' ? 'mono' : null, text: v })])),
        h('div', { class: 'stack tight' },
          d.error ? [h('span', { class: 'field-label', text: 'Error' }), h('pre', { class: 'excerpt error', text: d.error })] : null,
          d.responseExcerpt ? [h('span', { class: 'field-label', text: 'Response' }), h('pre', { class: 'excerpt', text: d.responseExcerpt })] : null,
          !d.error && !d.responseExcerpt ? h('p', { class: 'muted', text: d.status === 'pending' && !d.attempts ? 'Not sent yet.' : 'The receiver said nothing.' }) : null))));
    return [row, detail];
  }

  /** While a shown delivery is pending, the newest page is reloaded every few seconds. */
  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!open || !isAlive() || !items.some((d) => d.status === 'pending')) return;
    timer = setTimeout(() => { if (open && isAlive()) refreshNewest(); }, POLL_MS);
  }

  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const result = await fetchPage(cursor);
      const ids = new Set(items.map((d) => d.id));
      items = items.concat((result.data || []).filter((d) => !ids.has(d.id)));
      cursor = result.nextCursor || null;
      paint();
    } catch (e) { toast(e.message, 'error'); } finally { more.disabled = false; }
  });
  refresh.addEventListener('click', () => refreshNewest());

  return {
    el,
    isOpen: () => open,
    setOpen(value) {
      open = value;
      el.hidden = !open;
      if (open && !loaded) load(); else schedule();
    },
    /** A delivery made here (the test event): shown at once, at the top. */
    add(delivery) {
      if (!delivery || !delivery.id) return;
      items = [delivery].concat(items.filter((d) => d.id !== delivery.id));
      if (loaded) paint();
    },
    stop() { clearTimeout(timer); timer = null; open = false; },
  };
}

// MARK: - How to verify a delivery

function signatureHelp() {
  const code = [
    'signed  = webhook-id + "." + webhook-timestamp + "." + raw body',
    'key     = base64-decode(secret without its "whsec_" prefix)',
    'expect  = "v1," + base64(HMAC-SHA256(key, signed))',
  ].join('\n');
  return panel('Verifying a delivery', 'Every request carries three headers, as in the Standard Webhooks specification.',
    h('dl', { class: 'props headers' },
      h('dt', { class: 'mono', text: 'webhook-id' }), h('dd', { text: 'The delivery\'s id (msg_…). Retries keep it: use it to ignore a delivery you have already handled.' }),
      h('dt', { class: 'mono', text: 'webhook-timestamp' }), h('dd', { text: 'When it was sent, in seconds since 1970. Refuse ones much older than five minutes.' }),
      h('dt', { class: 'mono', text: 'webhook-signature' }), h('dd', { text: 'One or more space-separated "v1,<signature>"; accept the request when one of them matches yours.' })),
    h('pre', { class: 'code', text: code }),
    h('p', { class: 'hint', text: 'Compute it over the body exactly as received (before parsing the JSON), and compare in constant time. Answer with a 2xx within a few seconds; anything else is retried with backoff, then listed under Delivery failures.' }));
}
