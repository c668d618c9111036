// Settings: the agent's own profile, password and notification preferences, and for admins
// (by the `permissions` of GET /api/v1/me) the workspace: sites and the widget, the assistant, the
// knowledge base, canned responses, SLA and business hours, the team, email, API keys, webhooks and
// the delivery failures. The AI, knowledge-base, canned-response and SLA sections live in
// settings-ai.js, email in settings-email.js, webhooks in settings-webhooks.js, delivery failures
// in settings-outbox.js.

import { api, missingRoute, APIError } from './api.js';
import { h, icon, replace, fmt, avatar, badge, toast, openDialog, confirmDialog, field, checkbox, select, copyText, empty, spinner } from './dom.js';
import { state, emit, can, myId, loadAgents } from './state.js';
import { aiSection, kbSection, cannedSection, slaSection } from './settings-ai.js';
import { emailSection } from './settings-email.js';
import { webhooksSection } from './settings-webhooks.js';
import { outboxSection } from './settings-outbox.js';
import { desktopPermission, playChime } from './alerts.js';

const SECTIONS = [
  { id: 'profile', label: 'Profile', icon: 'user', group: 'You', show: () => true, draw: profileSection },
  { id: 'sites', label: 'Sites & widget', icon: 'globe', group: 'Workspace', show: () => can('manageSites'), draw: sitesSection },
  { id: 'ai', label: 'AI assistant', icon: 'sparkle', group: 'Workspace', show: () => can('manageSettings'), draw: aiSection },
  { id: 'knowledge', label: 'Knowledge base', icon: 'book', group: 'Workspace', show: () => true, draw: kbSection },
  { id: 'canned', label: 'Canned responses', icon: 'zap', group: 'Workspace', show: () => true, draw: cannedSection },
  { id: 'sla', label: 'SLA & hours', icon: 'clock', group: 'Workspace', show: () => can('manageSettings'), draw: slaSection },
  { id: 'team', label: 'Team', icon: 'users', group: 'Workspace', show: () => can('manageTeam'), draw: teamSection },
  { id: 'email', label: 'Email', icon: 'mail', group: 'Workspace', show: () => can('manageSettings'), draw: emailSection },
  { id: 'api-keys', label: 'API keys', icon: 'key', group: 'Workspace', show: () => can('manageAPIKeys'), draw: apiKeysSection },
  { id: 'webhooks', label: 'Webhooks', icon: 'webhook', group: 'Workspace', show: () => can('manageSettings'), draw: webhooksSection },
  { id: 'outbox', label: 'Delivery failures', icon: 'alert', group: 'Workspace', show: () => can('manageSettings'), draw: outboxSection },
];

export function mount(container, params) {
  const links = {};
  const visible = SECTIONS.filter((s) => s.show());
  const groups = [...new Set(visible.map((s) => s.group))];
  const nav = h('nav', { class: 'settings-nav', 'aria-label': 'Settings sections' },
    groups.map((g) => [h('h2', { text: g }), h('ul', {}, visible.filter((s) => s.group === g).map((s) => {
      links[s.id] = h('a', { class: 'folder', href: `#/settings/${s.id}` }, icon(s.icon, 15), h('span', { class: 'folder-label', text: s.label }));
      return h('li', {}, links[s.id]);
    }))]));
  const body = h('div', { class: 'settings-body' });
  container.appendChild(h('div', { class: 'settings' }, nav, body));
  let cleanup = null;

  function show(p) {
    const section = visible.find((s) => s.id === p.section) || visible[0];
    if (section.id !== p.section) { history.replaceState(null, '', `#/settings/${section.id}`); }
    for (const [id, link] of Object.entries(links)) {
      if (id === section.id) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    }
    emit('title', `Settings · ${section.label}`);
    cleanup?.();
    const page = h('div', { class: 'page', 'data-section': section.id });
    replace(body, page);
    body.scrollTop = 0;
    cleanup = section.draw(page) || null;
  }
  show(params);
  return { update: show, destroy: () => cleanup?.() };
}

// MARK: - Shared pieces

export function sectionHead(title, text, ...actions) {
  return h('div', { class: 'section-head' }, h('div', {}, h('h2', { text: title }), text ? h('p', { text }) : null), actions.length ? h('div', { class: 'toolbar' }, actions) : null);
}

export function panel(title, text, ...kids) {
  return h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: title }), text ? h('p', { class: 'hint', text }) : null)),
    h('div', { class: 'panel-body' }, kids));
}

/**
 * A save button that shows progress and reports the result. `fields` ({wireName: {error, name}},
 * `error` from withError) puts a 422 about one of them under that field instead of in a toast.
 */
