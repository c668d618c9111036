#!/usr/bin/env python3
"""Outbound webhooks end to end: a real server, real receivers on loopback, real failures.

Usage: webhook_test.py [--binary .build/debug/parley] [--engine sqlite|postgres] [--postgres-url URL]
                       [--only 1,2,...] [--keep]

Starts the parley binary on a free loopback port (temp data dir, the assistant off so that only
what the test causes happens, PARLEY_OUTBOUND_ALLOW=127.0.0.1, retry base 0.2 s) and HTTP
receivers of its own on 127.0.0.1, then checks, one numbered group at a time:

  5. SSRF at save time: forbidden destinations (metadata, private, other spellings, other schemes)
     are refused with 422 naming `url`, on create and on PATCH.
  1. Signature: deliveries verify with the Standard Webhooks scheme (and fail with a wrong secret);
     the body's id is the webhook-id; the timestamp is fresh; a rolled secret signs the next one.
  6. Internal notes never produce message.created (checked after the next public message arrived).
  2. Receiver down then up: ~30 events over four conversations and a ticket while the receiver
     refuses connections; all arrive, once per webhook-id, in order per conversation and ticket.
  3. kill -9 while a delivery is held unanswered: after a restart the same webhook-id comes again,
     everything else arrives, no event shows up under two ids, order per conversation holds.
  4. (restarted with an 18 s retry budget) 400, 410, 500, 302 (whose target must never be hit), a
     12 s hang (timeout), a refused connection, a 10 MB answer and a 200 whose body drips for 25 s:
     the big one is delivered at once, the hang and the drip cut off by the 10 s limit, the others
     retried on their backoff (not held up by the hanging ones), then dead, listed in the outbox,
     and redelivered by a manual retry with the same webhook-id; a dead one can be deleted and is
     not sent again.
  8. (restarted with the assistant on, over a scripted OpenAI-compatible model) the assistant's reply
     produces message.created (role ai), and a visitor's thumbs up feedback.created.
  7. Every SIGTERM of the run (a restart, the end) exits 0.

Prints one line per check, ends with `webhooks: N passed, M failed`, exits 0 only if all passed.
Every process and receiver it starts is stopped at exit; the data dir is kept (and printed) when a
check failed or with --keep.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.cookiejar
import http.server
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

RESULTS = []
EVENT_TYPES = ["conversation.created", "message.created", "conversation.escalated", "conversation.closed",
               "ticket.created", "ticket.updated", "ticket.replied", "ticket.rated", "feedback.created"]
# Retry settings of the two phases. Phase A is generous (a lease may take ~40 s to expire after a
# kill -9); phase B is small so that failing deliveries go dead within the test: 0.005 h = 18 s,
# enough for a second attempt after a first one timed out at 10 s.
BUDGET_HOURS_A, BUDGET_HOURS_B, RETRY_BASE = "0.05", "0.005", "0.2"


# MARK: - Reporting

def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""), flush=True)
    return ok


def step(name, fn):
    """Runs one check; an exception fails it (with its message) without stopping the others.
    fn returns None/True (pass), (ok, detail), or a string (fail with it)."""
    started = time.time()
    try:
        result = fn()
        if result is None or result is True:
            return check(name, True, f"{time.time() - started:.1f}s")
        if isinstance(result, tuple):
            return check(name, result[0], result[1])
        return check(name, False, str(result))
    except Exception as error:  # noqa: BLE001 - a failed check, reported
        message = str(error).strip().splitlines()
        return check(name, False, f"{type(error).__name__}: {message[0] if message else ''}"[:600])


def wait_for(fn, timeout, interval=0.1, what="condition"):
    """fn() until it is truthy (returned) or `timeout` seconds passed (raises)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})"[:600])


def by_key(problems, limit=3):
    """{key: [problem]} as one line: a key's first few problems, keys shortened."""
    parts = [f"{key[:8]}: " + "; ".join(found[:limit]) + (f"; … ({len(found)} in all)" if len(found) > limit else "")
             for key, found in problems.items() if found]
    return " | ".join(parts)


def short(items, limit=6):
    items = list(items)
    return ", ".join(str(i) for i in items[:limit]) + (f", … ({len(items)} in all)" if len(items) > limit else "")


# MARK: - Standard Webhooks signatures

def signature(secret, msg_id, timestamp, body):
    """`v1,` + base64(HMAC-SHA256(base64-decoded secret after `whsec_`, "{id}.{timestamp}.{body}"))."""
    key = base64.b64decode(secret.split("_", 1)[1] if secret.startswith("whsec_") else secret)
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verifies(secret, msg_id, timestamp, body, header):
    """Whether any of the space-separated signatures in `header` is the one `secret` makes."""
    expected = signature(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(candidate, expected) for candidate in (header or "").split())


def self_test():
    """The signature code against the Standard Webhooks reference vector, and the matcher."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert verifies(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body,
                    "v1,bm9ub3RoZXI= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    assert not verifies("whsec_" + base64.b64encode(b"x" * 24).decode(), "msg_p5jXN8AQM9LWM0D4loKWxJek",
                        "1614265330", body, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

    def event(type_, text, when=0):
        return Event(type_, "w" + text, {"data": {"body": text}, "timestamp": when}, json.dumps({"body": text}), when)
    expected = [Expect("conversation.created"), Expect("message.created", "m1"), Expect("message.created", "m2")]
    found, order = match(expected, [event("conversation.created", ""), event("message.created", "m1"),
                                     event("message.created", "m2")])
    assert not [e for e, f in zip(expected, found) if f is None] and order == [], (found, order)
    found, order = match(expected, [event("conversation.created", ""), event("message.created", "m2"),
                                    event("message.created", "m1")])
    assert order, "a reordering must be found"
    found, order = match(expected, [event("message.created", "m1")])
    assert found[0] is None and found[2] is None
    # Unordered updates are counted, not placed; a marked event takes its own arrival first.
    expected = [Expect("ticket.created"), Expect("ticket.updated", ordered=False),
                Expect({"ticket.replied", "ticket.updated"}, "r2"), Expect("ticket.updated", ordered=False)]
    found, order = match(expected, [event("ticket.created", ""), event("ticket.updated", "x"),
                                    event("ticket.updated", "r2"), event("ticket.updated", "y")])
    assert found == [0, 1, 2, 3] and order == [], (found, order)
    found, order = match(expected, [event("ticket.updated", "r2"), event("ticket.created", "")])
    assert found[2] == 0 and order, (found, order)


# MARK: - Processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Parley:
    """The server under test, restartable on the same data directory or database."""
    started = []

    def __init__(self, binary, env, log_path):
        self.binary, self.env, self.log_path = binary, env, log_path
        self.process = None
        self.port = int(env["PARLEY_PORT"])
        self.stop_codes = []
        Parley.started.append(self)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        log = open(self.log_path, "a")
        log.write(f"\n==== webhook_test: start at {time.strftime('%H:%M:%S')} "
                  f"(budget {self.env.get('PARLEY_WEBHOOK_RETRY_HOURS')} h)\n")
        log.flush()
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/readyz", timeout=1).read()
                return
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError(f"parley exited with {self.process.returncode}; see {self.log_path}")
                time.sleep(0.05)
        raise RuntimeError("parley did not become ready in 30 s")

    def output(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        """SIGTERM; records and returns the exit code (None when it had to be killed)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                code = self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
                code = None
            self.stop_codes.append(code)
            return code
        return None


