#!/usr/bin/env python3
"""The dashboard's Webhooks and Delivery failures settings, against in-memory fakes (no server).

Usage: dashboard_webhooks_mock.py [--shots DIR] [--chromium PATH]

Serves the working tree's Sources/ParleyHTTP/Resources/web/app under /app/ from a small
http.server on 127.0.0.1, with the dashboard's real Content-Security-Policy header; the browser
(Debian's Chromium through Playwright's executable_path) answers /api/v1/* from fakes in this
file (page.route) and the realtime WebSocket from a stub (page.route_web_socket). An admin then:
creates an endpoint (a 422 for a private address shows under the URL field; the secret is shown
once), edits its events, sends a test event and watches it become delivered, reads an older
endpoint's delivery log (details as text, Load more, Retry), rolls the secret, deletes the
endpoint; and on Delivery failures lists, retries, discards, and reaches the empty state. An agent
sees neither section. No console error, no CSP violation, no markup from the API ever runs.
Screenshots at 1440x900 and 1024x768; axe finds no serious or critical violation.

Prints one PASS/FAIL line per check and exits 1 if any failed.
"""
import argparse
import base64
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect, sync_playwright

from widget_test import run_axe

HERE = os.path.dirname(os.path.abspath(__file__))
APP_DIR = os.path.join(HERE, "..", "Sources", "ParleyHTTP", "Resources", "web", "app")
SIZES = ((1440, 900), (1024, 768))
CSRF = "csrf-mock-token"
XSS = "<img src=x onerror=alert(1)>"
RESULTS = []
# Whether a string shows anywhere in the page: its text, or the value of a field.
SHOWN = ("s => document.body.innerText.includes(s) || "
         "[...document.querySelectorAll('input, textarea')].some(i => i.value.includes(s))")


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""), flush=True)


def step(name, fn):
    started = time.time()
    try:
        result = fn()
        if isinstance(result, tuple):
            return check(name, *result)
        return check(name, True, f"{time.time() - started:.1f}s")
    except Exception as error:  # noqa: BLE001 - a failed check, reported
        message = str(error).strip().splitlines()
        return check(name, False, f"{type(error).__name__}: {message[0] if message else ''}"[:400])


def iso(t):
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now():
    return datetime.now(timezone.utc)


# MARK: - The static server (the dashboard's files, its CSP)