export function saveButton(label, action, fields = {}) {
  const button = h('button', { type: 'submit', class: 'btn primary', text: label });
  return {
    button,
    async run() {
      button.disabled = true;
      const text = button.textContent;
      button.textContent = 'Saving…';
      Object.values(fields).forEach((f) => f.error.clear());
      try {
        await action();
        toast('Saved', 'success');
      } catch (e) {
        const f = e instanceof APIError && e.status === 422 ? fields[e.field] : null;
        if (f) f.error.set(fieldMessage(e.message, e.field, f.name));
        else toast(e.message, 'error');
      } finally {
        button.disabled = false;
        button.textContent = text;
      }
    },
  };
}

/** "maxAnswerWords must be between 20 and 1000." -> "Longest answer must be between 20 and 1000." */
export function fieldMessage(message, wireName, name) {
  const text = String(message || '');
  if (!name) return text;
  const rest = text.replace(new RegExp(`^\\s*${wireName}\\b\\s*:?\\s*`), '');
  return rest === text ? text : `${name} ${rest}`;
}

export function form(onSubmit, ...kids) {
  const el = h('form', { class: 'panel-body', novalidate: true }, kids);
  el.addEventListener('submit', (event) => { event.preventDefault(); onSubmit(); });
  return el;
}

// MARK: - Profile

const NOTIFICATION_KINDS = [
  ['assignment', 'A ticket is assigned to me'],
  ['customer_reply', 'A customer replies on my ticket'],
  ['sla_warning', 'An SLA target of my ticket is close'],
  ['sla_breach', 'An SLA target of my ticket is missed'],
  ['handoff', 'A conversation is handed over to the team'],
];

function profileSection(page) {
  const agent = state.me.agent || {};
  const name = h('input', { type: 'text', value: agent.name || '', maxlength: 120, autocomplete: 'name' });
  const nameSave = saveButton('Save profile', async () => {
    try {
      const me = await api.patch('/api/v1/me', { name: name.value.trim() });
      state.me = { ...state.me, ...me, agent: me.agent || { ...agent, name: name.value.trim() } };
      emit('me', state.me);
      await loadAgents();
    } catch (e) {
      if (missingRoute(e)) throw new Error('This Parley server cannot change names yet.');
      throw e;
    }
  });

  const current = h('input', { type: 'password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', autocomplete: 'new-password', minlength: 10 });
  const again = h('input', { type: 'password', autocomplete: 'new-password' });
  const pwSave = saveButton('Change password', async () => {
    if (next.value.length < 10) throw new Error('The new password needs at least 10 characters.');
    if (next.value !== again.value) throw new Error('The two new passwords differ.');
    await api.post('/api/v1/me/password', { currentPassword: current.value, newPassword: next.value });
    current.value = ''; next.value = ''; again.value = '';
  });

  const prefs = notificationPreferences();

  page.append(
    sectionHead('Your profile', 'How the team and your customers see you, and how you sign in.'),
    h('section', { class: 'panel' },
      h('div', { class: 'panel-head' }, h('div', { class: 'toolbar' }, avatar(agent.name || agent.email, agent.id, 'lg'),
        h('div', {}, h('h3', { text: agent.name || agent.email }), h('p', { class: 'hint', text: `${agent.email} · ${fmt.label(state.me.role)} of ${state.me.organization?.name || 'your organization'}` })))),
      form(nameSave.run,
        h('div', { class: 'form-grid' },
          field('Name', name, 'Shown to visitors next to your replies.'),
          field('Email', h('input', { type: 'email', value: agent.email || '', readOnly: true, disabled: true }), 'Ask an admin to change it.')),
        h('div', { class: 'form-actions' }, nameSave.button))),
    h('section', { class: 'panel' },
      h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: 'Password' }), h('p', { class: 'hint', text: 'Changing it signs you out everywhere else.' }))),
      form(pwSave.run,
        h('div', { class: 'form-grid' }, h('div', { class: 'full' }, field('Current password', current)),
          field('New password', next, 'At least 10 characters.'), field('New password again', again)),
        h('div', { class: 'form-actions' }, pwSave.button))),
    prefs);
}

/** An on/off switch: a checkbox with role="switch", styled as one. */
function switchInput(checked, attrs = {}) {
  return h('input', { type: 'checkbox', role: 'switch', class: 'switch', checked: !!checked, ...attrs });
}

/** A switch with its label and a line of explanation (its description). */
function switchRow(id, label, hint, checked, attrs = {}) {
  const input = switchInput(checked, { id, 'aria-describedby': `${id}-hint`, ...attrs });
  const row = h('div', { class: 'switch-row' }, input,
    h('div', { class: 'switch-text' }, h('label', { for: id, text: label }), h('p', { class: 'hint', id: `${id}-hint`, text: hint })));
  return { row, input };
}

