// The REST client: JSON under /api/v1 with the session cookie (same origin, so fetch sends it),
// and the CSRF token echoed in X-CSRF-Token on every unsafe request.

let csrfToken = null;
const listeners = new Set();

export function setCSRF(token) { csrfToken = token || null; }

/** Called with no argument when the server says the session is gone (401): show the sign-in. */
export function onUnauthorized(fn) { listeners.add(fn); }

export class APIError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message || `Request failed (${status})`);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter ?? null; // seconds, from Retry-After on a 429
  }
}

/** Builds "?a=1&b=2", leaving out empty values. */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

/**
 * Calls the API. `body`: a plain object (sent as JSON), a Blob/File (sent raw with its type),
 * or nothing. Resolves with the decoded JSON (or null), rejects with an APIError.
 */
export async function request(method, path, body, { raw = false, quiet401 = false } = {}) {
  const headers = {};
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new APIError(0, 'network', 'Parley could not be reached. Check your connection.');
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    if (response.status === 401 && !quiet401) listeners.forEach((fn) => fn());
    let message = error.message || `${response.status} ${response.statusText}`;
    const wait = response.status === 429 ? Number(response.headers.get('Retry-After')) || null : null;
    // The server's own sentence usually says how long already ("try again in 30 seconds").
    if (wait && !/try again/i.test(message)) message += ` Try again in ${wait} s.`;
    throw new APIError(response.status, error.code || String(response.status), message, error.field, wait);
  }
  return data;
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body = {}, opts) => request('POST', path, body, opts),
  put: (path, body, opts) => request('PUT', path, body, opts),
  patch: (path, body, opts) => request('PATCH', path, body, opts),
  del: (path, opts) => request('DELETE', path, undefined, opts),
};

/**
 * True when the server has no such route at all (an older Parley), as opposed to a missing
 * entity ("No such visitor."): those parts of the dashboard then say so instead of failing.
 */
export function missingRoute(error) {
  return error instanceof APIError && (error.status === 405 || (error.status === 404 && error.message === 'No such route.'));
}

// Attachments need the session cookie, so they are fetched and shown from blob: URLs (the CSP
// allows img-src blob:). One fetch per file, kept for the page's life.
const blobs = new Map();
export function attachmentURL(id) {
  if (!blobs.has(id)) {
    const promise = request('GET', `/api/v1/admin/attachments/${encodeURIComponent(id)}`, undefined, { raw: true })
      .then((r) => r.blob())
      .then((blob) => URL.createObjectURL(blob));
    promise.catch(() => blobs.delete(id));
    blobs.set(id, promise);
  }
  return blobs.get(id);
}

/** A random client id (idempotency key for replies). */
export function clientId() {
  return 'dash-' + (crypto.randomUUID ? crypto.randomUUID() : Math.random().toString(36).slice(2) + Date.now());
}
