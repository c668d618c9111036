// Parley's agent dashboard: the entry module.
//
// Signs the agent in (or finds the session after a reload with GET /api/v1/me), draws the shell
// (left navigation, top bar with the notification bell, the view), starts the one shared
// WebSocket, subscribes to the organization's `inbox:` channel (re-broadcast to screens as the
// 'inbox' event of state.js, which alerts.js turns into sounds and desktop notifications) and
// routes the URL's hash to a screen module:
//
//   #/inbox[/active|unassigned|mine|resolved|archived|live]   views-inbox.js (list + conversation)
//   #/chats/<sessionId>                                       views-inbox.js with that conversation
//   #/tickets, #/tickets/<ticketId>                           views-tickets.js
//   #/settings/<section>                                      views-settings.js
//   #/analytics                                               views-analytics.js
//
// Signed out (and reachable signed in, from an email's link): the sign-in, #/forgot, #/reset/<token>
// and #/invitation/<token>, all in account.js.
//
// A screen module exports mount(container, params) -> {update?(params), destroy?()}; when the next
// route uses the same module and it has update(), it is updated in place (the inbox list stays put
// while conversations are opened).

import { api, setCSRF, onUnauthorized, APIError } from './api.js';
import { h, icon, replace, avatar, toast, spinner, debounce } from './dom.js';
import { realtime } from './realtime.js';
import { state, on, emit, loadAgents, orgId } from './state.js';
import { mountBell } from './notifications.js';
import { mountAlerts } from './alerts.js';
import { accountRoute, showAccountCard, showSignInCard } from './account.js';

const root = document.getElementById('app');

// MARK: - Routes

