// The `/` picker of canned responses, shared by the conversation and ticket composers.
//
// Typing "/" at the start of a word opens a list of canned responses whose shortcut starts with
// what follows (GET /api/v1/admin/canned-responses?q=), most used first. Arrow keys move, Enter or
// Tab picks, Escape closes; a pick asks the server to fill the placeholders for this conversation
// or ticket (POST …/{id}/use {sessionId | ticketId}) and puts the filled text in place of "/word".

import { api, qs } from './api.js';
import { h, replace, debounce, uid, announce, toast } from './dom.js';

/** `context()` returns {sessionId} or {ticketId}. The composer calls handleKey first on keydown. */
export function cannedPicker(textarea, context) {
  const id = uid('canned');
  const list = h('ul', { class: 'canned', id, role: 'listbox', 'aria-label': 'Canned responses', hidden: true });
  let items = [];
  let active = 0;
  let token = null;
  let request = 0;

  textarea.setAttribute('aria-describedby', [textarea.getAttribute('aria-describedby'), `${id}-help`].filter(Boolean).join(' '));
  const help = h('span', { class: 'sr-only', id: `${id}-help`, text: 'Type a slash to insert a canned response.' });

  /** The "/word" just before the caret, if the caret is at the end of one. */
  function currentToken() {
    const pos = textarea.selectionStart;
    if (pos !== textarea.selectionEnd) return null;
    const m = /(^|\s)\/([a-z0-9_-]*)$/i.exec(textarea.value.slice(0, pos));
    return m ? { start: pos - m[2].length - 1, end: pos, query: m[2].toLowerCase() } : null;
  }

  const check = debounce(async () => {
    const t = currentToken();
    if (!t) { close(); return; }
    const mine = ++request;
    try {
      const page = await api.get(`/api/v1/admin/canned-responses${qs({ q: t.query })}`);
      if (mine !== request) return;
      items = (page.data || []).slice(0, 8);
      token = t;
      active = 0;
      paint();
    } catch { close(); }
  }, 120);

  function paint() {
    list.hidden = false;
    if (!items.length) {
      replace(list, h('li', { class: 'canned-empty', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false', text: token.query ? `No canned response starts with /${token.query}` : 'No canned responses yet (Settings › Canned responses)' }));
      return;
    }
    replace(list, items.map((item, i) => h('li', {
      role: 'option', id: `${id}-${i}`, class: `canned-item${i === active ? ' active' : ''}`, 'aria-selected': String(i === active),
      onmousedown: (event) => { event.preventDefault(); pick(i); },
    }, h('span', { class: 'canned-shortcut', text: `/${item.shortcut.replace(/^\//, '')}` }), h('span', { class: 'canned-title', text: item.title }),
    h('span', { class: 'canned-body', text: item.body }))));
    announce(`${items.length} canned responses. ${items[active].title}. Arrow keys to choose, Enter to insert.`);
  }

  function move(delta) {
    if (!items.length) return;
    active = (active + delta + items.length) % items.length;
    paint();
    list.querySelector('.active')?.scrollIntoView({ block: 'nearest' });
  }

  async function pick(i) {
    const item = items[i];
    const t = token;
    close();
    if (!item || !t) return;
    let body = item.body;
    try {
      const filled = await api.post(`/api/v1/admin/canned-responses/${encodeURIComponent(item.id)}/use`, context());
      if (typeof filled?.body === 'string') body = filled.body;
    } catch (e) { toast(`Inserted without filling the placeholders: ${e.message}`, 'error'); }
    // The text may have changed meanwhile: replace the token only if it is still there.
    const still = textarea.value.slice(t.start, t.end) === `/${t.query}` || textarea.value.slice(t.start, t.end).toLowerCase() === `/${t.query}`;
    if (still) textarea.setRangeText(body, t.start, t.end, 'end');
    else textarea.setRangeText(body, textarea.selectionStart, textarea.selectionEnd, 'end');
    textarea.focus();
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
    close();
  }

  function close() {
    request += 1;
    list.hidden = true;
    items = [];
    token = null;
  }

  textarea.addEventListener('input', check);
  textarea.addEventListener('blur', () => setTimeout(close, 150));

  return {
    el: h('div', { class: 'canned-wrap' }, list, help),
    /** Returns true when the key was for the picker. */
    handleKey(event) {
      if (list.hidden) return false;
      if (event.key === 'ArrowDown') { event.preventDefault(); move(1); return true; }
      if (event.key === 'ArrowUp') { event.preventDefault(); move(-1); return true; }
      if ((event.key === 'Enter' || event.key === 'Tab') && items.length) { event.preventDefault(); pick(active); return true; }
      if (event.key === 'Escape') { event.preventDefault(); event.stopPropagation(); close(); return true; }
      return false;
    },
    close,
  };
}
