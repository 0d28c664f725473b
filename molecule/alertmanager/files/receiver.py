#!/usr/bin/env python3
"""Stand-in for the Slack, Discord, PagerDuty and webhook endpoints (tests only).

Listens on HTTP and records every POST as one JSON line (path, query, body) in
the file given, then answers as the service does, but only for payloads of
the shape that service accepts; anything else gets 400, which Alertmanager
logs as a failed notification:

    /slack/...      incoming webhook: "text" or "attachments"          -> 200 "ok"
    /discord/...    webhook: "embeds" (each with a title) or "content" -> 204
    /pagerduty/...  Events API v2: routing_key, event_action trigger|resolve,
                    trigger with payload.summary/source/severity        -> 202
    /webhook/...    Alertmanager's webhook: version "4", alerts         -> 200

It checks shapes, not the services' own behaviour (rate limits, formatting,
delivery to people).
"""

import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[2]


def accepted(kind, body):
    if kind == "slack":
        return (isinstance(body.get("text"), str) or isinstance(body.get("attachments"), list)), 200, b"ok"
    if kind == "discord":
        embeds = body.get("embeds")
        ok = (isinstance(embeds, list) and embeds and all("title" in e for e in embeds)) or bool(body.get("content"))
        return ok, 204, b""
    if kind == "pagerduty":
        action = body.get("event_action")
        ok = bool(body.get("routing_key")) and action in ("trigger", "resolve", "acknowledge")
        if action == "trigger":
            payload = body.get("payload") or {}
            ok = ok and all(payload.get(k) for k in ("summary", "source", "severity"))
        reply = json.dumps({"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")})
        return ok, 202, reply.encode()
    if kind == "webhook":
        return body.get("version") == "4" and isinstance(body.get("alerts"), list), 200, b""
    return False, 404, b""


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        kind = url.path.strip("/").split("/")[0]
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        ok, code, reply = accepted(kind, body) if isinstance(body, dict) else (False, 400, b"")
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": url.path, "query": url.query, "accepted": ok, "body": body}) + "\n")
        self.send_response(code if ok else 400)
        self.end_headers()
        self.wfile.write(reply if ok else b"payload not of the accepted shape")

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
