#!/usr/bin/env python3
"""A stand-in for a Pyroscope-compatible /ingest endpoint, for tests of kiln's uploader.

usage: fake_ingest.py LOG [--fail N] [--status CODE] [--message TEXT]
Writes its port to LOG.port, then serves on 127.0.0.1 until killed. The first N requests get 503, then every
request gets CODE (200 by default) with TEXT as its body. Each request is logged to LOG as one JSON line:
path, query (decoded, in order), the headers kiln sets, the multipart parts (name, filename, type, size,
whether the data is gzip) and the status answered.
"""
import email.parser
import email.policy
import os
import gzip
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = sys.argv[1:]
log_path = args[0]
fail = int(args[args.index("--fail") + 1]) if "--fail" in args else 0
status = int(args[args.index("--status") + 1]) if "--status" in args else 200
message = args[args.index("--message") + 1] if "--message" in args else ""
count = 0


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        global count
        count += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        url = urllib.parse.urlsplit(self.path)
        parts = []
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            for p in msg.iter_parts():
                data = p.get_payload(decode=True) or b""
                entry = {"name": p.get_param("name", header="content-disposition"),
                         "filename": p.get_filename(), "type": p.get_content_type(), "size": len(data),
                         "gzip": data[:2] == b"\x1f\x8b"}
                if entry["gzip"]:
                    entry["pprof_size"] = len(gzip.decompress(data))
                parts.append(entry)
        code = 503 if count <= fail else status
        rec = {"path": url.path, "query": urllib.parse.parse_qsl(url.query, keep_blank_values=True),
               "tenant": self.headers.get("X-Scope-OrgID"), "auth": self.headers.get("Authorization"),
               "agent": self.headers.get("User-Agent"), "parts": parts, "status": code}
        with open(log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        reply = (message if code == status else "unavailable").encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
# The port, written whole (renamed into place) so that a reader never sees half of it.
with open(log_path + ".port.tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(log_path + ".port.tmp", log_path + ".port")
server.serve_forever()
