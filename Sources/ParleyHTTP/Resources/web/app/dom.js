// Small DOM helpers shared by every screen.
//
// Safety rule of the dashboard: text from the network (visitors, the AI, articles, agents' names,
// file names…) only ever reaches the page through textContent, createTextNode or setAttribute.
// Nothing here accepts HTML. Styles are never set with style="" (the CSP forbids inline styles);
// `css` sets CSS properties through the CSSOM, which the policy allows.

/**
 * Creates an element. `attrs`: `text` (textContent), `class`, `css` ({prop: value} via
 * style.setProperty), `on<event>` (listeners), properties that must be set as such (value,
 * checked, selected, disabled, hidden, indeterminate), anything else as an attribute
 * (true -> "", null/false/undefined -> left out). Children: nodes, strings (text nodes), arrays,
 * and null/false (skipped).
 */
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, kids);
  return el;
}

const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'indeterminate', 'open', 'multiple', 'readOnly', 'required']);

function apply(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) {
      if (PROPS.has(k) && v === false) el[k] = false;
      continue;
    }
    if (k === 'text') el.textContent = String(v);
    else if (k === 'css') for (const [p, x] of Object.entries(v)) el.style.setProperty(p, x);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** Appends children (nodes, strings, nested arrays; null and false skipped). */
export function append(el, kids) {
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...kids) {
  el.replaceChildren();
  return append(el, kids);
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element (attributes only; `text` sets its text). */
export function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) if (kid) el.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}

// 24x24 stroked icons (paths in the style of Feather/Lucide, drawn by hand here).
const ICONS = {
  inbox: 'M22 12h-6l-2 3h-4l-2-3H2M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z',
  ticket: 'M3 7a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v3a2 2 0 0 0 0 4v3a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-3a2 2 0 0 0 0-4zM13 5v2M13 17v2M13 11v2',
  chart: 'M3 3v18h18M7 16v-4M11 16V8M15 16v-6M19 16V5',
  settings: 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z',
  bell: 'M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9M13.73 21a2 2 0 0 1-3.46 0',
  send: 'M22 2 11 13M22 2l-7 20-4-9-9-4z',
  clip: 'm21.4 11.1-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5',
  close: 'M18 6 6 18M6 6l12 12',
  check: 'M20 6 9 17l-5-5',
  archive: 'M21 8v13H3V8M1 3h22v5H1zM10 12h4',
  restore: 'M3 12a9 9 0 1 0 3-6.7L3 8M3 3v5h5',
  download: 'M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4M7 10l5 5 5-5M12 15V3',
  user: 'M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z',
  users: 'M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM23 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75',
  globe: 'M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM2 12h20M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10z',
  sparkle: 'M12 3l1.9 5.1L19 10l-5.1 1.9L12 17l-1.9-5.1L5 10l5.1-1.9zM19 15l.9 2.1L22 18l-2.1.9L19 21l-.9-2.1L16 18l2.1-.9z',
  book: 'M4 19.5A2.5 2.5 0 0 1 6.5 17H20V3H6.5A2.5 2.5 0 0 0 4 5.5zM4 19.5A2.5 2.5 0 0 0 6.5 22H20v-5',
  zap: 'M13 2 3 14h9l-1 8 10-12h-9z',
  clock: 'M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM12 6v6l4 2',
  key: 'M21 2l-2 2m-7.6 7.6a5.5 5.5 0 1 1-7.8 7.8 5.5 5.5 0 0 1 7.8-7.8zm0 0L15.5 7.5m0 0 3 3L22 7l-3-3m-3.5 3.5L19 4',
  logout: 'M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9',
  filter: 'M22 3H2l8 9.46V19l4 2v-8.54z',
  search: 'M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16zM21 21l-4.35-4.35',
  plus: 'M12 5v14M5 12h14',
  trash: 'M3 6h18M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6M10 11v6M14 11v6M9 6V4a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2',
  edit: 'M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z',
  copy: 'M20 9h-9a2 2 0 0 0-2 2v9a2 2 0 0 0 2 2h9a2 2 0 0 0 2-2v-9a2 2 0 0 0-2-2zM5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1',
  refresh: 'M23 4v6h-6M1 20v-6h6M3.5 9a9 9 0 0 1 14.9-3.4L23 10M1 14l4.6 4.4A9 9 0 0 0 20.5 15',
  lock: 'M19 11H5a2 2 0 0 0-2 2v7a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-7a2 2 0 0 0-2-2zM7 11V7a5 5 0 0 1 10 0v4',
  note: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6M16 13H8M16 17H8M10 9H8',
  link: 'M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7',
  thumbUp: 'M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.3a2 2 0 0 0 2-1.7l1.4-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3',
  thumbDown: 'M10 15v4a3 3 0 0 0 3 3l4-9V2H5.7a2 2 0 0 0-2 1.7l-1.4 9a2 2 0 0 0 2 2.3zm7-13h2.7A2.3 2.3 0 0 1 22 4v7a2.3 2.3 0 0 1-2.3 2H17',
  star: 'M12 2l3.1 6.3 6.9 1-5 4.9 1.2 6.8L12 17.8 5.8 21l1.2-6.8-5-4.9 6.9-1z',
  alert: 'M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0zM12 9v4M12 17h.01',
  eye: 'M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8zM12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z',
  back: 'M19 12H5M12 19l-7-7 7-7',
  chat: 'M21 11.5a8.4 8.4 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.4 8.4 0 0 1-3.8-.9L3 21l1.9-5.7a8.4 8.4 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.4 8.4 0 0 1 3.8-.9h.5a8.5 8.5 0 0 1 8 8v.5z',
  file: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6',
  upload: 'M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4M17 8l-5-5-5 5M12 3v12',
  webhook: 'M12 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM6 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM18 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM10.5 8.6l-3 6.8M13.5 8.6l3 6.8M9 18h6',
  mail: 'M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zM22 6l-10 7L2 6',
};

