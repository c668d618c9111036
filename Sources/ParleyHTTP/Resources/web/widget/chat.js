/*
 * Parley's chat UI. Runs inside the widget's iframe (/widget/frame.html?site=KEY&host=ORIGIN), which
 * the loader (/widget.js) puts on the host page. It talks to:
 *   - the loader, by postMessage: every message is {parley: 1, type, ...}; only the parent window at
 *     the `host` origin is listened to and written to;
 *   - the Parley server: REST under /api/v1 with the visitor's Bearer token, and one WebSocket
 *     (/api/v1/realtime) for live events, falling back to polling when sockets fail.
 *
 * Delivery: the visitor's token, session and visitorId live in localStorage, and so does the
 * outbox of messages not yet acknowledged, each with a clientId the server dedupes by. After a
 * reconnect the socket resubscribes with `after` = the last seq seen, so missed messages arrive
 * once and in order; messages are kept by id and sorted by seq.
 *
 * Safety: every bit of text from the network (bodies, names, titles, file names) goes into the page
 * through textContent / createTextNode / setAttribute, never innerHTML.
 */
(function () {
  'use strict';

  // MARK: - Strings: every word the visitor sees, per language ({name} placeholders).

  var STRINGS = {
    en: {
      chat: 'Chat', openChat: 'Open chat', closeChat: 'Close chat', unread: '{n} unread',
      connecting: 'Connecting…', online: 'Online', offline: 'Offline. Messages will be sent when you are back.',
      polling: 'Online (slow connection mode)', conversation: 'Conversation',
      you: 'You', assistant: 'Assistant', team: 'Support team',
      withdrawn: 'The assistant stopped this answer: our help articles do not support it.',
      placeholder: 'Write a message…', message: 'Message', send: 'Send',
      attach: 'Attach an image or PDF', removeFile: 'Remove the file',
      human: 'Talk to a person', waitingHuman: 'Waiting for a person from our team…',
      withHuman: 'You are chatting with our team.', closed: 'This conversation has ended. Write to start again.',
      sending: 'Sending…', queued: 'Will be sent when you are back online', failed: 'Not sent:', retry: 'Retry',
      seen: 'Seen', sent: 'Sent', today: 'Today', yesterday: 'Yesterday',
      sources: 'Sources', rate: 'Was this answer helpful?', helpful: 'Helpful', notHelpful: 'Not helpful',
      thanks: 'Thanks for your feedback.', offerHuman: 'Sorry this did not help. Would you like to talk to a person?',
      typing: '{name} is typing…', aiTyping: 'The assistant is writing…',
      emailAsk: 'Leave your email so we can reply even if you leave.', email: 'Email', save: 'Save',
      emailSaved: 'Thanks! We will also reply to {email}.',
      offlineTitle: 'We are away right now', offlineText: 'Leave us a message and we will reply by email.',
      yourMessage: 'Your message', leaveMessage: 'Send message',
      offlineSent: 'Thanks! We got your message and will reply by email.', chatWithAI: 'Chat with our assistant instead',
      leaveAMessage: 'Leave a message', tickets: 'My tickets', noTickets: 'You have no tickets yet.',
      backToChat: 'Back to the chat', backToTickets: 'All tickets', reply: 'Reply', loading: 'Loading…',
      newMessages: 'New messages', fileTooBig: 'This file is too big: at most {max}.',
      fileType: 'Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent.',
      uploadFailed: 'The file could not be sent.', offlineUpload: 'You are offline: send the file when you are back.',
      error: 'Something went wrong. Please try again.', attachment: 'Attachment: {name}',
      status_open: 'Open', status_pending: 'Pending', status_in_progress: 'In progress',
      status_waiting_on_customer: 'Waiting for you', status_resolved: 'Resolved', status_closed: 'Closed',
      offlineTextHere: 'Leave us a message; we’ll reply here when we’re back.',
      offlineSentHere: 'Thanks! We got your message. Come back here for our reply.',
      offlineTextLater: 'Leave us a message and your email; our team will read it when we’re back.',
      offlineSentLater: 'Thanks! We got your message. Our team will read it when we’re back.',
      emailAskNoMail: 'Leave your email so our team can contact you if needed.',
      emailSavedNoMail: 'Thanks! Our team can contact you at {email}.',
      rateChat: 'How was this conversation?', star1: '1 star', stars: '{n} stars',
      ratingComment: 'Anything to add? (optional)', sendRating: 'Send rating', ratingThanks: 'Thanks for your rating.',
      hidePreview: 'Hide preview'
    },
    fr: {
      chat: 'Discussion', openChat: 'Ouvrir la discussion', closeChat: 'Fermer la discussion', unread: '{n} non lus',
      connecting: 'Connexion…', online: 'En ligne', offline: 'Hors ligne. Les messages partiront à votre retour.',
      polling: 'En ligne (mode connexion lente)', conversation: 'Conversation',
      you: 'Vous', assistant: 'Assistant', team: 'Équipe support',
      withdrawn: 'L’assistant a retiré cette réponse : nos articles d’aide ne la confirment pas.',
      placeholder: 'Écrivez un message…', message: 'Message', send: 'Envoyer',
      attach: 'Joindre une image ou un PDF', removeFile: 'Retirer le fichier',
      human: 'Parler à une personne', waitingHuman: 'En attente d’une personne de notre équipe…',
      withHuman: 'Vous discutez avec notre équipe.', closed: 'Cette conversation est terminée. Écrivez pour recommencer.',
      sending: 'Envoi…', queued: 'Sera envoyé à votre retour en ligne', failed: 'Non envoyé :', retry: 'Réessayer',
      seen: 'Vu', sent: 'Envoyé', today: 'Aujourd’hui', yesterday: 'Hier',
      sources: 'Sources', rate: 'Cette réponse vous a-t-elle aidé ?', helpful: 'Utile', notHelpful: 'Pas utile',
      thanks: 'Merci pour votre avis.', offerHuman: 'Désolé. Voulez-vous parler à une personne ?',
      typing: '{name} écrit…', aiTyping: 'L’assistant rédige…',
      emailAsk: 'Laissez votre e-mail pour que nous puissions vous répondre même si vous partez.', email: 'E-mail',
      save: 'Enregistrer', emailSaved: 'Merci ! Nous répondrons aussi à {email}.',
      offlineTitle: 'Nous sommes absents', offlineText: 'Laissez-nous un message, nous répondrons par e-mail.',
      yourMessage: 'Votre message', leaveMessage: 'Envoyer le message',
      offlineSent: 'Merci ! Nous avons reçu votre message et répondrons par e-mail.',
      chatWithAI: 'Discuter plutôt avec notre assistant', leaveAMessage: 'Laisser un message',
      tickets: 'Mes demandes', noTickets: 'Vous n’avez pas encore de demande.', backToChat: 'Retour à la discussion',
      backToTickets: 'Toutes les demandes', reply: 'Répondre', loading: 'Chargement…',
      newMessages: 'Nouveaux messages', fileTooBig: 'Ce fichier est trop lourd : {max} au plus.',
      fileType: 'Seules les images (PNG, JPEG, GIF, WebP) et les PDF peuvent être envoyés.',
      uploadFailed: 'Le fichier n’a pas pu être envoyé.', offlineUpload: 'Vous êtes hors ligne : envoyez le fichier à votre retour.',
      error: 'Une erreur est survenue. Veuillez réessayer.', attachment: 'Pièce jointe : {name}',
      status_open: 'Ouverte', status_pending: 'En attente', status_in_progress: 'En cours',
      status_waiting_on_customer: 'En attente de votre réponse', status_resolved: 'Résolue', status_closed: 'Fermée',
      offlineTextHere: 'Laissez-nous un message ; nous vous répondrons ici à notre retour.',
      offlineSentHere: 'Merci ! Nous avons reçu votre message. Revenez ici pour lire notre réponse.',
      offlineTextLater: 'Laissez-nous un message et votre e-mail ; notre équipe le lira à son retour.',
      offlineSentLater: 'Merci ! Nous avons reçu votre message. Notre équipe le lira à son retour.',
      emailAskNoMail: 'Laissez votre e-mail pour que notre équipe puisse vous contacter si besoin.',
      emailSavedNoMail: 'Merci ! Notre équipe pourra vous contacter à {email}.',
      rateChat: 'Comment s’est passée cette conversation ?', star1: '1 étoile', stars: '{n} étoiles',
      ratingComment: 'Un commentaire ? (facultatif)', sendRating: 'Envoyer la note', ratingThanks: 'Merci pour votre note.',
      hidePreview: 'Masquer l’aperçu'
    },
    de: {
      chat: 'Chat', openChat: 'Chat öffnen', closeChat: 'Chat schließen', unread: '{n} ungelesen',
      connecting: 'Verbinde…', online: 'Online', offline: 'Offline. Nachrichten werden gesendet, sobald Sie wieder online sind.',
      polling: 'Online (Modus für langsame Verbindungen)', conversation: 'Unterhaltung',
      you: 'Sie', assistant: 'Assistent', team: 'Support-Team',
      withdrawn: 'Der Assistent hat diese Antwort zurückgezogen: Unsere Hilfeartikel stützen sie nicht.',
      placeholder: 'Nachricht schreiben…', message: 'Nachricht', send: 'Senden',
      attach: 'Bild oder PDF anhängen', removeFile: 'Datei entfernen',
      human: 'Mit einem Menschen sprechen', waitingHuman: 'Wir holen jemanden aus unserem Team…',
      withHuman: 'Sie chatten mit unserem Team.', closed: 'Diese Unterhaltung ist beendet. Schreiben Sie, um neu zu beginnen.',
      sending: 'Wird gesendet…', queued: 'Wird gesendet, sobald Sie online sind', failed: 'Nicht gesendet:',
      retry: 'Erneut versuchen', seen: 'Gelesen', sent: 'Gesendet', today: 'Heute', yesterday: 'Gestern',
      sources: 'Quellen', rate: 'War diese Antwort hilfreich?', helpful: 'Hilfreich', notHelpful: 'Nicht hilfreich',
      thanks: 'Danke für Ihr Feedback.', offerHuman: 'Das tut uns leid. Möchten Sie mit einem Menschen sprechen?',
      typing: '{name} schreibt…', aiTyping: 'Der Assistent schreibt…',
      emailAsk: 'Hinterlassen Sie Ihre E-Mail, damit wir auch später antworten können.', email: 'E-Mail',
      save: 'Speichern', emailSaved: 'Danke! Wir antworten auch an {email}.',
      offlineTitle: 'Wir sind gerade nicht da', offlineText: 'Hinterlassen Sie uns eine Nachricht, wir antworten per E-Mail.',
      yourMessage: 'Ihre Nachricht', leaveMessage: 'Nachricht senden',
      offlineSent: 'Danke! Wir haben Ihre Nachricht erhalten und antworten per E-Mail.',
      chatWithAI: 'Stattdessen mit dem Assistenten chatten', leaveAMessage: 'Nachricht hinterlassen',
      tickets: 'Meine Anfragen', noTickets: 'Sie haben noch keine Anfragen.', backToChat: 'Zurück zum Chat',
      backToTickets: 'Alle Anfragen', reply: 'Antworten', loading: 'Lädt…',
      newMessages: 'Neue Nachrichten', fileTooBig: 'Die Datei ist zu groß: höchstens {max}.',
      fileType: 'Nur Bilder (PNG, JPEG, GIF, WebP) und PDF-Dateien können gesendet werden.',
      uploadFailed: 'Die Datei konnte nicht gesendet werden.', offlineUpload: 'Sie sind offline: senden Sie die Datei später.',
      error: 'Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.', attachment: 'Anhang: {name}',
      status_open: 'Offen', status_pending: 'Wartend', status_in_progress: 'In Bearbeitung',
      status_waiting_on_customer: 'Wartet auf Sie', status_resolved: 'Gelöst', status_closed: 'Geschlossen',
      offlineTextHere: 'Hinterlassen Sie uns eine Nachricht; wir antworten hier, sobald wir zurück sind.',
      offlineSentHere: 'Danke! Wir haben Ihre Nachricht erhalten. Schauen Sie hier wieder vorbei, um unsere Antwort zu lesen.',
      offlineTextLater: 'Hinterlassen Sie uns eine Nachricht und Ihre E-Mail; unser Team liest sie, sobald wir zurück sind.',
      offlineSentLater: 'Danke! Wir haben Ihre Nachricht erhalten. Unser Team liest sie, sobald wir zurück sind.',
      emailAskNoMail: 'Hinterlassen Sie Ihre E-Mail, damit unser Team Sie bei Bedarf kontaktieren kann.',
      emailSavedNoMail: 'Danke! Unser Team kann Sie unter {email} erreichen.',
      rateChat: 'Wie war diese Unterhaltung?', star1: '1 Stern', stars: '{n} Sterne',
      ratingComment: 'Möchten Sie etwas ergänzen? (optional)', sendRating: 'Bewertung senden', ratingThanks: 'Danke für Ihre Bewertung.',
      hidePreview: 'Vorschau ausblenden'
    }
  };

  // MARK: - Parameters and constants

  var params = new URLSearchParams(location.search);
  var SITE = params.get('site') || '';
  // The host page's origin, the only one spoken to (absent when the frame is opened on its own).
  var HOST = /^(https?:\/\/[^/]+|null)$/.test(params.get('host') || '') ? params.get('host') : null;
  var TRANSPORT = params.get('transport'); // "poll" skips WebSockets (for networks that block them)
  var API = '/api/v1';
  var PROTOCOL = 1; // the postMessage protocol's version
  var MAX_FILE = 10 * 1024 * 1024;
  var FILE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];

  var lang = [params.get('lang')].concat(navigator.languages || [navigator.language])
    .map(function (l) { return (l || '').slice(0, 2).toLowerCase(); })
    .filter(function (l) { return STRINGS[l]; })[0] || 'en';
  var T = STRINGS[lang];
  document.documentElement.lang = lang;

  function t(key, vars) {
    return (T[key] || STRINGS.en[key] || key).replace(/\{(\w+)\}/g, function (_, name) { return vars[name]; });
  }

  // MARK: - Saved state
  //
  // visitorId, token, sessionId, userId, lastSeq, email (left for replies), rated {messageId: rating},
  // peekOff (the id of the message whose preview the visitor hid), outbox [{clientId, body, at, error?}]. In a host page it is kept in that page's localStorage by
  // the loader (first-party storage: browsers that block third-party storage would otherwise lose
  // it on every page), handed over in `init` and written back with `store`. Opened on its own, the
  // frame keeps it in its own localStorage (or in memory when that is blocked too).

  var EMBEDDED = !!HOST && window.parent !== window;
  var STORE_KEY = 'parley:' + SITE;
  var storage = null;
  if (!EMBEDDED) {
    try { storage = window.localStorage; storage.getItem(STORE_KEY); } catch (e) { storage = null; }
  }
  var saved = {};
  function restore(text) {
    saved = parseJSON(text || '{}', {}) || {};
    saved.outbox = Array.isArray(saved.outbox) ? saved.outbox : [];
    saved.rated = saved.rated || {};
  }
  restore(storage && storage.getItem(STORE_KEY));

  function persist() {
    var text = JSON.stringify(saved);
    if (EMBEDDED) toHost({ type: 'store', data: text });
    else if (storage) try { storage.setItem(STORE_KEY, text); } catch (e) { /* full: keep going in memory */ }
  }

  // MARK: - Runtime state

  var config = null;
  var S = {
    open: false, compact: false, view: 'chat', started: false, startFailed: false, identified: false,
    user: null, page: null, status: null, satisfaction: null, rating: '',
    list: [], byId: {}, lastSeq: 0, readSeq: 0, agentReadSeq: 0, unread: -1, peek: '',
    streams: {}, finished: {}, file: null, stuck: true
  };
  var conn = {
    ws: null, subscribed: false, attempts: 0, wsFailures: 0, polling: false, pollOK: null,
    sent: {}, timer: 0, pollTimer: 0, pingTimer: 0, state: ''
  };
  var ui = {};
  var fastPollUntil = 0; // polling every second for a while after the visitor writes (replies come soon)

  // MARK: - DOM helpers

  /** An element with attributes (`text` sets textContent, `on*` adds listeners) and children. */
  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    (kids || []).forEach(function (c) { if (c) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return el;
  }

  var I = { // 24x24 stroked icons
    chat: 'M21 11.5a8.4 8.4 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.4 8.4 0 0 1-3.8-.9L3 21l1.9-5.7a8.4 8.4 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.4 8.4 0 0 1 3.8-.9h.5a8.5 8.5 0 0 1 8 8v.5z',
    close: 'M18 6 6 18M6 6l12 12',
    send: 'M22 2 11 13M22 2l-7 20-4-9-9-4z',
    clip: 'm21.4 11.1-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5',
    up: 'M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.3a2 2 0 0 0 2-1.7l1.4-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3',
    down: 'M10 15v4a3 3 0 0 0 3 3l4-9V2H5.7a2 2 0 0 0-2 1.7l-1.4 9a2 2 0 0 0 2 2.3zm7-13h2.7A2.3 2.3 0 0 1 22 4v7a2.3 2.3 0 0 1-2.3 2H17',
    person: 'M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z',
    list: 'M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01',
    back: 'M19 12H5M12 19l-7-7 7-7',
    file: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6',
    arrow: 'M12 5v14M19 12l-7 7-7-7',
    star: 'm12 2.5 2.9 5.9 6.6 1-4.8 4.6 1.1 6.5-5.8-3.1-5.8 3.1 1.1-6.5-4.8-4.6 6.6-1z'
  };
  function icon(name) {
    var NS = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'icon icon-' + name);
    var path = document.createElementNS(NS, 'path');
    path.setAttribute('d', I[name]);
    svg.appendChild(path);
    return svg;
  }

  /** Appends `text` to `el`, turning http(s) links into anchors (as text nodes and elements only). */
  function appendText(el, text) {
    var re = /https?:\/\/[^\s<>"']+/g, last = 0, match;
    text = String(text || '');
    while ((match = re.exec(text))) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, '');
      el.appendChild(document.createTextNode(text.slice(last, match.index)));
      el.appendChild(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: url }));
      last = match.index + url.length;
      re.lastIndex = last;
    }
    el.appendChild(document.createTextNode(text.slice(last)));
  }

  function isWebURL(url) { return /^https?:\/\//i.test(url || ''); }
  function parseJSON(text, fallback) { try { return JSON.parse(text); } catch (e) { return fallback; } }
  function newID() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return 'w' + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }
  function fileSize(n) { return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.round(n / 1024)) + ' KB'; }

  // MARK: - Colours: the configured accent, with text colours that keep WCAG AA contrast

  function rgb(hex) { return [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16); }); }
  function luminance(hex) {
    var c = rgb(hex).map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function darken(hex) {
    return '#' + rgb(hex).map(function (v) { return (Math.floor(v * 0.9) + 256).toString(16).slice(1); }).join('');
  }
  function applyTheme(color) {
    var accent = /^#[0-9a-f]{6}$/i.test(color || '') ? color : '#2563eb';
    // Text on the accent: white if it reads (4.5:1), else near-black, else black (always >= 4.58:1).
    var on = ['#ffffff', '#111111', '#000000'].filter(function (c) { return contrast(c, accent) >= 4.5; })[0] || '#000000';
    // The accent as text or outline on white and on the grey of bubbles (#f3f4f6: links, chips,
    // focus rings): darkened until it reads.
    var ink = accent;
    while (contrast(ink, '#f3f4f6') < 4.5) ink = darken(ink);
    var root = document.documentElement.style;
    root.setProperty('--accent', accent);
    root.setProperty('--on-accent', on);
    root.setProperty('--accent-ink', ink);
  }

  // MARK: - Talking to the host page (the loader)

  function toHost(message) {
    if (!HOST || window.parent === window) return;
    message.parley = PROTOCOL;
    window.parent.postMessage(message, HOST === 'null' ? '*' : HOST);
  }
  function emit(name, data) { toHost({ type: 'event', name: name, data: data }); }

  window.addEventListener('message', function (event) {
    if (!HOST || event.source !== window.parent || (HOST !== 'null' && event.origin !== HOST)) return;
    var d = event.data;
    if (!d || d.parley !== PROTOCOL || typeof d.type !== 'string') return;
    if (d.type === 'init') {
      S.page = typeof d.page === 'string' ? d.page.slice(0, 2000) : null;
      setCompact(!!d.compact);
      S.user = cleanUser(d.user);
      if (!S.started) restore(d.stored);
      resume();
    } else if (d.type === 'identify') identify(d.user);
    else if (d.type === 'open') toggle(true);
    else if (d.type === 'close') toggle(false);
    else if (d.type === 'compact') setCompact(!!d.on);
  });

  function cleanUser(user) {
    if (!user || typeof user !== 'object' || user.id == null || user.id === '') return null;
    var clean = { id: String(user.id) };
    ['email', 'name', 'userHash'].forEach(function (k) { if (typeof user[k] === 'string' && user[k]) clean[k] = user[k]; });
    return clean;
  }

  /** `Parley.identify(...)`: (re)starts the conversation as that user when it changes. */
  function identify(user) {
    user = cleanUser(user);
    if (!user) return;
    var same = S.user && S.user.id === user.id && S.user.userHash === user.userHash;
    S.user = user;
    if (!same) startSession().catch(noop);
  }

  function setCompact(on) {
    S.compact = on;
    document.body.classList.toggle('compact', on);
    if (ui.panel) ui.panel.setAttribute('aria-modal', String(on));
  }

  /** Tells the loader how big the closed widget (the launcher, the preview above it, a margin) is. */
  function reportSize() {
    var r = ui.launcher.getBoundingClientRect(), width = r.width, height = r.height;
    if (!ui.peek.hidden) {
      var p = ui.peek.getBoundingClientRect();
      width = Math.max(width, p.width);
      height += p.height + 12;
    }
    toHost({ type: 'size', width: Math.ceil(width) + 32, height: Math.ceil(height) + 32 });
  }

  // MARK: - REST

  function noop() {}

  /** fetch() on the API; resolves with the JSON body, rejects with an Error carrying status/code. */
  function api(method, path, body, options) {
    options = options || {};
    var headers = {};
    if (saved.token && !options.anonymous) headers.Authorization = 'Bearer ' + saved.token;
    var init = { method: method, headers: headers, cache: 'no-store' };
    if (options.raw) { init.body = options.raw; headers['Content-Type'] = options.type; }
    else if (body !== undefined) { init.body = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
    return fetch(API + path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = parseJSON(text, null);
        if (response.ok) return data;
        var error = new Error((data && data.error && data.error.message) || response.statusText);
        error.status = response.status;
        error.code = data && data.error && data.error.code;
        error.retryAfter = +response.headers.get('Retry-After') || 0;
        if (response.status === 401 && !options.anonymous && S.started) {
          // The token expired or the server forgot us: start again (the outbox stays).
          S.started = false;
          saved.token = null;
          persist();
          startSession().catch(noop);
        }
        throw error;
      });
    });
  }
  function sessionPath(rest) { return '/chat/sessions/' + encodeURIComponent(saved.sessionId) + rest; }

  // MARK: - The conversation

  var starting = null;

  /** Starts or resumes the visitor's conversation (POST /chat/sessions), then connects. */
  function startSession() {
    if (starting) {
      // One start at a time; an identify() that came meanwhile starts again as that user.
      var running = starting;
      return running.then(function () { return S.user !== running.user ? startSession() : null; });
    }
    var user = S.user;
    if (user && saved.userId && saved.userId !== user.id) {
      // Another person signed in on this browser: never show them the previous one's conversation.
      restore('{}');
      persist();
    }
    var body = { site: SITE, page: S.page || undefined, visitorId: saved.visitorId || undefined, user: user || undefined };
    var request = api('POST', '/chat/sessions', body, { anonymous: true }).then(function (res) {
      starting = null;
      var changed = res.session.id !== saved.sessionId;
      saved.visitorId = res.visitorId;
      saved.token = res.token;
      saved.sessionId = res.session.id;
      saved.userId = res.identified && user ? user.id : null;
      // The server knows the email the visitor left (on any device): never ask again.
      if (res.email) saved.email = res.email;
      if (changed) saved.lastSeq = 0;
      persist();
      S.identified = res.identified;
      ui.ticketsButton.hidden = !res.identified;
      S.started = true;
      S.startFailed = false;
      if (changed) resetConversation();
      applySession(res.session);
      ingest(res.messages || [], false);
      ui.offlineEmail.required = !S.identified;
      renderStatus();
      reconnect();
      return res;
    }, function (error) {
      starting = null;
      if (error.status === 401 && user) {
        // The site did not sign this identity (userHash): carry on anonymously.
        if (window.console) console.warn('Parley: identify() was refused: ' + error.message);
        S.user = null;
        return startSession();
      }
      S.startFailed = true;
      updateConnection();
      if (!error.status) setTimeout(function () { if (!S.started) startSession().catch(noop); }, 5000);
      throw error;
    });
    request.user = user;
    starting = request;
    return request;
  }
  function ensureSession() { return S.started ? Promise.resolve() : startSession(); }

  function resetConversation() {
    closeSocket();
    S.list = []; S.byId = {}; S.lastSeq = 0; S.readSeq = 0; S.agentReadSeq = 0; S.streams = {}; S.finished = {};
    S.satisfaction = null;
    ui.list.textContent = '';
    ui.streams.textContent = '';
    renderRating();
  }

  function applySession(session) {
    if (!session) return;
    if (session.visitorReadSeq > S.readSeq) S.readSeq = session.visitorReadSeq;
    if (session.agentReadSeq > S.agentReadSeq) S.agentReadSeq = session.agentReadSeq;
    // Only ever set: views that leave it out (the polling history) say nothing about it.
    if (session.satisfaction) S.satisfaction = session.satisfaction;
    if (session.status && session.status !== S.status) {
      S.status = session.status;
      if (S.status !== 'ai_active') hideTyping();
      renderStatus();
    }
    renderRating();
    renderReceipt();
    updateUnread();
  }

  /** Adds messages (deduped by id), keeps them in seq order, and redraws what changed. */
  function ingest(messages, live) {
    var added = [], appendOnly = true;
    messages.forEach(function (m) {
      if (!m || !m.id || S.byId[m.id] || m.sessionId && m.sessionId !== saved.sessionId) return;
      S.byId[m.id] = m;
      if (m.clientId) dropFromOutbox(m.clientId);
      var streamID = m.metadata && m.metadata.streamId;
      if (streamID) endStream(streamID);
      var i = S.list.length;
      while (i > 0 && S.list[i - 1].seq > m.seq) i--;
      S.list.splice(i, 0, m);
      if (i !== S.list.length - 1) appendOnly = false;
      if (m.seq > S.lastSeq) S.lastSeq = m.seq;
      added.push(m);
    });
    if (!added.length) return;
    if (appendOnly) {
      added.sort(function (a, b) { return a.seq - b.seq; });
      added.forEach(function (m) { appendMessage(m, S.list[S.list.indexOf(m) - 1]); });
    } else renderList();
    if (S.lastSeq > (saved.lastSeq || 0)) { saved.lastSeq = S.lastSeq; persist(); }
    var fromOthers = added.filter(function (m) { return m.role !== 'user'; });
    if (fromOthers.length) hideTyping();
    if (live) {
      added.forEach(function (m) {
        emit('message', { id: m.id, seq: m.seq, role: m.role, body: m.body, createdAt: m.createdAt });
      });
      // One announcement per new message from the other side; a streamed reply is announced here,
      // once, when its final text arrives (the stream itself is hidden from assistive technology).
      if (S.open && fromOthers.length) {
        announce(fromOthers.map(function (m) { return (sender(m) ? sender(m) + ': ' : '') + shownBody(m); }).join('\n'));
      }
    }
    renderReceipt();
    renderChips();
    updateUnread();
    // Follow the conversation, unless the visitor scrolled up to read: then offer a way down.
    if (S.stuck || added.some(function (m) { return m.role === 'user'; })) scrollDown();
    else if (fromOthers.length) ui.jump.hidden = false;
  }

  /** A message's text as shown: an AI reply's citation marks ("[A1]") become its list of sources. */
  function shownBody(m) {
    var body = String(m.body || '');
    return m.role === 'ai' ? body.replace(/\s*\[A\d+(\s*,\s*A\d+)*\]/g, '') : body;
  }

  function sender(m) {
    if (m.role === 'agent') return (m.metadata && m.metadata.authorName) || t('team');
    return m.role === 'user' ? t('you') : m.role === 'ai' ? t('assistant') : '';
  }

  // MARK: - Rendering messages

  var timeFormat = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });
  var dayFormat = new Intl.DateTimeFormat(lang, { weekday: 'long', day: 'numeric', month: 'long' });
  function dayKey(date) { return date.getFullYear() + '-' + date.getMonth() + '-' + date.getDate(); }
  function dayLabel(date) {
    var now = new Date(), yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    return dayKey(date) === dayKey(now) ? t('today') : dayKey(date) === dayKey(yesterday) ? t('yesterday') : dayFormat.format(date);
  }

  function renderList() {
    ui.list.textContent = '';
    S.list.forEach(function (m, i) { appendMessage(m, S.list[i - 1]); });
  }

  function appendMessage(m, previous) {
    var date = new Date(m.createdAt);
    if (!previous || dayKey(new Date(previous.createdAt)) !== dayKey(date)) {
      ui.list.appendChild(h('h2', { class: 'day', text: dayLabel(date) }));
    }
    ui.list.appendChild(messageElement(m));
  }

  function messageElement(m) {
    var role = ['user', 'ai', 'agent', 'system'].indexOf(m.role) >= 0 ? m.role : 'system';
    var el = h('div', { class: 'msg ' + role + (m.local ? ' local' : ''), id: 'm-' + m.id, 'data-seq': m.seq });
    if (role === 'ai' || role === 'agent') el.appendChild(h('div', { class: 'who', text: sender(m) }));
    var bubble = h('div', { class: 'bubble' });
    if (role === 'user') bubble.appendChild(h('span', { class: 'sr-only', text: t('you') + ': ' }));
    var body = shownBody(m), files = Array.isArray(m.attachments) ? m.attachments : [];
    // An upload's message says the file's name, which its attachment already shows.
    if (files.length === 1 && files[0] && files[0].name === body) body = '';
    appendText(bubble, body);
    var atts = attachmentsElement(files), sources = sourcesElement(m.metadata || {});
    if (body) el.appendChild(bubble);
    if (atts) el.appendChild(atts);
    if (sources) el.appendChild(sources);
    if (role !== 'system') {
      el.appendChild(h('div', { class: 'meta' }, [
        h('time', { datetime: m.createdAt, text: timeFormat.format(new Date(m.createdAt)) })
      ]));
    }
    if (role === 'ai') el.appendChild(feedbackElement(m));
    return el;
  }

  /** The articles an AI reply cites (metadata.citations, JSON) or the one it offers (articleUrl). */
  function sourcesElement(metadata) {
    var items = metadata.citations ? parseJSON(metadata.citations, []) : [];
    if (!Array.isArray(items)) items = [];
    if (metadata.articleTitle) items.push({ title: metadata.articleTitle, url: metadata.articleUrl });
    items = items.filter(function (x) { return x && x.title; });
    if (!items.length) return null;
    return h('div', { class: 'sources' }, [
      h('span', { class: 'sources-label', text: t('sources') }),
      h('ul', {}, items.map(function (x) {
        return h('li', {}, [isWebURL(x.url)
          ? h('a', { href: x.url, target: '_blank', rel: 'noopener noreferrer', text: String(x.title) })
          : h('span', { text: String(x.title) })]);
      }))
    ]);
  }

  // Attachments need the visitor's token, so they are fetched and shown from blob: URLs.
  var blobs = {};
  function blobURL(url) {
    if (!blobs[url]) {
      blobs[url] = fetch(url, { headers: { Authorization: 'Bearer ' + saved.token } }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.blob();
      }).then(function (blob) { return URL.createObjectURL(blob); });
      blobs[url].catch(function () { delete blobs[url]; });
    }
    return blobs[url];
  }

  function attachmentsElement(list) {
    if (!Array.isArray(list) || !list.length) return null;
    var box = h('div', { class: 'atts' });
    list.forEach(function (a) {
      if (!a || typeof a.url !== 'string' || a.url.charAt(0) !== '/' || a.url.charAt(1) === '/') return;
      var name = String(a.name || 'file');
      var link = h('a', { class: 'att', href: '#', download: name, title: name });
      if (/^image\//.test(a.contentType)) {
        var img = h('img', { class: 'att-img', alt: t('attachment', { name: name }) });
        link.appendChild(img);
        blobURL(a.url).then(function (u) { img.src = u; link.href = u; }, noop);
      } else {
        link.appendChild(icon('file'));
        link.appendChild(h('span', { text: name + ' (' + fileSize(a.size || 0) + ')' }));
        link.addEventListener('click', function (e) {
          if (link.getAttribute('href') !== '#') return;
          e.preventDefault();
          blobURL(a.url).then(function (u) { link.href = u; link.click(); }, function () { showError(t('error')); });
        });
      }
      box.appendChild(link);
    });
    return box;
  }

  function feedbackElement(m) {
    var box = h('div', { class: 'feedback', role: 'group', 'aria-label': t('rate') });
    ['up', 'down'].forEach(function (rating) {
      box.appendChild(h('button', {
        type: 'button', class: 'icon-button small', 'data-rating': rating,
        'aria-label': t(rating === 'up' ? 'helpful' : 'notHelpful'), 'aria-pressed': String(saved.rated[m.id] === rating),
        onclick: function () { rate(m, rating, box); }
      }, [icon(rating)]));
    });
    return box;
  }

  function rate(m, rating, box) {
    api('POST', '/chat/messages/' + encodeURIComponent(m.id) + '/feedback', { rating: rating }).then(function (res) {
      saved.rated[m.id] = rating;
      persist();
      Array.prototype.forEach.call(box.querySelectorAll('button'), function (b) {
        b.setAttribute('aria-pressed', String(b.getAttribute('data-rating') === rating));
      });
      var old = box.parentNode.querySelector('.offer');
      if (old) old.remove();
      if (res && res.offerTicket) {
        box.parentNode.appendChild(h('div', { class: 'offer', role: 'status' }, [
          h('p', { text: t('offerHuman') }),
          h('button', { type: 'button', class: 'button', onclick: escalate }, [icon('person'), h('span', { text: t('human') })])
        ]));
      } else announce(t('thanks'));
    }, function () { showError(t('error')); });
  }

  // MARK: - Satisfaction: 1 to 5 stars once the conversation has ended

  /** The prompt at the end of the log: asked while the ended conversation has no rating, thanked
   *  once it has one (given here or elsewhere), gone when the conversation goes on. Once rated, a
   *  conversation is never asked again: `satisfaction` comes back with the session. */
  function renderRating() {
    var want = S.status !== 'closed' ? '' : !S.satisfaction ? S.rating || 'ask' : S.rating && 'thanks';
    if (want === S.rating) return;
    var hadFocus = ui.rating.contains(document.activeElement);
    S.rating = want;
    ui.rating.textContent = '';
    if (want === 'ask') ui.rating.appendChild(ratingForm());
    if (want === 'thanks') {
      var done = h('p', { class: 'done', role: 'status', tabindex: '-1', text: t('ratingThanks') });
      ui.rating.appendChild(done);
      if (hadFocus) done.focus(); else if (S.open) announce(t('ratingThanks'));
    }
    if (S.stuck) scrollDown();
  }

  function ratingForm() {
    var stars = h('div', { class: 'stars' });
    for (var n = 1; n <= 5; n++) {
      var label = n === 1 ? t('star1') : t('stars', { n: n });
      stars.appendChild(h('input', { type: 'radio', name: 'stars', id: 'star-' + n, value: n, required: true }));
      stars.appendChild(h('label', { for: 'star-' + n, title: label }, [icon('star'), h('span', { class: 'sr-only', text: label })]));
    }
    // Stars up to the chosen one light up (the radios, visually hidden, carry the state).
    stars.addEventListener('change', function (e) {
      Array.prototype.forEach.call(stars.querySelectorAll('label'), function (l, i) { l.classList.toggle('on', i < +e.target.value); });
    });
    var comment = h('textarea', { id: 'rating-comment', rows: '2', maxlength: '2000' });
    var button = h('button', { type: 'submit', class: 'button', text: t('sendRating') });
    return h('form', { class: 'rating', onsubmit: function (e) {
      e.preventDefault();
      var picked = stars.querySelector('input:checked');
      if (!picked) return;
      button.disabled = true;
      var body = { stars: +picked.value, comment: comment.value.trim() || undefined };
      api('POST', sessionPath('/rating'), body).then(applySession, function (error) {
        button.disabled = false;
        // 409: rated already (another tab, an email link) or no longer ended; either way, not asked here.
        if (error.status === 409) { S.satisfaction = S.satisfaction || { stars: 0 }; renderRating(); }
        else showError(error.status ? error.message : t('error'));
      });
    } }, [
      h('fieldset', {}, [h('legend', { text: t('rateChat') }), stars]),
      h('div', { class: 'stack' }, [h('label', { for: 'rating-comment', text: t('ratingComment') }), comment]),
      button
    ]);
  }

  /** The last visitor message says whether the team has read it. */
  function renderReceipt() {
    var old = ui.list.querySelector('.receipt');
    if (old) old.remove();
    for (var i = S.list.length - 1; i >= 0; i--) {
      if (S.list[i].role !== 'user') continue;
      var meta = document.querySelector('#m-' + S.list[i].id + ' .meta');
      if (meta) meta.appendChild(h('span', { class: 'receipt', text: S.list[i].seq <= S.agentReadSeq ? t('seen') : t('sent') }));
      return;
    }
  }

  /** Quick replies offered by the latest AI reply, until the visitor writes again. */
  function renderChips() {
    ui.chips.textContent = '';
    var last = S.list[S.list.length - 1];
    var replies = last && last.role === 'ai' && last.metadata && last.metadata.quickReplies
      ? parseJSON(last.metadata.quickReplies, []) : [];
    if (!Array.isArray(replies)) replies = [];
    replies.slice(0, 6).forEach(function (text) {
      if (typeof text !== 'string' || !text.trim()) return;
      ui.chips.appendChild(h('button', { type: 'button', class: 'chip', text: text, onclick: function () { sendText(text); } }));
    });
    ui.chips.hidden = !ui.chips.firstChild;
  }

  /** The messages waiting in the outbox, after the stored ones. */
  function renderPending() {
    ui.pending.textContent = '';
    var waiting = conn.subscribed || conn.polling && conn.pollOK !== false;
    saved.outbox.forEach(function (item) {
      var meta = h('div', { class: 'meta' });
      if (item.error) {
        meta.appendChild(h('span', { class: 'failed', text: t('failed') + ' ' + item.error }));
        meta.appendChild(h('button', { type: 'button', class: 'link', text: t('retry'), onclick: function () {
          delete item.error; persist(); renderPending(); flush();
        } }));
      } else meta.appendChild(h('span', { text: waiting ? t('sending') : t('queued') }));
      var bubble = h('div', { class: 'bubble' }, [h('span', { class: 'sr-only', text: t('you') + ': ' })]);
      appendText(bubble, item.body);
      ui.pending.appendChild(h('div', { class: 'msg user pending', 'data-client-id': item.clientId }, [bubble, meta]));
    });
  }

  // MARK: - Streaming AI replies (message.delta)

  // A reply streams into a node hidden from assistive technology; its final message.created
  // replaces it and is announced once (see ingest).
  function onDelta(d) {
    var id = d.streamId;
    if (!id || S.finished[id]) return;
    var stream = S.streams[id];
    if (!stream) {
      if (d.done) return;
      hideTyping();
      var text = document.createTextNode('');
      var el = h('div', { class: 'msg ai streaming', 'aria-hidden': 'true', 'aria-busy': 'true' }, [
        h('div', { class: 'who', text: t('assistant') }),
        h('div', { class: 'bubble' }, [text, h('span', { class: 'caret' })])
      ]);
      stream = S.streams[id] = { el: el, text: text, parts: {}, next: 0 };
      ui.streams.appendChild(el);
      if (S.stuck) scrollDown();
    }
    if (d.done) {
      // An answer is followed by its stored message; anything else (a handoff, a failure) is dropped.
      if (d.outcome === 'answer' || d.outcome === 'resolve') {
        setTimeout(function () { if (S.streams[id]) { endStream(id); catchUp(); } }, 10000);
      } else {
        // Text was shown, then not kept (the grounding gate, a broken stream): say so in the
        // thread, never take it back without a word. What follows (an article, a handoff)
        // arrives as messages.
        if (stream.text.data) noteWithdrawn(d);
        endStream(id);
      }
      return;
    }
    stream.parts[d.index] = d.delta || '';
    while (stream.parts[stream.next] != null) {
      stream.text.data += stream.parts[stream.next];
      delete stream.parts[stream.next];
      stream.next++;
    }
    if (S.stuck) scrollDown();
  }

  /** A line in the thread, this page's only (never stored, no seq of its own): the assistant
   * stopped an answer it had begun to show. */
  function noteWithdrawn(d) {
    var m = { id: 'withdrawn-' + d.streamId.replace(/[^a-zA-Z0-9-]/g, '-'), seq: d.replyTo + 0.5,
      role: 'system', body: t('withdrawn'), createdAt: new Date().toISOString(), metadata: {}, local: true };
    if (S.byId[m.id]) return;
    S.byId[m.id] = m;
    var i = S.list.length;
    while (i > 0 && S.list[i - 1].seq > m.seq) i--;
    S.list.splice(i, 0, m);
    if (i === S.list.length - 1) appendMessage(m, S.list[i - 1]); else renderList();
    if (S.stuck) scrollDown();
  }

  function endStream(id) {
    S.finished[id] = true;
    var stream = S.streams[id];
    if (stream) { stream.el.remove(); delete S.streams[id]; }
  }

  // MARK: - Typing

  var typingTimer = 0;
  function showTyping(text) {
    ui.typing.textContent = '';
    ui.typing.appendChild(h('span', { class: 'dots', 'aria-hidden': 'true' }, [h('i'), h('i'), h('i')]));
    ui.typing.appendChild(document.createTextNode(text));
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 30000);
  }
  function hideTyping() { ui.typing.hidden = true; ui.typing.textContent = ''; clearTimeout(typingTimer); }

  // The visitor's own typing, sent at most every 3 s, and "stopped" after 4 s of quiet.
  var typingSentAt = 0, typingStop = 0;
  function visitorTyping(on) {
    clearTimeout(typingStop);
    if (on) typingStop = setTimeout(function () { visitorTyping(false); }, 4000);
    if (!conn.subscribed) return;
    if (on && Date.now() - typingSentAt < 3000) return;
    if (!on && !typingSentAt) return;
    typingSentAt = on ? Date.now() : 0;
    wsSend({ type: 'typing', channel: channel(), on: on });
  }

  // MARK: - Sending: the persisted outbox

  function sendText(text) {
    text = String(text).trim();
    if (!text) return;
    saved.outbox.push({ clientId: newID(), body: text.slice(0, 10000), at: new Date().toISOString() });
    persist();
    renderPending();
    ui.chips.hidden = true;
    visitorTyping(false);
    scrollDown();
    if (S.status !== 'agent_active' && S.status !== 'escalated') showTyping(t('aiTyping'));
    fastPollUntil = Date.now() + 20000;
    if (conn.polling) setTimeout(poll, 1000);
    ensureSession().then(flush, noop);
  }

  function dropFromOutbox(clientId) {
    var before = saved.outbox.length;
    saved.outbox = saved.outbox.filter(function (item) { return item.clientId !== clientId; });
    if (saved.outbox.length !== before) { persist(); renderPending(); }
  }

  /** Sends what the outbox holds: over the socket when subscribed, else by REST while polling.
   *  A resend carries the same clientId, so the server stores each message once. */
  var flushing = false;
  function flush() {
    if (!S.started) return;
    var items = saved.outbox.filter(function (item) { return !item.error; });
    if (conn.subscribed) {
      items.forEach(function (item) {
        if (conn.sent[item.clientId]) return;
        conn.sent[item.clientId] = true;
        wsSend({ type: 'send', channel: channel(), clientId: item.clientId, body: item.body });
      });
      return;
    }
    if (!conn.polling || flushing || !items.length) return;
    flushing = true;
    var item = items[0];
    api('POST', sessionPath('/messages'), { clientId: item.clientId, body: item.body }).then(function (message) {
      flushing = false;
      ingest([message], true);
      flush();
    }, function (error) {
      flushing = false;
      sendFailed(item.clientId, error.status, error.code, error.message, error.retryAfter);
    });
  }

  function sendFailed(clientId, status, code, message, retryAfter) {
    delete conn.sent[clientId];
    if (!status || status >= 500 || status === 429 || code === 'rate_limited' || status === 401) {
      // Not the message's fault: try again later.
      setTimeout(flush, (retryAfter || 5) * 1000);
      return;
    }
    saved.outbox.forEach(function (item) { if (item.clientId === clientId) item.error = message || t('error'); });
    persist();
    renderPending();
  }

  // MARK: - Actions

  function escalate() {
    ensureSession().then(function () { return api('POST', sessionPath('/escalate')); }).then(applySession, function (error) {
      if (error.status !== 409) showError(error.status ? error.message : t('error'));
    });
  }

  function markRead() {
    var seq = S.lastSeq;
    if (!S.started || seq <= S.readSeq) return;
    S.readSeq = seq;
    if (conn.subscribed) wsSend({ type: 'read', channel: channel(), seq: seq });
    else api('POST', sessionPath('/read'), { seq: seq }).catch(noop);
  }

  function updateUnread() {
    var visible = S.open && S.view === 'chat' && document.visibilityState !== 'hidden';
    if (visible) markRead();
    var n = S.list.filter(function (m) { return (m.role === 'ai' || m.role === 'agent') && m.seq > S.readSeq; }).length;
    ui.badge.textContent = n > 9 ? '9+' : String(n);
    ui.badge.hidden = !n || S.open;
    ui.launcher.setAttribute('aria-label', (S.open ? t('closeChat') : t('openChat')) + (n && !S.open ? ', ' + t('unread', { n: n }) : ''));
    if (n !== S.unread) { S.unread = n; emit('unread', { count: n }); }
    renderPeek();
  }

  /** Beside the closed launcher, the newest reply from the team or the assistant while it is
   *  unread: its sender and the start of its text (as text), until the visitor opens the chat or
   *  hides it (that message's preview then stays hidden, also on the next page). */
  function renderPeek() {
    var m = null;
    for (var i = S.list.length - 1; i >= 0 && !m; i--) if (S.list[i].role === 'ai' || S.list[i].role === 'agent') m = S.list[i];
    var text = m ? shownBody(m).replace(/\s+/g, ' ').trim() : '';
    var show = !S.open && text && m.seq > S.readSeq && m.id !== saved.peekOff ? m.id : '';
    if (show === S.peek) return;
    S.peek = show;
    ui.peek.hidden = !show;
    if (show) {
      ui.peekWho.textContent = sender(m);
      ui.peekText.textContent = text.length > 120 ? text.slice(0, 119).trim() + '…' : text;
    }
    if (!S.open) reportSize();
  }

  function hidePeek() {
    saved.peekOff = S.peek;
    persist();
    ui.launcher.focus();
    renderPeek();
  }

  function pickFile(file) {
    ui.fileInput.value = '';
    if (!file) return;
    if (FILE_TYPES.indexOf(file.type) < 0) return showError(t('fileType'));
    if (file.size > MAX_FILE) return showError(t('fileTooBig', { max: '10 MB' }));
    S.file = file;
    ui.error.hidden = true;
    renderPreview();
  }

  function renderPreview() {
    ui.preview.textContent = '';
    var file = S.file;
    ui.preview.hidden = !file;
    if (!file) return;
    var thumb = /^image\//.test(file.type)
      ? h('img', { class: 'thumb', alt: '', src: URL.createObjectURL(file) })
      : h('span', { class: 'thumb' }, [icon('file')]);
    ui.preview.appendChild(thumb);
    ui.preview.appendChild(h('span', { class: 'file-name', text: file.name + ' (' + fileSize(file.size) + ')' }));
    ui.preview.appendChild(h('button', {
      type: 'button', class: 'icon-button small', 'aria-label': t('removeFile'),
      onclick: function () { S.file = null; renderPreview(); ui.input.focus(); }
    }, [icon('close')]));
  }

  /** POST …/attachments with the raw file: the upload becomes a visitor message carrying it. */
  function upload(file) {
    if (!navigator.onLine) return showError(t('offlineUpload'));
    S.file = null;
    renderPreview();
    ensureSession().then(function () {
      var query = '?name=' + encodeURIComponent(file.name) + '&clientId=' + newID();
      return api('POST', sessionPath('/attachments') + query, undefined, { raw: file, type: file.type });
    }).then(function (res) {
      if (res && res.message) ingest([res.message], true);
    }, function (error) {
      showError(error.status === 413 ? t('fileTooBig', { max: '10 MB' }) : error.status === 415 ? t('fileType') : t('uploadFailed'));
    });
  }

  function submit() {
    var text = ui.input.value;
    if (!text.trim() && !S.file) return;
    ui.input.value = '';
    grow();
    if (text.trim()) sendText(text);
    if (S.file) upload(S.file);
  }

  function saveEmail(event) {
    event.preventDefault();
    var email = ui.emailInput.value.trim();
    if (!email) return;
    ensureSession().then(function () { return api('POST', sessionPath('/email'), { email: email }); }).then(function (res) {
      saved.email = res.email || email;
      S.emailJustSaved = true;
      persist();
      renderStatus();
      announce(emailSaved());
      // The thanks stays a moment, then the card makes room for the conversation.
      setTimeout(function () { S.emailJustSaved = false; renderStatus(); }, 5000);
    }, function (error) { showError(error.status ? error.message : t('error')); });
  }

  var errorTimer = 0;
  function showError(text) {
    ui.error.textContent = text;
    ui.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(function () { ui.error.hidden = true; ui.error.textContent = ''; }, 8000);
  }

  /** Says `text` to screen readers (a polite live region, cleared first so repeats are heard). */
  function announce(text) {
    ui.sr.textContent = '';
    setTimeout(function () { ui.sr.textContent = text; }, 60);
  }

  // MARK: - Realtime: one WebSocket, with backoff, resubscribe from the last seq, and polling

  function channel() { return 'supportChat:' + saved.sessionId; }
  function wsSend(frame) { if (conn.ws && conn.ws.readyState === 1) conn.ws.send(JSON.stringify(frame)); }

  function reconnect() {
    conn.attempts = 0;
    closeSocket();
    connect();
  }

  function connect() {
    clearTimeout(conn.timer);
    if (!S.started || conn.ws) return;
    if (!navigator.onLine) return updateConnection();
    if (TRANSPORT === 'poll') return startPolling();
    var ws;
    try {
      ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + API +
        '/realtime?token=' + encodeURIComponent(saved.token));
    } catch (e) { conn.wsFailures++; startPolling(); return; }
    conn.ws = ws;
    conn.subscribed = false;
    conn.sent = {};
    updateConnection();
    ws.onopen = function () { wsSend({ type: 'subscribe', channel: channel(), after: S.lastSeq }); };
    ws.onmessage = function (event) {
      if (conn.ws !== ws) return;
      var frame = parseJSON(event.data, null);
      if (frame) onFrame(frame);
    };
    ws.onclose = function () { if (conn.ws === ws) socketClosed(); };
    // A socket that opens but never subscribes (a proxy that eats frames) counts as a failure.
    setTimeout(function () { if (conn.ws === ws && !conn.subscribed) ws.close(); }, 10000);
  }

  function socketClosed() {
    var ws = conn.ws;
    conn.ws = null;
    clearInterval(conn.pingTimer);
    if (ws) { ws.onclose = ws.onmessage = null; try { ws.close(); } catch (e) { /* already closed */ } }
    if (conn.subscribed) conn.wsFailures = 0; else conn.wsFailures++;
    conn.subscribed = false;
    // Twice failed before subscribing: WebSockets look blocked here, so poll meanwhile.
    if (conn.wsFailures >= 2) startPolling();
    scheduleReconnect();
    updateConnection();
  }

  function closeSocket() {
    if (!conn.ws) return;
    var ws = conn.ws;
    conn.ws = null;
    conn.subscribed = false;
    clearInterval(conn.pingTimer);
    ws.onclose = ws.onmessage = null;
    try { ws.close(); } catch (e) { /* already closed */ }
    updateConnection();
  }

  function scheduleReconnect() {
    clearTimeout(conn.timer);
    if (!navigator.onLine || TRANSPORT === 'poll') return;
    // Exponential backoff with jitter: ~0.5-1 s, 1-2 s, … up to 30 s.
    var delay = Math.min(30000, 1000 * Math.pow(2, conn.attempts++)) * (0.5 + Math.random() / 2);
    conn.timer = setTimeout(connect, delay);
  }

  function onFrame(frame) {
    if (frame.type === 'subscribed') {
      conn.subscribed = true;
      conn.attempts = 0;
      conn.wsFailures = 0;
      stopPolling();
      applySession(frame.session);
      updateConnection();
      startPing();
      if (frame.recovered === false) catchUp();
      flush();
      updateUnread();
    } else if (frame.type === 'event') onEvent(frame.name, frame.data || {});
    else if (frame.type === 'ack') ingest([frame.message], true);
    else if (frame.type === 'error' && frame.clientId) sendFailed(frame.clientId, frame.code === 'rate_limited' ? 429 : 400, frame.code, frame.message);
    else if (frame.type === 'pong') conn.pongAt = Date.now();
  }

  function onEvent(name, data) {
    if (name === 'message.created') ingest([data], true);
    else if (name === 'message.delta') onDelta(data);
    else if (name === 'session.updated' || name === 'session.created') applySession(data);
    else if (name === 'typing') {
      if (data.role === 'user') return;
      if (data.on) showTyping(t('typing', { name: data.name || t('team') })); else hideTyping();
    } else if (name === 'read' && !data.byVisitor && data.seq > S.agentReadSeq) {
      S.agentReadSeq = data.seq;
      renderReceipt();
    }
  }

  /** Every 25 s a ping; no pong within 10 s means a dead socket (a sleeping laptop, a NAT). */
  function startPing() {
    clearInterval(conn.pingTimer);
    conn.pingTimer = setInterval(function () {
      var ws = conn.ws, sentAt = Date.now();
      wsSend({ type: 'ping' });
      setTimeout(function () { if (conn.ws === ws && ws && !(conn.pongAt >= sentAt)) socketClosed(); }, 10000);
    }, 25000);
  }

  /** Pages the REST history after the last seq (after `recovered:false`, and for polling). */
  function catchUp() {
    return api('GET', sessionPath('/messages?after=' + S.lastSeq + '&limit=200')).then(function (res) {
      var before = S.lastSeq;
      ingest(res.data || [], true);
      // Notes for the team take seqs the visitor never sees: move past them too.
      if (res.through > S.lastSeq) S.lastSeq = res.through;
      applySession({ status: res.status, agentReadSeq: res.agentReadSeq });
      if (S.lastSeq > before && res.through < res.lastSeq) return catchUp();  // more pages
      return res;
    });
  }

  function startPolling() {
    if (conn.polling) return;
    conn.polling = true;
    conn.pollOK = null;
    poll();
  }
  function stopPolling() {
    conn.polling = false;
    clearTimeout(conn.pollTimer);
  }
  function poll() {
    clearTimeout(conn.pollTimer);
    if (!conn.polling) return;
    if (!navigator.onLine) { updateConnection(); return; }
    catchUp().then(function () {
      conn.pollOK = true;
      updateConnection();
      flush();
      next(Date.now() < fastPollUntil ? 1000 : S.open ? 2500 : 8000);
    }, function () {
      conn.pollOK = false;
      updateConnection();
      next(5000);
    });
    function next(ms) { if (conn.polling) conn.pollTimer = setTimeout(poll, ms); }
  }

  /** The dot and words in the header: what the connection really is right now. */
  function updateConnection() {
    var state = !navigator.onLine || S.startFailed ? 'offline'
      : conn.subscribed ? 'online'
        : conn.polling ? (conn.pollOK === false ? 'offline' : conn.pollOK ? 'polling' : 'connecting')
          : 'connecting';
    if (state === conn.state) return;
    conn.state = state;
    ui.dot.className = 'dot ' + state;
    ui.connText.textContent = t(state);
    document.body.setAttribute('data-connection', state);
    renderPending();
  }

  window.addEventListener('offline', function () { closeSocket(); updateConnection(); });
  window.addEventListener('online', function () {
    if (!S.started) { startSession().catch(noop); return; }
    if (conn.polling) poll();
    reconnect();
  });
  document.addEventListener('visibilitychange', function () {
    updateUnread();
    if (document.visibilityState === 'visible' && S.started && !conn.ws && !conn.polling) connect();
  });

  // MARK: - Views, opening and closing

  function toggle(open) {
    open = !!open;
    if (open === S.open || !config) return;
    var hadFocus = ui.panel.contains(document.activeElement);
    S.open = open;
    ui.panel.hidden = !open;
    document.body.classList.toggle('open', open);
    ui.launcher.setAttribute('aria-expanded', String(open));
    toHost({ type: 'state', open: open });
    emit(open ? 'open' : 'close', {});
    if (open) {
      ensureSession().catch(noop);
      scrollDown();
      // After the loader has grown the frame.
      setTimeout(function () {
        var view = ui.views[S.view];
        (S.view === 'chat' ? ui.input : view.querySelector('input:not([hidden]), textarea') || view.querySelector('button, [tabindex]')).focus();
      }, 30);
    } else {
      ui.jump.hidden = true;
      if (hadFocus || S.compact) ui.launcher.focus();
      reportSize();
    }
    updateUnread();
  }

  function setView(view) {
    S.view = view;
    ['chat', 'offline', 'tickets'].forEach(function (v) { ui.views[v].hidden = v !== view; });
    ui.bar.hidden = view !== 'chat';
    if (view === 'chat') { scrollDown(); updateUnread(); }
  }

  function renderStatus() {
    var status = S.status || 'ai_active';
    document.body.setAttribute('data-status', status);
    ui.humanButton.hidden = status !== 'ai_active';
    ui.statusNote.textContent = status === 'escalated' ? t('waitingHuman')
      : status === 'agent_active' ? t('withHuman') : status === 'closed' ? t('closed') : '';
    ui.statusNote.hidden = !ui.statusNote.textContent;
    var ask = (status === 'escalated' || status === 'agent_active') && !S.identified;
    // Once an email is known the card only shows its thanks, for a moment after saving.
    ui.emailCard.hidden = !ask || !!saved.email && !S.emailJustSaved;
    ui.emailForm.hidden = !!saved.email;
    ui.emailAsk.textContent = t(mailOn() ? 'emailAsk' : 'emailAskNoMail');
    ui.emailDone.textContent = saved.email ? emailSaved() : '';
    ui.emailDone.hidden = !saved.email;
    ui.offlineText.textContent = offlineWords('offlineText');
  }

  // MARK: - Email, said as it is

  /** Whether a reply can reach the visitor by email (the server has a mail server; one that does
   *  not say is taken at its older word). */
  function mailOn() { return !config || config.email !== false; }
  function emailSaved() { return t(mailOn() ? 'emailSaved' : 'emailSavedNoMail', { email: saved.email }); }
  /** The offline form's words: replies by email only when email goes out; else a signed-in visitor
   *  finds the reply here (My tickets), and an anonymous one is promised nothing we cannot keep. */
  function offlineWords(key) { return t(mailOn() ? key : key + (S.identified ? 'Here' : 'Later')); }

  // S.stuck: the conversation is scrolled to its end (and so follows new messages). Only the
  // visitor's scrolling changes it; growth (messages, images loading, a card above the composer)
  // keeps a stuck conversation at its end.
  function nearBottom() { return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 60; }
  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
    S.stuck = true;
    ui.jump.hidden = true;
  }

  function grow() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + 'px';
  }

  // MARK: - Offline form and tickets

  function sendOffline(event) {
    event.preventDefault();
    var body = ui.offlineBody.value.trim();
    var email = ui.offlineEmail.value.trim();
    if (!body || !email && !S.identified) return;
    var subject = body.split('\n')[0].slice(0, 120);
    ui.offlineSubmit.disabled = true;
    ensureSession().then(function () {
      return api('POST', '/tickets', { subject: subject, body: body, email: email || undefined });
    }).then(function () {
      ui.offlineForm.hidden = true;
      ui.offlineDone.textContent = offlineWords('offlineSent');
      ui.offlineDone.hidden = false;
    }, function (error) {
      showOfflineError(error.status ? error.message : t('error'));
    }).then(function () { ui.offlineSubmit.disabled = false; });
  }
  function showOfflineError(text) { ui.offlineError.textContent = text; ui.offlineError.hidden = false; }

  function showTickets() {
    setView('tickets');
    var box = ui.views.tickets;
    box.textContent = '';
    box.appendChild(h('button', { type: 'button', class: 'link back', onclick: function () { setView('chat'); ui.input.focus(); } },
      [icon('back'), h('span', { text: t('backToChat') })]));
    var heading = h('h2', { class: 'view-title', tabindex: '-1', text: t('tickets') });
    box.appendChild(heading);
    var list = h('ul', { class: 'tickets' }, [h('li', { text: t('loading') })]);
    box.appendChild(list);
    heading.focus();
    api('GET', '/tickets?limit=50').then(function (res) {
      list.textContent = '';
      (res.data || []).forEach(function (ticket) {
        list.appendChild(h('li', {}, [h('button', { type: 'button', class: 'ticket', onclick: function () { showTicket(ticket.id); } }, [
          h('span', { class: 'ticket-subject', text: ticket.subject }),
          h('span', { class: 'ticket-meta', text: t('status_' + ticket.status) + ' · ' + dayFormat.format(new Date(ticket.updatedAt)) })
        ])]));
      });
      if (!list.firstChild) list.appendChild(h('li', { text: t('noTickets') }));
    }, function (error) { list.textContent = ''; list.appendChild(h('li', { text: error.message || t('error') })); });
  }

  function showTicket(id) {
    var box = ui.views.tickets;
    box.textContent = '';
    box.appendChild(h('button', { type: 'button', class: 'link back', onclick: showTickets }, [icon('back'), h('span', { text: t('backToTickets') })]));
    api('GET', '/tickets/' + encodeURIComponent(id)).then(function (ticket) {
      var heading = h('h2', { class: 'view-title', tabindex: '-1', text: ticket.subject });
      box.appendChild(heading);
      box.appendChild(h('p', { class: 'ticket-meta', text: t('status_' + ticket.status) }));
      var thread = h('div', { class: 'thread' });
      (ticket.messages || []).forEach(function (m) {
        if (m.internal) return;
        var mine = m.role === 'customer';
        var bubble = h('div', { class: 'bubble' });
        appendText(bubble, m.body);
        thread.appendChild(h('div', { class: 'msg ' + (mine ? 'user' : 'agent') }, [
          mine ? null : h('div', { class: 'who', text: t('team') }), bubble,
          h('div', { class: 'meta' }, [h('time', { datetime: m.createdAt, text: dayFormat.format(new Date(m.createdAt)) + ' ' + timeFormat.format(new Date(m.createdAt)) })])
        ]));
      });
      box.appendChild(thread);
      var input = h('textarea', { id: 'ticket-reply', rows: '3', required: true, maxlength: '10000' });
      box.appendChild(h('form', { class: 'stack', onsubmit: function (e) {
        e.preventDefault();
        if (!input.value.trim()) return;
        api('POST', '/tickets/' + encodeURIComponent(id) + '/reply', { body: input.value.trim() })
          .then(function () { showTicket(id); }, function (error) { showError(error.message || t('error')); });
      } }, [h('label', { for: 'ticket-reply', text: t('reply') }), input, h('button', { type: 'submit', class: 'button', text: t('send') })]));
      heading.focus();
    }, function (error) { box.appendChild(h('p', { text: error.message || t('error') })); });
  }

  // MARK: - Building the UI

  function build() {
    var b = document.body;
    ui.sr = h('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' });
    ui.badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    ui.launchText = h('span', { class: 'launch-text' });
    ui.launcher = h('button', {
      type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'panel', 'aria-label': t('openChat'),
      onclick: function () { toggle(!S.open); }
    }, [icon('chat'), icon('close'), ui.launchText, ui.badge]);
    ui.peekWho = h('span', { class: 'peek-who' });
    ui.peekText = h('span', { class: 'peek-text' });
    ui.peek = h('div', { class: 'peek', hidden: true }, [
      h('button', { type: 'button', class: 'peek-open', onclick: function () { toggle(true); } },
        [ui.peekWho, h('span', { class: 'sr-only', text: ': ' }), ui.peekText]),
      h('button', { type: 'button', class: 'icon-button small', 'aria-label': t('hidePreview'), title: t('hidePreview'), onclick: hidePeek },
        [icon('close')])
    ]);

    ui.title = h('h1', { id: 'title', class: 'title' });
    ui.dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    ui.connText = h('span', { class: 'conn-text' });
    ui.ticketsButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': t('tickets'), title: t('tickets'), hidden: true, onclick: showTickets }, [icon('list')]);
    var header = h('header', { class: 'head' }, [
      h('div', { class: 'head-main' }, [ui.title, h('p', { class: 'conn', role: 'status' }, [ui.dot, ui.connText])]),
      ui.ticketsButton,
      h('button', { type: 'button', class: 'icon-button', 'aria-label': t('closeChat'), title: t('closeChat'), onclick: function () { toggle(false); } }, [icon('close')])
    ]);

    ui.humanButton = h('button', { type: 'button', class: 'human', onclick: escalate }, [icon('person'), h('span', { text: t('human') })]);
    ui.statusNote = h('p', { class: 'status-note', role: 'status', hidden: true });
    ui.leaveButton = h('button', { type: 'button', class: 'link', hidden: true, text: t('leaveAMessage'), onclick: function () { setView('offline'); } });
    ui.bar = h('div', { class: 'bar' }, [ui.humanButton, ui.statusNote, ui.leaveButton]);

    // The conversation: not a live region itself (a streamed reply would be read token by token);
    // new messages are announced through ui.sr instead.
    ui.welcome = h('div', { class: 'msg ai welcome' });
    ui.list = h('div', { class: 'list' });
    ui.rating = h('div', { class: 'rating-box' });
    ui.streams = h('div', { class: 'streams' });
    ui.pending = h('div', { class: 'pending-list' });
    ui.log = h('div', { id: 'log', class: 'log', role: 'region', 'aria-label': t('conversation'), tabindex: '0' },
      [ui.welcome, ui.list, ui.rating, ui.streams, ui.pending]);
    ui.log.addEventListener('scroll', function () {
      if (!S.open) return;
      S.stuck = nearBottom();
      if (S.stuck) ui.jump.hidden = true;
    });
    if (window.ResizeObserver) {
      var follow = new ResizeObserver(function () { if (S.stuck && S.open) ui.log.scrollTop = ui.log.scrollHeight; });
      [ui.log, ui.list, ui.rating, ui.streams, ui.pending].forEach(function (el) { follow.observe(el); });
    }
    ui.jump = h('button', { type: 'button', class: 'jump', hidden: true, onclick: scrollDown }, [icon('arrow'), h('span', { text: t('newMessages') })]);
    ui.typing = h('div', { class: 'typing', role: 'status', hidden: true });

    ui.emailInput = h('input', { id: 'email', type: 'email', required: true, autocomplete: 'email' });
    ui.emailForm = h('form', { class: 'inline-form', onsubmit: saveEmail }, [
      h('label', { for: 'email', class: 'sr-only', text: t('email') }), ui.emailInput,
      h('button', { type: 'submit', class: 'button', text: t('save') })
    ]);
    ui.emailDone = h('p', { class: 'done', hidden: true });
    ui.emailAsk = h('p');
    ui.emailCard = h('div', { class: 'card', hidden: true }, [ui.emailAsk, ui.emailForm, ui.emailDone]);

    ui.chips = h('div', { class: 'chips', hidden: true });
    ui.preview = h('div', { class: 'preview', hidden: true });
    ui.error = h('p', { class: 'error', role: 'alert', hidden: true });
    ui.fileInput = h('input', { type: 'file', class: 'file-input', accept: FILE_TYPES.join(','), tabindex: '-1', 'aria-hidden': 'true',
      onchange: function () { pickFile(ui.fileInput.files[0]); } });
    ui.input = h('textarea', { id: 'input', rows: '1', maxlength: '10000', placeholder: t('placeholder'), 'aria-label': t('message') });
    ui.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    ui.input.addEventListener('input', function () { grow(); visitorTyping(!!ui.input.value); });
    var composer = h('form', { class: 'composer', onsubmit: function (e) { e.preventDefault(); submit(); } }, [
      h('button', { type: 'button', class: 'icon-button', 'aria-label': t('attach'), title: t('attach'), onclick: function () { ui.fileInput.click(); } }, [icon('clip')]),
      ui.fileInput, ui.input,
      h('button', { type: 'submit', class: 'send', 'aria-label': t('send'), title: t('send') }, [icon('send')])
    ]);

    ui.views = {};
    ui.views.chat = h('div', { class: 'view view-chat' }, [
      h('div', { class: 'log-wrap' }, [ui.log, ui.jump]), ui.typing, ui.emailCard, ui.chips, ui.preview, ui.error, composer
    ]);

    ui.offlineEmail = h('input', { id: 'offline-email', type: 'email', autocomplete: 'email' });
    ui.offlineBody = h('textarea', { id: 'offline-body', rows: '5', required: true, maxlength: '10000' });
    ui.offlineSubmit = h('button', { type: 'submit', class: 'button', text: t('leaveMessage') });
    ui.offlineError = h('p', { class: 'error', role: 'alert', hidden: true });
    ui.offlineEmailRow = h('div', { class: 'stack' }, [h('label', { for: 'offline-email', text: t('email') }), ui.offlineEmail]);
    ui.offlineForm = h('form', { class: 'stack', onsubmit: sendOffline }, [
      ui.offlineEmailRow,
      h('div', { class: 'stack' }, [h('label', { for: 'offline-body', text: t('yourMessage') }), ui.offlineBody]),
      ui.offlineError, ui.offlineSubmit
    ]);
    ui.offlineDone = h('p', { class: 'done', role: 'status', hidden: true });
    ui.chatInstead = h('button', { type: 'button', class: 'link', text: t('chatWithAI'), hidden: true, onclick: function () { setView('chat'); ui.input.focus(); } });
    ui.views.offline = h('div', { class: 'view view-offline', hidden: true }, [
      h('h2', { class: 'view-title', text: t('offlineTitle') }), ui.offlineText = h('p'),
      ui.offlineForm, ui.offlineDone, ui.chatInstead
    ]);
    ui.views.tickets = h('div', { class: 'view view-tickets', hidden: true });

    ui.panel = h('section', { id: 'panel', class: 'panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'title', hidden: true }, [
      header, ui.bar, ui.views.chat, ui.views.offline, ui.views.tickets
    ]);
    b.appendChild(h('div', { class: 'app' }, [ui.panel, ui.peek, ui.launcher, ui.sr]));

    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && S.open) { e.preventDefault(); toggle(false); ui.launcher.focus(); }
      // Full screen on a phone the panel is modal: Tab cycles inside it, never to the page beneath.
      if (e.key === 'Tab' && S.open && S.compact) {
        var items = Array.prototype.filter.call(ui.panel.querySelectorAll('a[href], button, input, textarea, [tabindex="0"]'),
          function (el) { return !el.disabled && el.offsetParent !== null; });
        var first = items[0], last = items[items.length - 1];
        if (e.shiftKey ? document.activeElement === first : document.activeElement === last) {
          e.preventDefault();
          (e.shiftKey ? last : first).focus();
        }
      }
    });
    ui.panel.addEventListener('dragover', function (e) { e.preventDefault(); });
    ui.panel.addEventListener('drop', function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files[0]) pickFile(e.dataTransfer.files[0]);
    });
    ui.input.addEventListener('paste', function (e) {
      var file = e.clipboardData && e.clipboardData.files && e.clipboardData.files[0];
      if (file) { e.preventDefault(); pickFile(file); }
    });
  }

  function applyConfig(c) {
    config = c;
    applyTheme(c.color);
    document.body.classList.toggle('left', c.position === 'left');
    ui.title.textContent = c.title || t('chat');
    document.title = c.title || t('chat');
    ui.launchText.textContent = c.launcherText || '';
    ui.launchText.hidden = !c.launcherText;
    ui.welcome.textContent = '';
    if (c.welcomeMessage) {
      ui.welcome.appendChild(h('div', { class: 'who', text: c.title || t('assistant') }));
      var bubble = h('div', { class: 'bubble' });
      appendText(bubble, c.welcomeMessage);
      ui.welcome.appendChild(bubble);
    }
    ui.welcome.hidden = !c.welcomeMessage;
    ui.chatInstead.hidden = !(c.ai && c.ai.enabled);
    ui.leaveButton.hidden = c.withinBusinessHours !== false;
    renderStatus();
    updateConnection();
    renderPending();
  }

  /** With the saved state in hand: show the outbox, pick the first view, resume a conversation. */
  function resume() {
    // A signed-in visitor's conversation resumes only when the page identifies them again (it
    // stopped: they signed out), so the next person on this browser never sees it.
    if (!S.user && saved.userId) { restore('{}'); persist(); }
    renderPending();
    renderStatus();
    // Outside business hours (or when the server says nobody, AI or team, is there) a visitor
    // without a conversation starts on the offline form.
    if ((config.withinBusinessHours === false || config.available === false) && !saved.sessionId) setView('offline');
    if (S.user || saved.visitorId) startSession().catch(noop);
  }

  function boot() {
    build();
    // The outbox of a previous page: shown now, sent once connected.
    fetch(API + '/widget/config?site=' + encodeURIComponent(SITE), { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (c) {
        if (!c || !c.enabled) { toHost({ type: 'disabled', reason: c && c.reason }); return; }
        applyConfig(c);
        document.body.classList.remove('loading');
        updateUnread();
        toHost({ type: 'ready', title: c.title || t('chat'), position: c.position === 'left' ? 'left' : 'right' });
        reportSize();
        // Opened on its own (not in a frame): behave as an open chat page.
        if (!EMBEDDED) { setCompact(true); resume(); toggle(true); }
      }, function () {
        toHost({ type: 'disabled', reason: 'unreachable' });
      });
  }

  boot();
})();