const DESKTOP_BLOCKED = 'Your browser blocks notifications from Parley, so this stays off. Allow them in the site settings (the icon left of the address), then turn this on again.';

/**
 * The Notifications panel of the profile: per kind, the bell and email; then the alerts of
 * alerts.js (a sound, desktop notifications). Saved together with PUT /api/v1/me/preferences.
 */
function notificationPreferences() {
  const prefs = state.prefs || {};
  const supported = !!state.features.preferences;
  const hasEmail = supported && !!prefs.email;                           // older servers: the bell only
  const hasAlerts = supported && 'sound' in prefs && 'desktop' in prefs;
  const bell = {};
  const email = {};
  const rows = NOTIFICATION_KINDS.map(([kind, label]) => {
    bell[kind] = switchInput(prefs.notifications?.[kind] !== false, { 'aria-label': `Bell: ${label}`, disabled: !supported });
    if (hasEmail) email[kind] = switchInput(prefs.email[kind] === true, { 'aria-label': `Email: ${label}` });
    return h('tr', {}, h('th', { scope: 'row', text: label }), h('td', {}, bell[kind]), hasEmail ? h('td', {}, email[kind]) : null);
  });
  const table = h('table', { class: 'pref-table' },
    h('caption', { class: 'sr-only', text: 'Where you hear about each kind of news' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Tell me when…' }), h('th', { scope: 'col', text: 'Bell' }),
      hasEmail ? h('th', { scope: 'col', text: 'Email' }) : null)),
    h('tbody', {}, rows));

  const sound = switchRow('pref-sound', 'Play a sound', 'A short chime for a new conversation, a handoff, or a customer’s reply to you.', prefs.sound, { disabled: !hasAlerts });
  const desktop = switchRow('pref-desktop', 'Show desktop notifications', 'Also when Parley is in another tab or window. Clicking one opens the conversation or ticket.', prefs.desktop, { disabled: !hasAlerts });
  const desktopNote = h('p', { class: 'switch-note', role: 'status' });
  function note(text, kind = 'warn') {
    desktopNote.textContent = text;
    desktopNote.className = `switch-note ${text ? kind : ''}`;
  }
  // The setting is the account's; the permission is this browser's.
  if (prefs.desktop) {
    const permission = desktopPermission();
    if (permission === 'denied') note(DESKTOP_BLOCKED);
    else if (permission === 'unsupported') note('This browser cannot show desktop notifications.');
    else if (permission === 'default') note('This browser has not allowed notifications from Parley yet: turn the switch off and on again to be asked.');
  }

  sound.input.addEventListener('change', () => {
    if (sound.input.checked) playChime(); // what it sounds like (and the browser allows audio after this click)
  });
  desktop.input.addEventListener('change', async () => {
    if (!desktop.input.checked) { note(''); return; }
    const permission = desktopPermission();
    if (permission === 'granted') { note(''); return; }
    if (permission === 'unsupported') { desktop.input.checked = false; note('This browser cannot show desktop notifications, so this stays off.'); return; }
    if (permission === 'denied') { desktop.input.checked = false; note(DESKTOP_BLOCKED); return; }
    desktop.input.disabled = true;
    note('Your browser asks whether Parley may show notifications…', 'info');
    let answer;
    try { answer = await Notification.requestPermission(); } catch { answer = desktopPermission(); }
    desktop.input.disabled = false;
    if (answer === 'granted') {
      note('Allowed. Save your preferences to keep it on.', 'ok');
    } else {
      desktop.input.checked = false;
      note(answer === 'denied' ? DESKTOP_BLOCKED : 'Notifications were not allowed, so this stays off.');
    }
  });

  const save = saveButton('Save preferences', async () => {
    const body = { notifications: Object.fromEntries(Object.entries(bell).map(([k, box]) => [k, box.checked])) };
    if (hasEmail) body.email = Object.fromEntries(Object.entries(email).map(([k, box]) => [k, box.checked]));
    if (hasAlerts) { body.sound = sound.input.checked; body.desktop = desktop.input.checked; }
    state.prefs = await api.put('/api/v1/me/preferences', body);
  });
  save.button.disabled = !supported;

  return h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: 'Notifications' }),
      h('p', { class: 'hint', text: hasEmail ? 'What the bell and your email tell you about, and how Parley gets your attention.' : 'What the bell tells you about.' }))),
    supported ? null : h('div', { class: 'panel-body' }, h('p', { class: 'callout', text: 'This Parley server does not keep notification preferences yet: you hear about everything.' })),
    hasEmail && state.me.emailConfigured === false ? h('div', { class: 'panel-body email-off' }, h('p', { class: 'callout' }, icon('alert', 16),
      h('span', { text: 'Email is not configured on this server (PARLEY_SMTP_URL), so no email leaves it: the Email column is kept for when an admin sets it up, and until then only the bell tells you.' }))) : null,
    form(save.run,
      table,
      hasAlerts ? h('fieldset', { class: 'pref-alerts' }, h('legend', { text: 'Alerts' }),
        h('p', { class: 'hint', text: 'For new conversations, handoffs, and customers replying on your conversations and tickets.' }),
        sound.row, desktop.row, desktopNote) : null,
      h('div', { class: 'form-actions' }, save.button)));
}