const ROUTES = [
  { re: /^#\/inbox(?:\/(\w+))?$/, module: 'views-inbox', title: 'Inbox', nav: 'inbox', params: (m) => ({ tab: m[1] || null, chat: null }) },
  { re: /^#\/chats\/([\w-]+)$/, module: 'views-inbox', title: 'Inbox', nav: 'inbox', params: (m) => ({ tab: null, chat: m[1] }) },
  { re: /^#\/tickets\/?$/, module: 'views-tickets', title: 'Tickets', nav: 'tickets', params: () => ({ ticket: null }) },
  { re: /^#\/tickets\/([\w-]+)$/, module: 'views-tickets', title: 'Tickets', nav: 'tickets', params: (m) => ({ ticket: m[1] }) },
  { re: /^#\/settings(?:\/([\w-]+))?$/, module: 'views-settings', title: 'Settings', nav: 'settings', params: (m) => ({ section: m[1] || 'profile' }) },
  { re: /^#\/analytics$/, module: 'views-analytics', title: 'Analytics', nav: 'analytics', params: () => ({}) },
];

const NAV = [
  { id: 'inbox', href: '#/inbox', label: 'Inbox', icon: 'inbox' },
  { id: 'tickets', href: '#/tickets', label: 'Tickets', icon: 'ticket' },
  { id: 'analytics', href: '#/analytics', label: 'Analytics', icon: 'chart' },
  { id: 'settings', href: '#/settings', label: 'Settings', icon: 'settings' },
];

let shell = null;      // {view, title, nav: {id: link}, counts: {id: el}}
let shellOffs = [];    // listeners of the drawn shell, removed when it goes (sign-out)
let current = null;    // {module, instance}
let routing = Promise.resolve();

function resolve(hash) {
  for (const route of ROUTES) {
    const m = route.re.exec(hash);
    if (m) return { route, params: route.params(m) };
  }
  return null;
}

async function route() {
  const hash = location.hash || '#/inbox';
  const found = resolve(hash);
  if (!found) { location.replace('#/inbox'); return; }
  const { route: r, params } = found;
  for (const [id, link] of Object.entries(shell.nav)) {
    if (id === r.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  setTitle(r.title);
  if (current && current.module === r.module && current.instance?.update) {
    current.instance.update(params);
    return;
  }
  current?.instance?.destroy?.();
  current = { module: r.module, instance: null };
  replace(shell.view, spinner());
  const token = current;
  try {
    const mod = await import(`./${r.module}.js`);
    if (current !== token) return;
    shell.view.replaceChildren();
    token.instance = mod.mount(shell.view, params) || {};
  } catch (error) {
    console.error(error);
    replace(shell.view, h('div', { class: 'empty' }, h('p', { class: 'empty-title', text: 'This screen failed to load.' }), h('p', { class: 'empty-text', text: String(error.message || error) })));
  }
}

function setTitle(text) {
  if (!shell) return;
  shell.title.textContent = text;
  document.title = `${text} · Parley`;
}
on('title', setTitle);

// MARK: - Signed out

let signedOut = null;  // which signed-out screen is up: 'signin', 'account' or null (the shell)

/** Takes the shell down (its socket, screen and listeners), when someone is shown a signed-out screen. */
function leaveShell() {
  realtime.stop();
  current?.instance?.destroy?.();
  current = null;
  shell = null;
  shellOffs.forEach((off) => off());
  shellOffs = [];
}

/** The sign-in form: `message` says why (a session that ended), `notice` good news, `email` is prefilled. */
function showSignIn(message, { notice, email } = {}) {
  leaveShell();
  signedOut = 'signin';
  showSignInCard(root, { message, notice, email, onSignedIn: start });
}

/** "Forgot password?", a reset link or an invitation (account.js), signed in or not. */
function showAccount(accountScreen) {
  leaveShell();
  signedOut = 'account';
  showAccountCard(root, accountScreen, {
    signedIn(me) {
      history.replaceState(null, '', '#/inbox'); // the used link leaves the address bar
      return start(me);
    },
    signIn({ notice, email }) {
      history.replaceState(null, '', '#/inbox');
      showSignIn('', { notice, email });
    },
  });
}

onUnauthorized(() => {
  if (shell) showSignIn('Your session has ended. Please sign in again.', { email: state.me?.agent?.email });
});

async function signOut() {
  try { await api.post('/api/v1/auth/logout', {}); } catch { /* signed out anyway */ }
  setCSRF(null);
  state.me = null;
  history.replaceState(null, '', '#/inbox');
  showSignIn();
}

// MARK: - The shell

function drawShell() {
  const nav = {};
  const counts = {};
  const links = NAV.map((item) => {
    counts[item.id] = h('span', { class: 'nav-count', hidden: true });
    nav[item.id] = h('a', { href: item.href, class: 'nav-link', title: item.label }, icon(item.icon, 18), h('span', { class: 'nav-label', text: item.label }), counts[item.id]);
    return h('li', {}, nav[item.id]);
  });
  const agent = state.me.agent || {};
  const status = h('span', { class: 'conn', role: 'status' }, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), h('span', { class: 'conn-text', text: 'Connecting…' }));
  shellOffs.push(realtime.onStatus((s) => {
    status.dataset.state = s;
    status.lastChild.textContent = { online: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', offline: 'Offline' }[s] || s;
  }));
  const meName = h('span', { class: 'me-name', text: agent.name || agent.email || 'API key' });
  let meAvatar = avatar(agent.name || agent.email, agent.id, 'sm');
  shellOffs.push(on('me', (me) => {
    meName.textContent = me.agent?.name || me.agent?.email || '';
    const next = avatar(me.agent?.name || me.agent?.email, me.agent?.id, 'sm');
    meAvatar.replaceWith(next);
    meAvatar = next;
  }));
  const sidenav = h('nav', { class: 'sidenav', 'aria-label': 'Main' },
    h('a', { class: 'brand', href: '#/inbox' }, h('img', { src: '/app/logo.svg', alt: '', width: 28, height: 28 }), h('span', { class: 'brand-name', text: 'Parley' })),
    h('ul', { class: 'nav-list' }, links),
    h('div', { class: 'nav-foot' },
      status,
      h('a', { class: 'me', href: '#/settings/profile', title: 'Your profile' }, meAvatar,
        h('span', { class: 'me-text' }, meName, h('span', { class: 'me-role', text: state.me.role }))),
      h('button', { type: 'button', class: 'nav-link signout', onclick: signOut, title: 'Sign out' }, icon('logout', 18), h('span', { class: 'nav-label', text: 'Sign out' }))));
  const title = h('h1', { class: 'page-title', id: 'page-title' });
  const actions = h('div', { class: 'top-actions' });
  const view = h('main', { id: 'view', class: 'view', tabindex: '-1', 'aria-labelledby': 'page-title' });
  root.className = 'shell';
  root.removeAttribute('aria-busy');
  replace(root,
    h('a', { class: 'skip-link', href: '#view', onclick: (e) => { e.preventDefault(); view.focus(); }, text: 'Skip to content' }),
    sidenav,
    h('div', { class: 'main' }, h('header', { class: 'topbar' }, title, actions), view));
  shellOffs.push(mountBell(actions));
  shellOffs.push(mountAlerts());
  return { view, title, nav, counts };
}

function setCount(id, n, label) {
  const el = shell?.counts[id];
  if (!el) return;
  el.hidden = !n;
  el.textContent = n > 99 ? '99+' : String(n || '');
  el.setAttribute('aria-label', label);
  el.title = label;
}

/** Nav badges: conversations waiting for a person, open tickets. */
const refreshCounts = debounce(async () => {
  try {
    const [chats, tickets] = await Promise.all([api.get('/api/v1/admin/chats/counts'), api.get('/api/v1/admin/tickets/counts')]);
    setCount('inbox', chats.escalated || 0, `${chats.escalated || 0} waiting for a person`);
    setCount('tickets', tickets.open || 0, `${tickets.open || 0} open tickets`);
    emit('counts', { chats, tickets });
  } catch { /* the badges stay as they were */ }
}, 400);
on('refresh-counts', refreshCounts);

// MARK: - Start

/** Probes the endpoints added with the dashboard, so older servers degrade instead of failing. */
async function probeFeatures() {
  try {
    state.prefs = await api.get('/api/v1/me/preferences');
    state.features.preferences = true;
  } catch {
    state.features.preferences = false;
    state.prefs = null;
  }
}

async function start(me) {
  signedOut = null;
  state.me = me;
  setCSRF(me.csrfToken);
  await Promise.all([loadAgents(), probeFeatures()]);
  shell = drawShell();
  realtime.start();
  realtime.subscribe(`inbox:${orgId()}`, (event) => {
    emit('inbox', event);
    if (event.type === 'event' && /^(session\.|ticket\.)/.test(event.name)) refreshCounts();
    if (event.type === 'subscribed' && event.resumed) refreshCounts();
  });
  refreshCounts();
  if (!resolve(location.hash)) history.replaceState(null, '', '#/inbox'); // also #/signin, an account screen's way back
  navigate();
}

/** Routes one hash change after the other (a failed one never blocks the next). */
function navigate() {
  routing = routing.then(route).catch((error) => console.error('route failed', error));
}

window.addEventListener('hashchange', () => {
  const accountScreen = accountRoute(location.hash);
  if (accountScreen) showAccount(accountScreen);
  else if (shell) navigate();
  else if (signedOut === 'account') boot(); // back from an account screen: signed in already, or the sign-in
});

async function boot() {
  const accountScreen = accountRoute(location.hash);
  if (accountScreen) { showAccount(accountScreen); return; }  // public: no session needed
  try {
    const me = await api.get('/api/v1/me', { quiet401: true });
    if (!me.agent) throw new APIError(401, 'unauthorized', 'Sign in');
    await start(me);
  } catch (error) {
    showSignIn(error instanceof APIError && error.status !== 401 ? error.message : '');
  }
}

window.addEventListener('unhandledrejection', (event) => {
  const error = event.reason;
  if (error instanceof APIError && error.status !== 401) toast(error.message, 'error');
});

boot();
