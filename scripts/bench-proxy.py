#!/usr/bin/env python3
"""Loopback adapter so the peer scripts' REST client can drive StudyLink (used by scripts/bench).

The peer scripts (../shared/tools/peers) speak Orthanc's REST API with no authentication: they POST raw
`application/dicom` to /instances and read `{"ID": ...}` back, then GET frame URLs. StudyLink speaks DICOMweb and
requires an API key. This adapter, on its own port:
  * adds `Authorization: Bearer <key>` to every request;
  * turns `POST /instances` (one raw file) into a STOW-RS `POST /dicomweb/studies` (multipart/related) and answers
    `{"ID": <SOP Instance UID>}`;
  * passes every other request through unchanged.
It costs a loopback hop per request, which only makes StudyLink's figures worse. Standard library only.

usage: bench-proxy.py LISTEN_PORT UPSTREAM_URL API_KEY|@FILE   (@FILE: read the key from FILE per request, so
the server may be restarted with a new key)
"""
import http.client
import http.server
import json
import socket
import sys
import threading
import uuid
from urllib.parse import urlsplit

LISTEN, UPSTREAM, KEY = int(sys.argv[1]), urlsplit(sys.argv[2]), sys.argv[3]
LOCAL = threading.local()  # one keep-alive upstream connection per client connection thread


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Without this, a response written in two parts waits ~40 ms for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def upstream(self):
        if getattr(LOCAL, "conn", None) is None:
            conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            LOCAL.conn = conn
        return LOCAL.conn

    def forward(self, method, path, body=None, headers=None):
        h = {k: v for k, v in (headers or {}).items()}
        key = open(KEY[1:]).read().strip() if KEY.startswith("@") else KEY
        h["Authorization"] = "Bearer " + key
        for attempt in (1, 2):
            conn = self.upstream()
            try:
                conn.request(method, path, body=body, headers=h)
                r = conn.getresponse()
                return r.status, r.getheader("Content-Type", ""), r.read()
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                LOCAL.conn = None
                if attempt == 2:
                    raise

    def reply(self, status, ctype, data):
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept",)}
        self.reply(*self.forward("GET", self.path, headers=headers))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/instances":
            return self.reply(404, "text/plain", b"only POST /instances is adapted")
        boundary = uuid.uuid4().hex
        part = (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
        ctype = f'multipart/related; type="application/dicom"; boundary={boundary}'
        status, rtype, data = self.forward("POST", "/dicomweb/studies", part,
                                           {"Content-Type": ctype, "Accept": "application/dicom+json"})
        if status >= 300:
            return self.reply(status, rtype, data)
        ref = json.loads(data)["00081199"]["Value"][0]["00081155"]["Value"][0]
        self.reply(200, "application/json", json.dumps({"ID": ref}).encode())


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    Server(("127.0.0.1", LISTEN), Handler).serve_forever()