// MARK: - Sites and the widget

/** Text colour for a background: the one with the better contrast (as the widget does). */
export function onColor(hex) {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex || '');
  if (!m) return '#ffffff';
  const n = parseInt(m[1], 16);
  const lin = (c) => { const x = c / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  const L = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return (L + 0.05) / 0.05 > 1.05 / (L + 0.05) ? '#111111' : '#ffffff';
}

function sitesSection(page) {
  let sites = [];
  let current = null;
  const holder = h('div', { class: 'page-inner' }, spinner());
  const picker = h('div', { class: 'toolbar' });
  page.append(sectionHead('Sites & widget', 'Each site has its own widget, key and allowed origins.', picker,
    h('button', { type: 'button', class: 'btn', onclick: createSite }, icon('plus', 14), 'New site')), holder);

  async function load(selectId) {
    try {
      const list = await api.get('/api/v1/admin/sites?limit=200');
      sites = list.data || [];
      current = sites.find((s) => s.id === selectId) || sites.find((s) => s.id === current?.id) || sites[0] || null;
      paint();
    } catch (e) { replace(holder, empty('The sites could not be loaded', e.message)); }
  }

  function paint() {
    if (sites.length > 1) {
      const sel = select(sites.map((s) => [s.id, s.name]), current.id, { 'aria-label': 'Site' });
      sel.addEventListener('change', () => { current = sites.find((s) => s.id === sel.value); paint(); });
      replace(picker, sel);
    } else picker.replaceChildren();
    if (!current) { replace(holder, empty('No site yet', 'Create one to get a widget.')); return; }
    replace(holder, siteForm(current, (updated) => {
      sites = sites.map((s) => (s.id === updated.id ? updated : s));
      current = updated;
      paint();
    }));
  }

  async function createSite() {
    const name = h('input', { type: 'text', required: true, maxlength: 120 });
    const origins = h('textarea', { rows: 3, placeholder: 'https://www.example.com' });
    let created = null;
    await openDialog({
      title: 'New site',
      body: [field('Name', name), field('Allowed origins', origins, 'One per line. Empty: any website may embed the widget.')],
      actions: [{ label: 'Cancel', value: null }, { label: 'Create site', kind: 'primary', value: 'ok', submit: true }],
      async onSubmit() {
        if (!name.value.trim()) throw new Error('Give the site a name.');
        created = await api.post('/api/v1/admin/sites', { name: name.value.trim(), allowedOrigins: lines(origins.value) });
      },
    });
    if (created) { toast('Site created', 'success'); load(created.id); }
  }

  load();
}

function lines(text) { return text.split(/\n+/).map((x) => x.trim()).filter(Boolean); }

