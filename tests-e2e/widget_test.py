#!/usr/bin/env python3
"""The chat widget in a real browser: Debian's headless Chromium driven by Playwright.

Usage: widget_test.py --binary PATH [--llm-url URL] [--screenshots DIR] [--bundled]

Starts the parley binary on a free loopback port (temp data dir; PARLEY_WEB_DIR pointing at the
working tree's widget files unless --bundled), a scripted OpenAI-compatible server that streams a
fixed answer slowly (the assistant's provider), and a "customer website" on another origin
(http://localhost:<port>, while Parley is http://127.0.0.1:<port>) that embeds the script tag.
Then it drives the widget as a visitor would, with an agent answering over the REST API and a
WebSocket: streaming AI replies, handoff, typing, read receipts, unread badge, going offline and a
server restart (each message shown once, in order), markup shown as text, polling when WebSockets
are blocked, attachments, identify(), the offline form (no email promised without a mail server),
French, the satisfaction prompt once a conversation has ended, a reply's preview beside the closed
launcher, axe (no serious or critical violations) and screenshots. With --llm-url (a real model,
e.g. `scripts/llm-server url`) one more check watches that model's reply stream into the widget.

Prints one line per check and exits 1 if any failed. Every process it starts is stopped at exit.
"""
import argparse
import hashlib
import hmac
import http.cookiejar
import http.server
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

from playwright.sync_api import expect, sync_playwright

HERE = os.path.dirname(os.path.abspath(__file__))
WEB_DIR = os.path.join(HERE, "..", "Sources", "ParleyHTTP", "Resources", "web")
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(2)</script>"
RESULTS = []
ON_FAILURE = []  # callbacks(name) run when a check fails (a screenshot, what the page said)


# MARK: - Reporting

def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""), flush=True)
    return ok


def step(name, fn):
    """Runs one check; an exception fails it (with its message) without stopping the others."""
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
        for callback in ON_FAILURE:
            try:
                callback(name)
            except Exception:  # noqa: BLE001 - diagnostics only
                pass
        return check(name, False, f"{type(error).__name__}: {message[0] if message else ''}"[:400])