def static_server(port):
    policy = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
              f"connect-src 'self' ws://127.0.0.1:{port}; base-uri 'none'; "
              "frame-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'")
    types = {".js": "text/javascript", ".css": "text/css", ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = urlparse(self.path).path
            if path in ("/app", "/app/"):
                path = "/app/index.html"
            name = path[len("/app/"):] if path.startswith("/app/") else None
            file = os.path.join(APP_DIR, name) if name and "/" not in name and not name.startswith(".") else None
            if not file or not os.path.isfile(file):
                self.send_response(404)
                self.end_headers()
                return
            body = open(file, "rb").read()
            self.send_response(200)
            self.send_header("Content-Type", types.get(os.path.splitext(file)[1], "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("X-Frame-Options", "DENY")
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# MARK: - The fake API

EVENT_TYPES = ["conversation.created", "message.created", "conversation.escalated", "conversation.closed",
               "ticket.created", "ticket.updated", "ticket.replied", "ticket.rated", "feedback.created"]


class FakeAPI:
    """What the server engineer's API answers, as specified, in memory. Every call is recorded."""

    def __init__(self, role="admin"):
        self.role = role
        self.calls = []
        self.unexpected = []
        self.endpoints = {}
        self.deliveries = {}  # endpoint id -> [delivery], newest first
        self.outbox = []
        self.secrets = {}
        agent = {"id": str(uuid.uuid4()), "name": "Ada Admin", "email": "ada@example.com", "role": role,
                 "isActive": True, "createdAt": iso(now())}
        perms = ["readTeam", "answerConversations"]
        if role in ("admin", "owner"):
            perms += ["manageTeam", "manageSites", "manageAPIKeys", "manageSettings"]
        self.me = {"agent": agent, "organization": {"id": str(uuid.uuid4()), "name": "Acme"}, "role": role,
                   "permissions": perms, "csrfToken": CSRF}
        self.seed()

    def seed(self):
        t = now() - timedelta(days=2)
        old = self.new_endpoint("https://crm.example.com/hooks/parley", ["ticket.created", "ticket.updated"],
                                f"CRM sync {XSS}", True, t)
        log = []
        for i in range(25):
            at = t + timedelta(minutes=30 * i)
            status = "dead" if i in (3, 20) else "delivered"
            log.append({
                "id": f"msg_{i:04d}{secrets.token_hex(6)}", "eventType": "ticket.created" if i % 2 else "ticket.updated",
                "status": status, "attempts": 8 if status == "dead" else 1,
                "responseStatus": 500 if status == "dead" else 200, "latencyMs": 120 + i,
                "error": f"HTTP 500 from the receiver {XSS}" if status == "dead" else None,
                "responseExcerpt": f"<html>{XSS} Internal Server Error</html>" if status == "dead" else "ok",
                "createdAt": iso(at), "lastAttemptAt": iso(at + timedelta(minutes=5)), "nextAttemptAt": None,
                "deliveredAt": iso(at + timedelta(seconds=1)) if status == "delivered" else None})
        self.deliveries[old["id"]] = list(reversed(log))
        self.old_id = old["id"]
        t2 = now() - timedelta(hours=3)
        self.outbox = [
            {"id": "ob_1", "kind": "webhook", "summary": "ticket.created to https://crm.example.com/hooks/parley",
             "attempts": 8, "error": "HTTP 503 Service Unavailable", "createdAt": iso(t2), "updatedAt": iso(t2 + timedelta(hours=1))},
            {"id": "ob_2", "kind": "email", "summary": f"Reply on ticket #42 to grace@example.com {XSS}",
             "attempts": 6, "error": f"550 5.1.1 mailbox unavailable {XSS}", "createdAt": iso(t2), "updatedAt": iso(t2 + timedelta(hours=2))},
            {"id": "ob_3", "kind": "email", "summary": "Satisfaction survey to lin@example.com",
             "attempts": 6, "error": None, "createdAt": iso(t2), "updatedAt": iso(t2 + timedelta(hours=2, minutes=5))},
        ]

    def new_endpoint(self, url, events, description, active, at=None):
        at = at or now()
        endpoint = {"id": str(uuid.uuid4()), "url": url, "description": description, "events": events,
                    "active": active, "createdAt": iso(at), "updatedAt": iso(at)}
        self.endpoints[endpoint["id"]] = endpoint
        self.deliveries[endpoint["id"]] = []
        self.roll(endpoint["id"])
        return endpoint

    def roll(self, endpoint_id):
        self.secrets[endpoint_id] = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        return self.secrets[endpoint_id]

    def settle(self, delivery):
        """A pending delivery goes through 1.2 s after it was queued (as the outbox worker would)."""
        if delivery["status"] == "pending" and time.time() - delivery["_queued"] > 1.2:
            delivery.update(status="delivered", attempts=delivery["attempts"] + 1, responseStatus=200, latencyMs=37,
                            responseExcerpt="thanks", error=None, lastAttemptAt=iso(now()), deliveredAt=iso(now()),
                            nextAttemptAt=None)
        return {k: v for k, v in delivery.items() if not k.startswith("_")}

    @staticmethod
    def error(status, code, message):
        return status, {"error": {"code": code, "message": message}}

    def handle(self, method, path, query, body, headers):
        self.calls.append((method, path, query, body))
        if method not in ("GET", "HEAD") and headers.get("x-csrf-token") != CSRF:
            return self.error(403, "csrf", "Missing or wrong CSRF token.")
        admin = self.role in ("admin", "owner")
        if path == "/api/v1/me":
            return 200, self.me
        if path == "/api/v1/me/preferences":
            return 200, {"notifications": {}}
        if path == "/api/v1/admin/agents":
            return 200, {"data": [self.me["agent"]], "nextCursor": None}
        if path == "/api/v1/admin/chats/counts":
            return 200, {"escalated": 0}
        if path == "/api/v1/admin/tickets/counts":
            return 200, {"open": 0}
        if path == "/api/v1/admin/notifications":
            return 200, {"data": [], "nextCursor": None, "unread": 0}
        if path.startswith("/api/v1/admin/chats") or path.startswith("/api/v1/admin/visitors"):
            return 200, {"data": [], "nextCursor": None}
        if path.startswith("/api/v1/admin/webhooks") or path.startswith("/api/v1/admin/outbox"):
            if not admin:
                return self.error(403, "forbidden", "Admins only.")
            return self.webhooks(method, path, query, body) if "/webhooks" in path else self.dead_letters(method, path, query)
        self.unexpected.append(f"{method} {path}")
        return self.error(404, "not_found", "No such route.")

    def validate(self, body, partial):
        if not partial or "url" in body:
            url = body.get("url") or ""
            if not re.match(r"^https?://", url):
                return self.error(422, "validation_failed", "url: must be an http or https URL")
            host = urlparse(url).hostname or ""
            if host == "localhost" or re.match(r"^(127\.|10\.|192\.168\.|169\.254\.)", host):
                return self.error(422, "validation_failed", f"url: {host} is a private address")
        if not partial or "events" in body:
            events = body.get("events")
            if not isinstance(events, list) or not events or any(e not in EVENT_TYPES for e in events):
                return self.error(422, "validation_failed", "events: choose one or more known event types")
        return None

    def webhooks(self, method, path, query, body):
        parts = path.split("/")[5:]  # after /api/v1/admin/webhooks
        if not parts:
            if method == "GET":
                return 200, {"data": sorted(self.endpoints.values(), key=lambda e: e["createdAt"]),
                             "eventTypes": EVENT_TYPES}
            if method == "POST":
                bad = self.validate(body, False)
                if bad:
                    return bad
                endpoint = self.new_endpoint(body["url"], body["events"], body.get("description"), body.get("active", True))
                return 201, dict(endpoint, secret=self.secrets[endpoint["id"]])
        endpoint = self.endpoints.get(parts[0])
        if not endpoint:
            return self.error(404, "not_found", "No such webhook endpoint.")
        eid = endpoint["id"]
        if len(parts) == 1:
            if method == "PATCH":
                bad = self.validate(body, True)
                if bad:
                    return bad
                for key in ("url", "events", "description", "active"):
                    if key in body:
                        endpoint[key] = body[key]
                endpoint["updatedAt"] = iso(now())
                return 200, endpoint
            if method == "DELETE":
                del self.endpoints[eid]
                return 204, None
        if parts[1:] == ["secret"] and method == "POST":
            return 200, dict(endpoint, secret=self.roll(eid))
        if parts[1:] == ["test"] and method == "POST":
            delivery = {"id": f"msg_{secrets.token_hex(10)}", "eventType": "webhook.test", "status": "pending",
                        "attempts": 0, "responseStatus": None, "latencyMs": None, "error": None,
                        "responseExcerpt": None, "createdAt": iso(now()), "lastAttemptAt": None,
                        "nextAttemptAt": iso(now()), "deliveredAt": None, "_queued": time.time()}
            self.deliveries[eid].insert(0, delivery)
            return 202, self.settle(delivery)
        if parts[1:] == ["deliveries"] and method == "GET":
            start = int(query.get("cursor", ["0"])[0] or 0)
            limit = int(query.get("limit", ["50"])[0])
            log = self.deliveries[eid]
            page = [self.settle(d) for d in log[start:start + limit]]
            return 200, {"data": page, "nextCursor": str(start + limit) if start + limit < len(log) else None}
        if len(parts) == 4 and parts[1] == "deliveries" and parts[3] == "retry" and method == "POST":
            delivery = next((d for d in self.deliveries[eid] if d["id"] == parts[2]), None)
            if not delivery:
                return self.error(404, "not_found", "No such delivery.")
            delivery.update(status="pending", nextAttemptAt=iso(now()), _queued=time.time())
            return 200, self.settle(delivery)
        self.unexpected.append(f"{method} {path}")
        return self.error(404, "not_found", "No such route.")

    def dead_letters(self, method, path, query):
        parts = path.split("/")[5:]
        if not parts and method == "GET":
            assert query.get("status") == ["dead"], query
            return 200, {"data": sorted(self.outbox, key=lambda x: x["updatedAt"], reverse=True), "nextCursor": None}
        item = next((x for x in self.outbox if x["id"] == (parts[0] if parts else None)), None)
        if not item:
            return self.error(404, "not_found", "No such outbox item.")
        if parts[1:] == ["retry"] and method == "POST":
            self.outbox.remove(item)
            return 200, dict(item, attempts=item["attempts"])
        if len(parts) == 1 and method == "DELETE":
            self.outbox.remove(item)
            return 204, None
        self.unexpected.append(f"{method} {path}")
        return self.error(404, "not_found", "No such route.")

    def route(self, route):
        request = route.request
        url = urlparse(request.url)
        body = None
        if request.post_data:
            try:
                body = json.loads(request.post_data)
            except ValueError:
                body = None
        status, payload = self.handle(request.method, url.path, parse_qs(url.query), body or {}, request.headers)
        if payload is None:
            route.fulfill(status=status, body="")
        else:
            route.fulfill(status=status, content_type="application/json", body=json.dumps(payload))


def stub_realtime(ws):
    """The realtime socket, answered here: subscriptions are confirmed, pings ponged."""
    def on_message(message):
        try:
            frame = json.loads(message)
        except ValueError:
            return
        if frame.get("type") == "subscribe":
            ws.send(json.dumps({"type": "subscribed", "channel": frame.get("channel"), "recovered": True}))
        elif frame.get("type") == "ping":
            ws.send(json.dumps({"type": "pong"}))
    ws.on_message(on_message)


# MARK: - The run

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", default="/tmp/webui-shots")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = static_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            try:
                run(browser, base, args.shots)
            finally:
                browser.close()
    except Exception as error:  # noqa: BLE001
        check("setup and run", False, f"{type(error).__name__}: {error}")
    finally:
        server.shutdown()
    failed = [name for name, ok in RESULTS if not ok]
    print(f"webhooks mock: {len(RESULTS) - len(failed)} passed, {len(failed)} failed; screenshots in {args.shots}")
    sys.exit(1 if failed or not RESULTS else 0)


def run(browser, base, shots):
    expect.set_options(timeout=8000)
    problems = []  # console errors, page errors, CSP reports, dialogs

    def open_page(api, size=SIZES[0]):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                      permissions=["clipboard-read", "clipboard-write"])
        context.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                                "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" or "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.route("**/api/v1/**", api.route)
        page.route_web_socket(re.compile(r".*/api/v1/realtime$"), stub_realtime)
        return context, page

    api = FakeAPI("admin")
    context, page = open_page(api)

    def shoot(name):
        page.evaluate("document.querySelectorAll('.toast').forEach(t => t.remove())")
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            time.sleep(0.3)
            page.screenshot(path=os.path.join(shots, f"{name}-{width}.png"))
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})

    def no_markup_ran():
        count = page.evaluate("document.querySelectorAll('.view img, .view script, dialog img, dialog script').length")
        assert count == 0, f"{count} img/script elements made from API text"

    def dialog():
        return page.locator("dialog[open]")

    def axe(label):
        bad, _ = run_axe(page)
        assert not bad, f"axe on {label}: {bad}"

    def boot():
        page.goto(f"{base}/app/#/settings/webhooks")
        expect(page.locator(".sidenav")).to_be_visible()
        expect(page.locator('.page[data-section="webhooks"] .section-head h2')).to_have_text("Webhooks")
        labels = page.locator(".settings-nav .folder-label").all_text_contents()
        assert "Webhooks" in labels and "Delivery failures" in labels, labels
        expect(page.locator(".endpoint")).to_have_count(1)
        expect(page.locator(".endpoint-desc")).to_have_text(f"CRM sync {XSS}")
        no_markup_ran()
        shoot("webhooks-list")
        axe("the webhooks list")
    step("an admin sees Webhooks and Delivery failures in the settings; the endpoint list loads", boot)

    state = {}

    def create():
        page.get_by_role("button", name="Add endpoint").first.click()
        d = dialog()
        expect(d).to_be_visible()
        d.get_by_label("URL").fill("http://10.0.0.5/hook")
        d.get_by_label("Description").fill("Order system")
        d.get_by_role("button", name="Select none").click()
        d.get_by_label("ticket.created").check()
        d.get_by_label("conversation.escalated").check()
        d.get_by_role("button", name="Add endpoint").click()
        error = d.locator(".field-error:visible")
        expect(error).to_have_text("10.0.0.5 is a private address")
        expect(d.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
        shoot("webhooks-create-422")
        axe("the endpoint dialog with a field error")
        d.get_by_label("URL").fill("https://orders.example.com/parley")
        d.get_by_role("button", name="Add endpoint").click()
        secret_box = page.locator("dialog[open] .secret-value")
        expect(secret_box).to_have_value(re.compile(r"^whsec_"))
        expect(dialog()).to_contain_text("won't be shown again")
        posted = [c for c in api.calls if c[0] == "POST" and c[1] == "/api/v1/admin/webhooks"][-1][3]
        assert posted == {"url": "https://orders.example.com/parley", "events": ["conversation.escalated", "ticket.created"],
                          "description": "Order system", "active": True} or \
            sorted(posted["events"]) == ["conversation.escalated", "ticket.created"], posted
        created = [e for e in api.endpoints.values() if e["url"] == "https://orders.example.com/parley"][0]
        assert secret_box.input_value() == api.secrets[created["id"]]
        state["id"] = created["id"]
        dialog().get_by_role("button", name="Copy").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == api.secrets[created["id"]], copied
        shoot("webhooks-secret")
        dialog().get_by_role("button", name="Done").click()
        expect(dialog()).to_have_count(0)
        card = page.locator(f'.endpoint[data-endpoint="{created["id"]}"]')
        expect(card).to_be_visible()
        expect(card).not_to_contain_text("whsec_")
        assert not page.evaluate(SHOWN, api.secrets[created["id"]]), "the secret stays on the page"
        return True, "422 under the URL field, then 201 with the secret shown once"
    step("create an endpoint: a private address is refused under its field; the secret is shown once", create)

    def card():
        return page.locator(f'.endpoint[data-endpoint="{state["id"]}"]')

    def edit_events():
        card().get_by_role("button", name=re.compile("^Edit ")).click()
        d = dialog()
        expect(d.get_by_label("ticket.created")).to_be_checked()
        expect(d.get_by_label("ticket.rated")).not_to_be_checked()
        d.get_by_label("ticket.rated").check()
        d.get_by_label("conversation.escalated").uncheck()
        d.get_by_label("Active: send events to this endpoint").uncheck()
        shoot("webhooks-edit")
        d.get_by_role("button", name="Save").click()
        expect(dialog()).to_have_count(0)
        patch = [c for c in api.calls if c[0] == "PATCH"][-1]
        assert patch[1] == f"/api/v1/admin/webhooks/{state['id']}", patch
        assert sorted(patch[3]["events"]) == ["ticket.created", "ticket.rated"] and patch[3]["active"] is False, patch[3]
        expect(card().locator(".tag")).to_have_text(["ticket.created", "ticket.rated"])
        expect(card().locator(".badge")).to_have_text("Paused")
        card().get_by_role("button", name=re.compile("^Edit ")).click()
        dialog().get_by_label("Active: send events to this endpoint").check()
        dialog().get_by_role("button", name="Save").click()
        expect(card().locator(".badge")).to_have_text("Active")
    step("edit the endpoint's events and pause it (PATCH), then resume it", edit_events)

    def test_event():
        card().get_by_role("button", name=re.compile("^Send test event")).click()
        log = card().locator(".delivery-log")
        expect(log).to_be_visible()
        row = log.locator("tbody tr[data-delivery]").first
        expect(row).to_contain_text("webhook.test")
        expect(row.locator(".badge")).to_have_text("Pending")
        expect(row.locator(".badge")).to_have_text("Delivered", timeout=10000)  # the log refreshes by itself
        expect(row).to_contain_text("200")
        expect(row).to_contain_text("37 ms")
        expect(row.get_by_role("button", name=re.compile("^Retry"))).to_have_count(0)
        shoot("webhooks-test-delivered")
        axe("the delivery log")
    step("send a test event: it shows pending in the log, then delivered without a reload", test_event)

    def old_log():
        old = page.locator(f'.endpoint[data-endpoint="{api.old_id}"]')
        old.get_by_role("button", name=re.compile("^Deliveries of")).click()
        rows = old.locator("tbody tr[data-delivery]")
        expect(rows).to_have_count(20)
        old.get_by_role("button", name="Load more").click()
        expect(rows).to_have_count(25)
        expect(old.get_by_role("button", name="Load more")).to_be_hidden()
        cursors = [c[2].get("cursor") for c in api.calls if c[1].endswith(f"{api.old_id}/deliveries")]
        assert cursors[-1] == ["20"], cursors
        dead = old.locator('tbody tr[data-status="dead"]').first
        expect(dead.locator(".badge")).to_have_text("Failed")
        dead.get_by_role("button", name=re.compile("^Details of delivery")).click()
        detail = old.locator("tr.delivery-detail")
        expect(detail).to_contain_text(f"HTTP 500 from the receiver {XSS}")
        expect(detail).to_contain_text(f"<html>{XSS} Internal Server Error</html>")
        no_markup_ran()
        shoot("webhooks-log-details")
        axe("a delivery's details")
        did = dead.get_attribute("data-delivery")
        dead.get_by_role("button", name=re.compile("^Retry")).click()
        retried = old.locator(f'tr[data-delivery="{did}"]')
        expect(retried.locator(".badge")).to_have_text("Pending")
        expect(retried.locator(".badge")).to_have_text("Delivered", timeout=10000)
        assert any(c[0] == "POST" and c[1] == f"/api/v1/admin/webhooks/{api.old_id}/deliveries/{did}/retry" for c in api.calls)
        expect(rows).to_have_count(25)  # the refresh merged the newest page, the older ones stayed
    step("an endpoint's delivery log: 20 rows, Load more (cursor), details as text, Retry a failed one", old_log)

    def roll_secret():
        before = api.secrets[state["id"]]
        card().get_by_role("button", name=re.compile("^Roll secret")).click()
        expect(dialog()).to_contain_text("Roll the signing secret?")
        dialog().get_by_role("button", name="Roll secret").click()
        secret_box = page.locator("dialog[open] .secret-value")
        expect(secret_box).to_have_value(re.compile(r"^whsec_"))
        assert secret_box.input_value() == api.secrets[state["id"]] != before
        expect(dialog()).to_contain_text("won't be shown again")
        dialog().get_by_role("button", name="Done").click()
        expect(dialog()).to_have_count(0)
        assert not page.evaluate(SHOWN, api.secrets[state["id"]]), "the secret stays on the page"
    step("roll the signing secret: confirmed first, the new one shown once", roll_secret)

    def delete():
        card().get_by_role("button", name=re.compile("^Delete ")).click()
        expect(dialog()).to_contain_text("Delete this endpoint?")
        dialog().get_by_role("button", name="Cancel").click()
        expect(card()).to_be_visible()
        card().get_by_role("button", name=re.compile("^Delete ")).click()
        dialog().get_by_role("button", name="Delete").click()
        expect(card()).to_have_count(0)
        assert any(c[0] == "DELETE" and c[1] == f"/api/v1/admin/webhooks/{state['id']}" for c in api.calls)
        expect(page.locator(".endpoint")).to_have_count(1)
    step("delete the endpoint, after a confirm (Cancel keeps it)", delete)

    def help_text():
        helptext = page.locator(".page").inner_text()
        for word in ("webhook-id", "webhook-timestamp", "webhook-signature", "whsec_", "HMAC-SHA256"):
            assert word in helptext, word
    step("the page explains how to verify a signature (the three headers, the key after whsec_)", help_text)

    def outbox():
        page.get_by_role("link", name="Delivery failures").click()
        expect(page.locator('.page[data-section="outbox"] .section-head h2')).to_have_text("Delivery failures")
        rows = page.locator("table.outbox tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(1)).to_contain_text(f"550 5.1.1 mailbox unavailable {XSS}")
        no_markup_ran()
        shoot("outbox-list")
        axe("the delivery failures")
        rows.filter(has_text="ticket.created").get_by_role("button", name=re.compile("^Retry")).click()
        expect(rows).to_have_count(2)
        assert any(c[0] == "POST" and c[1] == "/api/v1/admin/outbox/ob_1/retry" for c in api.calls)
        rows.filter(has_text="Satisfaction").get_by_role("button", name=re.compile("^Discard")).click()
        dialog().get_by_role("button", name="Cancel").click()
        expect(rows).to_have_count(2)
        rows.filter(has_text="Satisfaction").get_by_role("button", name=re.compile("^Discard")).click()
        dialog().get_by_role("button", name="Discard").click()
        expect(rows).to_have_count(1)
        rows.first.get_by_role("button", name=re.compile("^Discard")).click()
        dialog().get_by_role("button", name="Discard").click()
        expect(page.locator(".all-clear")).to_contain_text("Nothing has failed")
        deleted = [c[1] for c in api.calls if c[0] == "DELETE" and "/outbox/" in c[1]]
        assert deleted == ["/api/v1/admin/outbox/ob_3", "/api/v1/admin/outbox/ob_2"], deleted
        shoot("outbox-empty")
        axe("the empty delivery failures")
    step("delivery failures: listed, one retried (it leaves), two discarded after a confirm, then the empty state",
         outbox)

    def clean():
        csp = page.evaluate("window.__csp")
        assert not csp, csp
        # The browser logs every 4xx response; the one 422 asked for above is expected.
        refused = [x for x in problems if "status of 422" in x]
        assert len(refused) <= 1, refused
        others = [x for x in problems if x not in refused]
        assert not others, others[:5]
        assert not api.unexpected, api.unexpected
        unsafe = [c for c in api.calls if c[0] not in ("GET", "HEAD")]
        return True, f"{len(api.calls)} API calls ({len(unsafe)} unsafe, all with the CSRF header); no console error, no CSP report"
    step("no console error, no page error, no CSP violation, no call outside the spec", clean)
    context.close()

    def agent_view():
        agent_api = FakeAPI("agent")
        ctx, page2 = open_page(agent_api)
        page2.goto(f"{base}/app/#/settings/webhooks")
        expect(page2.locator('.page[data-section="profile"]')).to_be_visible()
        labels = page2.locator(".settings-nav .folder-label").all_text_contents()
        page2.evaluate("location.hash = '#/settings/outbox'")
        expect(page2.locator('.page[data-section="profile"]')).to_be_visible()
        calls = [c[1] for c in agent_api.calls if "webhooks" in c[1] or "outbox" in c[1]]
        ctx.close()
        assert "Webhooks" not in labels and "Delivery failures" not in labels, labels
        assert not calls, calls
        return True, f"an agent sees {labels}"
    step("an agent sees neither section, even by URL", agent_view)


if __name__ == "__main__":
    main()