function siteForm(site, onSaved) {
  const w = site.widget || {};
  const title = h('input', { type: 'text', value: w.title || '', maxlength: 80, name: 'title' });
  const colorPick = h('input', { type: 'color', value: /^#[0-9a-f]{6}$/i.test(w.color || '') ? w.color : '#2563eb', 'aria-label': 'Colour picker' });
  const color = h('input', { type: 'text', value: w.color || '#2563eb', maxlength: 7, pattern: '^#[0-9a-fA-F]{6}$', name: 'color' });
  const right = h('input', { type: 'radio', name: `pos-${site.id}`, value: 'right', checked: (w.position || 'right') === 'right' });
  const left = h('input', { type: 'radio', name: `pos-${site.id}`, value: 'left', checked: w.position === 'left' });
  const launcher = h('input', { type: 'text', value: w.launcherText || '', maxlength: 40, placeholder: 'Empty: an icon only' });
  const welcome = h('textarea', { rows: 3, maxlength: 1000, value: w.welcomeMessage || '' });
  const email = h('input', { type: 'email', value: w.supportEmail || '', placeholder: 'support@example.com' });
  const enabled = checkbox('Show the widget on the site', w.enabled !== false);
  const name = h('input', { type: 'text', value: site.name, maxlength: 120 });
  const active = checkbox('Site active', site.isActive !== false);
  const origins = h('textarea', { rows: 3, value: (site.allowedOrigins || []).join('\n'), placeholder: 'https://www.example.com' });
  const strict = checkbox('Strict identity: refuse users without a valid userHash', site.strictIdentity);
  const secret = h('input', { type: 'password', value: site.identitySecret || '', readOnly: true, class: 'mono', 'aria-label': 'Identity secret' });
  const snippet = h('textarea', { class: 'snippet', readOnly: true, rows: 3, value: site.embedSnippet || '', 'aria-label': 'Embed snippet' });

  // The live preview: a drawn page with the widget as these fields say, redrawn on every change.
  const mockHead = h('div', { class: 'mock-head' });
  const mockWelcome = h('div', { class: 'mock-bubble' });
  const mockLauncher = h('div', { class: 'mock-launcher' });
  const mockPanel = h('div', { class: 'mock-panel' }, mockHead,
    h('div', { class: 'mock-body' }, mockWelcome, h('div', { class: 'mock-bubble me', text: 'How do I reset my password?' })),
    h('div', { class: 'mock-input', text: 'Write a message…' }));
  const mockOff = h('div', { class: 'mock-disabled', text: 'Widget hidden' });
  const mock = h('div', { class: 'mock-site', role: 'img', 'aria-label': 'Preview of the widget on a website' },
    h('div', { class: 'mock-bar' }, h('i'), h('i'), h('i')),
    h('div', { class: 'mock-lines' }, h('i'), h('i'), h('i'), h('i'), h('i')),
    mockPanel, mockLauncher, mockOff);
  function preview() {
    const c = /^#[0-9a-f]{6}$/i.test(color.value) ? color.value : '#2563eb';
    const isLeft = left.checked;
    [mockPanel, mock].forEach((el) => {
      el.style.setProperty('--w-accent', c);
      el.style.setProperty('--w-on-accent', onColor(c));
    });
    mockPanel.classList.toggle('left', isLeft);
    mock.classList.toggle('left', isLeft);
    mockHead.textContent = title.value || 'Support';
    mockWelcome.textContent = welcome.value || 'Hi! How can we help?';
    replace(mockLauncher, icon('chat', 18), launcher.value ? h('span', { text: launcher.value }) : null);
    mockOff.hidden = enabled.input.checked;
  }
  colorPick.addEventListener('input', () => { color.value = colorPick.value; preview(); });
  color.addEventListener('input', () => { if (/^#[0-9a-f]{6}$/i.test(color.value)) colorPick.value = color.value; preview(); });
  [title, launcher, welcome, right, left, enabled.input].forEach((el) => el.addEventListener('input', preview));
  [right, left, enabled.input].forEach((el) => el.addEventListener('change', preview));
  preview();

  const save = saveButton('Save changes', async () => {
    if (!/^#[0-9a-f]{6}$/i.test(color.value)) throw new Error('The colour must look like #2563eb.');
    const updated = await api.patch(`/api/v1/admin/sites/${site.id}`, {
      name: name.value.trim() || site.name,
      isActive: active.input.checked,
      allowedOrigins: lines(origins.value),
      strictIdentity: strict.input.checked,
      widget: {
        title: title.value.trim() || 'Support', color: color.value.toLowerCase(), position: left.checked ? 'left' : 'right',
        launcherText: launcher.value.trim(), welcomeMessage: welcome.value.trim(), supportEmail: email.value.trim() || null,
        enabled: enabled.input.checked,
      },
    });
    onSaved(updated);
  });

  async function rotate() {
    if (!await confirmDialog('Signed-in users of this site stay signed in only once your server signs them with the new secret. Update your backend right after.', { title: 'Rotate the identity secret?', confirm: 'Rotate secret', danger: true })) return;
    try {
      const updated = await api.post(`/api/v1/admin/sites/${site.id}/rotate-secret`, {});
      toast('A new identity secret was made', 'success');
      onSaved(updated);
    } catch (e) { toast(e.message, 'error'); }
  }

  const reveal = h('button', { type: 'button', class: 'btn', text: 'Show' });
  reveal.addEventListener('click', () => {
    const shown = secret.type === 'text';
    secret.type = shown ? 'password' : 'text';
    reveal.textContent = shown ? 'Show' : 'Hide';
  });

  const el = h('form', { class: 'site-form', novalidate: true },
    h('div', { class: 'widget-layout' },
      h('div', { class: 'stack' },
        panel('Widget appearance', 'What visitors see. The preview follows as you type.',
          h('div', { class: 'form-grid' },
            field('Title', title),
            h('div', { class: 'field' }, h('label', { for: color.id = `color-${site.id}`, text: 'Colour' }), h('div', { class: 'color-row' }, colorPick, color)),
            h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Position' }),
              h('div', { class: 'radio-row', role: 'radiogroup', 'aria-label': 'Position' },
                h('label', { class: 'check' }, right, h('span', { text: 'Bottom right' })), h('label', { class: 'check' }, left, h('span', { text: 'Bottom left' })))),
            field('Launcher text', launcher),
            h('div', { class: 'full' }, field('Welcome message', welcome, 'The first thing a visitor reads.')),
            field('Support email', email, 'Shown when the team is away.'),
            h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Visibility' }), enabled.wrap))),
        panel('Installation', 'Paste the snippet before </body> on every page of the site.',
          h('div', { class: 'field' }, h('label', { for: snippet.id = `snippet-${site.id}`, text: 'Embed snippet' }), snippet,
            h('div', {}, h('button', { type: 'button', class: 'btn small', onclick: () => copyText(snippet.value, snippet) }, icon('copy', 13), 'Copy snippet'))),
          field('Allowed origins', origins, 'One per line (https://www.example.com). Only these websites may show the widget; empty allows any.'),
          h('div', { class: 'form-grid' }, field('Site name', name), h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Status' }), active.wrap)),
          h('p', { class: 'hint' }, 'Site key: ', h('span', { class: 'mono', text: site.publicKey }))),
        panel('Identity verification', 'Sign your logged-in users so nobody can pretend to be them.',
          strict.wrap,
          h('div', { class: 'field' }, h('label', { for: secret.id = `secret-${site.id}`, text: 'Identity secret (HMAC-SHA256 key for userHash)' }),
            h('div', { class: 'secret-box' }, secret, reveal,
              h('button', { type: 'button', class: 'btn', onclick: () => copyText(site.identitySecret, secret) }, icon('copy', 13), 'Copy'),
              h('button', { type: 'button', class: 'btn danger', onclick: rotate }, icon('refresh', 13), 'Rotate')))),
        h('div', { class: 'form-actions sticky-actions' }, save.button)),
      h('div', { class: 'preview-frame' }, h('div', { class: 'preview-label' }, h('span', { text: 'Live preview' }), h('span', { class: 'muted', text: 'Unsaved changes included' })), mock)));
  el.addEventListener('submit', (event) => { event.preventDefault(); save.run(); });
  return el;
}

// MARK: - Team

function teamSection(page) {
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 5 }, spinner())));
  page.append(sectionHead('Team', 'Everyone who answers conversations and tickets.', h('button', { type: 'button', class: 'btn', onclick: () => edit(null) }, icon('plus', 14), 'Add with a password')),
    invitePanel(() => load()),
    h('div', { class: 'panel' }, h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('caption', { class: 'sr-only', text: 'Team members' }),
      h('thead', {}, h('tr', {}, ['Name', 'Role', 'Status', 'Added', ''].map((x) => h('th', { scope: 'col', text: x })))), tbody))));

  async function load() {
    const agents = await loadAgents();
    replace(tbody, agents.map((a) => h('tr', {},
      h('td', {}, h('div', { class: 'toolbar' }, avatar(a.name || a.email, a.id, 'sm'), h('div', { class: 'cell-main' }, h('span', { class: 'cell-title', text: a.name || '—' }), h('span', { class: 'cell-sub', text: a.email })))),
      h('td', {}, badge(fmt.label(a.role), a.role === 'owner' ? 'ai' : a.role === 'admin' ? 'info' : '')),
      h('td', {}, a.isActive ? badge('Active', 'ok') : badge('Deactivated', 'muted')),
      h('td', {}, h('span', { class: 'muted', text: fmt.short(a.createdAt) })),
      h('td', {}, h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn small', onclick: () => edit(a), 'aria-label': `Edit ${a.name || a.email}` }, icon('edit', 13), 'Edit'),
        a.isActive && a.id !== myId() ? h('button', { type: 'button', class: 'btn small danger', onclick: () => deactivate(a), 'aria-label': `Deactivate ${a.name || a.email}` }, 'Deactivate') : null)))));
  }

  async function edit(agent) {
    const email = h('input', { type: 'email', value: agent?.email || '', required: true, disabled: !!agent });
    const name = h('input', { type: 'text', value: agent?.name || '' });
    const role = select(roleOptions(), agent?.role || 'agent', { disabled: agent?.id === myId() });
    const password = h('input', { type: 'text', autocomplete: 'new-password', placeholder: agent ? 'Leave empty to keep it' : 'At least 10 characters', class: 'mono' });
    const generate = h('button', { type: 'button', class: 'btn small', text: 'Generate', onclick: () => { password.value = randomPassword(); } });
    const active = checkbox('Active (may sign in)', agent ? agent.isActive : true, { disabled: agent?.id === myId() });
    const saved = await openDialog({
      title: agent ? `Edit ${agent.name || agent.email}` : 'Add an agent with a password',
      body: [field('Email', email), field('Name', name), field('Role', role),
        h('div', { class: 'field' }, h('label', { for: password.id = 'agent-password', text: agent ? 'New password' : 'Password' }), h('div', { class: 'secret-box' }, password, generate),
          h('p', { class: 'hint', text: 'Share it with them safely; they can change it in their profile.' })),
        agent ? active.wrap : null],
      actions: [{ label: 'Cancel', value: null }, { label: agent ? 'Save' : 'Add agent', kind: 'primary', value: 'ok', submit: true }],
      async onSubmit() {
        if (password.value && password.value.length < 10) throw new Error('The password needs at least 10 characters.');
        if (agent) {
          const change = { name: name.value.trim(), role: role.value, isActive: active.input.checked };
          if (password.value) change.password = password.value;
          if (agent.id === myId()) { delete change.role; delete change.isActive; }
          await api.patch(`/api/v1/admin/agents/${agent.id}`, change);
        } else {
          if (!email.value.trim()) throw new Error('An email is needed.');
          if (!password.value) throw new Error('Set a password (or generate one).');
          await api.post('/api/v1/admin/agents', { email: email.value.trim(), name: name.value.trim(), role: role.value, password: password.value });
        }
      },
    });
    if (saved) { toast(agent ? 'Agent saved' : 'Agent added', 'success'); load(); }
  }

  async function deactivate(agent) {
    if (!await confirmDialog(`${agent.name || agent.email} will be signed out and can no longer sign in. Their conversations and tickets stay.`, { title: 'Deactivate this agent?', confirm: 'Deactivate', danger: true })) return;
    try { await api.del(`/api/v1/admin/agents/${agent.id}`); toast('Agent deactivated', 'success'); load(); } catch (e) { toast(e.message, 'error'); }
  }

  load().catch((e) => replace(tbody, h('tr', {}, h('td', { colspan: 5 }, empty('The team could not be loaded', e.message)))));
}

/** The roles an admin may give here (owners only by owners), with what each may do. */
function roleOptions() {
  const roles = [['agent', 'Agent: answers conversations and tickets'], ['admin', 'Admin: also manages settings and the team']];
  if (can('manageOwners')) roles.push(['owner', 'Owner: everything, including owners']);
  return roles;
}

/**
 * "Invite by email": the invitee chooses their own password from a link (48 hours, once). Without
 * a mail server (me.emailConfigured false) the form is shown disabled with why, and adding with a
 * password stays the way.
 */
function invitePanel(onInvited) {
  const off = state.me.emailConfigured === false;
  const email = h('input', { type: 'email', name: 'invite-email', autocomplete: 'off', required: true, placeholder: 'name@example.com' });
  const name = h('input', { type: 'text', name: 'invite-name', autocomplete: 'off', maxlength: 120, placeholder: 'Optional: they can set it' });
  const role = select(roleOptions(), 'agent');
  const button = h('button', { type: 'submit', class: 'btn primary' }, icon('mail', 14), 'Send invitation');
  const result = h('p', { class: 'invite-result', role: 'status' });
  const fields = h('fieldset', { class: 'invite-fields', disabled: off },
    h('legend', { class: 'sr-only', text: 'Invitation' }),
    h('div', { class: 'invite-grid' }, field('Email', email), field('Name', name), field('Role', role),
      h('div', { class: 'invite-send' }, button)));
  const el = form(async () => {
    result.textContent = '';
    result.className = 'invite-result';
    const address = email.value.trim();
    if (!/^\S+@\S+$/.test(address)) { say('Enter the email address to send the invitation to.', 'error'); email.focus(); return; }
    button.disabled = true;
    try {
      const agent = await api.post('/api/v1/admin/agents/invite', { email: address, name: name.value.trim() || undefined, role: role.value });
      say(`Invitation sent to ${agent?.email || address}. The link in it works once, for 48 hours.`, 'ok');
      email.value = '';
      name.value = '';
      onInvited();
    } catch (e) {
      say(missingRoute(e) ? 'This Parley server cannot invite by email yet: add the agent with a password.' : e.message, 'error');
    } finally {
      button.disabled = false;
    }
  }, off ? h('p', { class: 'callout', id: 'invite-off' }, icon('alert', 16),
    h('span', { text: 'Email is not configured on this server (PARLEY_SMTP_URL), so invitations can’t be sent, and no email leaves it: no reset links for “Forgot password?” and no notification emails either. Add agents with a password, and set a new one for them (Edit) when they forget theirs.' })) : null,
  fields, result);
  if (off) fields.setAttribute('aria-describedby', 'invite-off');
  function say(text, kind) {
    result.textContent = text;
    result.className = `invite-result ${kind}`;
  }
  return h('section', { class: 'panel invite' },
    h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: 'Invite by email' }),
      h('p', { class: 'hint', text: 'They get a link to choose their own password, so nobody else ever knows it. Or add them with a password you share (the button above).' }))),
    el);
}