/** An inline SVG icon, hidden from assistive technology (the control around it carries the name). */
export function icon(name, size = 16) {
  return s('svg', { class: `icon icon-${name}`, width: size, height: size, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false' },
    s('path', { d: ICONS[name] || ICONS.file }));
}

// MARK: - Formatting

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const thisYearFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

export const fmt = {
  time: (d) => (d ? timeFmt.format(new Date(d)) : ''),
  /** A date and time; the year only when it is not this one. */
  full: (d) => {
    if (!d) return '—';
    const date = new Date(d);
    return (date.getFullYear() === new Date().getFullYear() ? thisYearFmt : fullFmt).format(date);
  },
  short: (d) => (d ? shortFmt.format(new Date(d)) : ''),
  date: (d) => (d ? dateFmt.format(new Date(d)) : ''),
  /** "Today", "Yesterday" or the full date: the timeline's day separators. */
  day(d) {
    const date = new Date(d);
    const today = new Date();
    const key = (x) => x.toDateString();
    if (key(date) === key(today)) return 'Today';
    if (key(date) === key(new Date(today.getTime() - 86400000))) return 'Yesterday';
    return dayFmt.format(date);
  },
  /** A compact age for lists: "now", "5m", "3h", "2d" or a date. */
  ago(d) {
    if (!d) return '';
    const seconds = (Date.now() - new Date(d).getTime()) / 1000;
    if (seconds < 45) return 'now';
    if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
    if (seconds < 86400) return `${Math.round(seconds / 3600)}h`;
    if (seconds < 7 * 86400) return `${Math.round(seconds / 86400)}d`;
    return shortFmt.format(new Date(d));
  },
  /** Seconds as "1d 2h", "3h 05m", "4m 09s". */
  duration(totalSeconds) {
    const t = Math.max(0, Math.floor(Math.abs(totalSeconds)));
    const d = Math.floor(t / 86400), hh = Math.floor((t % 86400) / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
    const pad = (n) => String(n).padStart(2, '0');
    if (d) return `${d}d ${hh}h`;
    if (hh) return `${hh}h ${pad(m)}m`;
    return `${m}m ${pad(sec)}s`;
  },
  minutes(m) {
    if (m === null || m === undefined) return '—';
    if (m < 60) return `${Math.round(m * 10) / 10} min`;
    if (m < 1440) return `${Math.round(m / 6) / 10} h`;
    return `${Math.round(m / 144) / 10} d`;
  },
  percent: (x) => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${Math.round(x * 100)}%`),
  bytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${Math.round(n / 102.4) / 10} KB`;
    return `${Math.round(n / 104857.6) / 10} MB`;
  },
  /** "in_progress" -> "In progress". */
  label: (x) => (x ? String(x).charAt(0).toUpperCase() + String(x).slice(1).replace(/_/g, ' ') : ''),
  isoDay: (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10),
};

// MARK: - Live countdowns (SLA clocks)

/**
 * Every element with data-due (an ISO date) shows the time left, or how long ago it passed, and
 * gets the class `overdue` once it has. One timer for the whole page, ticking each second.
 */
function tickCountdowns() {
  for (const el of document.querySelectorAll('[data-due]')) {
    const due = new Date(el.dataset.due).getTime();
    if (Number.isNaN(due)) continue;
    const paused = el.dataset.paused === 'true';
    const text = countdownText(el.dataset.due, paused);
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle('overdue', !paused && due < Date.now());
  }
}
setInterval(tickCountdowns, 1000);

/** "4m 09s left", "1h 02m overdue" or "paused". */
function countdownText(due, paused) {
  if (paused) return 'paused';
  const left = (new Date(due).getTime() - Date.now()) / 1000;
  return left >= 0 ? `${fmt.duration(left)} left` : `${fmt.duration(-left)} overdue`;
}

/** A live countdown to `due` (kept ticking by the page's one timer). */
export function countdown(due, { paused = false, cls = '' } = {}) {
  const overdue = !paused && new Date(due).getTime() < Date.now();
  return h('span', { class: `${cls}${overdue ? ' overdue' : ''}`, 'data-due': due, 'data-paused': String(!!paused), text: countdownText(due, paused) });
}

// MARK: - Avatars, badges

function hue(seed) {
  let x = 0;
  for (const c of String(seed || '')) x = (x * 31 + c.charCodeAt(0)) % 360;
  return x;
}

/** A round avatar with initials, coloured from a stable seed (through a CSS variable). */
export function avatar(name, seed, size = 'md') {
  const words = String(name || '?').replace(/[^\p{L}\p{N} ]/gu, ' ').trim().split(/\s+/);
  const initials = (words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || '?').slice(0, 2)).toUpperCase();
  return h('span', { class: `avatar avatar-${size}`, 'aria-hidden': 'true', css: { '--avatar-hue': String(hue(seed || name)) }, text: initials || '?' });
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}`, text });
}

// MARK: - Announcements and toasts

let liveRegion;
/** Says something to screen readers (polite). */
export function announce(text) {
  if (!liveRegion) {
    liveRegion = h('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true', id: 'announcer' });
    document.body.appendChild(liveRegion);
  }
  liveRegion.textContent = '';
  setTimeout(() => { liveRegion.textContent = text; }, 30);
}

let toastBox;
/** A short message in the corner; `kind`: '', 'error', 'success'. */
export function toast(text, kind = '') {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastBox);
  }
  const el = h('div', { class: `toast ${kind}` }, kind === 'error' ? icon('alert') : kind === 'info' ? icon('bell') : icon('check'), h('span', { text }));
  toastBox.appendChild(el);
  // At most three at a time: the oldest give way.
  while (toastBox.children.length > 3) toastBox.firstElementChild.remove();
  setTimeout(() => { el.classList.add('leaving'); setTimeout(() => el.remove(), 300); }, kind === 'error' ? 6000 : kind === 'info' ? 5000 : 2500);
}

// MARK: - Dialogs (native <dialog>: focus is kept inside, Escape closes)

/**
 * Opens a modal dialog. `body`: nodes; `actions`: [{label, kind, value, submit}] buttons.
 * A form inside with `submit: true` action resolves with the clicked value after `onSubmit`
 * (which may throw to keep the dialog open, e.g. on a 422). Resolves null when dismissed.
 */
export function openDialog({ title, body, actions = [{ label: 'Close', value: null }], onSubmit, wide = false, className = '' }) {
  return new Promise((resolve) => {
    const id = uid('dlg');
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const buttons = actions.map((a) => h('button', {
      type: a.submit ? 'submit' : 'button', class: `btn ${a.kind || ''}`, text: a.label, 'data-value': a.value ?? '',
      onclick: a.submit ? null : () => finish(a.value ?? null),
    }));
    const form = h('form', { method: 'dialog', class: 'dialog-form', novalidate: true },
      h('header', { class: 'dialog-head' }, h('h2', { id, text: title }),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close', onclick: () => finish(null) }, icon('close'))),
      h('div', { class: 'dialog-body' }, body, error),
      h('footer', { class: 'dialog-foot' }, buttons));
    const dlg = h('dialog', { class: `dialog ${wide ? 'wide' : ''} ${className}`, 'aria-labelledby': id }, form);
    let done = false;
    function finish(value) {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(value);
    }
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const submitter = event.submitter;
      const value = submitter?.dataset.value || 'ok';
      if (onSubmit) {
        error.hidden = true;
        buttons.forEach((b) => { b.disabled = true; });
        try {
          const result = await onSubmit(value, form);
          if (result === false) return;
        } catch (e) {
          error.textContent = e.message || String(e);
          error.hidden = false;
          return;
        } finally {
          buttons.forEach((b) => { b.disabled = false; });
        }
      }
      finish(value);
    });
    dlg.addEventListener('cancel', (event) => { event.preventDefault(); finish(null); });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input:not([type=hidden]), textarea, select');
    (first || buttons[buttons.length - 1])?.focus();
  });
}

export async function confirmDialog(text, { title = 'Are you sure?', confirm = 'Confirm', danger = false } = {}) {
  const value = await openDialog({
    title, body: h('p', { text }),
    actions: [{ label: 'Cancel', value: null }, { label: confirm, kind: danger ? 'danger' : 'primary', value: 'yes', submit: true }],
  });
  return value === 'yes';
}

// MARK: - Forms

let counter = 0;
export function uid(prefix = 'id') { counter += 1; return `${prefix}-${counter}`; }

/** A labelled control: <div class="field"><label for>…</label>control<p class="hint"></p></div>. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid('f');
  const hintEl = hint ? h('p', { class: 'hint', id: `${control.id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id, text: label }), control, hintEl);
}