def http_json(method, url, body=None, headers=None, opener=None, timeout=15):
    """(status, parsed JSON or text or None) without raising on HTTP errors."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=timeout) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text.decode(errors="replace")


class Agent:
    """The owner, signed in with a session cookie; unsafe requests echo the CSRF token."""

    def __init__(self, parley, email, password):
        self.parley, self.email, self.password = parley, email, password
        self.login()

    def login(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        status, body = http_json("POST", self.parley.url + "/api/v1/auth/login",
                                 {"email": self.email, "password": self.password}, opener=self.opener)
        if status != 200:
            raise RuntimeError(f"sign-in -> {status} {body!r:.300}")
        self.csrf = body["csrfToken"]

    def request(self, method, path, body=None):
        """(status, body); signs in again once if the session is gone (e.g. after a restart)."""
        for attempt in range(2):
            headers = {"X-CSRF-Token": self.csrf} if method != "GET" else {}
            status, answer = http_json(method, self.parley.url + path, body, headers, self.opener)
            if status != 401 or attempt:
                return status, answer
            self.login()
        return status, answer

    def call(self, method, path, body=None, ok=(200, 201, 202, 204)):
        status, answer = self.request(method, path, body)
        if status not in ok:
            raise RuntimeError(f"{method} {path} -> {status} {json.dumps(answer)[:300] if answer else ''}")
        return answer

    # Webhooks
    def create_webhook(self, url, events=None, description=None):
        return self.call("POST", "/api/v1/admin/webhooks",
                         {"url": url, "events": events or EVENT_TYPES, "description": description or url}, ok=(201,))

    def deliveries(self, webhook_id):
        """Every delivery of a webhook (following nextCursor, at most 10 pages)."""
        out, cursor = [], None
        for _ in range(10):
            page = self.call("GET", f"/api/v1/admin/webhooks/{webhook_id}/deliveries?limit=200"
                             + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
            out += page.get("data", [])
            cursor = page.get("nextCursor")
            if not cursor:
                break
        return out

    def dead_outbox(self):
        out, cursor = [], None
        for _ in range(10):
            page = self.call("GET", "/api/v1/admin/outbox?status=dead&limit=200"
                             + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
            out += page.get("data", [])
            cursor = page.get("nextCursor")
            if not cursor:
                break
        return out


class Visitor:
    """A widget-like client over REST (no Origin header, as a server-side integration would be)."""

    def __init__(self, parley, site_key, name, user=None):
        self.parley = parley
        body = {"site": site_key, "visitorId": f"wh-{name}-{uuid.uuid4().hex[:8]}"}
        if user:
            body["user"] = user
        started = self.call("POST", "/api/v1/chat/sessions", body, token=False)
        self.token, self.session = started["token"], started["session"]["id"]

    def call(self, method, path, body=None, token=True):
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        status, answer = http_json(method, self.parley.url + path, body, headers)
        if status not in (200, 201, 202, 204):
            raise RuntimeError(f"visitor {method} {path} -> {status} {json.dumps(answer)[:300] if answer else ''}")
        return answer

    def send(self, body):
        return self.call("POST", f"/api/v1/chat/sessions/{self.session}/messages",
                         {"clientId": uuid.uuid4().hex, "body": body})


# MARK: - Receivers

class Hit:
    """One request a receiver got, in arrival order."""

    def __init__(self, path, method, headers, body):
        self.path, self.method, self.headers, self.body = path, method, headers, body
        self.at = time.time()
        self.id = headers.get("webhook-id")
        self.timestamp = headers.get("webhook-timestamp")
        self.signature = headers.get("webhook-signature")
        self.status = None      # the answer's status, once its status line and headers were written
        self.lost = False       # answered after the server was killed: the server never saw the answer
        self.written = 0        # body bytes written
        self.write_error = None
        self.closed_after = None  # seconds from arrival until the server closed a dripping answer
        try:
            self.payload = json.loads(body)
        except ValueError:
            self.payload = None
        payload = self.payload if isinstance(self.payload, dict) else {}
        self.type = payload.get("type")
        self.data_text = json.dumps(payload.get("data"), sort_keys=True)

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300 and not self.lost

    def event(self):
        return Event(self.type, self.id, self.payload, self.data_text, self.at)


class Answer:
    """What a receiver answers: `size` bytes of "x" instead of `body`, or with `drip` the body one
    byte a second for that many seconds."""

    def __init__(self, status=200, body=b'{"ok":true}', headers=None, size=None, drip=None):
        self.status, self.body, self.headers, self.size, self.drip = status, body, headers or {}, size, drip


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers per path; stoppable
    (connections refused) and startable again on the same port. HTTP/1.0: one request per
    connection, so a stopped receiver really gets nothing."""

    def __init__(self, name, port=None):
        self.name, self.port = name, port or free_port()
        self.hits = []
        self.lock = threading.Lock()
        self.routes = {}
        self.server = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def handle_any(self):
                receiver.handle(self)

            do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

        deadline = time.time() + 10
        while True:
            try:
                self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def handle(self, h):
        body = b""
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(h.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    h.rfile.readline()
                    break
                body += h.rfile.read(size)
                h.rfile.readline()
        else:
            body = h.rfile.read(min(int(h.headers.get("Content-Length") or 0), 4_000_000))
        hit = Hit(h.path.split("?")[0], h.command, {k.lower(): v for k, v in h.headers.items()}, body)
        hit.connection = h.connection
        with self.lock:
            self.hits.append(hit)
        route = self.routes.get(hit.path)
        answer = route(hit) if route else Answer()
        try:
            h.send_response(answer.status)
            length = answer.size if answer.size is not None else answer.drip if answer.drip else len(answer.body)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(length))
            for key, value in answer.headers.items():
                h.send_header(key, value)
            h.end_headers()
            h.wfile.flush()
            hit.status = answer.status
            if answer.drip:
                for _ in range(answer.drip):
                    h.wfile.write(b"x")
                    h.wfile.flush()
                    hit.written += 1
                    time.sleep(1)
            elif answer.size is not None:
                chunk = b"x" * 65536
                while hit.written < answer.size:
                    piece = chunk[: min(len(chunk), answer.size - hit.written)]
                    h.wfile.write(piece)
                    hit.written += len(piece)
            else:
                h.wfile.write(answer.body)
                hit.written = len(answer.body)
            h.wfile.flush()
        except OSError as error:
            hit.write_error = f"{type(error).__name__} after {hit.written} bytes"
            hit.closed_after = time.time() - hit.at

    def snapshot(self, path=None):
        with self.lock:
            return [h for h in self.hits if path is None or h.path == path]

    def firsts(self, path=None, key=None):
        """Events of the first successful (2xx) arrival of each webhook-id, in arrival order;
        with `key`, only those whose data mentions it."""
        seen, out = set(), []
        for hit in self.snapshot(path):
            if hit.ok and hit.id not in seen:
                seen.add(hit.id)
                if key is None or key in hit.data_text:
                    out.append(hit.event())
        return out