function randomPassword() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[b % 56]).join('') + '-' + (bytes[0] % 90 + 10);
}

// MARK: - API keys

function apiKeysSection(page) {
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 6 }, spinner())));
  page.append(sectionHead('API keys', 'For integrations: send as Authorization: Bearer pk_…. The secret is shown once.',
    h('button', { type: 'button', class: 'btn primary', onclick: create }, icon('plus', 14), 'Create key')),
  h('div', { class: 'panel' }, h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
    h('caption', { class: 'sr-only', text: 'API keys' }),
    h('thead', {}, h('tr', {}, ['Name', 'Key', 'Role', 'Created', 'Last used', ''].map((x) => h('th', { scope: 'col', text: x })))), tbody))));

  async function load() {
    try {
      const page2 = await api.get('/api/v1/admin/api-keys?limit=200');
      const keys = page2.data || [];
      if (!keys.length) { replace(tbody, h('tr', {}, h('td', { colspan: 6 }, empty('No API keys', 'Create one for each integration, so each can be revoked alone.')))); return; }
      replace(tbody, keys.map((k) => h('tr', { class: k.revokedAt ? 'revoked' : '' },
        h('td', {}, h('span', { class: 'cell-title', text: k.name })),
        h('td', {}, h('span', { class: 'mono', text: `${k.prefix}…` })),
        h('td', {}, badge(fmt.label(k.role), k.role === 'admin' ? 'info' : '')),
        h('td', {}, h('span', { class: 'muted', text: fmt.short(k.createdAt) })),
        h('td', {}, h('span', { class: 'muted', text: k.lastUsedAt ? fmt.full(k.lastUsedAt) : 'Never' })),
        h('td', {}, h('div', { class: 'row-actions' }, k.revokedAt ? badge('Revoked', 'muted')
          : h('button', { type: 'button', class: 'btn small danger', onclick: () => revoke(k), 'aria-label': `Revoke ${k.name}` }, 'Revoke'))))));
    } catch (e) { replace(tbody, h('tr', {}, h('td', { colspan: 6 }, empty('The keys could not be loaded', e.message)))); }
  }

  async function create() {
    const name = h('input', { type: 'text', required: true, maxlength: 120, placeholder: 'CRM sync' });
    const role = select([['agent', 'Agent'], ['admin', 'Admin']], 'agent');
    let created = null;
    await openDialog({
      title: 'Create an API key',
      body: [field('Name', name, 'What uses it, so you know what breaks when you revoke it.'), field('Role', role)],
      actions: [{ label: 'Cancel', value: null }, { label: 'Create key', kind: 'primary', value: 'ok', submit: true }],
      async onSubmit() {
        if (!name.value.trim()) throw new Error('Give the key a name.');
        created = await api.post('/api/v1/admin/api-keys', { name: name.value.trim(), role: role.value });
      },
    });
    if (!created) return;
    load();
    const secret = h('input', { type: 'text', readOnly: true, value: created.secret, class: 'mono secret-value', 'aria-label': 'The new API key' });
    await openDialog({
      title: 'Your new API key',
      className: 'secret-dialog',
      body: [h('p', { class: 'callout' }, icon('alert', 16), h('span', { text: 'Copy it now: it is shown only once and Parley keeps only a hash of it.' })),
        h('div', { class: 'secret-box' }, secret, h('button', { type: 'button', class: 'btn', onclick: () => copyText(created.secret, secret) }, icon('copy', 13), 'Copy'))],
      actions: [{ label: 'Done', kind: 'primary', value: 'done' }],
    });
  }

  async function revoke(key) {
    if (!await confirmDialog(`Anything using “${key.name}” stops working at once.`, { title: 'Revoke this key?', confirm: 'Revoke', danger: true })) return;
    try { await api.del(`/api/v1/admin/api-keys/${key.id}`); toast('Key revoked', 'success'); load(); } catch (e) { toast(e.message, 'error'); }
  }

  load();
}
