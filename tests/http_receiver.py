#!/usr/bin/env python3
"""http_receiver.py — the test receiver for the http exporter's tests.

An HTTP/1.1 server on 127.0.0.1 (keep-alive, so connection reuse shows)
that answers requests by a plan and records every request it reads as one
JSON line: method, path, headers, body (gunzipped when Content-Encoding is
gzip), the answer, whether it was accepted, and the client certificate.

Plan (--plan, comma separated, one entry per request; --then for the rest):
  200, 204, 400, 503, ...   that status (4xx and 5xx with a two-line body)
  429:N                     429 with Retry-After: N
  hang:S                    read the request, wait S seconds, close unanswered
  close                     answer 200 with Content-Length 100, send 10 bytes, close
  drop                      read the request, close unanswered

Idempotency: a request answered 2xx is "accepted" unless its
Idempotency-Key was accepted before ("duplicate"), as a receiver that
honours the header would do.

TLS: --cert/--key serve https; --client-ca also requires a client
certificate signed by that CA.

Ready: once listening, it writes its port to --ready (so tests wait for the
file, not for a time). Stopped by its pid (SIGTERM).
"""
import argparse
import os
import gzip
import http.server
import json
import signal
import socket
import ssl
import sys
import threading
import time

lock = threading.Lock()
state = {"n": 0, "accepted": set()}
BAD_BODY = b"bad payload: tally test receiver refused it\nsecond line, never logged\n"


def next_action(args):
    with lock:
        i = state["n"]
        state["n"] += 1
    plan = args.plan.split(",") if args.plan else []
    return plan[i] if i < len(plan) else args.then


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # quiet: the JSON log is the record
        pass

    def record(self, body, gz, action, status, accepted, duplicate):
        cert = None
        try:
            peer = self.connection.getpeercert()
            if peer:
                cert = dict(x[0] for x in peer.get("subject", ())).get("commonName")
        except (AttributeError, ValueError):
            pass
        entry = {
            "t": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "gzip": gz,
            "action": action,
            "status": status,
            "accepted": accepted,
            "duplicate": duplicate,
            "client_cert": cert,
            "client_port": self.client_address[1],
        }
        with lock, open(self.server.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def answer(self, status, body=b"", extra=()):
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_push(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        gz = self.headers.get("Content-Encoding", "") == "gzip"
        body = gzip.decompress(raw) if gz else raw
        action = next_action(self.server.args)
        if action.startswith("hang:") or action == "drop":
            self.record(body, gz, action, 0, False, False)
            if action != "drop":
                time.sleep(float(action.split(":")[1]))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if action == "close":
            self.record(body, gz, action, 200, False, False)
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"cut short")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, _, after = action.partition(":")
        status = int(status)
        accepted = duplicate = False
        if 200 <= status < 300:
            key = self.headers.get("Idempotency-Key")
            with lock:
                duplicate = key is not None and key in state["accepted"]
                if key is not None:
                    state["accepted"].add(key)
            accepted = not duplicate
        self.record(body, gz, action, status, accepted, duplicate)
        if status >= 400:
            extra = [("Retry-After", after)] if after else []
            self.answer(status, BAD_BODY, extra)
        else:
            self.answer(status)

    do_POST = handle_push
    do_PUT = handle_push


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--plan", default="")
    p.add_argument("--then", default="200")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--client-ca")
    args = p.parse_args()

    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.args = args
    server.log_path = args.log
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    with open(args.ready + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.ready + ".tmp", args.ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