# MARK: - Processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Parley:
    """The server under test, restartable on the same data directory."""

    def __init__(self, binary, data_dir, port, ai_url, bundled):
        self.binary, self.port = binary, port
        self.log_path = os.path.join(data_dir, "server.log")
        self.env = dict(os.environ)
        self.env.update({
            "PARLEY_DATA_DIR": data_dir, "PARLEY_PORT": str(port), "PARLEY_HOST": "127.0.0.1",
            "PARLEY_BASE_URL": f"http://127.0.0.1:{port}", "PARLEY_BCRYPT_COST": "4",
            "PARLEY_LOG_LEVEL": "warning", "AI_API_URL": ai_url, "AI_MODEL": "scripted", "AI_API_KEY": "test",
            # The widget test sends more than 20 messages from one IP in a minute.
            "PARLEY_CHAT_RATE_LIMIT": "1000", "PARLEY_PUBLIC_RATE_LIMIT": "10000",
        })
        if bundled:
            self.env.pop("PARLEY_WEB_DIR", None)
        else:
            self.env["PARLEY_WEB_DIR"] = os.path.abspath(WEB_DIR)
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen([self.binary, "serve", "--demo"], env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/readyz", timeout=1).read()
                return
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError(f"parley exited with {self.process.returncode}; see {self.log_path}")
                time.sleep(0.05)
        raise RuntimeError("parley did not become ready")

    def first_start(self):
        text = open(self.log_path).read()
        password = re.search(r"Owner password:\s+(\S+)", text).group(1)
        email = re.search(r"Owner email:\s+(\S+)", text).group(1)
        key = re.search(r"Site key:\s+(\S+)", text).group(1)
        return email, password, key

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(handler, port):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# The scripted model's answer, streamed in small pieces. It cites passage A1 and offers quick
# replies in the trailer the assistant parses; its visible part carries markup that must stay text.
ANSWER_PLAIN = ("To reset your password, press \"Forgot password?\" on the sign-in page and follow the link "
                "we email you [A1].")
# Said only to a question that carries the markup: the grounding gate lets a sentence through when
# the passages or the visitor's own words hold it.
MARKUP_LINE = f"Markup stays text: {XSS_IMG} {XSS_SCRIPT}"
ANSWER = f"{ANSWER_PLAIN} {MARKUP_LINE}"
TRAILER = ('<decision>{"decision":"answer","citations":["A1"],"confidence":0.95,'
           '"quickReplies":["Thanks, that helped","It did not work"]}</decision>')


class ScriptedModel(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/chat/completions that streams ANSWER + TRAILER over ~2.5 s."""
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        asked = next((m.get("content") for m in reversed(request.get("messages", [])) if m.get("role") == "user"), "")
        asked = str(asked)
        if "My markup" in asked:
            # Its own words back: the gate lets through what the visitor's question holds.
            answer = f"You wrote: My markup: {XSS_IMG} {XSS_SCRIPT} done"
        elif "Markup stays text" in asked or XSS_IMG in asked:
            answer = ANSWER
        elif asked.startswith("Thanks"):
            answer = "Glad that helped!"
        elif "hotline" in asked:
            # An invented second sentence: the first streams, then the gate withdraws the answer.
            answer = ANSWER_PLAIN + " Then call our hotline at 555 0199 and ask Kevin in accounting to reset it by fax."
        else:
            answer = ANSWER_PLAIN
        text = answer + "\n" + TRAILER
        if not request.get("stream"):
            body = json.dumps({"id": "x", "object": "chat.completion", "model": "scripted", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server stopped or gave up waiting (a ticket's classification at the end of the run)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        pieces = re.findall(r"\S+\s*", answer) + [TRAILER]
        try:
            for piece in pieces:
                self.chunk({"content": piece}, None)
                time.sleep(0.09)
            self.chunk({}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def chunk(self, delta, finish):
        data = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        self.wfile.write(b"data: " + json.dumps(data).encode() + b"\n\n")
        self.wfile.flush()


# MARK: - The agent's side (REST with a session cookie + CSRF, and a WebSocket for typing)

class Agent:
    def __init__(self, base, email, password):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None
        self.csrf = self.call("POST", "/api/v1/auth/login", {"email": email, "password": password})["csrfToken"]

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=15) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path} -> {error.code} {error.read()[:300]!r}") from None

    def reply(self, session_id, body):
        return self.call("POST", f"/api/v1/admin/chats/{session_id}/reply", {"body": body})

    def messages(self, session_id):
        return self.call("GET", f"/api/v1/admin/chats/{session_id}/messages?limit=200")["data"]

    def cookie_header(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def typing(self, session_id, on=True):
        """Says "typing" on the conversation's channel from a real agent WebSocket."""
        from websockets.sync.client import connect
        url = self.base.replace("http://", "ws://") + "/api/v1/realtime"
        with connect(url, additional_headers={"Cookie": self.cookie_header()}, open_timeout=10) as ws:
            channel = f"supportChat:{session_id}"
            ws.send(json.dumps({"type": "subscribe", "channel": channel}))
            deadline = time.time() + 10
            while time.time() < deadline:
                frame = json.loads(ws.recv(timeout=10))
                if frame.get("type") == "subscribed":
                    break
            ws.send(json.dumps({"type": "typing", "channel": channel, "on": on}))
            time.sleep(0.3)


# MARK: - Helpers for the page

def png_bytes(width=64, height=40):
    """A small real PNG: orange and teal stripes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = []
    for y in range(height):
        rows.append(b"\x00" + b"".join(bytes((249, 115, 22) if (x // 8 + y // 8) % 2 else (13, 148, 136))
                                        for x in range(width)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def widget(page):
    """The chat frame (a Frame, for evaluate) and a FrameLocator (for locators)."""
    deadline = time.time() + 15
    while time.time() < deadline:
        for frame in page.frames:
            if "/widget/frame.html" in frame.url:
                return frame, page.frame_locator("iframe[data-parley]")
        time.sleep(0.05)
    raise RuntimeError("the widget's frame never appeared")


def settle(frame):
    """Lets the widget's animations (the panel rising in) finish, for a faithful screenshot."""
    frame.evaluate("Promise.all(document.getAnimations().filter(a => a.effect && "
                   "isFinite(a.effect.getComputedTiming().endTime)).map(a => a.finished))")


def wait_for(fn, timeout=15, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what} (last: {last!r})"[:300])


def shown_messages(frame):
    """[(seq, role, text)] of the stored messages the widget shows, in page order."""
    return frame.evaluate("""() => [...document.querySelectorAll('.list .msg:not(.local)')].map(el => [
        +el.dataset.seq, el.className.replace('msg ', ''),
        (el.querySelector('.bubble') || {textContent: ''}).textContent.replace(/^(You|Vous|Sie): /, '')])""")


def saved_state(page, key):
    """The widget's saved state: kept by the loader in the host page's localStorage."""
    return page.evaluate("k => JSON.parse(localStorage.getItem('parley:' + k) || '{}')", key)


def host_page(directory, name, parley_url, key, head="", attributes=""):
    """A customer's page on another origin, with the queue stub and the script tag."""
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Customer site</title>
<script>
window.events = [];
window.Parley = window.Parley || {{q: []}};
['identify', 'open', 'close', 'on'].forEach(function (m) {{
  Parley[m] = Parley[m] || function () {{ Parley.q.push([m].concat([].slice.call(arguments))); }};
}});
['message', 'open', 'close', 'unread'].forEach(function (name) {{
  Parley.on(name, function (data) {{ window.events.push({{name: name, data: data}}); }});
}});
{head}
</script></head>
<body><h1>Customer site</h1><p>Some content.</p><a href="#" id="before">A link before the widget</a>
<script src="{parley_url}/widget.js" data-site="{key}" {attributes} async></script></body></html>"""
    with open(os.path.join(directory, name), "w") as f:
        f.write(html)


def inside(inner, outer):
    """Whether one bounding box lies within another (page coordinates)."""
    return bool(inner and outer and inner["x"] >= outer["x"] and inner["y"] >= outer["y"]
                and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
                and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


def run_axe(frame):
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(frame, options={"resultTypes": ["violations"], "runOnly": {
        "type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
    violations = results.response["violations"]
    bad = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in violations
           if v.get("impact") in ("serious", "critical")]
    minor = [f"{v['id']} ({v['impact']})" for v in violations if v.get("impact") not in ("serious", "critical")]
    return bad, minor


# MARK: - The run

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--llm-url", help="a real OpenAI-compatible model (its /v1 root)")
    parser.add_argument("--screenshots", help="folder for the PNGs (default: a temp folder)")
    parser.add_argument("--bundled", action="store_true", help="serve the files built into the binary")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    if not os.path.exists(args.chromium):
        sys.exit(f"no browser at {args.chromium}: run scripts/browser first")

    temp = tempfile.mkdtemp(prefix="parley-widget-")
    shots = args.screenshots or os.path.join(temp, "screenshots")
    os.makedirs(shots, exist_ok=True)
    servers, parley = [], None
    # A hard limit: never hang CI.
    def out_of_time(*_):
        raise TimeoutError("the widget test ran over 270 s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(270)
    started = time.time()
    try:
        model_port, host_port = free_port(), free_port()
        servers.append(serve(ScriptedModel, model_port))
        parley = Parley(os.path.abspath(args.binary), os.path.join(temp, "data"), free_port(),
                        f"http://127.0.0.1:{model_port}/v1", args.bundled)
        os.makedirs(os.path.join(temp, "data"))
        parley.start()
        email, password, key = parley.first_start()
        agent = Agent(parley.url, email, password)
        site = agent.call("GET", "/api/v1/admin/sites")["data"][0]
        user_hash = hmac.new(site["identitySecret"].encode(), b"user-42", hashlib.sha256).hexdigest()

        site_dir = os.path.join(temp, "site")
        os.makedirs(site_dir)
        host_page(site_dir, "index.html", parley.url, key)
        host_page(site_dir, "identified.html", parley.url, key, head=(
            "Parley.identify({id: 'user-42', email: 'ada@example.com', name: 'Ada', userHash: '%s'});" % user_hash))
        host_page(site_dir, "poll.html", parley.url, key, attributes='data-transport="poll"')
        servers.append(serve(lambda *a, **k: Quiet(*a, directory=site_dir, **k), host_port))
        host = f"http://localhost:{host_port}"
        print(f"parley {parley.url}, customer site {host}, scripted model :{model_port}, screenshots {shots}",
              flush=True)

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            try:
                run_checks(browser, parley, agent, key, site["identitySecret"], host, shots, args)
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
        if not args.screenshots:
            shutil.rmtree(temp, ignore_errors=True)
    failed = [name for name, ok in RESULTS if not ok]
    print(f"== the widget test took {time.time() - started:.0f} s")
    print(f"widget: {len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed or not RESULTS else 0)


def run_checks(browser, parley, agent, key, site_secret, host, shots, args):
    expect.set_options(timeout=10_000)  # a busy 2-core CI machine is slower than a laptop
    attachments_ready = os.path.exists("/tmp/parley-bin/ATTACHMENTS_READY") or os.environ.get("PARLEY_ATTACHMENTS")
    dialogs = []

    def new_page(viewport=(1280, 800), **options):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **options)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: print(f"      page error: {error}", flush=True))
        return context, page

    # MARK: The main visitor: another origin, desktop
    context, page = new_page()
    page.goto(f"{host}/index.html")
    frame, ui = widget(page)
    state = {}

    def loads():
        expect(ui.locator(".launcher")).to_be_visible(timeout=15000)
        assert page.locator("iframe[data-parley]").get_attribute("title") == "Support", "the frame has no title"
        box = page.locator("iframe[data-parley]").bounding_box()
        assert box["width"] < 200 and box["height"] < 200, f"the closed frame is {box}"
    step("loader injects the frame on another origin; launcher shown, frame small while closed", loads)

    def keyboard_open():
        page.locator("#before").focus()
        page.keyboard.press("Tab")
        wait_for(lambda: frame.evaluate("document.activeElement && document.activeElement.className") == "launcher",
                 what="the launcher to take focus by Tab")
        page.keyboard.press("Enter")
        expect(ui.locator("#panel")).to_be_visible()
        wait_for(lambda: frame.evaluate("document.activeElement.id") == "input", what="focus in the message box")
        expect(ui.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        assert page.evaluate("window.events.some(e => e.name === 'open')"), "no open event on the page"
    step("keyboard: Tab to the launcher, Enter opens, focus in the composer; connection online", keyboard_open)

    def axe_open():
        bad, minor = run_axe(frame)
        return (not bad, "; ".join(bad) if bad else f"other: {', '.join(minor) or 'none'}")
    step("axe on the open widget: no serious or critical violations", axe_open)

    def ai_streams():
        box = ui.locator("#input")
        box.fill("How do I reset my password")
        box.press("Shift+Enter")
        box.type(f"please? {MARKUP_LINE}")
        assert box.input_value() == f"How do I reset my password\nplease? {MARKUP_LINE}", "Shift+Enter did not add a line"
        box.press("Enter")
        states = []
        deadline = time.time() + 20
        while time.time() < deadline:
            text = frame.evaluate("(document.querySelector('.streams .msg.streaming .bubble') || {}).textContent")
            if text and (not states or states[-1] != text):
                states.append(text)
            if frame.evaluate("document.querySelectorAll('.list .msg.ai').length") >= 1:
                break
            time.sleep(0.03)
        grew = [s for i, s in enumerate(states) if i == 0 or len(s) > len(states[i - 1])]
        assert len(grew) >= 2, f"saw {len(states)} stream states"
        hidden = frame.evaluate("document.querySelector('.streams').children.length")
        assert hidden == 0, "the streaming bubble stayed after the final message"
        final = ui.locator(".list .msg.ai").last
        expect(final.locator(".bubble")).to_contain_text("To reset your password")
        state["stream_states"] = len(states)
        return True, f"{len(states)} DOM states while streaming"
    step("AI reply streams token by token (message.delta), then the stored reply replaces it", ai_streams)

    def ai_extras():
        final = ui.locator(".list .msg.ai").last
        expect(final.locator(".sources a")).to_have_text("Reset your password")
        href = final.locator(".sources a").get_attribute("href")
        assert href.startswith("https://"), href
        expect(ui.locator(".chips .chip")).to_have_count(2)
        expect(ui.locator(".chips .chip").first).to_have_text("Thanks, that helped")
        # announce() empties the live region, then fills it 60 ms later (so it is read again). Polled from
        # here: wait_for_function would poll by eval inside the frame, which its CSP (no unsafe-eval) refuses.
        wait_for(lambda: frame.evaluate("document.querySelector('[aria-live]').textContent.length > 0"),
                 timeout=5, interval=0.02, what="the announcement")
        spoken = frame.evaluate("document.querySelector('[aria-live]').textContent")
        assert spoken.startswith("Assistant: To reset"), f"announced {spoken!r}"
        # The streaming node is never live: hidden from assistive technology while it grows.
        assert frame.evaluate("document.querySelector('.log').getAttribute('aria-live')") is None
        assert page.evaluate("window.events.filter(e => e.name === 'message').length") >= 2
    step("AI reply shows its sources as links, quick-reply chips; announced once; page gets events", ai_extras)

    def chip_sends():
        ui.locator(".chips .chip").first.click()
        expect(ui.locator(".list .msg.user").last.locator(".bubble")).to_contain_text("Thanks, that helped")
        expect(ui.locator(".chips")).to_be_hidden()
    step("a quick-reply chip sends its text", chip_sends)

    def markup_ai_and_visitor():
        final = ui.locator(".list .msg.ai").first
        expect(final.locator(".bubble")).to_contain_text(XSS_IMG)
        expect(final.locator(".bubble")).to_contain_text(XSS_SCRIPT)
        assert "[A1]" not in final.locator(".bubble").text_content(), "citation marks left in the text"
        ui.locator("#input").fill(f"My markup: {XSS_IMG} {XSS_SCRIPT} done")
        ui.locator("#input").press("Enter")
        expect(ui.locator(".list .msg.user").last.locator(".bubble")).to_contain_text(f"My markup: {XSS_IMG}")
        time.sleep(0.5)
        count = frame.evaluate("document.querySelectorAll('.list img:not(.att-img), .list script').length")
        assert count == 0, f"{count} img/script elements made from message text"
        assert not dialogs, f"a dialog opened: {dialogs}"
    step("markup in visitor and AI messages shows as text and never runs", markup_ai_and_visitor)

    session_id = saved_state(page, key).get("sessionId")

    def thumbs_down():
        # Wait for the answer to the markup message, then rate the latest AI reply.
        wait_for(lambda: frame.evaluate("document.querySelectorAll('.list .msg.ai').length") >= 2
                 and not frame.evaluate("document.querySelector('.streams').children.length"),
                 what="a second AI reply")
        last = ui.locator(".list .msg.ai").last
        last.get_by_role("button", name="Not helpful").click()
        expect(last.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
        expect(last.locator(".offer")).to_be_visible()
        expect(last.locator(".offer").get_by_role("button", name="Talk to a person")).to_be_visible()
    step("thumbs down on an AI reply: feedback stored, a person is offered (offerTicket)", thumbs_down)

    def handoff():
        ui.locator(".bar .human").click()
        expect(ui.locator(".status-note")).to_contain_text("Waiting for a person", timeout=10000)
        expect(ui.locator(".bar .human")).to_be_hidden()
        expect(ui.locator(".list .msg.system").last).to_contain_text("passed your conversation")
        expect(ui.locator(".card")).to_be_visible()
        # No mail server here: the card asks for an email without promising replies by email.
        expect(ui.locator(".card p").first).to_have_text("Leave your email so our team can contact you if needed.")
        ui.locator("#email").fill("visitor@example.com")
        ui.locator(".card button[type=submit]").click()
        expect(ui.locator(".card .done")).to_have_text("Thanks! Our team can contact you at visitor@example.com.")
        chat = agent.call("GET", f"/api/v1/admin/chats/{session_id}")
        status = chat.get("session", chat).get("status")
        assert status == "escalated", status
    step("Talk to a person: escalated, the team is told; anonymous visitor leaves an email", handoff)

    def agent_typing_and_reply():
        agent.typing(session_id, True)
        expect(ui.locator(".typing")).to_contain_text("is typing", timeout=10000)
        agent.reply(session_id, f"Hi, Anna here. {XSS_IMG} {XSS_SCRIPT} Let me look.")
        expect(ui.locator(".list .msg.agent").last.locator(".bubble")).to_contain_text(
            f"Hi, Anna here. {XSS_IMG} {XSS_SCRIPT}", timeout=10000)
        expect(ui.locator(".typing")).to_be_hidden()
        expect(ui.locator(".status-note")).to_contain_text("chatting with our team")
        settle(frame)
        page.screenshot(path=os.path.join(shots, "widget-agent-reply-1280x800.png"))
        assert frame.evaluate("document.querySelectorAll('.list img:not(.att-img), .list script').length") == 0
        assert not dialogs, f"a dialog opened: {dialogs}"
    step("agent's typing shows, then the agent's reply (markup as text, no dialog)", agent_typing_and_reply)

    def visitor_typing_and_receipts():
        from websockets.sync.client import connect
        url = parley.url.replace("http://", "ws://") + "/api/v1/realtime"
        with connect(url, additional_headers={"Cookie": agent.cookie_header()}, open_timeout=10) as ws:
            ws.send(json.dumps({"type": "subscribe", "channel": f"supportChat:{session_id}"}))
            ui.locator("#input").press_sequentially("typing a q", delay=30)
            seen = None
            deadline = time.time() + 10
            while time.time() < deadline and not seen:
                frame_ = json.loads(ws.recv(timeout=10))
                if frame_.get("type") == "event" and frame_.get("name") == "typing":
                    seen = frame_["data"]
            assert seen and seen.get("on") and seen.get("role") == "user", f"agent saw {seen}"
        ui.locator("#input").fill("")
        ui.locator("#input").fill("Thanks Anna")
        ui.locator("#input").press("Enter")
        expect(ui.locator(".list .msg.user").last.locator(".receipt")).to_have_text("Sent", timeout=10000)
        agent.call("POST", f"/api/v1/admin/chats/{session_id}/read", {})
        expect(ui.locator(".list .msg.user").last.locator(".receipt")).to_have_text("Seen", timeout=10000)
        chat = agent.call("GET", f"/api/v1/admin/chats/{session_id}")
        session = chat.get("session", chat)
        assert session["visitorReadSeq"] >= session["lastSeq"] - 1, session
    step("typing both ways; read receipts both ways (Sent -> Seen; the widget marks read)",
         visitor_typing_and_receipts)

    def escape_and_badge():
        ui.locator("#input").focus()
        page.keyboard.press("Escape")
        expect(ui.locator("#panel")).to_be_hidden()
        assert frame.evaluate("document.activeElement.className") == "launcher", "focus did not return"
        assert page.evaluate("window.events.some(e => e.name === 'close')")
        box = page.locator("iframe[data-parley]").bounding_box()
        assert box["width"] < 200, f"the frame stayed {box}"
        for i in range(2):
            agent.reply(session_id, f"Unread {i + 1}")
        expect(ui.locator(".badge")).to_have_text("2", timeout=10000)
        label = ui.locator(".launcher").get_attribute("aria-label")
        assert "2 unread" in label, label
        for i in range(2, 11):
            agent.reply(session_id, f"Unread {i + 1}")
        expect(ui.locator(".badge")).to_have_text("9+", timeout=10000)
        settle(frame)
        page.screenshot(path=os.path.join(shots, "widget-closed-unread-1280x800.png"))
        counts = page.evaluate("window.events.filter(e => e.name === 'unread').map(e => e.data.count)")
        assert counts and counts[-1] == 11, counts
        page.evaluate("Parley.open()")
        expect(ui.locator("#panel")).to_be_visible()
        expect(ui.locator(".badge")).to_be_hidden()
        wait_for(lambda: page.evaluate("window.events.filter(e => e.name === 'unread').pop().data.count") == 0,
                 what="unread 0 after opening")
    step("Escape closes and returns focus to the launcher; unread badge counts and caps at 9+", escape_and_badge)

    def offline_both_sides():
        before = len(agent.messages(session_id))
        context.set_offline(True)
        expect(ui.locator("body")).to_have_attribute("data-connection", "offline", timeout=10000)
        expect(ui.locator(".conn-text")).to_contain_text("Offline")
        for text in ("Offline note 1", "Offline note 2"):
            ui.locator("#input").fill(text)
            ui.locator("#input").press("Enter")
        expect(ui.locator(".pending-list .msg")).to_have_count(2)
        expect(ui.locator(".pending-list .msg").first).to_contain_text("Will be sent when you are back online")
        outbox = saved_state(page, key).get("outbox", [])
        assert [o["body"] for o in outbox] == ["Offline note 1", "Offline note 2"], outbox
        assert all(o.get("clientId") for o in outbox), "outbox items without clientId"
        agent.reply(session_id, "Agent while you were away 1")
        agent.reply(session_id, "Agent while you were away 2")
        time.sleep(1)
        context.set_offline(False)
        expect(ui.locator("body")).to_have_attribute("data-connection", "online", timeout=20000)
        expect(ui.locator(".pending-list .msg")).to_have_count(0, timeout=15000)
        wait_for(lambda: len(agent.messages(session_id)) >= before + 4, what="all four stored")
        return same_once_in_order(frame, agent, session_id, [
            "Offline note 1", "Offline note 2", "Agent while you were away 1", "Agent while you were away 2"])
    step("offline: queued (persisted with clientId) and agent writes; back online, each once, in order",
         offline_both_sides)

    def server_restart():
        parley.kill()
        expect(ui.locator("body")).not_to_have_attribute("data-connection", "online", timeout=10000)
        ui.locator("#input").fill("Written while the server was down")
        ui.locator("#input").press("Enter")
        time.sleep(1)
        parley.start()
        agent.reply(session_id, "Agent after the restart")
        expect(ui.locator(".pending-list .msg")).to_have_count(0, timeout=40000)
        wait_for(lambda: "Agent after the restart" in [m[2] for m in shown_messages(frame)], timeout=40,
                 what="the agent's message after the restart")
        expect(ui.locator("body")).to_have_attribute("data-connection", re.compile("online|polling"), timeout=30000)
        return same_once_in_order(frame, agent, session_id,
                                  ["Written while the server was down", "Agent after the restart"])
    step("server killed (-9) and restarted: reconnect with backoff + after=seq, each once, in order",
         server_restart)

    def file_checks():
        chooser = ui.locator(".file-input")
        chooser.set_input_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"})
        expect(ui.locator(".view-chat .error")).to_contain_text("Only images")
        chooser.set_input_files({"name": "big.png", "mimeType": "image/png", "buffer": b"\0" * (10 * 1024 * 1024 + 1)})
        expect(ui.locator(".view-chat .error")).to_contain_text("too big")
        expect(ui.locator(".preview")).to_be_hidden()
        chooser.set_input_files({"name": "screen.png", "mimeType": "image/png", "buffer": png_bytes()})
        expect(ui.locator(".preview img.thumb")).to_be_visible()
        assert ui.locator(".preview img.thumb").get_attribute("src").startswith("blob:")
        expect(ui.locator(".preview")).to_contain_text("screen.png")
        if not attachments_ready:
            ui.get_by_role("button", name="Remove the file").click()
            expect(ui.locator(".preview")).to_be_hidden()
            return True, "preview and limits only: the server has no attachments yet"
        ui.locator("#input").press("Enter")
        image = ui.locator(".list .msg.user .att-img").last
        expect(image).to_be_visible(timeout=15000)
        wait_for(lambda: image.evaluate("i => i.src.startsWith('blob:') && i.naturalWidth === 64"),
                 what="the uploaded image, fetched with the token")
        settle(frame)
        page.screenshot(path=os.path.join(shots, "widget-attachment-1280x800.png"))
        return True, "uploaded and shown from a blob: URL"
    step("attachments: type and 10 MB limits, preview, upload shown as an image", file_checks)

    def no_dialogs():
        return (not dialogs, f"dialogs: {dialogs}" if dialogs else "none")
    step("no script from any message ran (no dialog at all)", no_dialogs)
    context.close()

    # MARK: Polling when WebSockets are blocked
    def polling():
        context2, page2 = new_page(viewport=(1024, 768))
        blocked = []
        # Every WebSocket to Parley is refused: the widget must fall back to polling by itself.
        context2.route_web_socket(re.compile(r".*/api/v1/realtime.*"), lambda ws: (blocked.append(1), ws.close()))
        page2.goto(f"{host}/index.html")
        frame2, ui2 = widget(page2)
        page2.evaluate("Parley.open()")
        expect(ui2.locator("body")).to_have_attribute("data-connection", "polling", timeout=30000)
        expect(ui2.locator(".conn-text")).to_contain_text("slow connection")
        ui2.locator("#input").fill("Polling: how do I reset my password?")
        ui2.locator("#input").press("Enter")
        expect(ui2.locator(".list .msg.ai").last).to_contain_text("To reset your password", timeout=20000)
        sid = saved_state(page2, key)["sessionId"]
        agent.reply(sid, "An agent reply, seen by polling")
        expect(ui2.locator(".list .msg.agent").last).to_contain_text("seen by polling", timeout=15000)
        result = same_once_in_order(frame2, agent, sid, ["Polling: how do I reset my password?",
                                                          "An agent reply, seen by polling"])
        context2.close()
        assert blocked, "no WebSocket was even tried"
        return result
    step("WebSockets blocked: falls back to polling (GET messages?after=), sends by REST", polling)

    def poll_flag():
        context3, page3 = new_page(viewport=(1024, 768))
        page3.goto(f"{host}/poll.html")
        frame3, ui3 = widget(page3)
        page3.evaluate("Parley.open()")
        expect(ui3.locator("body")).to_have_attribute("data-connection", "polling", timeout=15000)
        context3.close()
    step("data-transport=\"poll\" polls from the start", poll_flag)

    # MARK: identify() queued before the loader ran
    def identified():
        context4, page4 = new_page(viewport=(1024, 768))
        page4.goto(f"{host}/identified.html")
        frame4, ui4 = widget(page4)
        page4.evaluate("Parley.open()")
        expect(ui4.get_by_role("button", name="My tickets")).to_be_visible(timeout=15000)
        sid = saved_state(page4, key)["sessionId"]
        chat = agent.call("GET", f"/api/v1/admin/chats/{sid}")
        visitor = chat.get("visitor", {})
        assert visitor.get("externalId") == "user-42" and visitor.get("email") == "ada@example.com", visitor
        ui4.locator("#input").fill("My export is stuck, please help")
        ui4.locator("#input").press("Enter")
        expect(ui4.locator(".list .msg.ai, .list .msg.system").first).to_be_visible(timeout=20000)
        if ui4.locator(".bar .human").is_visible():
            ui4.locator(".bar .human").click()
        expect(ui4.locator(".status-note")).to_contain_text("Waiting for a person", timeout=10000)
        expect(ui4.locator(".card")).to_be_hidden()  # an identified visitor is not asked for an email
        ui4.get_by_role("button", name="My tickets").click()
        tickets = ui4.locator(".tickets .ticket")
        expect(tickets.first).to_be_visible(timeout=10000)
        tickets.first.click()
        expect(ui4.locator(".view-tickets .view-title")).to_be_visible()
        expect(ui4.locator(".view-tickets .thread .msg").first).to_be_visible()
        bad, _ = run_axe(frame4)
        assert not bad, f"axe on the tickets view: {bad}"
        context4.close()
    step("identify() before load: signed-in visitor, handoff opens a ticket, My tickets lists it", identified)

    def identify_later():
        context10, page10 = new_page(viewport=(1024, 768))
        page10.goto(f"{host}/index.html")
        frame10, ui10 = widget(page10)
        page10.evaluate("Parley.open()")
        expect(ui10.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        expect(ui10.get_by_role("button", name="My tickets")).to_be_hidden()
        anonymous = saved_state(page10, key)["visitorId"]
        later_hash = hmac.new(site_secret.encode(), b"user-77", hashlib.sha256).hexdigest()
        page10.evaluate("h => Parley.identify({id: 'user-77', email: 'grace@example.com', name: 'Grace', userHash: h})",
                        later_hash)
        expect(ui10.get_by_role("button", name="My tickets")).to_be_visible(timeout=15000)
        sid = saved_state(page10, key)["sessionId"]
        visitor = agent.call("GET", f"/api/v1/admin/chats/{sid}")["visitor"]
        context10.close()
        assert visitor.get("externalId") == "user-77", visitor
        return True, f"anonymous {anonymous[:6]}… became user-77"
    step("identify() after load restarts the conversation as the signed-in user", identify_later)

    if args.llm_url:
        def real_model():
            providers = agent.call("GET", "/api/v1/admin/ai/providers")
            provider = (providers.get("data") if isinstance(providers, dict) else providers)[0]
            patch = {"kind": "openai", "name": provider["name"], "baseUrl": args.llm_url.rstrip("/"),
                     "model": "smollm2-135m", "apiKey": "none"}
            agent.call("PATCH", f"/api/v1/admin/ai/providers/{provider['id']}", patch)
            try:
                context5, page5 = new_page()
                page5.goto(f"{host}/index.html")
                frame5, ui5 = widget(page5)
                page5.evaluate("Parley.open()")
                expect(ui5.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
                ui5.locator("#input").fill("How can I export my notes to PDF?")
                ui5.locator("#input").press("Enter")
                states = []
                deadline = time.time() + 60
                while time.time() < deadline:
                    text = frame5.evaluate(
                        "(document.querySelector('.streams .msg.streaming .bubble') || {}).textContent")
                    if text and (not states or states[-1] != text):
                        states.append(text)
                    done = frame5.evaluate("document.querySelectorAll('.list .msg.ai, .list .msg.system').length")
                    if done and not frame5.evaluate("document.querySelector('.streams').children.length"):
                        break
                    time.sleep(0.02)
                context5.close()
                return len(states) >= 2, f"{len(states)} DOM states from the real model"
            finally:
                patch["baseUrl"], patch["model"] = provider["baseUrl"], provider["model"]
                agent.call("PATCH", f"/api/v1/admin/ai/providers/{provider['id']}", patch)
        step("a real model's reply streams into the widget (--llm-url)", real_model)

    # MARK: Satisfaction, once a conversation has ended
    def open_conversation(viewport):
        """A new visitor with the panel open and connected: (context, page, frame, ui, sessionId)."""
        context_, page_ = new_page(viewport=viewport)
        page_.goto(f"{host}/index.html")
        frame_, ui_ = widget(page_)
        page_.evaluate("Parley.open()")
        expect(ui_.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        return context_, page_, frame_, ui_, saved_state(page_, key)["sessionId"]

    def rated_once():
        context11, page11, frame11, ui11, sid = open_conversation((1280, 800))
        agent.reply(sid, "Your refund is on its way. Anything else?")
        expect(ui11.locator(".list .msg.agent")).to_have_count(1, timeout=10000)
        expect(ui11.locator(".rating")).to_have_count(0)
        agent.call("POST", f"/api/v1/admin/chats/{sid}/close", {})
        prompt = ui11.locator(".rating")
        expect(prompt).to_be_visible(timeout=10000)
        expect(prompt.locator("legend")).to_have_text("How was this conversation?")
        expect(prompt.get_by_role("radio")).to_have_count(5)
        # By keyboard: the stars are one radio group (Space picks, arrows move).
        prompt.get_by_role("radio", name="1 star", exact=True).focus()
        page11.keyboard.press("Space")
        for _ in range(3):
            page11.keyboard.press("ArrowRight")
        expect(prompt.get_by_role("radio", name="4 stars")).to_be_checked()
        expect(prompt.locator(".stars label.on")).to_have_count(4)
        prompt.get_by_label("Anything to add? (optional)").fill("Quick and kind, thank you.")
        settle(frame11)
        page11.screenshot(path=os.path.join(shots, "widget-rating-1280x800.png"))
        bad, _ = run_axe(frame11)
        assert not bad, f"axe on the rating prompt: {bad}"
        prompt.get_by_role("button", name="Send rating").click()
        expect(ui11.locator(".rating-box .done")).to_have_text("Thanks for your rating.", timeout=10000)
        expect(prompt).to_have_count(0)
        given = agent.call("GET", f"/api/v1/admin/chats/{sid}")["session"].get("satisfaction") or {}
        assert given.get("stars") == 4 and given.get("comment") == "Quick and kind, thank you.", given
        page11.reload()
        frame11, ui11 = widget(page11)
        page11.evaluate("Parley.open()")
        # Connected means the session (and its satisfaction) has been applied: only then look for the prompt.
        expect(ui11.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        expect(ui11.locator(".rating-box")).to_be_empty()
        after = saved_state(page11, key)["sessionId"]
        context11.close()
        return True, f"4 stars + comment stored; after a reload {'the same' if after == sid else 'a new'} conversation, no prompt"
    step("conversation closed by an agent: the visitor rates it once (4 stars by keyboard + comment); "
         "not asked again after a reload", rated_once)

    def rating_follows_the_conversation():
        context12, page12, frame12, ui12, sid = open_conversation((390, 844))
        agent.reply(sid, "Your refund is on its way.")
        expect(ui12.locator(".list .msg.agent")).to_have_count(1, timeout=10000)
        agent.call("POST", f"/api/v1/admin/chats/{sid}/close", {})
        prompt = ui12.locator(".rating")
        expect(prompt).to_be_visible(timeout=10000)
        prompt.locator("label[for=star-5]").click()
        expect(prompt.get_by_role("radio", name="5 stars")).to_be_checked()
        ui12.locator("#input").blur()
        settle(frame12)
        page12.screenshot(path=os.path.join(shots, "widget-rating-390x844.png"))
        # The visitor writes again: the conversation goes on and the prompt goes away.
        ui12.locator("#input").fill("One more thing, actually")
        ui12.locator("#input").press("Enter")
        expect(ui12.locator(".rating-box")).to_be_empty(timeout=10000)
        status = agent.call("GET", f"/api/v1/admin/chats/{sid}")["session"]["status"]
        assert status != "closed", status
        # Whoever answers (the assistant, when the conversation went back to it) has finished before it ends again.
        wait_for(lambda: len(shown_messages(frame12)) >= 4 and not frame12.evaluate(
            "document.querySelector('.streams').children.length"), timeout=20, what="the answer to the new message")
        agent.call("POST", f"/api/v1/admin/chats/{sid}/close", {})
        expect(prompt).to_be_visible(timeout=10000)
        # Rated elsewhere (another tab, the email's links): the prompt turns into the thanks by itself.
        token = saved_state(page12, key)["token"]
        request = urllib.request.Request(f"{parley.url}/api/v1/chat/sessions/{sid}/rating", method="POST",
                                         data=json.dumps({"stars": 2}).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        urllib.request.urlopen(request, timeout=10).read()
        expect(ui12.locator(".rating-box .done")).to_have_text("Thanks for your rating.", timeout=10000)
        context12.close()
        return True, f"asked, gone when the visitor wrote (status {status}), asked again, thanked when rated elsewhere"
    step("phone: the prompt goes when the visitor writes again, comes back at the next end, "
         "thanks when rated elsewhere", rating_follows_the_conversation)

    # MARK: A reply while the panel is closed: badge and preview beside the launcher
    def reply_while_closed():
        long_reply = (f"I found your order {XSS_IMG} and it left our warehouse this morning; it should reach you by "
                      "Thursday. The tracking link is on your account page, and you can ask me anything here.")
        expected = long_reply[:119].strip() + "…"
        for name, size in (("1280x800", (1280, 800)), ("390x844", (390, 844))):
            context13, page13, frame13, ui13, sid = open_conversation(size)
            page13.evaluate("Parley.close()")
            expect(ui13.locator("#panel")).to_be_hidden()
            agent.reply(sid, long_reply)
            peek = ui13.locator(".peek")
            expect(peek).to_be_visible(timeout=10000)
            expect(ui13.locator(".badge")).to_have_text("1")
            expect(peek.locator(".peek-text")).to_have_text(expected)
            assert peek.locator(".peek-who").text_content().strip(), "the preview does not say who wrote"
            assert frame13.evaluate("document.querySelectorAll('.peek img, .peek script').length") == 0
            assert not page13.evaluate("document.body.innerText.includes('warehouse')"), "reply text on the host page"
            # The frame grew to hold the preview: nothing of it is cut off.
            wait_for(lambda: inside(peek.bounding_box(), page13.locator("iframe[data-parley]").bounding_box()),
                     what="the frame to hold the preview")
            settle(frame13)
            page13.screenshot(path=os.path.join(shots, f"widget-preview-{name}.png"))
            if size[0] >= 520:
                bad, _ = run_axe(frame13)
                assert not bad, f"axe with the preview: {bad}"
                ui13.get_by_role("button", name="Hide preview").click()
                expect(peek).to_be_hidden()
                expect(ui13.locator(".badge")).to_have_text("1")
                wait_for(lambda: page13.locator("iframe[data-parley]").bounding_box()["height"] < 100,
                         what="the frame to shrink back to the launcher")
                agent.reply(sid, "Are you still there?")
                expect(peek.locator(".peek-text")).to_have_text("Are you still there?", timeout=10000)
                expect(ui13.locator(".badge")).to_have_text("2")
            peek.locator(".peek-open").click()
            expect(ui13.locator("#panel")).to_be_visible()
            expect(peek).to_be_hidden()
            expect(ui13.locator(".badge")).to_be_hidden()
            context13.close()
        return True, f"shown {len(expected)} of {len(long_reply)} characters; hidden by its button; opens the chat"
    step("a reply while closed: preview of its text beside the launcher (truncated, as text) and the badge; "
         "hide it, or click it to open", reply_while_closed)

    # MARK: The grounding gate
    def withdrawn():
        context8, page8 = new_page()
        page8.goto(f"{parley.url}/demo")
        frame8, ui8 = widget(page8)
        page8.evaluate("Parley.open()")
        expect(ui8.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
        ui8.locator("#input").fill("How do I reset my password? Is there a hotline?")
        ui8.locator("#input").press("Enter")
        note = ui8.locator(".list .msg.system", has_text="stopped this answer")
        try:
            expect(note).to_be_visible(timeout=20000)
        except AssertionError:
            print("      the thread:", frame8.evaluate("document.querySelector('.list').textContent")[:600], flush=True)
            raise
        # What follows is the article offered without AI prose, or the handoff.
        expect(ui8.locator(".list .msg.ai, .list .msg.system", has_text="passed your conversation").or_(
            ui8.locator(".list .msg.ai", has_text="This article may help")).first).to_be_visible(timeout=20000)
        shown = frame8.evaluate("document.querySelector('.list').textContent")
        assert "hotline at" not in shown and "Kevin" not in shown, "the invented sentence reached the visitor"
        page8.screenshot(path=os.path.join(shots, "widget-withdrawn.png"))
        context8.close()
        return True, "the supported start was replaced by a line saying so; the invention never showed"
    step("an answer its articles do not support is withdrawn with a word, never shown", withdrawn)

    # MARK: Screenshots of the demo page
    def screenshots():
        for name, size in (("desktop-1280x800", (1280, 800)), ("phone-390x844", (390, 844))):
            context6, page6 = new_page(viewport=size)
            page6.goto(f"{parley.url}/demo")
            frame6, ui6 = widget(page6)
            page6.evaluate("Parley.open()")
            expect(ui6.locator("body")).to_have_attribute("data-connection", "online", timeout=15000)
            ui6.locator("#input").fill("How do I reset my password?")
            ui6.locator("#input").press("Enter")
            expect(ui6.locator(".list .msg.ai").last).to_contain_text("To reset", timeout=20000)
            ui6.locator("#input").blur()
            time.sleep(0.4)
            box = page6.locator("iframe[data-parley]").bounding_box()
            settle(frame6)
            page6.screenshot(path=os.path.join(shots, f"widget-{name}.png"))
            if size[0] < 520:
                assert box["width"] == size[0] and box["height"] == size[1], f"phone frame {box}"
                # Full screen, the panel is modal: Tab never leaves it for the page beneath.
                ui6.locator("#input").focus()
                for _ in range(12):
                    page6.keyboard.press("Tab")
                    inside = frame6.evaluate("document.getElementById('panel').contains(document.activeElement)")
                    assert inside, "Tab left the full-screen panel"
                assert ui6.locator("#panel").get_attribute("aria-modal") == "true"
            context6.close()
        return True, shots
    step("screenshots of the open widget on the demo page (desktop and phone)", screenshots)

    def reduced_motion():
        context7, page7 = new_page(reduced_motion="reduce")
        page7.goto(f"{parley.url}/demo")
        frame7, ui7 = widget(page7)
        page7.evaluate("Parley.open()")
        expect(ui7.locator("#panel")).to_be_visible()
        name = ui7.locator("#panel").evaluate("el => getComputedStyle(el).animationName")
        context7.close()
        return name == "none", f"panel animation: {name}"
    step("prefers-reduced-motion turns animations off", reduced_motion)

    def contrast():
        agent.call("PATCH", f"/api/v1/admin/sites/{agent.call('GET', '/api/v1/admin/sites')['data'][0]['id']}",
                   {"widget": {"color": "#fde047", "title": "Help", "welcomeMessage": "Hello!", "launcherText": "Help",
                               "position": "left", "enabled": True}})
        time.sleep(2.2)  # the widget config is cached for 2 s
        context8, page8 = new_page()
        page8.goto(f"{host}/index.html")
        frame8, ui8 = widget(page8)
        expect(ui8.locator(".launcher")).to_contain_text("Help", timeout=15000)
        page8.evaluate("Parley.open()")
        expect(ui8.locator("#panel")).to_be_visible()
        colors = frame8.evaluate("""() => { const s = getComputedStyle(document.documentElement);
            return [s.getPropertyValue('--accent'), s.getPropertyValue('--on-accent')].map(x => x.trim()) }""")
        box = page8.locator("iframe[data-parley]").bounding_box()
        bad, _ = run_axe(frame8)
        context8.close()
        assert colors == ["#fde047", "#111111"], colors
        assert box["x"] == 0, f"not on the left: {box}"
        assert not bad, bad
        return True, f"accent {colors[0]} gets text {colors[1]}; on the left"
    step("theming: a light colour gets dark text (contrast), title, launcher text, left position", contrast)

    # MARK: Outside business hours, in French
    def offline_form_fr():
        hour = (time.gmtime().tm_hour + 12) % 24
        days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        agent.call("PUT", "/api/v1/admin/settings/business-hours", {
            "timeZone": "UTC", "holidays": [],
            "weeklyHours": {d: [{"start": f"{hour:02d}:00", "end": f"{hour:02d}:30"}] for d in days}})
        time.sleep(2.2)
        context9, page9 = new_page(viewport=(390, 844), locale="fr-FR")
        page9.goto(f"{host}/index.html")
        frame9, ui9 = widget(page9)
        expect(ui9.locator(".launcher")).to_be_visible(timeout=15000)
        assert ui9.locator(".launcher").get_attribute("aria-label").startswith("Ouvrir la discussion")
        ui9.locator(".launcher").click()
        expect(ui9.locator(".view-offline")).to_be_visible()
        expect(ui9.locator(".view-offline h2")).to_have_text("Nous sommes absents")
        # No mail server here (config says email: false): the form promises no email reply.
        config = json.loads(urllib.request.urlopen(f"{parley.url}/api/v1/widget/config?site={key}", timeout=10).read())
        assert config.get("email") is False, f"config email: {config.get('email')!r}"
        expect(ui9.locator(".view-offline h2 + p")).to_have_text(
            "Laissez-nous un message et votre e-mail ; notre équipe le lira à son retour.")
        ui9.locator("#offline-email").fill("nuit@example.com")
        ui9.get_by_label("Votre message").fill("Bonjour, mon export PDF échoue la nuit.")
        settle(frame9)
        page9.screenshot(path=os.path.join(shots, "widget-offline-form-fr-390x844.png"))
        ui9.get_by_role("button", name="Envoyer le message").click()
        expect(ui9.locator(".view-offline .done")).to_have_text(
            "Merci ! Nous avons reçu votre message. Notre équipe le lira à son retour.", timeout=10000)
        promises = [ui9.locator(sel).text_content() for sel in (".view-offline h2 + p", ".view-offline .done")]
        assert not any("répondrons par e-mail" in text for text in promises), promises
        bad, _ = run_axe(frame9)
        context9.close()
        tickets = agent.call("GET", "/api/v1/admin/tickets?limit=50")["data"]
        assert any(t["requesterEmail"] == "nuit@example.com" for t in tickets), "no ticket from the form"
        assert not bad, f"axe on the offline form: {bad}"
    step("outside business hours: offline form (in French from navigator.language) opens a ticket; "
         "without a mail server it promises no email reply", offline_form_fr)


def same_once_in_order(frame, agent, session_id, expected_bodies):
    """The widget shows every stored message exactly once, in the server's order."""
    server = [(m["seq"], m["body"]) for m in agent.messages(session_id) if m.get("role") != "internal"]
    shown = shown_messages(frame)
    seqs = [s for s, _, _ in shown]
    assert seqs == sorted(set(seqs)), f"order or duplicates in the widget: {seqs}"
    assert seqs == [s for s, _ in server], f"widget seqs {seqs[-8:]} vs server {[s for s, _ in server][-8:]}"
    texts = [t for _, _, t in shown]
    for body in expected_bodies:
        assert texts.count(body) == 1, f"{body!r} shown {texts.count(body)} times"
    order = [texts.index(body) for body in expected_bodies]
    server_order = [[b for _, b in server].index(body) for body in expected_bodies]
    assert (sorted(range(len(order)), key=lambda i: order[i]) ==
            sorted(range(len(order)), key=lambda i: server_order[i])), "not in the server's order"
    return True, f"{len(shown)} messages, seq 1..{seqs[-1]}"


if __name__ == "__main__":
    main()
