// The screens reachable signed out, each one card on the sign-in page's background:
//
//   (any other hash)       the sign-in form, with its "Forgot password?" link
//   #/forgot               ask for a reset link (the same answer whether the account exists)
//   #/reset/<token>        a reset email's link: a new password (works once, for one hour)
//   #/invitation/<token>   an invitation email's link: a name and a password, then signed in
//
// app.js draws them instead of the shell and hands in what to do once someone is signed in.
// The server cannot tell whether a link is still good without using it, so a used or expired link
// is found out when the form is sent (410 link_expired).

import { api, APIError } from './api.js';
import { h, replace, field } from './dom.js';

const MIN_PASSWORD = 10;

/** The signed-out screen a hash names ({screen, token}), or null for the sign-in and the shell. */
export function accountRoute(hash) {
  if (/^#\/forgot$/.test(hash)) return { screen: 'forgot', token: null };
  const m = /^#\/(reset|invitation)\/([\w-]+)$/.exec(hash);
  return m ? { screen: m[1], token: m[2] } : null;
}

// The email typed last on one of these screens, so the next one starts with it.
let rememberedEmail = '';

// MARK: - Pieces

/** A card form: the brand, a heading, a line of explanation, then `kids`. */
function card(title, intro, ...kids) {
  const id = `${title.toLowerCase().replace(/\W+/g, '-')}-title`;
  return h('form', { class: 'signin-card', novalidate: true, 'aria-labelledby': id },
    h('div', { class: 'signin-brand' }, h('img', { src: '/app/logo.svg', alt: '', width: 40, height: 40 }), h('span', { text: 'Parley' })),
    h('h1', { id, text: title }),
    intro ? h('p', { class: 'signin-intro', text: intro }) : null,
    kids);
}

/** A message under the fields: an error (role=alert) or a confirmation (role=status). */
function message(kind) {
  const el = h('p', { class: kind === 'error' ? 'form-error' : 'form-ok', role: kind === 'error' ? 'alert' : 'status', hidden: true });
  return {
    el,
    show(...parts) { replace(el, parts); el.hidden = false; },
    hide() { el.hidden = true; el.replaceChildren(); },
  };
}

/** A button that says what it is doing while `action` runs, and comes back after. */
async function busy(button, label, action) {
  const text = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try { return await action(); } finally {
    button.disabled = false;
    button.textContent = text;
  }
}

/** A new password typed twice; `problem()` says what is wrong with it, or null. */
function newPassword(label) {
  const first = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  return {
    fields: [field(label, first, `At least ${MIN_PASSWORD} characters.`), field(`${label} again`, again)],
    first,
    value: () => first.value,
    problem() {
      if (first.value.length < MIN_PASSWORD) return `The password needs at least ${MIN_PASSWORD} characters.`;
      if (first.value !== again.value) return 'The two passwords differ: type the same one twice.';
      return null;
    },
  };
}

/** The sentence for a refused link or password; null when the error is something else. */
function linkProblem(e) {
  if (!(e instanceof APIError)) return null;
  if (e.status === 422 && e.field === 'password') return `The password needs at least ${MIN_PASSWORD} characters.`;
  return null;
}

const EXPIRED = 'This link has expired or was used already. ';

function page(root, title, cardEl) {
  document.title = `${title} · Parley`;
  root.removeAttribute('aria-busy');
  root.className = 'signin';
  replace(root, h('main', { class: 'signin-page' }, cardEl));
  cardEl.querySelector('input')?.focus();
}

// MARK: - Sign-in

/**
 * The sign-in form. `message`: why it is shown (an error, e.g. a session that ended); `notice`:
 * good news (a password just changed); `email`: prefilled. `onSignedIn(me)` starts the dashboard.
 */
export function showSignInCard(root, { message: why = '', notice = '', email: prefill = '', onSignedIn }) {
  const email = h('input', { type: 'email', id: 'login-email', name: 'email', autocomplete: 'username', required: true, value: prefill || rememberedEmail });
  const password = h('input', { type: 'password', id: 'login-password', name: 'password', autocomplete: 'current-password', required: true });
  const error = message('error');
  const ok = message('ok');
  if (why) error.show(why);
  if (notice) ok.show(notice);
  const button = h('button', { type: 'submit', class: 'btn primary block', text: 'Sign in' });
  const forgot = h('a', { href: '#/forgot', class: 'signin-forgot', text: 'Forgot password?', onclick: () => { rememberedEmail = email.value.trim(); } });
  const form = card('Sign in to your dashboard', null,
    ok.el,
    h('div', { class: 'field' }, h('label', { for: 'login-email', text: 'Email' }), email),
    h('div', { class: 'field' }, h('div', { class: 'label-row' }, h('label', { for: 'login-password', text: 'Password' }), forgot), password),
    error.el, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hide();
    if (!email.value || !password.value) { error.show('Enter your email and password.'); return; }
    try {
      const me = await busy(button, 'Signing in…', () => api.post('/api/v1/auth/login', { email: email.value.trim(), password: password.value }, { quiet401: true }));
      ok.hide();
      await onSignedIn(me);
    } catch (e) {
      error.show(e instanceof APIError && e.status === 401 ? 'That email and password do not match an account.' : e.message);
      password.select();
    }
  });
  page(root, 'Sign in', form);
  if (email.value) password.focus();
}