class ScriptedModel(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/chat/completions answering ANSWER with a confident decision."""
    protocol_version = "HTTP/1.0"
    ANSWER = "Press Forgot password on the sign-in page."
    TRAILER = '<decision>{"decision":"answer","citations":[],"confidence":0.95,"quickReplies":[]}</decision>'

    def log_message(self, *args):
        pass

    def reply(self, content_type, body):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply("application/json", json.dumps({"object": "list", "data": [{"id": "scripted"}]}).encode())

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        text = self.ANSWER + "\n" + self.TRAILER
        if not request.get("stream"):
            self.reply("application/json", json.dumps({"id": "x", "object": "chat.completion", "model": "scripted",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}]}).encode())
            return
        pieces = re.findall(r"\S+\s*", self.ANSWER) + ["\n" + self.TRAILER]
        chunks = [{"content": piece} for piece in pieces]
        body = b""
        for delta, finish in [(c, None) for c in chunks] + [({}, "stop")]:
            frame = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            body += b"data: " + json.dumps(frame).encode() + b"\n\n"
        self.reply("text/event-stream", body + b"data: [DONE]\n\n")


def wait_closed(hit, limit):
    """Seconds from the request's arrival until the server closed its connection (None if it did
    not within `limit` seconds), watching the socket while not answering."""
    sock = hit.connection
    deadline = hit.at + limit
    while time.time() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.2)
        if readable:
            try:
                if not sock.recv(4096):
                    return time.time() - hit.at
            except OSError:
                return time.time() - hit.at
    return None


# MARK: - What was caused and what arrived

class Event:
    def __init__(self, type_, id_, payload, data_text, at):
        self.type, self.id, self.payload, self.text, self.at = type_, id_, payload, data_text, at

    def seq(self):
        """A message's seq in the data (breadth first: data.seq, then data.message.seq…)."""
        queue = [self.payload.get("data") if isinstance(self.payload, dict) else None]
        while queue:
            item = queue.pop(0)
            if isinstance(item, dict):
                if isinstance(item.get("seq"), int):
                    return item["seq"]
                queue += list(item.values())
        return None

    def body_time(self):
        value = self.payload.get("timestamp") if isinstance(self.payload, dict) else None
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                return None
        return None


class Expect:
    """An event the test caused: one of `types`, whose data mentions `marker` (when given).
    `ordered=False` for one that cannot be told from others of its type (a ticket.updated): it is
    counted, not placed."""

    def __init__(self, types, marker=None, ordered=True):
        self.types = {types} if isinstance(types, str) else set(types)
        self.marker, self.ordered = marker, ordered

    def __repr__(self):
        return "/".join(sorted(self.types)) + (f"[{self.marker}]" if self.marker else "")


def match(expected, events):
    """Pairs each expected event with an arrived one. An expected event with a marker takes the
    first arrival of its types that mentions the marker (or, when no arrival mentions it at all,
    the first of its types that mentions no other marker); one without takes the first unused
    arrival of its types (after the marked ones took theirs). Returns (found: [event index or None],
    order problems: [str]): the arrivals of the ordered expected events must come in the order they
    were caused."""
    used, found = set(), [None] * len(expected)
    markers = {e.marker for e in expected if e.marker}
    for position in sorted(range(len(expected)), key=lambda p: (expected[p].marker is None, p)):
        item = expected[position]
        choice = None
        if item.marker:
            choice = next((i for i, e in enumerate(events)
                           if i not in used and e.type in item.types and item.marker in e.text), None)
            if choice is None and not any(item.marker in e.text for e in events):
                choice = next((i for i, e in enumerate(events) if i not in used and e.type in item.types
                               and not any(m in e.text for m in markers)), None)
        else:
            choice = next((i for i, e in enumerate(events) if i not in used and e.type in item.types), None)
        if choice is not None:
            used.add(choice)
        found[position] = choice
    order = []
    last = None
    for item, index in zip(expected, found):
        if index is None or not item.ordered:
            continue
        if last is not None and index < last[1]:
            order.append(f"{item!r} arrived before {last[0]!r}")
        last = (item, index) if last is None or index > last[1] else last
    return found, order


def order_evidence(events):
    """Order problems seen in the arrivals of one conversation or ticket: message seqs that go
    down, envelope timestamps that go down."""
    problems = []
    seqs = [(e.seq(), e) for e in events if e.type == "message.created" and e.seq() is not None]
    for (a, _), (b, _) in zip(seqs, seqs[1:]):
        if b <= a:
            problems.append(f"message seq {b} arrived after seq {a}")
    # Events of one transaction may carry times a few ms apart in either order; separate requests
    # are further apart than that. A conversation's ticket (a handoff) is an aggregate of its own,
    # ordered apart: its events may arrive before or after the conversation's.
    for kind in (lambda e: e.type.startswith("ticket."), lambda e: not e.type.startswith("ticket.")):
        times = [e.body_time() for e in events if kind(e) and e.body_time() is not None]
        for a, b in zip(times, times[1:]):
            if b < a - 0.02:
                problems.append(f"timestamp {b} arrived after {a}")
    return problems


def arrival(receiver, path, key, expected):
    """(missing expected events, order problems) for one conversation or ticket."""
    events = receiver.firsts(path, key)
    found, order = match(expected, events)
    missing = [repr(e) for e, f in zip(expected, found) if f is None]
    return missing, order + order_evidence(events)


def dup_ids(receiver, path, keys):
    """webhook-ids answered 2xx more than once (among events mentioning one of `keys`)."""
    counts = {}
    for hit in receiver.snapshot(path):
        if hit.ok and any(k in hit.data_text for k in keys):
            counts[hit.id] = counts.get(hit.id, 0) + 1
    return {i: n for i, n in counts.items() if n > 1}


def one_id_per_event(receiver, path, key, expected):
    """Expected events (with a marker, or of a type that happens once per conversation or ticket)
    that arrived under more than one webhook-id: a repeat must carry the same id."""
    once = {"conversation.created", "conversation.escalated", "conversation.closed", "ticket.created", "ticket.rated"}
    problems = []
    hits = [h for h in receiver.snapshot(path) if h.payload and key in h.data_text]
    for item in expected:
        if not item.marker and not item.types <= once:
            continue
        ids = {h.id for h in hits if h.type in item.types and (not item.marker or item.marker in h.data_text)}
        if len(ids) > 1:
            problems.append(f"{item!r} under {len(ids)} ids: {short(sorted(ids))}")
    return problems


# MARK: - The run

