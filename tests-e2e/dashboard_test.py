#!/usr/bin/env python3
"""The agent dashboard (/app) in a real browser: Debian's headless Chromium driven by Playwright.

Usage: dashboard_test.py --binary PATH [--screenshots DIR] [--bundled]

Starts the parley binary on a free loopback port (temp data dir; PARLEY_WEB_DIR pointing at the
working tree's web files unless --bundled), the widget test's scripted OpenAI-compatible model (it
streams a fixed answer that cites passage A1 and carries markup), and a "customer website" on
another origin (http://localhost:<port>) that embeds the widget. Then an agent works in the
dashboard while a visitor chats in a second browser context: sign-in, the conversation appearing
live in the inbox, the AI's reply streaming in, typing both ways, taking over, the visitor's reply
arriving live, a `/` canned response, an internal note the widget never shows, a file, the JSON
export, a dropped connection (nothing lost or doubled), live visitors, a ticket's lifecycle with a
live SLA countdown and only the allowed statuses offered, the AI draft, one thread per customer
problem (a visitor hands over in the widget, the agent answers on the ticket view and the widget
shows it live; the ticket tells the agent before sending whether a reply reaches the customer in
the widget, by email or nowhere, and why; "Make a ticket" on a conversation; closing a conversation
leaves its ticket open), agents marking the AI's answers Right or Wrong and handing a conversation
back to the AI (when the server has those routes), notifications, settings (the widget follows a new
title and colour; the assistant's grounding threshold and longest answer, a bad one refused under its
field; an embeddings provider: a private API root refused, one on loopback saved with its health, the
knowledge base's "Semantic index" line and progress bar, then removed: "Keyword search only"; search
hits with their best passage under its heading), a webhook endpoint whose test event reaches a
local receiver signed (the server runs with PARLEY_OUTBOUND_ALLOW=127.0.0.1, which also lets the
embeddings provider point at loopback), the empty delivery failures, an agent without admin sections,
analytics (with ratings seeded through the visitors' APIs: satisfaction's average, count, response
rate, stars and bars per day, and each agent's in the leaderboard; the agents' review of AI answers),
Settings -> Email (no email
leaves, a sender name kept after a reload, a bad reply address refused next to its field), and last a restart with a mail server (aiosmtpd on loopback), after which a ticket with
an address says "by email" and its reply reaches the mail server, and a customer rates a ticket the
agent resolved from the links of its "Resolved:" email (4 stars and a comment; the 5-star link of
the same email then says "Already rated"; the ticket view shows the rating; that email comes from the
sender name saved earlier, and Settings -> Email says email is on); accounts by email: the
owner invites newbie@example.com from Settings -> Team, the invitation email's link (in a fresh
browser) takes a name and a password and signs in, and is refused once used; "Forgot password?"
mails a reset link whose new password signs in while the old one and the invitee's first session
end, the used link is refused and asking too often is said plainly (without a mail server, earlier,
the Team's invite form is disabled under a note and the profile says no email leaves); alerts: with sound and
desktop notifications on (the context granted the notifications permission, window.Notification
spied on), a new conversation, the customer's reply and a handoff alert the agent once each and the
agent's own reply does not, and a browser that blocks notifications keeps the switch off and says
why; markup from visitors, the AI and
articles never runs; the page raises no CSP violation and no script error; axe finds no serious or
critical violation on the main screens; every screen is photographed at 1440x900 and 1024x768.

The helpers shared with the widget's test (server process, scripted model, customer page, widget
frame) are imported from widget_test.py, next to this file.

Prints one PASS/FAIL line per check and exits 1 if any failed. Every process it starts is stopped.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request
from email import message_from_bytes

from playwright.sync_api import expect, sync_playwright

from widget_test import (ON_FAILURE, RESULTS, XSS_IMG, XSS_SCRIPT, Agent, Parley, Quiet, ScriptedModel, check,
                         free_port, host_page, png_bytes, run_axe, saved_state, serve, step, wait_for, widget)

SIZES = ((1440, 900), (1024, 768))
# Whether a string shows anywhere in the page: its text, or the value of a field.
SHOWN = ("s => document.body.innerText.includes(s) || "
         "[...document.querySelectorAll('input, textarea')].some(i => i.value.includes(s))")


# Records every desktop notification a page makes (window.__shown: {title, body, tag, at}; the objects in
# window.__notifications), while still making them.
NOTIFICATION_SPY = """
window.__shown = []; window.__notifications = [];
(() => {
  const Real = window.Notification;
  if (!Real) return;
  class Spy extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__shown.push({ title, body: options.body || '', tag: options.tag || '', at: performance.now() });
      window.__notifications.push(this);
    }
  }
  Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
  Spy.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Spy;
})();
"""


def settle(page):
    """Lets running animations finish (those cancelled meanwhile, like a toast leaving, count as done)."""
    page.evaluate("Promise.allSettled(document.getAnimations().filter(a => a.effect && "
                  "isFinite(a.effect.getComputedTiming().endTime)).map(a => a.finished))")


# MARK: - Visitors over REST (tickets from the "offline form")

def visitor_token(base, key, origin, user=None, secret=None):
    """A visitor token; with `user` ({id, email, name}) and the site's identity secret, an identified
    visitor (only they may read and answer their tickets)."""
    body = {"site": key}
    if user:
        body["user"] = dict(user, userHash=hmac.new(secret.encode(), user["id"].encode(), hashlib.sha256).hexdigest())
    request = urllib.request.Request(f"{base}/api/v1/chat/sessions", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json", "Origin": origin})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())["token"]


def visitor_session(base, key, origin):
    """A new anonymous visitor (a fresh visitor id) and their new conversation: (token, session id)."""
    request = urllib.request.Request(f"{base}/api/v1/chat/sessions", data=json.dumps({"site": key}).encode(),
                                     method="POST", headers={"Content-Type": "application/json", "Origin": origin})
    with urllib.request.urlopen(request, timeout=15) as response:
        started = json.loads(response.read())
    return started["token"], started["session"]["id"]


def visitor_call(base, token, origin, method, path, body):
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), method=method, headers={
        "Content-Type": "application/json", "Origin": origin, "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def visitor_left(parley, visitor_id, minutes=10):
    """Says that a visitor was last seen `minutes` ago, as if they had closed the widget then.

    A reply reaches a customer "in the widget now" when they were seen in the last two minutes;
    the server has no clock a test can move, so after the visitor's page is closed the test moves
    the one column that says when they were seen (the embedded SQLite database of this run)."""
    db = sqlite3.connect(os.path.join(os.path.dirname(parley.log_path), "parley.sqlite"), timeout=10)
    try:
        with db:
            changed = db.execute("UPDATE visitors SET last_seen_at = ? WHERE id = ?",
                                 (int((time.time() - minutes * 60) * 1000), visitor_id)).rowcount
    finally:
        db.close()
    assert changed == 1, f"no visitor {visitor_id}"


# MARK: - A mail server

class MailSink:
    """aiosmtpd on loopback keeping every message it receives: (recipients, subject and text parts, the
    transfer encoding undone), and each parsed message in `messages`."""

    def __init__(self, port):
        from aiosmtpd.controller import Controller
        self.received = []
        self.messages = []  # the same, parsed (headers included)
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.original_content or envelope.content)
                parts = [part.get_payload(decode=True) or b"" for part in message.walk()
                         if part.get_content_maintype() == "text"]
                sink.received.append((list(envelope.rcpt_tos), str(message["Subject"] or "") + "\n" +
                                      "\n".join(p.decode("utf-8", "replace") for p in parts)))
                sink.messages.append(message)
                return "250 OK"
        self.port = port
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self):
        self.controller.stop()


# MARK: - A webhook receiver

class HookReceiver(http.server.BaseHTTPRequestHandler):
    """Keeps every POST (path, headers, raw body) and answers 200: the endpoint the dashboard adds."""
    received = []
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.lock:
            self.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "body": body})
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def verify_signature(secret, headers, body):
    """Standard Webhooks: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"> keyed with the
    base64-decoded part of the secret after "whsec_". Returns None when it verifies, else why not."""
    msg_id, stamp, signatures = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and signatures):
        return f"missing headers: {sorted(headers)}"
    key = base64.b64decode(secret[len("whsec_"):])
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
    if not any(hmac.compare_digest(part, f"v1,{expected}") for part in signatures.split(" ")):
        return f"no signature matches ({signatures[:60]}…)"
    if abs(time.time() - int(stamp)) > 300:
        return f"timestamp {stamp} is not now"
    return None


# MARK: - The run

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--screenshots", help="folder for the PNGs (default: a temp folder)")
    parser.add_argument("--bundled", action="store_true", help="serve the files built into the binary")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    if not os.path.exists(args.chromium):
        sys.exit(f"no browser at {args.chromium}: run scripts/browser first")

    temp = tempfile.mkdtemp(prefix="parley-dashboard-")
    shots = args.screenshots or os.path.join(temp, "screenshots")
    os.makedirs(shots, exist_ok=True)
    servers, parley, mail = [], None, None

    def out_of_time(*_):
        raise TimeoutError("the dashboard test ran over 270 s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(270)
    started = time.time()
    try:
        model_port, host_port, hook_port = free_port(), free_port(), free_port()
        servers.append(serve(ScriptedModel, model_port))
        servers.append(serve(HookReceiver, hook_port))
        mail = MailSink(free_port())  # used only after the restart at the end
        os.makedirs(os.path.join(temp, "data"))
        parley = Parley(os.path.abspath(args.binary), os.path.join(temp, "data"), free_port(),
                        f"http://127.0.0.1:{model_port}/v1", args.bundled)
        # The webhook receiver listens on loopback, which the outbound guard refuses unless allowed.
        parley.env["PARLEY_OUTBOUND_ALLOW"] = "127.0.0.1"
        parley.start()
        email, password, key = parley.first_start()
        owner = Agent(parley.url, email, password)
        site_dir = os.path.join(temp, "site")
        os.makedirs(site_dir)
        host_page(site_dir, "index.html", parley.url, key)
        servers.append(serve(lambda *a, **k: Quiet(*a, directory=site_dir, **k), host_port))
        host = f"http://localhost:{host_port}"
        print(f"parley {parley.url}, customer site {host}, scripted model :{model_port}, screenshots {shots}",
              flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            try:
                run_checks(browser, parley, owner, email, password, key, host, shots, hook_port, mail)
            finally:
                browser.close()
    except Exception as error:  # noqa: BLE001 - setup failed: one failed check, then clean up
        check("setup and run", False, f"{type(error).__name__}: {error}")
    finally:
        signal.alarm(0)
        if parley:
            parley.stop()
        for server in servers:
            server.shutdown()
        if mail:
            mail.stop()
        if not args.screenshots:
            shutil.rmtree(temp, ignore_errors=True)
    failed = [name for name, ok in RESULTS if not ok]
    print(f"== the dashboard test took {time.time() - started:.0f} s")
    print(f"dashboard: {len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed or not RESULTS else 0)


def run_checks(browser, parley, owner, email, password, key, host, shots, hook_port, mail):
    expect.set_options(timeout=10_000)  # a busy 2-core CI machine is slower than a laptop
    dialogs, page_errors, csp_console = [], [], []
    state = {}

    def watch(page):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: page_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: csp_console.append(message.text)
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)

    def new_context(size=SIZES[0]):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
        # Every CSP violation in any page of the context is kept (the console also reports them).
        context.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                                "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile));")
        page = context.new_page()
        watch(page)
        return context, page

    agent_ctx, page = new_context()
    visitor_ctx, vpage = new_context((1280, 800))

    def diagnose(name):
        path = os.path.join(shots, f"FAILED-{len(RESULTS) + 1:02d}.png")
        page.screenshot(path=path)
        toasts = page.evaluate("[...document.querySelectorAll('.toast')].map(t => t.textContent)")
        print(f"      (screenshot {path}; toasts {toasts})", flush=True)
    ON_FAILURE.append(diagnose)
    app = f"{parley.url}/app"

    def shoot(name, target=None):
        """The page at both widths (1440x900 and 1024x768), then back to the first."""
        target = target or page
        # Toasts come and go; the screenshots are of the screens themselves.
        target.evaluate("document.querySelectorAll('.toast').forEach(t => t.remove())")
        for width, height in SIZES:
            target.set_viewport_size({"width": width, "height": height})
            time.sleep(0.35)  # layout, and the charts redraw at their new width
            settle(target)
            target.screenshot(path=os.path.join(shots, f"dashboard-{name}-{width}x{height}.png"))
        target.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
        time.sleep(0.2)

    def axe(label, target=None, within=None):
        """No serious or critical axe violation on the page (or only `within` a part of it)."""
        if within:
            from axe_playwright_python.sync_playwright import Axe
            results = Axe().run(target or page, context=within, options={"resultTypes": ["violations"], "runOnly": {
                "type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
            bad = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in results.response["violations"]
                   if v.get("impact") in ("serious", "critical")]
        else:
            bad, _ = run_axe(target or page)
        assert not bad, f"axe on {label}: {bad}"

    def no_markup_ran(scope):
        count = page.evaluate("s => document.querySelectorAll(s + ' img:not(.att-img), ' + s + ' script').length", scope)
        assert count == 0, f"{count} img/script elements made from text in {scope}"
        assert not dialogs, f"a dialog opened: {dialogs}"

    def go(hash_):
        page.evaluate("h => { location.hash = h }", hash_)

    # MARK: Sign-in
    def sign_in():
        page.goto(app)
        expect(page.locator(".signin-card")).to_be_visible(timeout=15000)
        shoot("signin")
        axe("the sign-in page")
        page.fill("#login-email", email)
        page.fill("#login-password", "not the password")
        page.click(".signin-card button[type=submit]")
        expect(page.locator(".signin-card .form-error")).to_contain_text("do not match")
        page.fill("#login-password", password)
        page.click(".signin-card button[type=submit]")
        expect(page.locator(".sidenav")).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        assert page.url.endswith("#/inbox"), page.url
        page.reload()  # the session and CSRF token come back from GET /api/v1/me
        expect(page.locator(".sidenav")).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
    step("sign-in: a wrong password is refused, the right one signs in; a reload keeps the session", sign_in)

    def profile():
        go("#/settings/profile")
        name = page.get_by_label("Name", exact=True)
        expect(name).to_have_value("Owner")
        name.fill("Anna Agent")
        page.get_by_role("button", name="Save profile").click()
        expect(page.locator(".me-name")).to_have_text("Anna Agent")
        me = owner.call("GET", "/api/v1/me")
        assert me["agent"]["name"] == "Anna Agent", me["agent"]
        def stored():
            saved = owner.call("GET", "/api/v1/me/preferences")
            return saved["notifications"]["sla_warning"], saved["email"]["customer_reply"]
        prefs = page.get_by_label("Bell: An SLA target of my ticket is close")
        expect(prefs).to_be_enabled()
        by_mail = page.get_by_label("Email: A customer replies on my ticket")
        expect(by_mail).not_to_be_checked()  # the server's default: off
        expect(page.get_by_label("Email: An SLA target of my ticket is missed")).to_be_checked()  # on
        prefs.uncheck()
        by_mail.check()
        page.get_by_role("button", name="Save preferences").click()
        wait_for(lambda: stored() == (False, True), what="the preferences stored")
        prefs.check()
        by_mail.uncheck()
        page.get_by_role("button", name="Save preferences").click()
        wait_for(lambda: stored() == (True, False), what="the preferences stored again")
    step("profile: the name (PATCH /me) and notification preferences (bell and email per kind) are saved", profile)

    # MARK: The visitor starts a conversation; the agent sees it live
    go("#/inbox/active")
    expect(page.locator(".conv-list")).to_be_visible()
    question = f"How do I reset my password? {XSS_IMG} {XSS_SCRIPT}"

    def appears_live():
        vpage.goto(f"{host}/index.html")
        frame, ui = widget(vpage)
        state["frame"], state["ui"] = frame, ui
        vpage.evaluate("Parley.open()")
        expect(ui.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        ui.locator("#input").fill(question)
        ui.locator("#input").press("Enter")
        state["sid"] = wait_for(lambda: saved_state(vpage, key).get("sessionId"), what="the widget's session")
        row = page.locator(f'.rows a.row[href="#/chats/{state["sid"]}"]')
        expect(row).to_be_visible(timeout=15000)
        expect(row.locator(".row-preview")).to_contain_text("AI:", timeout=15000)  # the AI's reply moved it on
        expect(row).to_have_class(re.compile(r"\bunread\b"))
        shoot("inbox")
        axe("the inbox")
    step("a visitor's new conversation appears in the inbox live (no reload), unread, with the AI's preview",
         appears_live)
    sid = state.get("sid")
    frame, ui = state.get("frame"), state.get("ui")

    def stream_in_dashboard():
        page.locator(f'.rows a.row[href="#/chats/{sid}"]').click()
        expect(page.locator(".chat-head h2")).to_be_visible()
        expect(page.locator(".timeline .msg-ai")).to_have_count(1, timeout=15000)
        # The scripted model gives one answer to everything: about passwords, repeating the visitor's
        # markup. The grounding gate shows it only when the demo's article and the question support
        # its words, so the questions that want it shown ask about passwords with that markup in them.
        ui.locator("#input").fill(f"The reset link never came: how do I reset my password? {XSS_IMG} {XSS_SCRIPT}")
        ui.locator("#input").press("Enter")
        states = []
        deadline = time.time() + 20
        while time.time() < deadline:
            text = page.evaluate("(document.querySelector('.streams .streaming .bubble') || {}).textContent")
            if text and (not states or states[-1] != text):
                states.append(text)
            if page.locator(".timeline .msg-ai").count() >= 2:
                break
            time.sleep(0.03)
        grew = [s for i, s in enumerate(states) if i == 0 or len(s) > len(states[i - 1])]
        assert len(grew) >= 2, f"saw {len(states)} stream states"
        final = page.locator(".timeline .msg-ai").last
        expect(final.locator(".bubble")).to_contain_text("To reset your password")
        expect(final.locator(".sources .source").first).to_be_visible()
        # metadata.confidence is the answer's grounding support now: labelled so, explained on hover.
        support = final.locator(".confidence")
        expect(support).to_have_text(re.compile(r"^Support \d+%$"))
        expect(support).to_have_attribute("title", "How much of the answer our articles support")
        wait_for(lambda: page.evaluate("document.querySelector('.streams').children.length") == 0,
                 what="the streaming bubble to go")
        return True, f"{len(states)} DOM states while streaming; sources and '{support.text_content()}' shown"
    step("the AI's reply streams into the open conversation (message.delta), then its sources and its support",
         stream_in_dashboard)

    def markup_is_text():
        first = page.locator(".timeline .msg-user .bubble").first
        expect(first).to_contain_text(XSS_IMG)
        expect(first).to_contain_text(XSS_SCRIPT)
        expect(page.locator(".timeline .msg-ai .bubble").last).to_contain_text(XSS_IMG)
        time.sleep(0.3)
        no_markup_ran(".timeline")
        no_markup_ran(".rows")
    step("markup from the visitor and the AI is shown as text and never runs (no element, no dialog)",
         markup_is_text)

    def typing_both_ways():
        composer = page.locator(".composer-input")
        composer.press_sequentially("Hello the", delay=25)
        expect(ui.locator(".typing")).to_contain_text("is typing", timeout=10000)
        composer.fill("")
        ui.locator("#input").press_sequentially("typing a question", delay=30)
        expect(page.locator(".chat .typing")).to_contain_text("is typing", timeout=10000)
        ui.locator("#input").fill("")
    step("typing shows both ways (the agent's in the widget, the visitor's in the dashboard)", typing_both_ways)

    def take_over():
        expect(page.locator(".ai-banner")).to_be_visible()
        shoot("conversation")
        axe("a conversation")
        page.locator(".composer-input").fill("Hi, Anna from the team here. Let me check your account.")
        page.locator(".composer-input").press("Enter")
        expect(page.locator(".timeline .msg-agent").last).to_contain_text("Anna from the team", timeout=10000)
        expect(page.locator(".chat-head")).to_contain_text("With an agent")
        expect(page.locator(".ai-banner")).to_be_hidden()
        expect(ui.locator(".list .msg.agent").last).to_contain_text("Anna from the team", timeout=10000)
        expect(page.locator(f'.rows a.row[href="#/chats/{sid}"] .row-who')).to_have_text("You: ")
        chat = owner.call("GET", f"/api/v1/admin/chats/{sid}")
        assert chat["session"]["status"] == "agent_active", chat["session"]["status"]
        agent_msg = [m for m in chat["messages"] if m["role"] == "agent"][-1]
        assert agent_msg["metadata"].get("authorName") == "Anna Agent", agent_msg["metadata"]
    step("the agent replies: the conversation is taken over from the AI; the widget gets it; preview 'You: '",
         take_over)

    def visitor_reply_live():
        ui.locator("#input").fill("Thanks Anna, my account is ada@example.com")
        ui.locator("#input").press("Enter")
        expect(page.locator(".timeline .msg-user").last).to_contain_text("my account is ada@example.com",
                                                                       timeout=10000)
        spoken = page.evaluate("document.querySelector('.chat [aria-live=polite]').textContent")
        assert "my account is" in spoken, f"announced {spoken!r}"
    step("the visitor's reply arrives live and is announced (aria-live)", visitor_reply_live)

    def canned():
        owner.call("POST", "/api/v1/admin/canned-responses",
                   {"shortcut": "thanks", "title": "Thank you", "body": "Thanks for waiting! {{agent.name}} here to help."})
        composer = page.locator(".composer-input")
        composer.fill("")
        composer.press_sequentially("/tha", delay=40)
        item = page.locator(".canned .canned-item").first
        expect(item).to_contain_text("/thanks")
        composer.press("Enter")
        expect(composer).to_have_value("Thanks for waiting! Anna Agent here to help.")
        composer.press("Enter")
        expect(ui.locator(".list .msg.agent").last).to_contain_text("Anna Agent here to help", timeout=10000)
    step("a '/' canned response is picked by keyboard, filled in by the server, sent", canned)

    def internal_note():
        page.get_by_role("button", name="Internal note").click()
        page.locator(".composer-input").fill("VIP customer, be extra careful with refunds")
        page.locator(".composer-input").press("Enter")
        note = page.locator(".timeline .msg-note").last
        expect(note).to_contain_text("VIP customer")
        expect(note).to_contain_text("Internal note")
        page.get_by_role("button", name="Reply", exact=True).click()
        page.locator(".composer-input").fill("After the note")
        page.locator(".composer-input").press("Enter")
        expect(ui.locator(".list .msg.agent").last).to_contain_text("After the note", timeout=10000)
        widget_text = frame.evaluate("document.body.textContent")
        assert "VIP customer" not in widget_text, "the widget shows the internal note"
        stored = [m for m in owner.messages(sid) if "VIP customer" in m["body"]]
        assert stored and stored[0]["metadata"].get("internal") == "true", stored
    step("an internal note shows in the dashboard (set apart) and never in the widget", internal_note)

    def attachment():
        page.locator(".composer input[type=file]").set_input_files(
            {"name": "screenshot.png", "mimeType": "image/png", "buffer": png_bytes()})
        image = page.locator(".timeline .msg-agent img.att-img").last
        expect(image).to_be_visible(timeout=15000)
        wait_for(lambda: image.evaluate("i => i.src.startsWith('blob:') && i.naturalWidth === 64"),
                 what="the image fetched with the session cookie")
        expect(ui.locator(".list .msg.agent .att-img").last).to_be_visible(timeout=15000)
    step("the agent sends an image: shown from a blob: URL in the dashboard, and in the widget", attachment)

    def export():
        with page.expect_download() as download:
            page.get_by_role("button", name="Export").click()
        path = download.value.path()
        data = json.load(open(path))
        bodies = [m["body"] for m in data["messages"]]
        assert download.value.suggested_filename == f"conversation-{sid}.json", download.value.suggested_filename
        assert any("Anna from the team" in b for b in bodies), bodies[-3:]
        return True, f"{len(bodies)} messages in {download.value.suggested_filename}"
    step("the conversation is exported as a JSON file", export)

    def reconnect():
        agent_ctx.set_offline(True)
        expect(page.locator("body")).not_to_have_attribute("data-connection", "online", timeout=10000)
        sent = ["While you were offline 1", "While you were offline 2", "While you were offline 3"]
        for text in sent:
            ui.locator("#input").fill(text)
            ui.locator("#input").press("Enter")
        wait_for(lambda: sum(1 for m in owner.messages(sid) if m["body"] in sent) == 3, what="three stored")
        agent_ctx.set_offline(False)
        expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=20000)
        expect(page.locator(".timeline .msg-user").last).to_contain_text(sent[-1], timeout=15000)
        shown = page.evaluate("""() => [...document.querySelectorAll('.timeline .msg')].map(el =>
            [+el.dataset.seq, (el.querySelector('.bubble') || {textContent: ''}).textContent])""")
        seqs = [s for s, _ in shown]
        assert seqs == sorted(set(seqs)), f"duplicates or disorder: {seqs}"
        server = [m["seq"] for m in owner.messages(sid)]
        assert seqs == server, f"dashboard {seqs[-6:]} vs server {server[-6:]}"
        for text in sent:
            assert [t for _, t in shown].count(text) == 1, f"{text!r} not shown exactly once"
        return True, f"{len(seqs)} messages, each once, in order"
    step("the socket drops and comes back: missed messages replayed (after=seq), each once, in order", reconnect)

    def live_visitors():
        context2, page2 = new_context((1280, 800))
        page2.goto(f"{host}/index.html")
        frame2, ui2 = widget(page2)
        page2.evaluate("Parley.open()")
        expect(ui2.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        anonymous = saved_state(page2, key)["visitorId"]
        go("#/inbox/live")
        row = page.locator(".visitor-row", has_text=f"Visitor {anonymous[:6]}")
        expect(row).to_be_visible(timeout=15000)
        shoot("live-visitors")
        row.get_by_role("button").click()
        dialog = page.locator("dialog[open]")
        dialog.get_by_label("First message").fill("Hi! Anything I can help you with today?")
        dialog.get_by_role("button", name="Start chat").click()
        expect(page.locator(".chat-head h2")).to_contain_text(anonymous[:6], timeout=10000)
        expect(ui2.locator(".list .msg.agent").last).to_contain_text("Anything I can help", timeout=15000)
        context2.close()
        go("#/inbox/active")
    step("live visitors: a visitor with the widget open is listed; the agent starts a chat they see",
         live_visitors)

    def archive_restore():
        go(f"#/chats/{sid}")
        expect(page.locator(".chat-head h2")).to_be_visible()
        go("#/inbox/active")
        go(f"#/chats/{sid}")
        row = page.locator(f'.rows a.row[href="#/chats/{sid}"]')
        expect(row).to_be_visible()
        page.get_by_role("button", name="Archive").click()
        expect(row).to_have_count(0)  # it leaves the Active folder at once
        expect(page.locator(".chat-head")).to_contain_text("Archived")
        go("#/inbox/archived")
        row.click()
        page.get_by_role("button", name="Restore from the archive").click()
        expect(row).to_have_count(0)
        go("#/inbox/active")
        expect(row).to_be_visible()
        assert owner.call("GET", f"/api/v1/admin/chats/{sid}")["session"].get("archivedAt") is None
    step("a conversation is archived (it leaves Active, shows in Archived) and restored", archive_restore)

    # MARK: Tickets
    origin = host

    def ticket_lifecycle():
        go("#/tickets")
        expect(page.locator(".tickets-table")).to_be_visible()
        secret = owner.call("GET", "/api/v1/admin/sites")["data"][0]["identitySecret"]
        token = visitor_token(parley.url, key, origin, {"id": "user-7", "email": "grace@example.com", "name": "Grace"},
                              secret)
        created = visitor_call(parley.url, token, origin, "POST", "/api/v1/tickets", {
            "subject": f"Export to PDF fails {XSS_IMG}", "body": f"It says error 500 {XSS_SCRIPT}"})
        tid = created["id"]
        state["ticket"], state["token"] = tid, token
        row = page.locator(f'tr[data-id="{tid}"]')
        expect(row).to_be_visible(timeout=15000)  # live: ticket.created / ticket.updated on the inbox
        expect(row.locator(".cell-title")).to_have_text(f"Export to PDF fails {XSS_IMG}")
        expect(row.locator("[data-due]").first).to_contain_text("left")
        shoot("tickets")
        axe("the tickets list")
        with page.expect_download() as download:
            page.get_by_role("link", name="Export CSV").click()
        csv = open(download.value.path(), encoding="utf-8").read()
        assert "grace@example.com" in csv and "Pro plan" not in csv, csv[:300]
        row.locator(".cell-title").click()
        expect(page.locator(".ticket-head h2")).to_have_text(f"Export to PDF fails {XSS_IMG}")
        clock = page.locator(".clock-time[data-due]").first
        expect(clock).to_contain_text("left")
        first = clock.text_content()
        wait_for(lambda: clock.text_content() != first, timeout=4, what="the SLA clock to count down")

        def offered():
            return page.locator("#tk-status option").evaluate_all("os => os.map(o => o.value)")

        def allowed():
            t = owner.call("GET", f"/api/v1/admin/tickets/{tid}")
            return [t["status"]] + [s for s in t["allowedStatuses"] if s != t["status"]]
        assert offered() == allowed(), f"offered {offered()} vs allowed {allowed()}"
        me = owner.call("GET", "/api/v1/me")["agent"]["id"]
        page.locator("#tk-assignee").select_option(me)
        expect(page.locator(".ticket-meta .status")).to_have_text("In progress")
        page.locator(".ticket .composer-input").fill("We are looking into it. Could you send the file?")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator(".ticket-meta .status")).to_have_text("Waiting on customer")
        wait_for(lambda: offered() == allowed(), what="the statuses offered after the reply")
        page.get_by_role("button", name="Internal note").click()
        page.locator(".ticket .composer-input").fill("Customer is on the Pro plan")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator(".tmsg.internal").last).to_contain_text("Pro plan")
        # The customer answers: it arrives live on support:<ticketId>.
        visitor_call(parley.url, token, origin, "POST", f"/api/v1/tickets/{tid}/reply",
                     {"body": "Here it is, the export still fails"})
        expect(page.locator(".tmsg.role-customer").last).to_contain_text("still fails", timeout=10000)
        expect(page.locator(".ticket-meta .status")).to_have_text("In progress", timeout=10000)
        shoot("ticket")
        axe("a ticket")
        no_markup_ran(".ticket")
        page.locator("#tk-status").select_option("resolved")
        expect(page.locator(".ticket-meta .status")).to_have_text("Resolved")
        wait_for(lambda: offered() == allowed(), what="the statuses offered once resolved")
        assert sorted(offered()[1:]) == ["closed", "in_progress", "open"], offered()
        return True, f"open -> in progress -> waiting -> in progress -> resolved; offered then {offered()[1:]}"
    step("a ticket's lifecycle: live in the list (CSV export), SLA counting down, assign, reply, note, "
         "customer reply, resolve; only allowed statuses offered", ticket_lifecycle)

    def customer_never_sees_note():
        tid, token = state["ticket"], state["token"]
        request = urllib.request.Request(f"{parley.url}/api/v1/tickets/{tid}", headers={
            "Origin": origin, "Authorization": f"Bearer {token}"})
        body = urllib.request.urlopen(request, timeout=15).read().decode()
        assert "Pro plan" not in body, "the customer's API shows the note"
        assert "looking into it" in body
    step("the ticket's internal note is not in what the customer can read", customer_never_sees_note)

    def ai_draft():
        tid = state["ticket"]
        page.locator("#tk-status").select_option("in_progress")
        expect(page.locator(".ticket-meta .status")).to_have_text("In progress")
        # The scripted answer is about passwords (see above): the customer asks about one, so the draft is
        # grounded (about the PDF export alone the assistant has nothing to offer, and drafts nothing).
        visitor_call(parley.url, state["token"], origin, "POST", f"/api/v1/tickets/{tid}/reply",
                     {"body": f"Also, the reset email never arrives: how do I reset my password? {XSS_SCRIPT}"})
        expect(page.locator(".tmsg.role-customer").last).to_contain_text("reset my password", timeout=10000)
        draft = page.locator(".draft textarea")
        if not draft.is_visible():
            page.get_by_role("button", name="Draft a reply").click()
        expect(draft).to_be_visible(timeout=20000)
        expect(page.locator(".draft .confidence")).to_have_text(re.compile(r"^Support \d+%$"))
        text = draft.input_value()
        assert XSS_IMG in text, "the draft is not the scripted answer"
        draft.fill("Edited by Anna: " + text)
        page.get_by_role("button", name="Send draft").click()
        expect(page.locator(".tmsg.role-agent").last).to_contain_text("Edited by Anna", timeout=10000)
        drafts = owner.call("GET", f"/api/v1/admin/tickets/{tid}/drafts")["data"]
        assert any(d["status"] == "edited" for d in drafts), [d["status"] for d in drafts]
        no_markup_ran(".ticket")
    step("the AI draft with its sources: edited, then sent (accept {body}); its markup stays text", ai_draft)

    # MARK: One thread per customer problem
    # (Before the assistant is set to resolve new tickets on its own, in the settings below.)
    hint = page.get_by_test_id("delivery-hint")
    # (About passwords, with the visitor's markup: the scripted answer is shown for it, see above.)
    thread_question = f"Reset email never came {XSS_IMG} {XSS_SCRIPT}"

    def thread_live():
        context4, vpage4 = new_context((1280, 800))
        state["thread_ctx"] = context4
        vpage4.goto(f"{host}/index.html")
        _, ui4 = widget(vpage4)
        vpage4.evaluate("Parley.open()")
        expect(ui4.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        ui4.locator("#input").fill(thread_question)
        ui4.locator("#input").press("Enter")
        expect(ui4.locator(".list .msg.ai")).to_have_count(1, timeout=15000)  # the assistant answered
        ui4.locator(".bar .human").click()
        expect(ui4.locator(".status-note")).to_contain_text("Waiting for a person", timeout=10000)
        thread_sid = wait_for(lambda: saved_state(vpage4, key).get("sessionId"), what="the widget's session")
        # Anonymous, no email: the handoff opens the ticket all the same.
        tid = wait_for(lambda: owner.call("GET", f"/api/v1/admin/chats/{thread_sid}").get("ticketId"),
                       what="the handoff's ticket")
        state["thread"] = {"sid": thread_sid, "tid": tid}
        go(f"#/chats/{thread_sid}")
        head = page.locator(".chat-head")
        link = head.get_by_role("link", name="Open ticket")
        expect(link).to_have_attribute("href", f"#/tickets/{tid}")
        expect(head.get_by_role("button", name="Make a ticket")).to_have_count(0)
        link.click()
        expect(page.locator(".ticket-head h2")).to_have_text(thread_question)
        # The ticket starts with the conversation's messages, each as what it is.
        expect(page.locator(".tmsg.role-customer").first).to_contain_text(thread_question)
        expect(page.locator(".tmsg.role-ai").first).to_contain_text("To reset your password")
        expect(page.locator(".tmsg.role-ai").first.locator(".who")).to_have_text("AI assistant")
        expect(page.locator(".tmsg.role-system").last).to_contain_text("passed your conversation")
        expect(page.locator(".side")).to_contain_text("No email yet")
        expect(hint).to_contain_text("in the widget now")
        expect(hint).to_have_attribute("data-reached-by", "widget")
        page.get_by_role("button", name="Internal note").click()
        expect(hint).to_be_hidden()  # a note reaches nobody outside the team: nothing to say
        page.get_by_role("button", name="Reply", exact=True).click()
        expect(hint).to_be_visible()
        page.locator(".ticket .composer-input").fill("Hello from the ticket: which browser do you use?")
        page.get_by_role("button", name="Send reply").click()
        expect(ui4.locator(".list .msg.agent").last).to_contain_text("which browser do you use?", timeout=10000)
        expect(page.locator(".toast").last).to_contain_text("sees it in the widget")
        expect(page.locator(".tmsg.role-agent").last).to_contain_text("which browser do you use?")
        shoot("ticket-thread")
        axe("a ticket that is one thread with a conversation")
        # The visitor answers in the widget: the ticket view gets it live.
        ui4.locator("#input").fill("Firefox, on my laptop")
        ui4.locator("#input").press("Enter")
        expect(page.locator(".tmsg.role-customer").last).to_contain_text("Firefox, on my laptop", timeout=10000)
        return True, f"ticket #{tid[:8]}: reply seen live in the widget, the visitor's answer live on the ticket"
    step("one thread: an anonymous visitor hands over in the widget; the agent opens its ticket from the "
         "conversation, is told the reply reaches the widget now, answers there, and the widget shows it live",
         thread_live)

    def thread_nowhere():
        thread = state["thread"]
        state.pop("thread_ctx").close()  # the visitor closes the page…
        visitor_left(parley, owner.call("GET", f"/api/v1/admin/tickets/{thread['tid']}")["visitorId"])  # …long ago
        go("#/tickets")
        row = page.locator(f'tr[data-id="{thread["tid"]}"]')
        expect(row.locator(".cell-sub")).to_contain_text("Visitor (no email yet)")
        shoot("tickets-one-thread")
        row.locator(".cell-title").click()
        expect(page.locator(".ticket-head h2")).to_have_text(thread_question)
        expect(hint).to_contain_text("nowhere: no email address and email is not configured")
        expect(hint).to_have_attribute("data-reached-by", "none")
        shoot("ticket-nowhere")
        page.locator(".ticket .composer-input").fill("We sent you a new link that works.")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator(".toast").last).to_contain_text(
            "reaches nobody until the customer has an email address and email is configured")
        expect(page.locator(".tmsg.role-agent").last).to_contain_text("We sent you a new link")
        # A ticket with an address, on a server without a mail server.
        go(f"#/tickets/{state['ticket']}")
        expect(page.locator(".ticket-head h2")).to_have_text(f"Export to PDF fails {XSS_IMG}")
        expect(hint).to_contain_text("nowhere: email is not configured")
        expect(hint).not_to_contain_text("no email address")
    step("the visitor gone, no email and no mail server: the hint says the reply goes nowhere and why, "
         "the list says 'Visitor (no email yet)', and the toast after sending does not say 'sent'", thread_nowhere)

    def make_ticket():
        go(f"#/chats/{sid}")
        head = page.locator(".chat-head")
        expect(head.locator("h2")).to_be_visible()
        make = head.get_by_role("button", name="Make a ticket")
        expect(make).to_be_visible()
        expect(head.get_by_role("link", name="Open ticket")).to_have_count(0)
        shoot("conversation-make-ticket")
        axe("a conversation without a ticket")
        make.click()
        # (page.url is only brought up to date while Playwright is called; the page's own hash is now.)
        opened = wait_for(lambda: re.fullmatch(r"#/tickets/([\w-]+)", page.evaluate("location.hash")),
                          what="the new ticket to open")
        tid = opened.group(1)
        expect(page.locator(".ticket-head h2")).to_be_visible()
        # The conversation's messages are the ticket's, markup as text.
        expect(page.locator(".tmsg.role-customer").first).to_contain_text(XSS_SCRIPT)
        expect(page.locator(".tmsg.role-agent").filter(has_text="Anna from the team")).to_have_count(1)
        no_markup_ran(".ticket")
        expect(hint).to_contain_text("in the widget now")  # the first visitor still has the widget open
        assert owner.call("GET", f"/api/v1/admin/chats/{sid}")["ticketId"] == tid
        try:
            owner.call("POST", f"/api/v1/admin/chats/{sid}/ticket", {})
            raise AssertionError("a second ticket was made")
        except RuntimeError as error:
            assert "409" in str(error) and "already a ticket" in str(error), error
        go(f"#/chats/{sid}")
        expect(head.get_by_role("link", name="Open ticket")).to_have_attribute("href", f"#/tickets/{tid}")
        expect(head.get_by_role("button", name="Make a ticket")).to_have_count(0)
        shoot("conversation-with-ticket")
        return True, f"ticket #{tid[:8]} opened; a second one is refused (409)"
    step("'Make a ticket' on a conversation without one opens the new ticket (its thread is the conversation's); "
         "then the conversation links to it", make_ticket)

    def close_keeps_ticket():
        thread = state["thread"]
        go(f"#/chats/{thread['sid']}")
        page.locator(".chat-head").get_by_role("button", name="Close", exact=True).click()
        expect(page.locator("dialog[open]")).to_contain_text("Its ticket stays open.")
        page.locator("dialog[open]").get_by_role("button", name="Close conversation").click()
        expect(page.locator(".toast").last).to_contain_text("Conversation closed; its ticket stays open.")
        expect(page.locator(".chat-head")).to_contain_text("Closed")
        go(f"#/tickets/{thread['tid']}")
        expect(page.locator(".tmsg.role-system").last).to_contain_text("The ticket stays open.", timeout=10000)
        expect(page.locator(".ticket-meta .status")).not_to_have_text(re.compile("Resolved|Closed"))
    step("closing a conversation that has a ticket says the ticket stays open, and the ticket's thread says it too",
         close_keeps_ticket)

    # MARK: The team reviews the AI's answers and hands a conversation back to it
    def review_routes():
        """Whether this server has the review and hand-back routes (newer than the rest of this test)."""
        try:
            owner.call("POST", f"/api/v1/admin/chats/{sid}/messages/{sid}/review", {"verdict": None})
        except RuntimeError as error:
            return "No such route" not in str(error)
        return True

    def ai_messages(chat):
        return [m for m in owner.messages(chat) if m["role"] == "ai"]

    def review_answers():
        token, chat = visitor_session(parley.url, key, origin)
        state["reviewed_chat"] = (token, chat)
        visitor_call(parley.url, token, origin, "POST", f"/api/v1/chat/sessions/{chat}/messages",
                     {"body": f"How do I reset my password? {XSS_IMG} {XSS_SCRIPT}", "clientId": "review-1"})
        answer = wait_for(lambda: ai_messages(chat), timeout=20, what="the AI's answer")[0]
        go(f"#/chats/{chat}")
        message = page.locator(f'.timeline .msg-ai[data-id="{answer["id"]}"]')
        right = message.get_by_role("button", name="Right")
        wrong = message.get_by_role("button", name="Wrong")
        expect(right).to_have_attribute("aria-pressed", "false")
        expect(wrong).to_have_attribute("aria-pressed", "false")

        def verdicts():
            marks = owner.call("GET", f"/api/v1/admin/chats/{chat}/reviews")["data"]
            return {r["messageId"]: r["verdict"] for r in marks if r.get("verdict")}
        wrong.click()
        expect(wrong).to_have_attribute("aria-pressed", "true")
        wait_for(lambda: verdicts() == {answer["id"]: "wrong"}, what="the 'wrong' mark stored")
        right.click()  # the other mark replaces it
        expect(right).to_have_attribute("aria-pressed", "true")
        expect(wrong).to_have_attribute("aria-pressed", "false")
        wait_for(lambda: verdicts() == {answer["id"]: "right"}, what="the 'right' mark stored")
        right.click()  # pressing the pressed one clears it
        expect(right).to_have_attribute("aria-pressed", "false")
        wait_for(lambda: verdicts() == {}, what="the mark cleared")
        right.click()
        expect(right).to_have_attribute("aria-pressed", "true")
        wait_for(lambda: verdicts() == {answer["id"]: "right"}, what="the 'right' mark stored again")
        go("#/inbox/active")
        go(f"#/chats/{chat}")  # drawn again from GET …/reviews
        expect(right).to_have_attribute("aria-pressed", "true")
        expect(message.locator(".confidence")).to_have_text(re.compile(r"^Support \d+%$"))
        message.screenshot(path=os.path.join(shots, "dashboard-conversation-review.png"))
        axe("a conversation with review buttons", within=".chat")
        return True, "wrong, then right, cleared, right again; kept after the conversation is drawn again"

    def hand_back():
        token, chat = state["reviewed_chat"]
        head = page.locator(".chat-head")
        back = head.get_by_role("button", name="Hand back to AI")
        expect(back).to_have_count(0)  # the AI is answering: nothing to hand back
        page.locator(".composer-input").fill("Anna here: did the new link arrive?")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(head).to_contain_text("With an agent")
        expect(back).to_be_visible()
        shoot("conversation-hand-back")
        back.click()
        expect(head).to_contain_text("AI answering")
        expect(back).to_have_count(0)
        expect(page.locator(".ai-banner")).to_be_visible()
        assert owner.call("GET", f"/api/v1/admin/chats/{chat}")["session"]["status"] == "ai_active"
        # The assistant answers the visitor's next message again; the agent marks that answer wrong.
        visitor_call(parley.url, token, origin, "POST", f"/api/v1/chat/sessions/{chat}/messages",
                     {"body": f"The link expired: how do I reset my password now? {XSS_IMG} {XSS_SCRIPT}",
                      "clientId": "review-2"})
        expect(page.locator(".timeline .msg-ai")).to_have_count(2, timeout=20000)
        page.locator(".timeline .msg-ai").last.get_by_role("button", name="Wrong").click()
        expect(page.locator(".timeline .msg-ai").last.get_by_role("button", name="Wrong")).to_have_attribute(
            "aria-pressed", "true")
        # Handing back what the AI already answers is refused, with a sentence.
        try:
            owner.call("POST", f"/api/v1/admin/chats/{chat}/assistant", {})
            raise AssertionError("a conversation the AI answers was handed back to it")
        except RuntimeError as error:
            assert " 409 " in str(error) and '"message"' in str(error), error
        state["reviews"] = (1, 1)
        return True, "agent_active -> ai_active; the AI answered the next message; a second hand-back is a 409"
    if review_routes():
        step("an agent marks an AI answer Right or Wrong (aria-pressed; pressing it again clears it), stored "
             "(POST …/review, read back from GET …/reviews)", review_answers)
        step("'Hand back to AI' on a conversation with an agent: it goes back to the assistant (POST …/assistant), "
             "which answers the visitor's next message; a second hand-back is refused (409)", hand_back)
    else:  # (not counted: written for the routes, which this binary does not have yet)
        print("SKIP  reviews of AI answers and 'Hand back to AI': this server has no /admin/chats/{id}/messages/"
              "{id}/review nor /admin/chats/{id}/assistant yet", flush=True)

    def notifications():
        before = int(page.locator(".bell-count").text_content() or 0) if page.locator(".bell-count").is_visible() else 0
        colleague = owner.call("POST", "/api/v1/admin/agents", {
            "email": "sam@example.com", "name": "Sam", "role": "agent", "password": "sam-password-1"})
        state["colleague"] = colleague
        token = visitor_token(parley.url, key, origin)
        other = visitor_call(parley.url, token, origin, "POST", "/api/v1/tickets", {
            "subject": "Billing question", "body": "Why was I charged twice?", "email": "lin@example.com"})
        sam = Agent(parley.url, "sam@example.com", "sam-password-1")
        me = owner.call("GET", "/api/v1/me")["agent"]["id"]
        sam.call("POST", f"/api/v1/admin/tickets/{other['id']}/assign", {"agentId": me})
        expect(page.locator(".bell-count")).to_have_text(str(before + 1), timeout=10000)
        page.locator("button.bell").click()
        panel = page.locator(".notif-panel")
        expect(panel).to_be_visible()
        expect(panel.locator(".notif-item").first).to_contain_text("Billing question")
        shoot("notifications")
        axe("the notifications", within=".notif-panel")  # the page beneath, partly covered, has its own checks
        panel.get_by_role("button", name="Mark all as read").click()
        expect(page.locator(".bell-count")).to_be_hidden()
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        return True, f"badge {before} -> {before + 1} live, then all read"
    step("notifications: the bell counts up live (an assignment by a colleague), lists, marks all read",
         notifications)

    # MARK: Settings
    def widget_settings():
        go("#/settings/sites")
        title = page.get_by_label("Title", exact=True)
        expect(title).to_be_visible()
        title.fill("Acme Help")
        colour = page.locator('input[name="color"]')
        colour.fill("#0f766e")
        expect(page.locator(".mock-head")).to_have_text("Acme Help")  # the live preview follows at once
        accent = page.locator(".mock-panel").evaluate("el => el.style.getPropertyValue('--w-accent')")
        assert accent == "#0f766e", accent
        shoot("settings-sites")
        axe("the site settings")
        page.get_by_role("button", name="Save changes").click()
        wait_for(lambda: owner.call("GET", "/api/v1/admin/sites")["data"][0]["widget"]["title"] == "Acme Help",
                 what="the site saved")
        time.sleep(2.2)  # the widget's config is cached for 2 s
        vpage.reload()
        frame2, ui2 = widget(vpage)
        vpage.evaluate("Parley.open()")
        expect(ui2.locator("#title")).to_have_text("Acme Help", timeout=15000)
        colors = frame2.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
        assert colors == "#0f766e", colors
    step("settings: a new widget title and colour show in the live preview, then in the widget after a reload",
         widget_settings)

    def settings_screens():
        for section in ("profile", "ai", "knowledge", "canned", "sla", "team", "api-keys"):
            go(f"#/settings/{section}")
            expect(page.locator(f'.page[data-section="{section}"] .section-head h2')).to_be_visible()
            # (wait_for_function would eval a string: the page's CSP rightly refuses that)
            wait_for(lambda: not page.evaluate("!!document.querySelector('.settings-body .loading')"),
                     what=f"the {section} section to load")
            shoot(f"settings-{section}")
            if section in ("ai", "sla", "team"):
                axe(f"settings: {section}")
    step("every settings section draws (profile, AI, knowledge base, canned, SLA & hours, team, API keys)",
         settings_screens)

    def email_off():
        go("#/settings/team")
        invite = page.locator(".invite")
        expect(invite.locator(".callout")).to_contain_text(
            "Email is not configured on this server (PARLEY_SMTP_URL), so invitations can’t be sent")
        expect(invite.get_by_label("Email")).to_be_disabled()
        expect(invite.get_by_role("button", name="Send invitation")).to_be_disabled()
        expect(page.get_by_role("button", name="Add with a password")).to_be_enabled()
        invite.screenshot(path=os.path.join(shots, "dashboard-team-invite-email-off.png"))
        go("#/settings/profile")
        expect(page.locator(".email-off")).to_contain_text(
            "Email is not configured on this server (PARLEY_SMTP_URL), so no email leaves it")
        page.locator(".panel", has=page.locator(".email-off")).screenshot(
            path=os.path.join(shots, "dashboard-profile-notifications-email-off.png"))
        try:  # the server agrees
            owner.call("POST", "/api/v1/admin/agents/invite", {"email": "early@example.com", "role": "agent"})
            refused = "201"
        except RuntimeError as error:
            refused = str(error)
        assert " 409 " in refused and "PARLEY_SMTP_URL" in refused, refused
    step("without a mail server, Settings says so: the Team's invite form is disabled under a note (adding "
         "with a password stays), the profile's notifications say no email leaves", email_off)

    def article_markup():
        owner.call("POST", "/api/v1/admin/kb/articles", {
            "title": f"Markup test {XSS_IMG}", "body": f"Never run this: {XSS_SCRIPT} {XSS_IMG} zebracorn",
            "tags": ["test"], "published": True})
        go("#/settings/canned")
        go("#/settings/knowledge")
        expect(page.locator(".settings-body .cell-title", has_text="Markup test")).to_have_text(f"Markup test {XSS_IMG}")
        page.get_by_label("Search the knowledge base as the AI does").fill("zebracorn")
        expect(page.locator(".kb-hit")).to_contain_text(f"Markup test {XSS_IMG}")
        no_markup_ran(".settings-body")
        page.get_by_role("button", name=f"Edit Markup test {XSS_IMG}").click()
        body = page.locator("dialog[open] textarea")
        expect(body).to_have_value(re.compile(re.escape(XSS_SCRIPT)))
        page.keyboard.press("Escape")
        expect(page.locator("dialog[open]")).to_have_count(0)
        no_markup_ran(".view")
    step("markup in an article (title, body, search excerpt, editor) is text and never runs", article_markup)

    def settings_saves():
        go("#/settings/ai")
        auto = page.get_by_label("Let the assistant answer and resolve new tickets on its own")
        expect(auto).to_be_visible()
        auto.check()
        page.locator("#ai-auto").fill("0.9")
        page.get_by_role("button", name="Add rule").click()
        page.get_by_label("Rule 1: words").fill("opening hours")
        page.get_by_label("Rule 1: reply").fill("We are open 9 to 5.")
        page.get_by_role("button", name="Save assistant settings").click()
        wait_for(lambda: owner.call("GET", "/api/v1/admin/ai/settings").get("autoResolveThreshold") == 0.9,
                 what="the assistant's settings saved")
        rules = owner.call("GET", "/api/v1/admin/ai/settings")["autoReplyRules"]
        assert rules == [{"match": "contains", "pattern": "opening hours", "reply": "We are open 9 to 5."}], rules
        go("#/settings/sla")
        page.get_by_label("urgent: first response in minutes").fill("20")
        page.get_by_role("button", name="Save SLA policies").click()
        wait_for(lambda: [p["firstResponseMinutes"] for p in owner.call("GET", "/api/v1/admin/sla-policies")["policies"]
                          if p["priority"] == "urgent"] == [20], what="the SLA policy saved")
        page.get_by_label("Always open (no business hours)").uncheck()
        page.get_by_label("Open on saturday").check()
        page.get_by_label("saturday opens at").fill("10:00")
        page.get_by_label("saturday closes at").fill("14:00")
        page.get_by_role("button", name="Save business hours").click()
        wait_for(lambda: owner.call("GET", "/api/v1/admin/settings/business-hours")["weeklyHours"].get("saturday")
                 == [{"start": "10:00", "end": "14:00"}], what="the business hours saved")
    step("settings are saved: assistant (auto-resolution, an auto-reply rule), an SLA target, business hours",
         settings_saves)

    def ai_answer_limits():
        go("#/settings/ai")
        grounding = page.get_by_label("Grounding threshold")
        words = page.get_by_label("Longest answer (words)")
        saved = owner.call("GET", "/api/v1/admin/ai/settings")
        expect(grounding).to_have_value(str(saved["groundingThreshold"]))
        expect(words).to_have_value(str(saved["maxAnswerWords"]))
        expect(page.locator(".field", has=grounding)).to_contain_text("the best article is offered")
        grounding.fill("0.7")
        words.fill("120")
        page.get_by_role("button", name="Save assistant settings").click()
        wait_for(lambda: (lambda s: (s["groundingThreshold"], s["maxAnswerWords"]))(
            owner.call("GET", "/api/v1/admin/ai/settings")) == (0.7, 120), what="the new limits saved")
        go("#/settings/canned")
        go("#/settings/ai")
        expect(grounding).to_have_value("0.7")  # drawn again from the server
        expect(words).to_have_value("120")
        # Out of range: the server's 422 names the field, and its sentence shows under it.
        words.fill("5")
        page.get_by_role("button", name="Save assistant settings").click()
        error = page.locator(".field", has=words).locator(".field-error")
        expect(error).to_have_text("Longest answer must be between 20 and 1000.")
        expect(words).to_have_attribute("aria-invalid", "true")
        expect(words).to_be_focused()
        page.locator(".field", has=words).screenshot(path=os.path.join(shots, "dashboard-ai-limit-refused.png"))
        assert owner.call("GET", "/api/v1/admin/ai/settings")["maxAnswerWords"] == 120, "a refused value was stored"
        # Back to the server's defaults (the answers checked later were grounded at those).
        grounding.fill(str(saved["groundingThreshold"]))
        words.fill(str(saved["maxAnswerWords"]))
        page.get_by_role("button", name="Save assistant settings").click()
        expect(error).to_be_hidden()
        expect(words).not_to_have_attribute("aria-invalid", "true")
        wait_for(lambda: (lambda s: (s["groundingThreshold"], s["maxAnswerWords"]))(
            owner.call("GET", "/api/v1/admin/ai/settings")) == (saved["groundingThreshold"], saved["maxAnswerWords"]),
            what="the limits restored")
        return True, "0.7 and 120 saved and shown again; 5 words refused under its field; defaults restored"
    step("AI settings: the grounding threshold and the longest answer are shown, saved and drawn again; "
         "an out-of-range length is refused (422) with the server's sentence under its field", ai_answer_limits)

    def embeddings():
        go("#/settings/ai")
        emb = page.locator("section.embeddings")
        expect(emb).to_contain_text("Not configured: the assistant searches by keywords only.")
        form = emb.get_by_role("form", name="Embeddings provider")
        form.get_by_label("Kind").select_option("openai")
        form.get_by_label("Model", exact=True).fill("text-embedding-3-small")
        # A private address is refused by the server's outbound guard: said under the API root.
        form.get_by_label("API root").fill("http://10.0.0.1/v1")
        form.get_by_role("button", name="Use this provider").click()
        error = emb.locator(".field", has=page.get_by_label("API root")).locator(".field-error")
        expect(error).to_have_text(re.compile(r"^The API root can.t be used: 10\.0\.0\.1 is a private address"))
        # Loopback is allowed in this run (PARLEY_OUTBOUND_ALLOW=127.0.0.1); nothing listens on port 9.
        form.get_by_label("API root").fill("http://127.0.0.1:9/v1")
        form.get_by_label("API key").fill("sk-test-embeddings")
        form.get_by_role("button", name="Use this provider").click()
        expect(emb.locator(".emb-status")).to_contain_text("OpenAI-compatible · text-embedding-3-small")
        expect(emb.locator(".emb-status")).to_contain_text("http://127.0.0.1:9/v1 · key stored")
        expect(emb.locator(".emb-status .health")).to_be_visible()
        stored = owner.call("GET", "/api/v1/admin/ai/embeddings")
        assert (stored["kind"], stored["baseUrl"], stored["model"], stored["hasApiKey"]) == (
            "openai", "http://127.0.0.1:9/v1", "text-embedding-3-small", True), stored
        assert "sk-test-embeddings" not in json.dumps(stored) and not page.evaluate(SHOWN, "sk-test-embeddings")
        # The form folds away once a provider is stored; "Edit" opens it again.
        edit = emb.get_by_role("button", name="Edit")
        expect(edit).to_have_attribute("aria-expanded", "false")
        expect(form).to_be_hidden()
        index = emb.locator(".kb-index")
        expect(index).to_contain_text(re.compile(r"Semantic index: \d+ of \d+ passages \(text-embedding-3-small\)"))
        emb.screenshot(path=os.path.join(shots, "dashboard-ai-embeddings.png"))
        state["embeddings_health"] = emb.locator(".emb-status .health").text_content()
        return True, f"refused 10.0.0.1 under its field, then stored; health '{state['embeddings_health']}'"
    step("AI settings: embeddings are 'Not configured' at first; a private API root is refused under its field; "
         "an OpenAI-compatible provider is saved (key never shown) and listed with its health", embeddings)

    def semantic_index():
        index = page.locator(".page[data-section=knowledge] .kb-index")
        go("#/settings/knowledge")
        progress = owner.call("GET", "/api/v1/admin/kb/index")
        assert progress["mode"] == "hybrid" and progress["passages"] > 0, progress
        expect(index).to_contain_text(re.compile(
            rf"Semantic index: \d+ of {progress['passages']} passages \(text-embedding-3-small\)"))
        # Nothing answers on port 9: the passages are never embedded, so the bar stays (asked every 3 s).
        bar = index.get_by_role("progressbar", name="Passages embedded")
        expect(bar).to_be_visible()
        expect(bar).to_have_attribute("aria-valuemax", str(progress["passages"]))
        shoot("knowledge-semantic-index")
        # Removed again: keyword search only, which the view says.
        go("#/settings/ai")
        emb = page.locator("section.embeddings")
        emb.get_by_role("button", name="Edit").click()
        emb.get_by_role("button", name="Remove").click()
        page.locator("dialog[open]").get_by_role("button", name="Remove").click()
        expect(emb).to_contain_text("Not configured: the assistant searches by keywords only.")
        try:
            owner.call("GET", "/api/v1/admin/ai/embeddings")
            raise AssertionError("the provider is still there")
        except RuntimeError as error:
            assert " 404 " in str(error), error
        go("#/settings/knowledge")
        expect(index).to_have_text(re.compile(r"^Keyword search only"))
        expect(index.get_by_role("progressbar")).to_be_hidden()
        return True, f"{progress['passages']} passages, bar while none is embedded; 'Keyword search only' once removed"
    step("knowledge base: the semantic index's line ('Semantic index: N of M passages (model)', a progress bar "
         "while incomplete); after the provider is removed (DELETE), 'Keyword search only'", semantic_index)

    def kb_passages():
        owner.call("POST", "/api/v1/admin/kb/articles", {
            "title": "Shipping guide", "tags": ["shipping"], "published": True,
            "body": "How we ship.\n\n## Delivery times\n\nParcels to Europe take three to five working days. Parcels "
                    "to the rest of the world take up to fifteen working days, customs included. We email a "
                    "tracking link as soon as the parcel leaves our warehouse, and you can follow it on the "
                    "carrier's site. If the tracking link shows no movement for a week, write to us and we open "
                    "an inquiry with the carrier, which usually takes another five working days to settle.\n\n"
                    "## Returns\n\nSend the parcel back within 30 days with the return label."})
        go("#/settings/knowledge")
        page.get_by_label("Search the knowledge base as the AI does").fill("tracking link parcel")
        hit = page.locator(".kb-hit").first
        expect(hit).to_contain_text("Shipping guide")
        expect(hit.locator(".kb-heading")).to_have_text("Delivery times")  # the passage's section
        passage = hit.locator(".kb-excerpt")
        expect(passage).to_contain_text("We email a tracking link")
        expect(passage).not_to_contain_text("five working days to settle")  # long: cut…
        more = passage.get_by_role("button", name="more")
        expect(more).to_have_attribute("aria-expanded", "false")
        more.click()
        expect(passage).to_contain_text("five working days to settle")  # …until "more"
        expect(passage.get_by_role("button", name="less")).to_have_attribute("aria-expanded", "true")
        page.locator(".page[data-section=knowledge] .panel").first.screenshot(
            path=os.path.join(shots, "dashboard-knowledge-search-passage.png"))
        no_markup_ran(".settings-body")
    step("knowledge-base search shows each hit's best passage under its heading, a long one cut with a "
         "'more' toggle", kb_passages)

    def api_key_once():
        go("#/settings/api-keys")
        page.get_by_role("button", name="Create key").click()
        page.locator("dialog[open]").get_by_label("Name").fill("CRM sync")
        page.locator("dialog[open]").get_by_role("button", name="Create key").click()
        secret = page.locator("dialog[open] .secret-value")
        expect(secret).to_have_value(re.compile(r"^pk_"))
        page.locator("dialog[open]").get_by_role("button", name="Done").click()
        expect(page.locator("table.data")).to_contain_text("CRM sync")
    step("an API key is created and its secret shown once", api_key_once)

    def webhooks():
        go("#/settings/webhooks")
        expect(page.locator('.page[data-section="webhooks"] .section-head h2')).to_have_text("Webhooks")
        hook_url = f"http://127.0.0.1:{hook_port}/hook"
        page.get_by_role("button", name="Add endpoint").first.click()
        dialog = page.locator("dialog[open]")
        dialog.get_by_label("URL").fill(hook_url)
        dialog.get_by_label("Description").fill("Browser test receiver")
        # One event nothing in this test raises, so the test event is the only delivery.
        dialog.get_by_role("button", name="Select none").click()
        dialog.get_by_label("ticket.rated").check()
        dialog.get_by_role("button", name="Add endpoint").click()
        box = page.locator("dialog[open] .secret-value")
        expect(box).to_have_value(re.compile(r"^whsec_"))
        expect(page.locator("dialog[open]")).to_contain_text("won't be shown again")
        secret = box.input_value()
        page.locator("dialog[open]").get_by_role("button", name="Done").click()
        expect(page.locator("dialog[open]")).to_have_count(0)
        card = page.locator(".endpoint").filter(has_text=hook_url)
        expect(card).to_be_visible()
        assert not page.evaluate(SHOWN, secret), "the secret is still on the page"
        listed = owner.call("GET", "/api/v1/admin/webhooks")["data"]
        assert [e["events"] for e in listed if e["url"] == hook_url] == [["ticket.rated"]], listed
        assert not any("secret" in e for e in listed), "GET lists the secret"
        card.get_by_role("button", name=re.compile("^Send test event")).click()
        rows = card.locator(".delivery-log tbody tr[data-delivery]")
        expect(rows.first).to_be_visible()

        def delivered():  # the log reloads itself while a delivery is pending
            statuses = rows.evaluate_all("rs => rs.map(r => r.dataset.status)")
            if "dead" in statuses:
                raise AssertionError(f"the test delivery failed: {rows.first.inner_text()!r}")
            return "delivered" in statuses
        wait_for(delivered, timeout=30, interval=0.25, what="the delivery log to show the test event delivered")
        row = card.locator('.delivery-log tbody tr[data-status="delivered"]').first
        expect(row.locator(".badge")).to_have_text("Delivered")
        expect(row).to_contain_text("200")
        shoot("settings-webhooks")
        axe("the webhooks settings")
        hooks = wait_for(lambda: list(HookReceiver.received), what="the receiver to get the POST")
        assert len(hooks) == 1, f"{len(hooks)} POSTs: {[h['headers'].get('webhook-id') for h in hooks]}"
        hook = hooks[0]
        assert hook["path"] == "/hook", hook["path"]
        problem = verify_signature(secret, hook["headers"], hook["body"])
        assert problem is None, problem
        json.loads(hook["body"])  # the body is JSON
        same_id = hook["headers"]["webhook-id"] == row.get_attribute("data-delivery")
        return True, (f"delivered and shown; 1 POST, signature verifies; webhook-id "
                      f"{'is' if same_id else 'is not'} the delivery id")
    step("webhooks: an endpoint is added (secret shown once), a test event is delivered, signed, and shown "
         "delivered in its log", webhooks)

    def outbox_empty():
        go("#/settings/outbox")
        expect(page.locator('.page[data-section="outbox"] .section-head h2')).to_have_text("Delivery failures")
        rows = page.locator("table.outbox tbody tr")
        expect(page.locator(".all-clear").or_(rows.first)).to_be_visible()
        # Nothing should have failed by now; if something did (an email with no mail server?), it is
        # discarded through the page, which must then show its empty state.
        discarded = 0
        while rows.count() and discarded < 20:
            before = rows.count()
            rows.first.get_by_role("button", name=re.compile("^Discard")).click()
            page.locator("dialog[open]").get_by_role("button", name="Discard").click()
            discarded += 1
            wait_for(lambda: rows.count() != before, what="the discarded row to leave")
        expect(page.locator(".all-clear")).to_contain_text("Nothing has failed")
        left = owner.call("GET", "/api/v1/admin/outbox?status=dead")["data"]
        assert not left, left
        shoot("settings-outbox")
        return True, f"empty state ({discarded} dead items discarded first)" if discarded else "empty state"
    step("delivery failures: the page shows that nothing has failed", outbox_empty)

    def seed_ratings():
        """Ratings by both paths: conversations without a ticket, closed by the owner and rated by
        their visitor (one closed and never rated: asked, no answer), and a ticket Sam resolved,
        rated by its identified customer."""
        me = owner.call("GET", "/api/v1/me")["agent"]["id"]
        sam = state["colleague"]["id"]
        for stars in (5, 4, None):
            token, cs = visitor_session(parley.url, key, origin)
            visitor_call(parley.url, token, origin, "POST", f"/api/v1/chat/sessions/{cs}/messages",
                         {"body": "Can I change my plan?", "clientId": f"rate-{stars}"})
            owner.reply(cs, "Yes: Settings, then Plan.")
            owner.call("POST", f"/api/v1/admin/chats/{cs}/assign", {"agentId": me})
            owner.call("POST", f"/api/v1/admin/chats/{cs}/close", {})
            if stars:
                visitor_call(parley.url, token, origin, "POST", f"/api/v1/chat/sessions/{cs}/rating",
                             {"stars": stars, "comment": "Quick and clear"})
        secret = owner.call("GET", "/api/v1/admin/sites")["data"][0]["identitySecret"]
        token = visitor_token(parley.url, key, origin, {"id": "user-8", "email": "olga@example.com", "name": "Olga"},
                              secret)
        tid = visitor_call(parley.url, token, origin, "POST", "/api/v1/tickets", {
            "subject": "Where is my receipt?", "body": "I paid yesterday and got nothing."})["id"]
        owner.call("POST", f"/api/v1/admin/tickets/{tid}/assign", {"agentId": sam})
        if owner.call("GET", f"/api/v1/admin/tickets/{tid}")["status"] != "resolved":  # (the assistant may have)
            owner.call("POST", f"/api/v1/admin/tickets/{tid}/status", {"status": "resolved"})
        visitor_call(parley.url, token, origin, "POST", f"/api/v1/tickets/{tid}/rate", {"stars": 3})
        state["rated"] = {"me": me, "sam": sam}
        return True, "conversations rated 5 and 4 (one closed, not rated), a ticket rated 3"
    step("ratings are seeded: two conversations rated by their visitor, one not, a resolved ticket by its customer",
         seed_ratings)

    def analytics():
        go("#/analytics")
        expect(page.locator("svg.chart").first).to_be_visible(timeout=15000)
        wait_for(lambda: page.locator("svg.chart").count() >= 4, what="the charts")  # volume, AI, satisfaction (2)
        expect(page.locator("#ai-acc")).to_be_visible()
        value = page.locator(".kpi").filter(has=page.locator(".kpi-label", has_text=re.compile("^Conversations$"))) \
            .locator(".kpi-value").text_content()
        assert int(value) >= 2, value
        shoot("analytics")
        axe("analytics")
        return True, f"{page.locator('svg.chart').count()} SVG charts; {value} conversations"
    step("analytics: figures and SVG charts for the range, with the AI's accuracy", analytics)

    def analytics_satisfaction():
        today = time.strftime("%Y-%m-%d", time.localtime())
        start = time.strftime("%Y-%m-%d", time.localtime(time.time() - 29 * 86400))
        sat = owner.call("GET", f"/api/v1/admin/analytics?from={start}&to={today}")["satisfaction"]
        assert sat["count"] >= 3 and sat["asked"] > sat["count"], sat
        section = page.locator("section.satisfaction")
        expect(section.locator("h2")).to_have_text("Satisfaction")

        def figure(label):
            return section.locator(".kpi").filter(has=page.locator(".kpi-label", has_text=re.compile(f"^{label}$")))
        expect(figure("Average rating").locator(".kpi-value")).to_have_text(f"{sat['average']:.1f} / 5")
        expect(figure("Average rating").locator(".kpi-sub")).to_have_text(f"from {sat['count']} ratings")
        expect(figure("Ratings").locator(".kpi-value")).to_have_text(str(sat["count"]))
        rate = f"{round(sat['responseRate'] * 100)}%"
        expect(figure("Response rate").locator(".kpi-value")).to_have_text(rate)
        expect(figure("Response rate")).to_have_text(  # "62% of customers asked rated (5 of 8)"
            re.compile(rf"{rate}\s*of customers asked rated \({sat['count']} of {sat['asked']}\)"))
        # Per agent: the owner's two conversations (5 and 4), Sam's ticket (3).
        rated = state["rated"]
        expect(page.locator(f'tr[data-agent="{rated["me"]}"] .sat-cell')).to_have_text("4.5 · 2 ratings")
        expect(page.locator(f'tr[data-agent="{rated["sam"]}"] .sat-cell')).to_have_text("3.0 · 1 rating")
        leaderboard = page.locator("table.data", has=page.locator("caption", has_text="Agents by tickets resolved"))
        expect(leaderboard.locator("thead")).to_contain_text("Satisfaction")
        # The charts: the stars given, and the average per day with its count in each bar's title.
        stars = section.locator("svg.chart").first
        expect(stars.locator("title").first).to_have_text("Ratings by stars")
        assert stars.locator("rect").count() == 5, stars.locator("rect").count()
        days = section.locator("svg.chart").nth(1)
        expect(days.locator("> title")).to_have_text("Average rating per day")
        expect(days.locator("> desc")).to_contain_text(f"{sat['average']:.1f} from {sat['count']} ratings")
        drawn = days.evaluate("svg => [...svg.querySelectorAll('rect')].filter(r => +r.getAttribute('height') > 0)"
                              ".map(r => r.querySelector('title').textContent)")
        assert any(t.endswith(f"{sat['average']:.1f} / 5 from {sat['count']} ratings") for t in drawn), drawn
        section.screenshot(path=os.path.join(shots, "dashboard-analytics-satisfaction.png"))
        page.locator("table.data", has=page.locator("th", has_text="Satisfaction")).screenshot(
            path=os.path.join(shots, "dashboard-analytics-leaderboard.png"))
        return True, (f"{sat['average']:.1f} / 5 from {sat['count']} ratings, {rate} of {sat['asked']} asked; "
                      f"{len(drawn)} day bar(s) drawn")
    step("analytics: satisfaction shows the average, the count, the response rate, the stars and a bar per day; "
         "the leaderboard has each agent's satisfaction", analytics_satisfaction)

    def analytics_review():
        today = time.strftime("%Y-%m-%d", time.localtime())
        start = time.strftime("%Y-%m-%d", time.localtime(time.time() - 29 * 86400))
        ai = owner.call("GET", f"/api/v1/admin/analytics/ai?from={start}&to={today}")
        right, wrong = ai["reviewedRight"], ai["reviewedWrong"]
        assert (right, wrong) == state["reviews"], (right, wrong)
        card = page.locator("section[aria-labelledby=ai-acc] .kpi").filter(
            has=page.locator(".kpi-label", has_text="Agents' review"))
        expect(card.locator(".kpi-value")).to_have_text(f"{round(right * 100 / (right + wrong))}%")
        expect(card.locator(".kpi-sub")).to_have_text(f"{right} right, {wrong} wrong")
        card.screenshot(path=os.path.join(shots, "dashboard-analytics-review.png"))
        return True, f"{right} right, {wrong} wrong"
    if "reviews" in state:
        step("analytics: the AI card shows the agents' review of its answers (reviewedRight, reviewedWrong)",
             analytics_review)

    def email_settings():
        go("#/settings/email")
        section = page.locator('.page[data-section="email"]')
        expect(section.locator(".section-head h2")).to_have_text("Email")
        expect(section.locator("#email-off")).to_contain_text(
            "Email is not configured on this server (PARLEY_SMTP_URL), so no email leaves it")
        name, reply = section.get_by_label("Sender name"), section.get_by_label("Reply address")
        name.fill("Acme Support")
        section.get_by_role("button", name="Save email settings").click()
        expect(page.locator(".toast").last).to_contain_text("Email settings saved")
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=20000)
        expect(name).to_have_value("Acme Support")  # kept by the server
        expect(section.locator(".email-preview")).to_contain_text("Acme Support")
        reply.fill("not an address")
        section.get_by_role("button", name="Save email settings").click()
        error = section.locator(f"#{reply.get_attribute('id')}-error.field-error")
        expect(error).to_be_visible()
        expect(error).to_have_text(re.compile("^The reply address "))
        expect(reply).to_have_attribute("aria-invalid", "true")
        assert error.get_attribute("id") in (reply.get_attribute("aria-describedby") or ""), "the error is not described"
        saved = owner.call("GET", "/api/v1/admin/settings/email")
        assert saved.get("fromName") == "Acme Support" and saved.get("replyTo") is None and saved["configured"] is False, saved
        shoot("settings-email")
        axe("settings: email")
        reply.fill("")
        section.get_by_role("button", name="Save email settings").click()
        expect(error).to_be_hidden()
        return True, f"name kept after a reload; the bad address: {error.text_content()!r}"
    step("settings: Email says no email leaves without PARLEY_SMTP_URL, a sender name is saved and kept after a "
         "reload, a bad reply address is refused next to its field (422)", email_settings)

    def agent_role():
        context3, page3 = new_context()
        page3.goto(app)
        page3.fill("#login-email", "sam@example.com")
        page3.fill("#login-password", "sam-password-1")
        page3.click(".signin-card button[type=submit]")
        expect(page3.locator(".sidenav")).to_be_visible()
        page3.evaluate("location.hash = '#/settings/profile'")
        expect(page3.locator(".settings-nav")).to_be_visible()
        labels = page3.locator(".settings-nav .folder-label").all_text_contents()
        page3.evaluate("location.hash = '#/settings/team'")  # an admin section by URL: not offered
        expect(page3.locator('.page[data-section="profile"]')).to_be_visible()
        csp = page3.evaluate("window.__csp")
        context3.close()
        assert not set(labels) & {"Sites & widget", "AI assistant", "SLA & hours", "Team", "Email", "API keys",
                                  "Webhooks", "Delivery failures"}, labels
        assert "Profile" in labels, labels
        assert not csp, csp
        return True, f"an agent sees {labels}"
    step("an agent (not an admin) sees no admin settings, even by URL", agent_role)

    def by_email():
        # The same data, now with a mail server: the server is restarted with one configured.
        parley.stop()
        parley.env.update({"PARLEY_SMTP_URL": mail.url, "PARLEY_MAIL_FROM": "support@example.com"})
        parley.start()
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=20000)
        go(f"#/tickets/{state['ticket']}")
        expect(page.locator(".ticket-head h2")).to_have_text(f"Export to PDF fails {XSS_IMG}")
        expect(hint).to_contain_text("by email")
        expect(hint).to_contain_text("grace@example.com")
        expect(hint).to_have_attribute("data-reached-by", "email")
        shoot("ticket-by-email")
        page.locator(".ticket .composer-input").fill("Fixed in today's release: please try the export again.")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator(".toast").last).to_contain_text("Reply sent by email to grace@example.com")
        mails = wait_for(lambda: [m for m in mail.received if "grace@example.com" in m[0]], timeout=20,
                         what="the reply to reach the mail server")
        assert any("try the export again" in text for _, text in mails), mails[-1][1][:400]
        # Without an address, a mail server alone is not enough.
        go(f"#/tickets/{state['thread']['tid']}")
        expect(page.locator(".ticket-head h2")).to_have_text(thread_question)
        expect(hint).to_contain_text("nowhere: no email address")
        expect(hint).not_to_contain_text("email is not configured")
        return True, f"{len(mails)} email(s) to grace@example.com; the ticket without an address still says nowhere"
    step("with a mail server: a ticket with an address says 'by email' (its reply reaches the mail server); "
         "one without an address still says nowhere", by_email)

    def rating_by_email():
        # The assistant was set above to resolve new tickets on its own: this one the agent resolves.
        ai = owner.call("GET", "/api/v1/admin/ai/settings")
        owner.call("PUT", "/api/v1/admin/ai/settings", dict(
            {k: ai[k] for k in ("systemPrompt", "welcomeMessage", "contextMessages", "maxMessagesBeforeEscalation",
                                "confidenceThreshold", "autoReplyRules")}, autoResolveThreshold=None))
        token = visitor_token(parley.url, key, origin)
        tid = visitor_call(parley.url, token, origin, "POST", "/api/v1/tickets", {
            "subject": "Invoice PDF is blank", "body": "Invoice 1042 opens as an empty page.",
            "email": "rita@example.com"})["id"]

        def mails_to_rita(subject):
            return [m for m in mail.messages
                    if "rita@example.com" in str(m["To"]) and str(m["Subject"]).startswith(subject)]
        wait_for(lambda: mails_to_rita("We received your request: Invoice PDF is blank"), timeout=20,
                 what="the 'We received your request' email")
        go(f"#/tickets/{tid}")
        expect(page.locator(".ticket-head h2")).to_have_text("Invoice PDF is blank")
        page.locator("#tk-status").select_option("resolved")
        expect(page.locator(".ticket-meta .status")).to_have_text("Resolved")
        resolved = wait_for(lambda: mails_to_rita("Resolved: Invoice PDF is blank"), timeout=30,
                            what="the 'Resolved:' email")[-1]
        assert resolved["List-Unsubscribe"], sorted(resolved.keys())
        state["resolved_from"] = str(resolved["From"])
        text = "\n".join(part.get_payload(decode=True).decode("utf-8") for part in resolved.walk()
                         if part.get_content_type() == "text/plain")
        links = dict(re.findall(r"^([1-5]) – [^:\n]+: (\S+/rate/\S+?)\r?$", text, re.M))
        assert sorted(links) == ["1", "2", "3", "4", "5"], repr(text[:900])
        assert all(link.startswith(f"{parley.url}/rate/") for link in links.values()), links
        assert re.search(rf"Stop these emails: {re.escape(parley.url)}/unsubscribe/\S+", text), text[-300:]
        # The customer clicks "4" in their mail client: their own browser, not signed in.
        context5, rpage = new_context((1024, 768))
        rpage.goto(links["4"])
        expect(rpage.locator("h1")).to_have_text("Thank you")
        expect(rpage.locator("main")).to_contain_text('You rated "Invoice PDF is blank" 4 out of 5')
        rpage.screenshot(path=os.path.join(shots, "rating-thank-you.png"))
        axe("the rating page", target=rpage)
        rpage.get_by_label("Your comment (optional)").fill("Fixed within the hour, thank you!")
        rpage.get_by_role("button", name="Send").click()
        expect(rpage.locator("main")).to_contain_text("Your comment is saved")
        rpage.goto(links["5"])  # another link of the same email: the first rating stands
        expect(rpage.locator("h1")).to_have_text("Already rated")
        expect(rpage.locator("main")).to_contain_text('You rated "Invoice PDF is blank" 4 out of 5')
        rpage.screenshot(path=os.path.join(shots, "rating-already-rated.png"))
        csp = rpage.evaluate("window.__csp")
        context5.close()
        assert not csp, csp
        satisfaction = owner.call("GET", f"/api/v1/admin/tickets/{tid}").get("satisfaction") or {}
        assert satisfaction.get("stars") == 4, satisfaction
        assert satisfaction.get("comment") == "Fixed within the hour, thank you!", satisfaction
        # The agent's ticket view shows it (live, or once opened again).
        stars = page.locator(".csat .stars")
        go("#/tickets")
        go(f"#/tickets/{tid}")
        expect(stars).to_have_attribute("aria-label", "4 out of 5 stars")
        expect(page.locator(".csat")).to_contain_text("Fixed within the hour, thank you!")
        shoot("ticket-rated")
        return True, f"links {sorted(links)} in the email; 4 stars and the comment kept, the 5 refused"
    step("a customer rates a resolved ticket from the 'Resolved:' email: 4 stars and a comment on the page, "
         "the 5-star link of the same email then says 'Already rated'; the ticket view shows the rating",
         rating_by_email)

    def email_settings_on():
        go("#/settings/email")
        section = page.locator('.page[data-section="email"]')
        expect(section.locator(".email-status")).to_contain_text("Email is on")
        expect(section.locator(".email-status")).to_contain_text("support@example.com")
        expect(section.locator("#email-off")).to_have_count(0)
        expect(section.locator(".email-preview")).to_contain_text("Acme Support <support@example.com>")
        section.locator(".panel").first.screenshot(path=os.path.join(shots, "dashboard-settings-email-on.png"))
        assert "Acme Support" in state["resolved_from"], state["resolved_from"]
        return True, f"the 'Resolved:' email came from {state['resolved_from']!r}"
    step("with a mail server, Settings -> Email says email is on and from which address; the sender name saved "
         "earlier is on the customers' emails", email_settings_on)

    def mails_to(address, subject):
        """The text (subject, then the text parts) of each email to `address` whose subject starts so."""
        return [text for rcpts, text in mail.received if address in rcpts and text.startswith(subject)]

    newbie, first_password, new_password = "newbie@example.com", "newbie-first-pw", "newbie-second-pw"

    def invitation():
        go("#/settings/team")
        invite = page.locator(".invite")
        expect(invite.get_by_role("button", name="Send invitation")).to_be_enabled()
        expect(invite).not_to_contain_text("Email is not configured")
        invite.get_by_label("Email").fill(newbie)
        invite.get_by_label("Role").select_option("agent")
        invite.get_by_role("button", name="Send invitation").click()
        expect(invite.locator(".invite-result")).to_contain_text(f"Invitation sent to {newbie}.")
        expect(page.locator("table.data")).to_contain_text(newbie)
        shoot("settings-team-invited")
        axe("settings: team, an invitation sent")
        text = wait_for(lambda: mails_to(newbie, "You're invited to join"), timeout=20,
                        what="the invitation email")[-1]
        link = re.search(r"\S+/app#/invitation/[\w-]+", text).group(0)
        assert link.startswith(f"{parley.url}/app#/invitation/"), link
        # The invitee opens it in their own browser.
        context8, ipage = new_context((1024, 768))
        state["invitee"] = (context8, ipage)
        ipage.goto(link)
        expect(ipage.locator("h1")).to_have_text("Join your team on Parley")
        shoot("invitation", target=ipage)
        axe("the invitation screen", target=ipage)
        ipage.get_by_label("Your name").fill("Nia Newbie")
        ipage.get_by_label("Password", exact=True).fill("too-short")
        ipage.get_by_label("Password again").fill("too-short")
        ipage.get_by_role("button", name="Join and sign in").click()
        expect(ipage.locator(".form-error")).to_have_text("The password needs at least 10 characters.")
        ipage.get_by_label("Password", exact=True).fill(first_password)
        ipage.get_by_label("Password again").fill(first_password)
        ipage.get_by_role("button", name="Join and sign in").click()
        expect(ipage.locator(".sidenav")).to_be_visible()
        expect(ipage.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        assert ipage.url.endswith("#/inbox"), ipage.url  # the used token left the address bar
        expect(ipage.locator(".me-name")).to_have_text("Nia Newbie")
        expect(ipage.locator(".me-role")).to_have_text("agent")
        # The same link again: used.
        ipage.goto(link)
        expect(ipage.locator("h1")).to_have_text("Join your team on Parley")
        ipage.get_by_label("Your name").fill("Someone else")
        ipage.get_by_label("Password", exact=True).fill("another-password")
        ipage.get_by_label("Password again").fill("another-password")
        ipage.get_by_role("button", name="Join and sign in").click()
        expect(ipage.locator(".form-error")).to_have_text(
            "This link has expired or was used already. Ask an admin of your team for a new invitation. Go to sign in")
        expect(ipage.get_by_label("Password", exact=True)).to_be_hidden()
        shoot("invitation-used", target=ipage)
        ipage.get_by_role("link", name="Go to sign in").click()  # still signed in as the invitee
        expect(ipage.locator(".me-name")).to_have_text("Nia Newbie")
        expect(ipage.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        return True, "invited; joined as Nia Newbie and signed in from the email's link; the link refused the second time"
    step("an owner invites by email from Settings -> Team: the invitation email's link (in a fresh browser) takes "
         "a name and a password and signs in; the same link again says it was used", invitation)

    def forgot_and_reset():
        context9, fpage = new_context((1024, 768))
        fpage.goto(app)
        expect(fpage.locator(".signin-card")).to_be_visible(timeout=15000)
        fpage.fill("#login-email", newbie)
        fpage.get_by_role("link", name="Forgot password?").click()
        expect(fpage.locator("h1")).to_have_text("Reset your password")
        expect(fpage.get_by_label("Email")).to_have_value(newbie)
        asked = len(mails_to(newbie, "Reset your Parley password"))
        send = fpage.get_by_role("button", name="Send me a link")
        send.click()
        expect(fpage.locator(".form-ok")).to_contain_text(
            "If an account exists for that address, we've sent a link to reset its password. It works for one hour.")
        shoot("forgot", target=fpage)
        axe("the forgot-password form", target=fpage)
        text = wait_for(lambda: mails_to(newbie, "Reset your Parley password")[asked:], timeout=20,
                        what="the reset email")[-1]
        link = re.search(r"\S+/app#/reset/[\w-]+", text).group(0)
        assert link.startswith(f"{parley.url}/app#/reset/"), link
        fpage.goto(link)
        expect(fpage.locator("h1")).to_have_text("Choose a new password")
        fpage.get_by_label("New password", exact=True).fill(new_password)
        fpage.get_by_label("New password again").fill(new_password + "x")
        fpage.get_by_role("button", name="Change password").click()
        expect(fpage.locator(".form-error")).to_contain_text("The two passwords differ")
        shoot("reset", target=fpage)
        axe("the reset screen", target=fpage)
        fpage.get_by_label("New password again").fill(new_password)
        fpage.get_by_role("button", name="Change password").click()
        expect(fpage.locator(".signin-card .form-ok")).to_have_text("Your password is changed. Sign in with the new one.")
        expect(fpage.locator("#login-email")).to_have_value(newbie)
        assert "/reset/" not in fpage.url, fpage.url
        # The old password is refused, the new one signs in.
        fpage.fill("#login-password", first_password)
        fpage.click(".signin-card button[type=submit]")
        expect(fpage.locator(".signin-card .form-error")).to_contain_text("do not match")
        fpage.fill("#login-password", new_password)
        fpage.click(".signin-card button[type=submit]")
        expect(fpage.locator(".me-name")).to_have_text("Nia Newbie")
        expect(fpage.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        # The invitee's first browser, signed in before the reset, is signed out at its next request.
        context8, ipage = state["invitee"]
        ipage.evaluate("location.hash = '#/tickets'")
        expect(ipage.locator(".signin-card .form-error")).to_have_text("Your session has ended. Please sign in again.")
        expect(ipage.locator("#login-email")).to_have_value(newbie)
        # The same reset link again: used, with the way to a new one.
        fpage.goto(link)
        expect(fpage.locator("h1")).to_have_text("Choose a new password")
        fpage.get_by_label("New password", exact=True).fill("yet-another-pw")
        fpage.get_by_label("New password again").fill("yet-another-pw")
        fpage.get_by_role("button", name="Change password").click()
        expect(fpage.locator(".form-error")).to_have_text("This link has expired or was used already. Ask for a new one.")
        shoot("reset-used", target=fpage)
        fpage.get_by_role("link", name="Ask for a new one.").click()
        expect(fpage.locator("h1")).to_have_text("Reset your password")
        # Asking too often (the server allows a few per address and per IP): said plainly, with the wait.
        fpage.get_by_label("Email").fill("nobody@example.com")
        error = fpage.locator(".signin-card .form-error")
        for tries in range(1, 9):
            send.click()
            expect(send).to_have_text("Send me a link")  # the answer is in
            if error.is_visible():
                break
        expect(error).to_have_text(re.compile(r"^Too many reset links were asked for from here or for this address\. "
                                              r"Try again in \d+ (seconds|minutes)\.$"))
        shoot("forgot-throttled", target=fpage)
        csp = fpage.evaluate("window.__csp") + ipage.evaluate("window.__csp")
        context9.close()
        context8.close()
        assert not csp, csp
        return True, f"reset by email; the old password and session refused; throttled after {tries} more asks"
    step("'Forgot password?' mails a reset link: the new password signs in, the old one is refused and the "
         "invitee's first session ends; the used link says so; asking too often says when to try again",
         forgot_and_reset)

    def sign_in_at(p):
        """Signs the owner in on another page (its own context: its own cookies and permissions)."""
        p.goto(app)
        p.fill("#login-email", email)
        p.fill("#login-password", password)
        p.click(".signin-card button[type=submit]")
        expect(p.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)

    def desktop_blocked():
        context7, bpage = new_context((1024, 768))
        # What "Block" in the browser's site settings does (Playwright can only grant).
        target = context7.new_cdp_session(bpage).send("Target.getTargetInfo")["targetInfo"]
        browser_cdp = browser.new_browser_cdp_session()
        browser_cdp.send("Browser.setPermission", {
            "permission": {"name": "notifications"}, "setting": "denied", "origin": parley.url,
            "browserContextId": target["browserContextId"]})
        sign_in_at(bpage)
        assert bpage.evaluate("Notification.permission") == "denied"
        bpage.evaluate("location.hash = '#/settings/profile'")
        desktop = bpage.get_by_label("Show desktop notifications")
        desktop.click()
        expect(bpage.locator(".switch-note")).to_contain_text(
            "Your browser blocks notifications from Parley, so this stays off.")
        expect(desktop).not_to_be_checked()
        bpage.locator(".pref-alerts").screenshot(path=os.path.join(shots, "dashboard-profile-desktop-blocked.png"))
        csp = bpage.evaluate("window.__csp")
        context7.close()
        browser_cdp.detach()  # (only now: the setting lasts as long as the session that made it)
        assert not csp, csp
    step("desktop notifications blocked by the browser: the switch stays off and says how to allow them",
         desktop_blocked)

    def alerts():
        def alert_prefs():
            saved = owner.call("GET", "/api/v1/me/preferences")
            return saved["sound"], saved["desktop"]
        context6, apage = new_context()
        context6.grant_permissions(["notifications"], origin=parley.url)
        context6.add_init_script(NOTIFICATION_SPY)
        sign_in_at(apage)
        apage.evaluate("location.hash = '#/settings/profile'")
        sound, desktop = apage.get_by_label("Play a sound"), apage.get_by_label("Show desktop notifications")
        expect(sound).not_to_be_checked()  # the server's defaults: both off
        expect(desktop).not_to_be_checked()
        sound.check()
        expect(apage.locator("body")).to_have_attribute("data-alert-sounds", "1")  # a preview of the chime
        desktop.check()  # permission granted to this context: it stays on, nothing to explain
        expect(desktop).to_be_checked()
        expect(apage.locator(".switch-note")).to_be_hidden()
        apage.get_by_role("button", name="Save preferences").click()
        wait_for(lambda: alert_prefs() == (True, True), what="sound and desktop stored")
        shoot("profile-alerts", target=apage)
        axe("the profile with the notification preferences", target=apage)
        apage.evaluate("location.hash = '#/inbox'")

        def shown(title=None):
            return [n for n in apage.evaluate("window.__shown") if title is None or n["title"] == title]

        def sounds():
            return int(apage.evaluate("document.body.dataset.alertSounds || '0'"))
        # A visitor starts a conversation: a sound and a desktop notification.
        before = sounds()
        token, sid = visitor_session(parley.url, key, origin)
        new = wait_for(lambda: shown("New conversation"), what="the desktop notification")
        assert new[0]["tag"] == f"parley-new:{sid}", new
        assert "started a conversation" in new[0]["body"], new
        wait_for(lambda: sounds() > before, what="the alert sound")
        # Clicking it opens the conversation.
        apage.evaluate("window.__notifications[0].onclick(new Event('click'))")
        wait_for(lambda: apage.evaluate("location.hash") == f"#/chats/{sid}", what="the conversation to open")
        expect(apage.locator(".chat-head h2")).to_be_visible()
        # The agent's own reply alerts nothing; the customer's answer to it does (the conversation is
        # now the agent's, and no longer on screen).
        apage.locator(".composer-input").fill("Hello! How can I help?")
        apage.locator(".composer-input").press("Enter")
        expect(apage.locator(".timeline .msg-agent").last).to_contain_text("How can I help?", timeout=10000)
        apage.evaluate("location.hash = '#/inbox'")
        visitor_call(parley.url, token, origin, "POST", f"/api/v1/chat/sessions/{sid}/messages",
                     {"clientId": "alerts-1", "body": "My parcel has not arrived"})
        replied = wait_for(lambda: shown("The customer replied"), what="the customer's reply alert")
        assert replied[0]["body"] == "My parcel has not arrived" and replied[0]["tag"] == f"parley-reply:{sid}", replied
        titles = [n["title"] for n in shown()]
        assert titles == ["New conversation", "The customer replied"], titles
        # A handoff: another visitor asks for a person. It is announced twice (session.updated, then the
        # notification of kind handoff the bell counts): one alert.
        bell = apage.locator(".bell-count")
        unread = int(bell.text_content() or 0) if bell.is_visible() else 0
        token2, sid2 = visitor_session(parley.url, key, origin)
        wait_for(lambda: [n for n in shown("New conversation") if n["tag"] == f"parley-new:{sid2}"],
                 what="the second conversation's alert")
        visitor_call(parley.url, token2, origin, "POST", f"/api/v1/chat/sessions/{sid2}/escalate", {})
        expect(bell).to_have_text(str(unread + 1), timeout=10000)
        handoffs = wait_for(lambda: shown("A conversation needs a person"), what="the handoff alert")
        assert [n["tag"] for n in handoffs] == [f"parley-handoff:{sid2}"], handoffs
        # Back to quiet, for the rest of the run.
        apage.evaluate("location.hash = '#/settings/profile'")
        sound.uncheck()
        desktop.uncheck()
        apage.get_by_role("button", name="Save preferences").click()
        wait_for(lambda: alert_prefs() == (False, False), what="sound and desktop off again")
        all_shown, played = shown(), sounds()
        gaps = ", ".join(f"{(b['at'] - a['at']) / 1000:.1f}" for a, b in zip(all_shown, all_shown[1:]))
        csp = apage.evaluate("window.__csp")
        context6.close()
        assert not csp, csp
        return True, (f"desktop notifications: {[n['title'] for n in all_shown]} ({gaps} s apart); sounds started: "
                      f"{played}, the first the switch's preview (alerts closer than 1.2 s share one)")
    step("alerts: with sound and desktop notifications on, a new conversation chimes and shows a notification "
         "(clicking it opens the conversation); the agent's own reply alerts nothing, the customer's answer "
         "does; a handoff alerts once", alerts)

    def csp_clean():
        violations = page.evaluate("window.__csp") + vpage.evaluate("window.__csp")
        assert not violations, violations
        assert not csp_console, csp_console[:3]
        return True, "no securitypolicyviolation event, no CSP console message"
    step("the dashboard works under its Content-Security-Policy: no violation at all", csp_clean)

    def no_errors():
        assert not page_errors, page_errors[:3]
        assert not dialogs, dialogs
    step("no uncaught script error and no dialog in any page", no_errors)

    def sign_out():
        page.locator(".signout").click()
        expect(page.locator(".signin-card")).to_be_visible()
        page.reload()
        expect(page.locator(".signin-card")).to_be_visible()
    step("sign-out ends the session (a reload shows the sign-in)", sign_out)
    agent_ctx.close()
    visitor_ctx.close()


if __name__ == "__main__":
    main()