// MARK: - Forgot password

function forgotCard() {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, value: rememberedEmail });
  const error = message('error');
  const ok = message('ok');
  const button = h('button', { type: 'submit', class: 'btn primary block', text: 'Send me a link' });
  const form = card('Reset your password', 'Enter the email you sign in with, and we’ll email you a link to choose a new password.',
    field('Email', email), error.el, ok.el, button,
    h('p', { class: 'signin-foot' }, h('a', { href: '#/signin', text: 'Back to sign in' })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hide();
    ok.hide();
    const address = email.value.trim();
    if (!/^\S+@\S+$/.test(address)) { error.show('Enter the email address you sign in with.'); return; }
    rememberedEmail = address;
    try {
      await busy(button, 'Sending…', () => api.post('/api/v1/auth/password/forgot', { email: address }));
      // The same answer whether the account exists: nobody learns who has one.
      ok.show("If an account exists for that address, we've sent a link to reset its password. It works for one hour.",
        h('span', { class: 'form-ok-more', text: 'Nothing after a few minutes? Look in your spam folder, or ask an admin of your team to set a new password for you.' }));
    } catch (e) {
      if (e instanceof APIError && e.status === 429) {
        error.show(`Too many reset links were asked for from here or for this address. ${e.retryAfter ? `Try again in ${waitText(e.retryAfter)}.` : 'Wait a few minutes, then try again.'}`);
      } else error.show(e.message);
    }
  });
  return { title: 'Reset your password', form };
}

function waitText(seconds) {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

// MARK: - A reset link

function resetCard(token, { signIn }) {
  const password = newPassword('New password');
  const error = message('error');
  const button = h('button', { type: 'submit', class: 'btn primary block', text: 'Change password' });
  const fields = h('div', { class: 'stack' }, password.fields);
  const form = card('Choose a new password', 'It replaces your old one, and you are signed out everywhere you were signed in.',
    fields, error.el, button,
    h('p', { class: 'signin-foot' }, h('a', { href: '#/signin', text: 'Back to sign in' })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hide();
    const problem = password.problem();
    if (problem) { error.show(problem); password.first.focus(); return; }
    try {
      const done = await busy(button, 'Changing…', () => api.post('/api/v1/auth/password/reset', { token, password: password.value() }, { quiet401: true }));
      rememberedEmail = done?.email || rememberedEmail;
      signIn({ notice: 'Your password is changed. Sign in with the new one.', email: done?.email });
    } catch (e) {
      if (e instanceof APIError && e.status === 410) {
        fields.hidden = true;
        button.hidden = true;
        error.show(EXPIRED, h('a', { href: '#/forgot', text: 'Ask for a new one.' }));
      } else error.show(linkProblem(e) || e.message);
    }
  });
  return { title: 'Choose a new password', form };
}

// MARK: - An invitation

function invitationCard(token, { signedIn, signIn }) {
  const name = h('input', { type: 'text', autocomplete: 'name', required: true, maxlength: 120 });
  const password = newPassword('Password');
  const error = message('error');
  const button = h('button', { type: 'submit', class: 'btn primary block', text: 'Join and sign in' });
  const fields = h('div', { class: 'stack' }, field('Your name', name, 'Your team sees it, and customers next to your replies.'), password.fields);
  const form = card('Join your team on Parley', 'You were invited to answer your team’s customers. Choose your name and a password, and you are in.',
    fields, error.el, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hide();
    if (!name.value.trim()) { error.show('Enter your name.'); name.focus(); return; }
    const problem = password.problem();
    if (problem) { error.show(problem); password.first.focus(); return; }
    let joined;
    try {
      joined = await busy(button, 'Joining…', () => api.post('/api/v1/auth/invitation/accept', { token, password: password.value(), name: name.value.trim() }, { quiet401: true }));
    } catch (e) {
      if (e instanceof APIError && e.status === 410) {
        fields.hidden = true;
        button.hidden = true;
        error.show(EXPIRED, 'Ask an admin of your team for a new invitation. ', h('a', { href: '#/signin', text: 'Go to sign in' }));
      } else error.show(linkProblem(e) || e.message);
      return;
    }
    // The account is ready: sign in with what was just chosen.
    try {
      const me = await busy(button, 'Signing in…', () => api.post('/api/v1/auth/login', { email: joined.email, password: password.value() }, { quiet401: true }));
      await signedIn(me);
    } catch {
      signIn({ notice: 'You have joined your team. Sign in with your email and the password you chose.', email: joined.email });
    }
  });
  return { title: 'Join your team', form };
}

/**
 * Draws the signed-out screen of `route` into `root`. `signedIn(me)` starts the dashboard with a
 * new session; `signIn({notice, email})` shows the sign-in form.
 */
export function showAccountCard(root, route, handlers) {
  const { title, form } = route.screen === 'forgot' ? forgotCard()
    : route.screen === 'reset' ? resetCard(route.token, handlers)
      : invitationCard(route.token, handlers);
  page(root, title, form);
}