class Run:
    def __init__(self, args, temp):
        self.args, self.temp = args, temp
        self.receivers = []
        self.pg_url = None

    def receiver(self, name):
        receiver = Receiver(name)
        receiver.start()
        self.receivers.append(receiver)
        return receiver

    def environment(self, budget, model_url=None):
        env = dict(os.environ)
        for key in ("AI_API_URL", "AI_API_KEY", "AI_MODEL", "PARLEY_DATABASE_URL", "PARLEY_WEB_DIR"):
            env.pop(key, None)
        env.update({
            "PARLEY_PORT": str(self.port), "PARLEY_HOST": "127.0.0.1", "PARLEY_DATA_DIR": self.data_dir,
            "PARLEY_BASE_URL": f"http://127.0.0.1:{self.port}",
            "PARLEY_ADMIN_EMAIL": "hooks@example.com", "PARLEY_ADMIN_PASSWORD": "webhook test password",
            "PARLEY_BCRYPT_COST": "4", "PARLEY_LOG_LEVEL": "info", "PARLEY_ASSISTANT": "off",
            "PARLEY_CHAT_RATE_LIMIT": "100000", "PARLEY_PUBLIC_RATE_LIMIT": "100000",
            "PARLEY_OUTBOUND_ALLOW": "127.0.0.1", "PARLEY_WEBHOOK_RETRY_HOURS": budget,
            "PARLEY_OUTBOX_RETRY_BASE_SECONDS": RETRY_BASE,
        })
        if self.pg_url:
            env["PARLEY_DATABASE_URL"] = self.pg_url
        if model_url:
            env.update({"PARLEY_ASSISTANT": "on", "AI_API_URL": model_url, "AI_MODEL": "scripted",
                        "AI_API_KEY": "test"})
        return env

    def setup(self):
        self.data_dir = os.path.join(self.temp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = free_port()
        if self.args.engine == "postgres":
            name = "webhooks_" + uuid.uuid4().hex[:10]
            subprocess.run(["psql", self.args.postgres_url, "-qc", f"CREATE DATABASE {name}"], check=True)
            self.pg_url = self.args.postgres_url.rsplit("/", 1)[0] + "/" + name
        self.parley = Parley(os.path.abspath(self.args.binary), self.environment(BUDGET_HOURS_A),
                             os.path.join(self.temp, "server.log"))
        self.parley.start()
        keys = re.findall(r"Site key:\s+(\S+)", self.parley.output())
        self.agent = Agent(self.parley, "hooks@example.com", "webhook test password")
        site = self.agent.call("GET", "/api/v1/admin/sites")["data"][0]
        self.site_key = keys[0] if keys else site["publicKey"]
        self.identity_secret = site["identitySecret"]
        print(f"parley {self.parley.url} ({self.args.engine}), data {self.temp}", flush=True)

    def restart(self, budget, model_url=None):
        """SIGTERM, then start again with another retry budget or the assistant on (same data)."""
        self.parley.stop()
        self.parley.env = self.environment(budget, model_url)
        self.parley.start()

    def visitor(self, name, identified=False):
        user = None
        if identified:
            user_id = f"wh-user-{uuid.uuid4().hex[:8]}"
            user = {"id": user_id, "email": f"{user_id}@example.com", "name": "Webhook Tester",
                    "userHash": hmac.new(self.identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()}
        return Visitor(self.parley, self.site_key, name, user)

    def settled(self, webhook_id, ids=None):
        """The webhook's deliveries when none is pending any more (of `ids`, when given)."""
        deliveries = self.agent.deliveries(webhook_id)
        relevant = [d for d in deliveries if ids is None or d["id"] in ids]
        return deliveries if relevant and all(d.get("status") != "pending" for d in relevant) else None

    # MARK: 0 + 5: the admin API and SSRF at save time

    def check_admin_and_ssrf(self):
        receiver = self.receiver("admin")

        def listing():
            answer = self.agent.call("GET", "/api/v1/admin/webhooks")
            missing = set(EVENT_TYPES) - set(answer.get("eventTypes", []))
            assert isinstance(answer.get("data"), list), answer
            return not missing, f"eventTypes {answer.get('eventTypes')}" if missing else "all nine event types"
        step("0a GET /admin/webhooks lists data and the documented eventTypes", listing)

        def create_read_update():
            created = self.agent.create_webhook(receiver.url("/crud"), ["message.created"], "crud")
            keys = ("id", "url", "events", "active", "createdAt", "updatedAt", "secret")
            problems = [k for k in keys if k not in created]
            if not str(created.get("secret", "")).startswith("whsec_"):
                problems.append(f"secret {created.get('secret')!r:.20} does not start with whsec_")
            else:
                base64.b64decode(created["secret"][6:], validate=True)
            shown = self.agent.call("GET", f"/api/v1/admin/webhooks/{created['id']}")
            if shown.get("url") != created["url"]:
                problems.append(f"GET url {shown.get('url')}")
            patched = self.agent.call("PATCH", f"/api/v1/admin/webhooks/{created['id']}",
                                      {"active": False, "events": ["ticket.created"]})
            if patched.get("active") is not False or patched.get("events") != ["ticket.created"]:
                problems.append(f"PATCH gave active={patched.get('active')} events={patched.get('events')}")
            rolled = self.agent.call("POST", f"/api/v1/admin/webhooks/{created['id']}/secret")
            if not str(rolled.get("secret", "")).startswith("whsec_") or rolled["secret"] == created["secret"]:
                problems.append(f"rolled secret {str(rolled.get('secret'))[:12]}…")
            self.agent.call("DELETE", f"/api/v1/admin/webhooks/{created['id']}")
            status, _ = self.agent.request("GET", f"/api/v1/admin/webhooks/{created['id']}")
            if status != 404:
                problems.append(f"GET after DELETE -> {status}")
            return not problems, "; ".join(problems) or "create 201 with whsec_ secret, GET, PATCH, roll, DELETE -> 404"
        step("0b webhooks: create, read, PATCH, roll the secret, DELETE", create_read_update)

        def refused(url, method="POST", webhook=None):
            if method == "POST":
                status, body = self.agent.request("POST", "/api/v1/admin/webhooks",
                                                  {"url": url, "events": ["message.created"]})
            else:
                status, body = self.agent.request("PATCH", f"/api/v1/admin/webhooks/{webhook}", {"url": url})
            error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
            names_url = error.get("field") == "url" or "url" in str(error.get("message", "")).lower()
            if status == 201 and isinstance(body, dict) and body.get("id"):
                self.agent.request("DELETE", f"/api/v1/admin/webhooks/{body['id']}")
            return status == 422 and names_url, f"{method} {url} -> {status} {json.dumps(body)[:160]}"

        def metadata_and_private():
            results = [refused("http://169.254.169.254/latest/meta-data/"), refused("http://10.0.0.1/hook")]
            bad = [detail for ok, detail in results if not ok]
            return not bad, "; ".join(bad) or "169.254.169.254 and 10.0.0.1: 422 naming url"
        step("5a SSRF: metadata and private addresses refused at save time (422, field url)", metadata_and_private)

        def other_spellings():
            urls = ["http://[::ffff:169.254.169.254]/", "http://0xa9fea9fe/", "http://2852039166/",
                    "http://10.1/", "http://0/", "http://[::]/", "http://192.168.1.1/", "http://[fd00::1]/",
                    "ftp://127.0.0.1/", "file:///etc/passwd", "gopher://127.0.0.1:70/"]
            results = [refused(url) for url in urls]
            bad = [detail for ok, detail in results if not ok]
            return not bad, "; ".join(bad) or f"{len(urls)} spellings and schemes refused"
        step("5b SSRF: other spellings (v4-mapped, hex, decimal, short, unspecified) and schemes refused",
             other_spellings)

        def patch_refused():
            created = self.agent.create_webhook(receiver.url("/patch"), ["message.created"], "patch")
            try:
                ok, detail = refused("http://169.254.169.254/", "PATCH", created["id"])
                still = self.agent.call("GET", f"/api/v1/admin/webhooks/{created['id']}")
                unchanged = still.get("url") == created["url"]
                return ok and unchanged, detail + ("" if unchanged else f"; url is now {still.get('url')}")
            finally:
                self.agent.request("DELETE", f"/api/v1/admin/webhooks/{created['id']}")
        step("5c SSRF: PATCH to a forbidden URL is refused and changes nothing", patch_refused)

    # MARK: 1: signatures

    def check_signatures(self):
        receiver = self.receiver("signatures")
        hook = self.agent.create_webhook(receiver.url("/sig"), description="signatures")
        state = {}

        def test_delivery():
            queued = self.agent.call("POST", f"/api/v1/admin/webhooks/{hook['id']}/test", ok=(202,))
            hit = wait_for(lambda: next((h for h in receiver.snapshot("/sig") if h.ok), None), 15,
                           what="the test delivery")
            state["test"] = hit
            problems = []
            if queued.get("id") and queued["id"] != hit.id:
                problems.append(f"202 said delivery {queued['id']}, webhook-id {hit.id}")
            return verify_hit(hook["secret"], hit, problems)
        step("1a the test delivery verifies (Standard Webhooks), body id = webhook-id, fresh timestamp",
             test_delivery)

        def wrong_secret():
            hit = state.get("test") or wait_for(lambda: next(iter(receiver.snapshot("/sig")), None), 10)
            wrong = "whsec_" + base64.b64encode(os.urandom(24)).decode()
            tampered = hit.body.replace(b'"', b"'", 1)
            fails = not verifies(wrong, hit.id, hit.timestamp, hit.body, hit.signature)
            fails_body = not verifies(hook["secret"], hit.id, hit.timestamp, tampered, hit.signature)
            fails_id = not verifies(hook["secret"], hit.id + "x", hit.timestamp, hit.body, hit.signature)
            return fails and fails_body and fails_id, (f"wrong secret {'fails' if fails else 'VERIFIES'}, "
                                                       f"changed body {'fails' if fails_body else 'VERIFIES'}, "
                                                       f"changed id {'fails' if fails_id else 'VERIFIES'}")
        step("1b a wrong secret, a changed body or a changed id do not verify", wrong_secret)

        def real_event():
            visitor = self.visitor("sig")
            marker = f"sig-{uuid.uuid4().hex[:8]}"
            visitor.send(f"Hello {marker}")
            hit = wait_for(lambda: next((h for h in receiver.snapshot("/sig")
                                         if h.ok and h.type == "message.created" and marker in h.data_text), None),
                           15, what="message.created of the visitor's message")
            problems = []
            if visitor.session not in hit.data_text:
                problems.append("the data does not name the conversation")
            org = hit.payload.get("organizationId")
            if not org:
                problems.append("no organizationId")
            return verify_hit(hook["secret"], hit, problems)
        step("1c a visitor's message.created verifies and names its conversation", real_event)

        def rolled():
            rolled_hook = self.agent.call("POST", f"/api/v1/admin/webhooks/{hook['id']}/secret")
            secret = rolled_hook["secret"]
            before = {h.id for h in receiver.snapshot("/sig")}
            self.agent.call("POST", f"/api/v1/admin/webhooks/{hook['id']}/test", ok=(202,))
            hit = wait_for(lambda: next((h for h in receiver.snapshot("/sig") if h.ok and h.id not in before), None),
                           15, what="a test delivery after the roll")
            old = verifies(hook["secret"], hit.id, hit.timestamp, hit.body, hit.signature)
            ok, detail = verify_hit(secret, hit, [])
            return ok, detail + f"; old secret {'still verifies too' if old else 'no longer verifies'}"
        step("1d after rolling the secret, the next delivery verifies with the new one", rolled)
        self.agent.call("PATCH", f"/api/v1/admin/webhooks/{hook['id']}", {"active": False})
        self.inactive = (receiver, hook)

    # MARK: 6: internal notes

    def check_notes(self):
        receiver = self.receiver("notes")
        hook = self.agent.create_webhook(receiver.url("/notes"), description="notes")
        visitor = self.visitor("notes")
        tag = uuid.uuid4().hex[:8]
        note, public, question = f"NOTE-{tag}", f"PUBLIC-{tag}", f"QUESTION-{tag}"
        visitor.send(f"A question {question}")
        self.agent.call("POST", f"/api/v1/admin/chats/{visitor.session}/reply",
                        {"body": f"secret {note}", "internal": True})
        self.agent.call("POST", f"/api/v1/admin/chats/{visitor.session}/reply", {"body": f"answer {public}"})

        def notes():
            wait_for(lambda: any(h.ok and h.type == "message.created" and public in h.data_text
                                 for h in receiver.snapshot("/notes")), 20, what="the public reply's message.created")
            hits = receiver.snapshot("/notes")
            leaked = [f"{h.type} {h.id}" for h in hits if note in h.data_text or note.encode() in h.body]
            got_question = any(question in h.data_text for h in hits if h.type == "message.created")
            types = sorted({h.type for h in hits if visitor.session in h.data_text})
            return (not leaked and got_question,
                    f"leaked in {short(leaked)}" if leaked else
                    f"visitor's message {'arrived' if got_question else 'MISSING'}, the note in none of "
                    f"{len(hits)} deliveries ({short(types)})")
        step("6  an internal note never produces a webhook (the public reply after it arrived)", notes)

        def inactive():
            sig_receiver, hook = self.inactive
            got = [h.type for h in sig_receiver.snapshot("/sig") if visitor.session in h.data_text]
            return not got, f"the inactive webhook got {short(got)}" if got else "nothing for the notes conversation"
        step("1e an inactive webhook gets nothing (checked after an active one got the same events)", inactive)
        self.agent.call("PATCH", f"/api/v1/admin/webhooks/{hook['id']}", {"active": False})

    # MARK: 2: receiver down then up

    def check_down_up(self):
        receiver = self.receiver("down-up")
        hook = self.agent.create_webhook(receiver.url("/down"), description="down then up")
        receiver.stop()
        down_at = time.time()
        tag = uuid.uuid4().hex[:6]
        plan = {}  # key -> [Expect]

        # Conversation A: visitor messages, escalation, an agent's answer, closed by the agent.
        a = self.visitor("down-a")
        plan[a.session] = [Expect("conversation.created")]
        for i in range(1, 5):
            a.send(f"A{i}-{tag} a question")
            plan[a.session].append(Expect("message.created", f"A{i}-{tag}"))
        a.call("POST", f"/api/v1/chat/sessions/{a.session}/escalate", {})
        plan[a.session].append(Expect("conversation.escalated"))
        self.agent.call("POST", f"/api/v1/admin/chats/{a.session}/reply", {"body": f"A5-{tag} from an agent"})
        plan[a.session].append(Expect("message.created", f"A5-{tag}"))
        self.agent.call("POST", f"/api/v1/admin/chats/{a.session}/close", {})
        plan[a.session].append(Expect("conversation.closed"))

        # Conversation B, interleaved with C: an agent answers without escalation; the visitor closes.
        b, c = self.visitor("down-b"), self.visitor("down-c")
        plan[b.session] = [Expect("conversation.created")]
        plan[c.session] = [Expect("conversation.created")]
        for i in range(1, 4):
            b.send(f"B{i}-{tag} hello")
            plan[b.session].append(Expect("message.created", f"B{i}-{tag}"))
            c.send(f"C{i}-{tag} hello")
            plan[c.session].append(Expect("message.created", f"C{i}-{tag}"))
        self.agent.call("POST", f"/api/v1/admin/chats/{b.session}/reply", {"body": f"B4-{tag} agent"})
        plan[b.session].append(Expect("message.created", f"B4-{tag}"))
        b.call("POST", f"/api/v1/chat/sessions/{b.session}/close", {})
        plan[b.session].append(Expect("conversation.closed"))

        # A ticket from a signed-in visitor: replies both ways, priority, tags, resolved, rated.
        t = self.visitor("down-t", identified=True)
        t.send(f"S1-{tag} signed in")
        plan[t.session] = [Expect("conversation.created"), Expect("message.created", f"S1-{tag}")]
        ticket = t.call("POST", "/api/v1/tickets", {"subject": f"T0-{tag} export broken", "body": f"T0-{tag} details"})
        tid = ticket["id"]
        plan[tid] = [Expect("ticket.created")]
        self.agent.call("POST", f"/api/v1/admin/tickets/{tid}/reply", {"body": f"T1-{tag} agent answer"})
        plan[tid].append(Expect("ticket.replied", f"T1-{tag}"))
        self.agent.call("POST", f"/api/v1/admin/tickets/{tid}/priority", {"priority": "urgent"})
        plan[tid].append(Expect("ticket.updated", ordered=False))
        self.agent.call("POST", f"/api/v1/admin/tickets/{tid}/tags", {"tags": [f"wh-{tag}"]})
        plan[tid].append(Expect("ticket.updated", ordered=False))
        t.call("POST", f"/api/v1/tickets/{tid}/reply", {"body": f"T2-{tag} customer answer"})
        # A customer's reply is told by its status change (reopened), not always by its words.
        plan[tid].append(Expect({"ticket.replied", "ticket.updated"}, f"T2-{tag}", ordered=False))
        self.agent.call("POST", f"/api/v1/admin/tickets/{tid}/status", {"status": "resolved"})
        plan[tid].append(Expect("ticket.updated", ordered=False))
        t.call("POST", f"/api/v1/tickets/{tid}/rate", {"stars": 5, "comment": f"T3-{tag} thanks"})
        plan[tid].append(Expect("ticket.rated"))
        caused = sum(len(v) for v in plan.values())
        keys = list(plan)
        got_while_down = len(receiver.snapshot())

        time.sleep(3.0)
        receiver.start()
        up_at = time.time()

        def everything_arrived():
            missing = [m for key in keys for m in arrival(receiver, "/down", key, plan[key])[0]]
            return not missing and self.settled(hook["id"])
        try:
            wait_for(everything_arrived, 60, interval=0.5, what="every caused event")
        except TimeoutError:
            pass
        took = time.time() - up_at
        deliveries = self.agent.deliveries(hook["id"])

        def all_arrived():
            missing = {key: arrival(receiver, "/down", key, plan[key])[0] for key in keys}
            missing = {k: v for k, v in missing.items() if v}
            return not missing, (f"missing {by_key(missing, 8)}" if missing else
                                 f"{caused} caused events over 4 conversations and a ticket; "
                                 f"all in {took:.1f}s after the receiver came back "
                                 f"(down {up_at - down_at:.1f}s, {got_while_down} requests got through while down)")
        step("2a receiver down then up: every caused event arrives", all_arrived)

        def once():
            dups = dup_ids(receiver, "/down", keys)
            answered = [h for h in receiver.snapshot("/down") if h.ok]
            return not dups, (f"webhook-ids answered 2xx more than once: {dups}" if dups else
                              f"{len(answered)} deliveries, {len({h.id for h in answered})} ids, no duplicate")
        step("2b exactly once per webhook-id", once)

        def one_id():
            problems = [p for key in keys for p in one_id_per_event(receiver, "/down", key, plan[key])]
            return not problems, "; ".join(problems) or "no event arrived under two ids"
        step("2c no event arrives under a second webhook-id", one_id)

        def in_order():
            problems = {key: arrival(receiver, "/down", key, plan[key])[1] for key in keys}
            problems = {k: v for k, v in problems.items() if v}
            return not problems, (by_key(problems) if problems else
                                  "per conversation and per ticket: caused order, seqs up, timestamps up")
        step("2d in order per conversation and per ticket", in_order)

        def server_view():
            by_status = {}
            for d in deliveries:
                by_status[d.get("status")] = by_status.get(d.get("status"), 0) + 1
            received = {h.id for h in receiver.snapshot("/down") if h.ok}
            unreceived = [d["id"] for d in deliveries if d.get("status") == "delivered" and d["id"] not in received]
            attempts = sorted({d.get("attempts") for d in deliveries}, key=str)
            ok = set(by_status) == {"delivered"} and not unreceived
            return ok, (f"statuses {by_status}; attempts {attempts}"
                        + (f"; delivered but never received: {short(unreceived)}" if unreceived else ""))
        step("2e the deliveries log: all delivered, each one received", server_view)
        self.agent.call("PATCH", f"/api/v1/admin/webhooks/{hook['id']}", {"active": False})

    # MARK: 3: kill -9 between claim and acknowledgement

    def check_kill(self):
        receiver = self.receiver("kill")
        held, release = threading.Event(), threading.Event()
        state = {"held": None}
        tag = uuid.uuid4().hex[:6]
        plan = {}

        def hold_first(hit):
            if state["held"] is None and hit.type == "message.created" and f"K1-{tag}" in hit.data_text:
                state["held"] = hit
                held.set()
                release.wait(30)
                hit.lost = True  # the server that sent it is gone: this answer reaches nobody
            return Answer()
        receiver.routes["/hold"] = hold_first
        hook = self.agent.create_webhook(receiver.url("/hold"), description="kill -9")

        k = self.visitor("kill-k")
        k.send(f"K1-{tag} first")
        plan[k.session] = [Expect("conversation.created"), Expect("message.created", f"K1-{tag}")]
        for i in range(2, 6):
            k.send(f"K{i}-{tag} more")
            plan[k.session].append(Expect("message.created", f"K{i}-{tag}"))
        other = self.visitor("kill-o")
        plan[other.session] = [Expect("conversation.created")]
        for i in range(1, 4):
            other.send(f"O{i}-{tag} other")
            plan[other.session].append(Expect("message.created", f"O{i}-{tag}"))
        keys = list(plan)

        def killed_and_back():
            if not held.wait(20):
                return False, f"the K1 delivery never came ({len(receiver.snapshot())} requests)"
            self.parley.kill()
            killed_at = time.time()
            release.set()
            self.parley.start()
            state["restarted"] = time.time()
            hit = state["held"]
            again = wait_for(lambda: next((h for h in receiver.snapshot("/hold") if h.ok and h.id == hit.id), None),
                             60, interval=0.25, what=f"{hit.id} again")
            return True, f"held {hit.type} {hit.id}; delivered again {again.at - killed_at:.1f}s after the kill"
        step("3a kill -9 while a delivery is held: the same webhook-id is delivered again", killed_and_back)

        def everything():
            try:
                wait_for(lambda: not [m for key in keys for m in arrival(receiver, "/hold", key, plan[key])[0]]
                         and self.settled(hook["id"]), 60, interval=0.5, what="every event")
            except TimeoutError:
                pass
            missing = {key: arrival(receiver, "/hold", key, plan[key])[0] for key in keys}
            missing = {k: v for k, v in missing.items() if v}
            deliveries = self.agent.deliveries(hook["id"])
            statuses = sorted({d.get("status") for d in deliveries})
            return not missing and statuses == ["delivered"], (
                f"missing {by_key(missing, 8)}; deliveries {statuses}" if missing else
                f"{sum(len(v) for v in plan.values())} events; deliveries {statuses}")
        step("3b every other event arrives after the restart; none left pending", everything)

        def same_ids():
            problems = [p for key in keys for p in one_id_per_event(receiver, "/hold", key, plan[key])]
            hits = [h for h in receiver.snapshot("/hold") if h.id]
            repeats = len(hits) - len({h.id for h in hits})
            return not problems, "; ".join(problems) or f"{repeats} repeats, each under its original webhook-id"
        step("3c any repeat carries the same webhook-id", same_ids)

        def order():
            problems = {key: arrival(receiver, "/hold", key, plan[key])[1] for key in keys}
            problems = {k: v for k, v in problems.items() if v}
            return not problems, by_key(problems) if problems else "the held one first, the rest after it, in order"
        step("3d order per conversation holds across the crash", order)
        self.agent.call("PATCH", f"/api/v1/admin/webhooks/{hook['id']}", {"active": False})

    # MARK: 4: failures within limits

    def check_failures(self):
        self.restart(BUDGET_HOURS_B)
        receiver = self.receiver("failures")
        # An endpoint on a port nobody listens on (connection refused), started only to be fixed.
        closed = Receiver("refused")
        self.receivers.append(closed)
        fixed = set()

        def failing(status, headers=None):
            def route(hit):
                return Answer() if hit.path in fixed else Answer(status, b'{"error":"no"}', headers)
            return route

        def slow(hit):
            if hit.path not in fixed:
                hit.closed_after = wait_closed(hit, 12)
                hit.lost = True  # the server gave up (or 12 s passed): nobody reads this answer
            return Answer()
        receiver.routes.update({
            "/400": failing(400), "/500": failing(500), "/gone": failing(410),
            "/302": failing(302, {"Location": receiver.url("/redirect-target")}),
            "/slow": slow,
            "/big": lambda hit: Answer(200, size=10 * 1024 * 1024),
            "/drip": lambda hit: Answer(200, drip=25),
        })
        urls = {name: receiver.url(name) for name in ["/400", "/500", "/302", "/slow", "/big", "/gone", "/drip"]}
        urls["/refused"] = closed.url("/refused")
        hooks = {name: self.agent.create_webhook(url, ["message.created"], f"fails {name}")
                 for name, url in urls.items()}

        def hits(name):
            return (closed if name == "/refused" else receiver).snapshot(name)
        visitor = self.visitor("fail")
        marker = f"F1-{uuid.uuid4().hex[:6]}"
        visitor.send(f"{marker} one message for eight endpoints")
        started = time.time()

        def delivery(name):
            """The delivery of the visitor's message.created to this endpoint."""
            found = [d for d in self.agent.deliveries(hooks[name]["id"]) if d.get("eventType") == "message.created"]
            return found[0] if found else None

        def big():
            d = wait_for(lambda: (lambda x: x if x and x.get("status") == "delivered" else None)(delivery("/big")),
                         8, what="the 10 MB answer's delivery delivered")
            excerpt = d.get("responseExcerpt") or ""
            got = hits("/big")
            written = max((h.written for h in got), default=0)
            ok = d.get("attempts") == 1 and len(excerpt) <= 1024 and len(got) == 1
            return ok, (f"delivered in {time.time() - started:.1f}s, attempts {d.get('attempts')}, "
                        f"excerpt {len(excerpt)} chars, {len(got)} request(s), {written} bytes written before the "
                        f"server closed, latency {d.get('latencyMs')} ms")
        step("4a a 10 MB 200 answer counts as delivered at once (one attempt, excerpt ≤ 1 KB)", big)

        failing_names = ["/400", "/500", "/302", "/slow", "/gone", "/refused"]
        dead = {}

        def all_dead():
            def check_dead():
                for name in failing_names:
                    if name not in dead:
                        d = delivery(name)
                        if d and d.get("status") == "dead":
                            dead[name] = d
                return len(dead) == len(failing_names)
            try:
                wait_for(check_dead, 60, interval=0.5, what="every failing delivery dead")
            except TimeoutError:
                pass
            report, bad = [], []
            for name in failing_names:
                d = dead.get(name) or delivery(name) or {}
                report.append(f"{name}: {d.get('status')} after {d.get('attempts')} attempts "
                              f"(status {d.get('responseStatus')}, {str(d.get('error'))[:40]!r})")
                if d.get("status") != "dead" or (d.get("attempts") or 0) < 2:
                    bad.append(name)
            return not bad, f"{time.time() - started:.0f}s: " + "; ".join(report)
        step("4b 400, 410, 500, 302, a 12 s hang and a refused connection are retried (attempts > 1), "
             "then dead within the budget", all_dead)

        def backoff():
            # Base 0.2 s: attempts at about 0, 0.2, 0.6, 1.4 s (+ up to 1 s of the worker's nap each).
            times = [h.at for h in hits("/400")]
            gaps = [round(b - a, 1) for a, b in zip(times, times[1:])]
            ok = len(times) >= 3 and times[2] - times[0] < 4
            return ok, (f"/400 attempts {gaps}s apart" + ("" if ok else
                        " (its retries waited for the endpoints that hang: 0.2 s base, 18 s budget)"))
        step("4c retries keep their backoff while other endpoints hang (/400: three attempts within 4 s)", backoff)

        def timeout_bounded():
            got = hits("/slow")
            closes = [None if h.closed_after is None else round(h.closed_after, 1) for h in got]
            d = dead.get("/slow") or delivery("/slow") or {}
            ok = bool(got) and all(c is not None and c < 11.5 for c in closes)
            return ok, (f"{len(got)} attempts, the server closed each after {closes}s; "
                        f"error {str(d.get('error'))[:60]!r}")
        step("4d a hanging receiver is given up on after 10 s (the server closes the connection)", timeout_bounded)

        def drip_bounded():
            first = wait_for(lambda: next(iter(hits("/drip")), None), 5, what="the dripping endpoint's request")
            wait_for(lambda: first.closed_after is not None or time.time() - first.at > 27, 30, interval=0.5,
                     what="the dripping answer to end")
            d = delivery("/drip") or {}
            outcome = f"{d.get('status')} after {d.get('attempts')} attempts, latency {d.get('latencyMs')} ms"
            if first.closed_after is None:
                return False, f"the server read a 25 s answer to its end ({first.written} bytes); {outcome}"
            return first.closed_after < 12.5, f"closed {first.closed_after:.1f}s after the request; {outcome}"
        step("4e a 200 whose body drips for 25 s is cut off within 10 s in all", drip_bounded)

        def stable_ids():
            bad = []
            for name in failing_names:
                got = hits(name)
                ids = {h.id for h in got}
                d = dead.get(name) or delivery(name) or {}
                if name == "/refused":
                    continue  # nothing arrives
                if len(ids) != 1 or ids != {d.get("id")}:
                    bad.append(f"{name}: {len(got)} attempts with ids {short(ids)}, the log says {d.get('id')}")
            return not bad, "; ".join(bad) or "each delivery's attempts carried one webhook-id, the log's id"
        step("4f retries carry the same webhook-id", stable_ids)

        outbox = {}

        def listed():
            entries = self.agent.dead_outbox()
            problems = []
            for name in failing_names:
                d = dead.get(name)
                if not d:
                    problems.append(f"{name} not dead")
                    continue
                entry = next((e for e in entries if e.get("id") == d["id"]), None) or next(
                    (e for e in entries if d["id"] in json.dumps(e)), None)
                if not entry:
                    problems.append(f"{name}'s {d['id']} not in the dead outbox")
                    continue
                outbox[name] = entry
                if entry.get("kind") != "webhook":
                    problems.append(f"{name}: kind {entry.get('kind')}")
            return not problems, "; ".join(problems) or f"{len(outbox)} dead webhook entries among {len(entries)}"
        step("4g dead deliveries are listed at /admin/outbox?status=dead (kind webhook)", listed)

        def deleted():
            entry = outbox.get("/gone")
            if not entry:
                return False, "no dead /gone entry to delete"
            self.agent.call("DELETE", f"/api/v1/admin/outbox/{entry['id']}")
            still = [e for e in self.agent.dead_outbox() if e.get("id") == entry["id"]]
            return not still, "still listed" if still else f"{entry['id']} deleted"
        step("4h DELETE /admin/outbox/{id} removes a dead entry", deleted)

        def retried():
            fixed.update(failing_names)
            closed.start()  # the refused endpoint is up now
            before = {name: {h.id for h in hits(name)} | {(dead.get(name) or {}).get("id")} for name in failing_names}
            retry_names = ["/400", "/500", "/302", "/slow", "/refused"]
            for name in retry_names:
                d = dead.get(name)
                if not d:
                    continue
                if name in ("/400", "/302") and name in outbox:
                    self.agent.call("POST", f"/api/v1/admin/outbox/{outbox[name]['id']}/retry")
                else:
                    self.agent.call("POST", f"/api/v1/admin/webhooks/{hooks[name]['id']}/deliveries/{d['id']}/retry")
            retry_started = time.time()

            def done():
                return all((delivery(n) or {}).get("status") == "delivered" for n in retry_names if n in dead)
            try:
                wait_for(done, 30, interval=0.5, what="the retried deliveries delivered")
            except TimeoutError:
                pass
            report, bad = [], []
            for name in retry_names:
                d = delivery(name) or {}
                ok_hits = [h for h in hits(name) if h.ok]
                same = ok_hits and ok_hits[-1].id in before[name]
                report.append(f"{name}: {d.get('status')}, {len(ok_hits)} received 2xx, "
                              f"{'same id' if same else 'NEW id ' + str([h.id for h in ok_hits])}")
                if d.get("status") != "delivered" or not same or len(ok_hits) != 1:
                    bad.append(name)
            still_dead = [n for n in retry_names if n in outbox and any(
                e.get("id") == outbox[n]["id"] for e in self.agent.dead_outbox())]
            if still_dead:
                bad.append(f"still listed dead: {still_dead}")
            return not bad, f"{time.time() - retry_started:.1f}s: " + "; ".join(report)
        step("4i after the receiver is fixed, a manual retry (outbox or deliveries) redelivers, same webhook-id",
             retried)

        def gone_stays():
            # Only after the retried ones arrived: a deleted delivery must not be sent again.
            got = [h for h in hits("/gone") if h.ok]
            return not got, f"the deleted delivery arrived {len(got)} times" if got else "not sent again"
        step("4j a deleted dead delivery is not sent again", gone_stays)

        def never_followed():
            got = hits("/redirect-target")
            attempts = len(hits("/302"))
            return not got, (f"the redirect target was hit {len(got)} times" if got else
                             f"/302 answered {attempts} times, its Location never visited")
        step("4k redirects are never followed", never_followed)


    # MARK: 8: the assistant's replies and the visitor's feedback

    def check_assistant(self):
        model = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), ScriptedModel)
        model.daemon_threads = True
        threading.Thread(target=model.serve_forever, daemon=True).start()
        self.models = getattr(self, "models", []) + [model]
        self.restart(BUDGET_HOURS_A, f"http://127.0.0.1:{model.server_address[1]}/v1")
        receiver = self.receiver("assistant")
        hook = self.agent.create_webhook(receiver.url("/ai"), ["message.created", "feedback.created"], "assistant")
        # The article the answer rests on: the assistant shows an answer only when its passages
        # support it (the grounding gate).
        self.agent.call("POST", "/api/v1/admin/kb/articles", {
            "title": "Reset your password",
            "body": "Press Forgot password on the sign-in page, then follow the link we email you."})
        visitor = self.visitor("ai")
        question = f"Q-{uuid.uuid4().hex[:6]}"
        visitor.send(f"How do I reset my password? {question}")
        state = {}

        def ai_message():
            hit = wait_for(lambda: next((h for h in receiver.snapshot("/ai") if h.ok and h.type == "message.created"
                                         and visitor.session in h.data_text
                                         and ScriptedModel.ANSWER in h.data_text), None),
                           30, interval=0.2, what="message.created of the assistant's reply")
            message = hit.payload["data"].get("message") or {}
            state["message"] = message.get("id")
            leaked = "<decision>" in hit.data_text
            ok, detail = verify_hit(hook["secret"], hit, [])
            return ok and message.get("role") == "ai" and not leaked, (
                f"role {message.get('role')}, id {message.get('id')}"
                + ("; the decision trailer leaked" if leaked else "") + ("" if ok else "; " + detail))
        step("8a the assistant's reply produces message.created (role ai, no decision trailer)", ai_message)

        def feedback():
            if not state.get("message"):
                return False, "no AI message to rate"
            visitor.call("POST", f"/api/v1/chat/messages/{state['message']}/feedback", {"rating": "up"})
            hit = wait_for(lambda: next((h for h in receiver.snapshot("/ai") if h.ok and h.type == "feedback.created"
                                         and state["message"] in h.data_text), None),
                           15, interval=0.2, what="feedback.created")
            data = hit.payload.get("data") or {}
            return data.get("rating") == "up", f"data {json.dumps(data)[:200]}"
        step("8b a visitor's thumbs up produces feedback.created", feedback)