/**
 * Adds an error line under a field. `set(text)` shows it and marks the control invalid (the
 * control's description then includes the error), `clear()` hides it.
 */
export function withError(el, control, id = `${control.id || uid('f')}-error`) {
  const error = h('p', { class: 'field-error', id, role: 'alert', hidden: true });
  el.append(error);
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
  return {
    el,
    set(text) {
      error.textContent = text;
      error.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', [...described, id].join(' '));
      (control.matches('input, textarea, select') ? control : control.querySelector('input'))?.focus();
    },
    clear() {
      error.hidden = true;
      control.removeAttribute('aria-invalid');
      if (described.length) control.setAttribute('aria-describedby', described.join(' ')); else control.removeAttribute('aria-describedby');
    },
  };
}

/** A checkbox with its label to the right. */
export function checkbox(label, checked, attrs = {}) {
  const input = h('input', { type: 'checkbox', checked: !!checked, ...attrs });
  const wrap = h('label', { class: 'check' }, input, h('span', { text: label }));
  return { wrap, input };
}

export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, label]) => h('option', { value: v, text: label, selected: String(v) === String(value ?? '') })));
}

/** Copies text to the clipboard (or selects it for a manual copy when the API is refused). */
export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied to the clipboard', 'success');
  } catch {
    if (fallbackInput) { fallbackInput.focus(); fallbackInput.select(); }
    toast('Press Ctrl+C to copy');
  }
}

/** Saves a Blob as a file through a temporary blob: link. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'sr-only' });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

/** An empty-state block. */
export function empty(title, text, ...extra) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title', text: title }), text ? h('p', { class: 'empty-text', text }) : null, extra);
}

export function spinner(label = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spin', 'aria-hidden': 'true' }), h('span', { text: label }));
}
