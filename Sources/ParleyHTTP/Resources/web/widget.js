/*
 * Parley widget loader. Embed with
 *
 *   <script src="https://HOST/widget.js" data-site="SITE_KEY" async></script>
 *
 * It puts one iframe on the page (the chat UI, styled in isolation) and offers `window.Parley`:
 *   Parley.identify({id, email, name, userHash})  sign the visitor in (userHash: HMAC-SHA256 of id)
 *   Parley.open() / Parley.close()
 *   Parley.on(event, fn)  events: "message" {id, seq, role, body, createdAt}, "open", "close",
 *                         "unread" {count}; returns a function that removes the listener
 * Calls made before this script has loaded are kept if the page sets up the queue first:
 *
 *   <script>window.Parley=window.Parley||{q:[]};["identify","open","close","on"].forEach(function(m){
 *   Parley[m]=Parley[m]||function(){Parley.q.push([m].concat([].slice.call(arguments)))}})</script>
 *
 * Optional attributes: data-lang="fr" (else the browser's language), data-transport="poll"
 * (skip WebSockets). The frame and this script talk by postMessage, {parley: 1, type, ...}: each
 * side accepts only the other's window and origin. The frame's state (the visitor's token, the
 * conversation, unsent messages) is kept in this page's localStorage under "parley:SITE_KEY".
 */
(function (w, d) {
  'use strict';
  var old = w.Parley;
  if (old && old.loaded) return; // the snippet is on the page twice
  var script = d.currentScript || d.querySelector('script[data-site][src*="widget.js"]');
  if (!script) return;
  var site = script.getAttribute('data-site');
  var origin = new URL(script.src, location.href).origin;
  var PROTOCOL = 1;
  var frame, ready = false, isOpen = false, compact, position = 'right', size = [88, 88];
  var queue = []; // messages for the frame until it says it is ready
  var user = null; // the latest identify(), sent with init so the first session is already theirs
  var handlers = {};
  // The frame's saved state (visitor token, conversation, unsent messages) lives in this page's
  // localStorage: first-party storage, which browsers keep even when they block third-party storage.
  var storeKey = 'parley:' + site;
  function stored() { try { return w.localStorage.getItem(storeKey); } catch (e) { return null; } }

  function send(message) {
    message.parley = PROTOCOL;
    if (ready) frame.contentWindow.postMessage(message, origin);
    else queue.push(message);
  }

  function emit(name, data) {
    (handlers[name] || []).slice().forEach(function (fn) {
      try { fn(data); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }

  var api = {
    loaded: true,
    version: PROTOCOL,
    identify: function (u) {
      if (!u || u.id == null) return;
      // Only plain strings cross to the frame.
      user = { id: String(u.id) };
      ['email', 'name', 'userHash'].forEach(function (k) { if (u[k] != null) user[k] = String(u[k]); });
      send({ type: 'identify', user: user });
    },
    open: function () { send({ type: 'open' }); },
    close: function () { send({ type: 'close' }); },
    on: function (name, fn) {
      if (typeof fn !== 'function') return function () {};
      (handlers[name] = handlers[name] || []).push(fn);
      return function () { api.off(name, fn); };
    },
    off: function (name, fn) {
      handlers[name] = (handlers[name] || []).filter(function (f) { return f !== fn; });
    }
  };
  w.Parley = api;
  // Calls queued by the page before this script ran: [["open"], ["on", "message", fn], …]
  ((old && old.q) || []).forEach(function (call) {
    if (call && api[call[0]]) api[call[0]].apply(api, [].slice.call(call, 1));
  });

  /** Sizes and places the frame: the launcher when closed, a panel when open, the screen on phones. */
  function layout() {
    var narrow = w.innerWidth < 520;
    if (narrow !== compact) {
      compact = narrow;
      if (ready) send({ type: 'compact', on: compact });
    }
    var s = frame.style, full = isOpen && compact;
    s.width = full ? '100%' : (isOpen ? 408 : size[0]) + 'px';
    s.height = full ? '100%' : (isOpen ? Math.min(w.innerHeight, 720) : size[1]) + 'px';
    s.left = position === 'left' ? '0' : 'auto';
    s.right = position === 'left' ? 'auto' : '0';
  }

  w.addEventListener('message', function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== origin) return;
    var m = e.data;
    if (!m || m.parley !== PROTOCOL) return;
    if (m.type === 'ready') {
      position = m.position === 'left' ? 'left' : 'right';
      if (m.title) frame.title = String(m.title);
      ready = true;
      layout();
      frame.contentWindow.postMessage({
        parley: PROTOCOL, type: 'init', page: location.href, user: user, compact: compact, stored: stored()
      }, origin);
      frame.style.visibility = 'visible';
      var pending = queue;
      queue = [];
      pending.forEach(function (message) { if (message.type !== 'identify') send(message); });
    } else if (m.type === 'store' && typeof m.data === 'string' && m.data.length < 200000) {
      try { w.localStorage.setItem(storeKey, m.data); } catch (e) { /* storage full or off: memory only */ }
    } else if (m.type === 'size') {
      // The launcher, and above it a reply's preview while one is shown: bounded either way.
      size = [Math.min(+m.width || 88, 400), Math.min(+m.height || 88, 320)];
      layout();
    } else if (m.type === 'state') {
      isOpen = !!m.open;
      layout();
    } else if (m.type === 'event' && typeof m.name === 'string') {
      emit(m.name, m.data);
    } else if (m.type === 'disabled') {
      frame.remove();
    }
  });

  function mount() {
    frame = d.createElement('iframe');
    var query = '?site=' + encodeURIComponent(site) + '&host=' + encodeURIComponent(location.origin);
    ['lang', 'transport'].forEach(function (k) {
      var v = script.getAttribute('data-' + k);
      if (v) query += '&' + k + '=' + encodeURIComponent(v);
    });
    frame.src = origin + '/widget/frame.html' + query;
    frame.title = 'Chat';
    frame.setAttribute('data-parley', '');
    // Set through the CSSOM (allowed by a page's CSP, unlike a style attribute).
    var s = frame.style;
    s.position = 'fixed';
    s.bottom = '0';
    s.zIndex = '2147483000';
    s.border = '0';
    s.margin = '0';
    s.padding = '0';
    s.maxWidth = '100%';
    s.maxHeight = '100%';
    s.background = 'transparent';
    s.colorScheme = 'normal';
    s.visibility = 'hidden';
    layout();
    d.body.appendChild(frame);
    var pending = 0;
    w.addEventListener('resize', function () {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(layout);
    });
  }

  if (d.body) mount();
  else d.addEventListener('DOMContentLoaded', mount);
})(window, document);