def verify_hit(secret, hit, problems):
    """(ok, detail) for one delivery: signature, id, timestamp, envelope, method and content type."""
    if not hit.signature or not hit.id or not hit.timestamp:
        problems.append(f"headers id={hit.id} timestamp={hit.timestamp} signature={hit.signature}")
        return False, "; ".join(problems)
    if not verifies(secret, hit.id, hit.timestamp, hit.body, hit.signature):
        problems.append(f"signature {hit.signature[:30]}… does not verify")
    payload = hit.payload if isinstance(hit.payload, dict) else {}
    if payload.get("id") != hit.id:
        problems.append(f"body id {payload.get('id')} != webhook-id {hit.id}")
    try:
        skew = abs(int(hit.timestamp) - time.time())
        if skew > 300:
            problems.append(f"webhook-timestamp {skew:.0f}s off")
    except ValueError:
        problems.append(f"webhook-timestamp {hit.timestamp!r} is not unix seconds")
    missing = [k for k in ("id", "type", "timestamp", "organizationId", "data") if k not in payload]
    if missing:
        problems.append(f"body lacks {missing}")
    if hit.method != "POST":
        problems.append(f"method {hit.method}")
    if "json" not in hit.headers.get("content-type", ""):
        problems.append(f"content-type {hit.headers.get('content-type')}")
    return not problems, "; ".join(problems) or f"{payload.get('type')} {hit.id} verifies"


