#!/usr/bin/env python3
"""Crash test: under load, kill -9 the server several times and restart it; afterwards every
acknowledged message must be in the database exactly once, in order, with the seq its ack gave.

Usage: crash_test.py --binary .build/debug/parley --engine sqlite|postgres [--postgres-url URL]
Prints a ledger (acked, found, lost, duplicated, out of order, gaps, never acked) and exits 1 on any
loss, duplicate, reordering, gap, or message still unacknowledged after the clients' final resends.
"""
import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import websockets


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    started = []  # every server this run made, so none outlives it

    def __init__(self, binary, env, log_path):
        self.binary, self.env, self.log_path = binary, env, log_path
        self.process = None
        Server.started.append(self)

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 30
        port = self.env["PARLEY_PORT"]
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).read()
                return
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log_path}")
                time.sleep(0.05)
        raise RuntimeError("server did not become ready")

    def first_start_output(self):
        with open(self.log_path) as log:
            return log.read()

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        """SIGTERM, as an orchestrator sends it; returns the exit code (None if it had to be killed)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.process.returncode if self.process else None


def post(port, path, body, token=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    return json.loads(urllib.request.urlopen(request, timeout=10).read())


class Visitor:
    """A widget-like client: sends with client ids, resends what is unacked after a reconnect."""

    def __init__(self, index, port, token, session):
        self.index, self.port, self.token, self.session = index, port, token, session
        self.next = 0
        self.unacked = {}       # clientId -> body, in send order
        self.acked = {}         # clientId -> seq
        self.order = []         # clientIds in the order they were first sent

    async def run(self, stop_sending, stop_all):
        channel = f"supportChat:{self.session}"
        while not stop_all.is_set():
            try:
                async with websockets.connect(f"ws://127.0.0.1:{self.port}/api/v1/realtime?token={self.token}", open_timeout=3) as ws:
                    await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
                    # Resend everything not yet acknowledged, in order, with the same client ids.
                    for client_id, body in list(self.unacked.items()):
                        await ws.send(json.dumps({"type": "send", "channel": channel, "clientId": client_id, "body": body}))
                    receiver = asyncio.create_task(self.receive(ws))
                    while not stop_all.is_set():
                        if not stop_sending.is_set() and len(self.unacked) < 5:
                            client_id = f"v{self.index}-{self.next}"
                            body = f"message {self.next} from visitor {self.index}"
                            self.next += 1
                            self.unacked[client_id] = body
                            self.order.append(client_id)
                            await ws.send(json.dumps({"type": "send", "channel": channel, "clientId": client_id, "body": body}))
                        elif stop_sending.is_set() and not self.unacked:
                            break
                        await asyncio.sleep(0.01)
                        if receiver.done():
                            break
                    receiver.cancel()
                    if stop_sending.is_set() and not self.unacked:
                        return
            except Exception:
                await asyncio.sleep(0.1 + random.random() * 0.2)

    async def receive(self, ws):
        try:
            await self.receive_frames(ws)
        except websockets.exceptions.ConnectionClosed:
            pass  # the server was killed; run() reconnects and resends

    async def receive_frames(self, ws):
        async for text in ws:
            frame = json.loads(text)
            if frame.get("type") == "ack":
                client_id = frame["clientId"]
                seq = frame["message"]["seq"]
                if client_id in self.acked and self.acked[client_id] != seq:
                    raise RuntimeError(f"{client_id} acked twice with different seqs")
                self.acked[client_id] = seq
                self.unacked.pop(client_id, None)


def stored_messages(engine, data_dir, url):
    if engine == "sqlite":
        db = sqlite3.connect(os.path.join(data_dir, "parley.sqlite"))
        rows = db.execute("SELECT session_id, seq, client_id FROM chat_messages ORDER BY session_id, seq").fetchall()
        db.close()
        return rows
    out = subprocess.run(["psql", url, "-At", "-F", "\t", "-c", "SELECT session_id, seq, client_id FROM chat_messages ORDER BY session_id, seq"],
                         capture_output=True, text=True, check=True).stdout
    return [(a, int(b), c or None) for a, b, c in (line.split("\t") for line in out.splitlines() if line)]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--postgres-url")
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--interval", type=float, default=1.5)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="parley-crash-")
    port = free_port()
    env = dict(os.environ, PARLEY_PORT=str(port), PARLEY_HOST="127.0.0.1", PARLEY_DATA_DIR=data_dir,
               PARLEY_ADMIN_EMAIL="crash@example.com", PARLEY_ADMIN_PASSWORD="crash test password",
               PARLEY_CHAT_RATE_LIMIT="1000000", PARLEY_PUBLIC_RATE_LIMIT="1000000", PARLEY_LOG_LEVEL="warning", PARLEY_BCRYPT_COST="4")
    url = None
    if args.engine == "postgres":
        name = "crash_" + uuid.uuid4().hex[:10]
        subprocess.run(["psql", args.postgres_url, "-qc", f"CREATE DATABASE {name}"], check=True)
        url = args.postgres_url.rsplit("/", 1)[0] + "/" + name
        env["PARLEY_DATABASE_URL"] = url

    server = Server(args.binary, env, os.path.join(data_dir, "server.log"))
    server.start()
    output = server.first_start_output()
    keys = [line.split()[-1] for line in output.splitlines() if "Site key:" in line]
    if not keys:
        raise RuntimeError(f"no site key in the first start's output:\n{output}")
    site_key = keys[0]
    visitors = []
    for index in range(args.visitors):
        started = post(port, "/api/v1/chat/sessions", {"site": site_key, "visitorId": f"crash-visitor-{index}"})
        visitors.append(Visitor(index, port, started["token"], started["session"]["id"]))

    stop_sending, stop_all = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(v.run(stop_sending, stop_all)) for v in visitors]
    loop = asyncio.get_running_loop()
    for kill in range(args.kills):
        await asyncio.sleep(args.interval)
        acked = sum(len(v.acked) for v in visitors)
        await loop.run_in_executor(None, server.kill)
        print(f"kill -9 #{kill + 1} after {acked} acks", flush=True)
        await asyncio.sleep(0.2)
        await loop.run_in_executor(None, server.start)
    await asyncio.sleep(args.interval)
    stop_sending.set()
    # Let every client resend what is unacknowledged until all is acked (or give up after 30 s).
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    except asyncio.TimeoutError:
        pass
    stop_all.set()
    for task in tasks:
        task.cancel()
    shutdown_code = await loop.run_in_executor(None, server.stop)

    rows = stored_messages(args.engine, data_dir, url)
    by_client, gaps, by_session = {}, 0, {}
    for session_id, seq, client_id in rows:
        by_session.setdefault(session_id, []).append(seq)
        if client_id:
            by_client.setdefault(client_id, []).append((session_id, seq))
    for seqs in by_session.values():
        if seqs != list(range(1, len(seqs) + 1)):
            gaps += 1
    acked = lost = duplicated = wrong_seq = out_of_order = 0
    for visitor in visitors:
        previous = 0
        for client_id in visitor.order:
            if client_id not in visitor.acked:
                continue
            acked += 1
            found = by_client.get(client_id, [])
            if not found:
                lost += 1
            elif len(found) > 1:
                duplicated += 1
            elif found[0][1] != visitor.acked[client_id]:
                wrong_seq += 1
            if found:
                if found[0][1] < previous:
                    out_of_order += 1
                previous = found[0][1]
    stored = sum(len(v) for v in by_client.values())
    unacked = sum(len(v.unacked) for v in visitors)
    print(f"ledger ({args.engine}): acked {acked}, found {acked - lost}, lost {lost}, duplicated {duplicated}, "
          f"wrong seq {wrong_seq}, out of order {out_of_order}, conversations with seq gaps {gaps}, "
          f"stored {stored}, never acked {unacked}, kills {args.kills}, graceful shutdown exit code {shutdown_code}")
    # Every message a client sent must end up acknowledged: a resend after a crash gets the ack
    # of the stored original, so "never acked" means a client would be stuck.
    ok = lost == 0 and duplicated == 0 and wrong_seq == 0 and out_of_order == 0 and gaps == 0 and unacked == 0 and acked > 0 and shutdown_code == 0
    if args.engine == "postgres":
        subprocess.run(["psql", args.postgres_url, "-qc", f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)"])
    print("crash test: PASS" if ok else "crash test: FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        for server in Server.started:
            server.kill()
