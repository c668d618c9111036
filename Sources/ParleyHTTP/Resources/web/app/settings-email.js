// Settings › Email: whether this server sends email at all (a mail server in PARLEY_SMTP_URL) and
// from which address, and the organization's own sender name and reply address on the emails to
// its customers (GET/PUT /api/v1/admin/settings/email). Without a mail server they can still be
// saved: they apply once an operator sets one up.

import { api, missingRoute, APIError } from './api.js';
import { h, icon, replace, badge, toast, field, empty, spinner, withError } from './dom.js';
import { sectionHead, panel, form } from './views-settings.js';

const PATH = '/api/v1/admin/settings/email';

export function emailSection(page) {
  const holder = h('div', { class: 'stack' }, spinner());
  page.append(sectionHead('Email', 'How the emails Parley sends your customers say who they are from, and where replies go.'), holder);
  api.get(PATH).then((settings) => replace(holder, draw(settings))).catch((e) => {
    replace(holder, missingRoute(e) ? empty('This Parley server has no email settings yet') : empty('The email settings could not be loaded', e.message));
  });
}

function draw(settings) {
  const name = h('input', { type: 'text', name: 'from-name', value: settings.fromName || '', maxlength: 80, autocomplete: 'organization', placeholder: 'Acme Support' });
  const replyTo = h('input', { type: 'email', name: 'reply-to', value: settings.replyTo || '', autocomplete: 'email', placeholder: settings.from || 'support@example.com' });
  const preview = h('p', { class: 'hint email-preview', 'aria-live': 'polite' });
  const nameField = withError(field('Sender name', name, 'Up to 80 characters. Empty: the server’s default name (PARLEY_MAIL_FROM_NAME), else your organization’s name.'), name);
  const replyField = withError(field('Reply address', replyTo, 'Where customers’ replies go (Reply-To). Empty: the sender address. Mail sent there must reach Parley’s inbound email route to land on the ticket.'), replyTo);
  const errors = { fromName: nameField, replyTo: replyField };
  const names = { fromName: 'The sender name', replyTo: 'The reply address' };
  const button = h('button', { type: 'submit', class: 'btn primary', text: 'Save email settings' });

  function showPreview() {
    const sender = settings.from || 'the server’s address';
    const who = name.value.trim() ? `${name.value.trim()} <${sender}>` : sender;
    preview.textContent = `Customers see it from ${who}${replyTo.value.trim() ? `, replies to ${replyTo.value.trim()}` : ''}.`;
  }
  name.addEventListener('input', showPreview);
  replyTo.addEventListener('input', showPreview);
  showPreview();

  const el = form(async () => {
    Object.values(errors).forEach((x) => x.clear());
    button.disabled = true;
    try {
      settings = await api.put(PATH, { fromName: name.value.trim() || null, replyTo: replyTo.value.trim() || null });
      name.value = settings.fromName || '';
      replyTo.value = settings.replyTo || '';
      showPreview();
      toast('Email settings saved', 'success');
    } catch (e) {
      if (e instanceof APIError && e.status === 422 && errors[e.field]) errors[e.field].set(e.message.replace(new RegExp(`^\\s*${e.field}\\b:?`), names[e.field]));
      else toast(e.message, 'error');
    } finally {
      button.disabled = false;
    }
  },
  h('div', { class: 'form-grid' }, nameField.el, replyField.el),
  preview,
  h('div', { class: 'form-actions' }, button));

  const status = settings.configured
    ? h('p', { class: 'email-status' }, badge('Email is on', 'ok'), h('span', { text: 'Parley sends from ' }), h('strong', { class: 'mono', text: settings.from || '—' }),
      h('span', { text: ' (PARLEY_MAIL_FROM).' }))
    : h('p', { class: 'callout', id: 'email-off' }, icon('alert', 16),
      h('span', { text: 'Email is not configured on this server (PARLEY_SMTP_URL), so no email leaves it: no replies, ratings or notifications by email. You can still save the sender name and reply address; they apply once an operator sets up a mail server.' }));

  return [
    panel('Sending', settings.configured ? 'The mail server and the sender address are the operator’s (environment variables).' : null, status),
    h('section', { class: 'panel' },
      h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: 'Sender' }),
        h('p', { class: 'hint', text: 'On every email to your customers: received, replies, resolved (with the rating links).' }))),
      el),
  ];
}