class OutOfTime(BaseException):
    """The whole run's time limit: not an Exception, so that no step swallows it."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/debug/parley")
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url")
    parser.add_argument("--only", help="comma-separated check groups to run (0/5, 1, 6, 2, 3, 4, 8)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and the server log")
    args = parser.parse_args()
    if args.engine == "postgres" and not args.postgres_url:
        sys.exit("--engine postgres needs --postgres-url")
    self_test()
    only = set(args.only.split(",")) if args.only else None

    def wanted(*groups):
        return only is None or bool(only & set(groups))

    def out_of_time(*_):
        raise OutOfTime("the webhook test ran over 280 s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(280)
    started = time.time()
    temp = tempfile.mkdtemp(prefix="parley-webhooks-")
    run = Run(args, temp)
    try:
        run.setup()
        if wanted("0", "5"):
            run.check_admin_and_ssrf()
        if wanted("1", "6"):
            run.check_signatures()
            run.check_notes()
        if wanted("2"):
            run.check_down_up()
        if wanted("3"):
            run.check_kill()
        if wanted("4"):
            run.check_failures()
        if wanted("8"):
            run.check_assistant()
    except (Exception, OutOfTime) as error:  # noqa: BLE001 - setup or a phase failed: one failed check, then clean up
        check("setup and run", False, f"{type(error).__name__}: {str(error)[:400]}")
    finally:
        signal.alarm(0)
        for parley in Parley.started:
            parley.stop()
        for receiver in run.receivers:
            receiver.stop()
        for model in getattr(run, "models", []):
            model.shutdown()
        if run.pg_url:
            subprocess.run(["psql", args.postgres_url, "-qc",
                            f"DROP DATABASE IF EXISTS {run.pg_url.rsplit('/', 1)[1]} WITH (FORCE)"])
    parley = getattr(run, "parley", None)
    if parley and parley.stop_codes:
        check("7  graceful shutdown: every SIGTERM of the run exited 0", all(c == 0 for c in parley.stop_codes),
              f"exit codes {parley.stop_codes}")
    failed = [name for name, ok in RESULTS if not ok]
    print(f"== the webhook test took {time.time() - started:.0f} s")
    if failed or args.keep:
        log = os.path.join(temp, "server.log")
        if failed and os.path.exists(log):
            lines = [line.rstrip() for line in open(log, errors="replace")
                     if re.search(r"webhook|outbox|error|warning|critical", line, re.I)]
            print(f"== server log {log} ({len(lines)} lines about webhooks, outbox or errors; last 25):")
            for line in lines[-25:]:
                print("   " + line[:300])
        print(f"== kept {temp}")
    else:
        shutil.rmtree(temp, ignore_errors=True)
    print(f"webhooks: {len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed or not RESULTS else 0)


if __name__ == "__main__":
    try:
        main()
    finally:
        for server in Parley.started:
            server.kill()
