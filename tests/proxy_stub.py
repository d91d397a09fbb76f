"""A small forward web proxy on 127.0.0.1 that counts what passes through it, as an NHS
network's outbound proxy would carry the bot's calls: plain requests in absolute form
(`POST http://host/path`) are forwarded and answered; CONNECT tunnels (HTTPS) are relayed."""

from __future__ import annotations

import http.client
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.helpers import SHUTDOWN_POLL


class CountingProxy:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        """(method, URL or host:port for CONNECT), in the order they came."""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def paths(self) -> list[str]:
        with self._lock:
            return [urlsplit(url).path for method, url in self.requests if method != "CONNECT"]

    def start(self) -> CountingProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                target = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("proxy-connection", "connection", "host")}
                upstream = http.client.HTTPConnection(target.hostname or "", target.port or 80,
                                                      timeout=30)
                path = target.path + (f"?{target.query}" if target.query else "")
                upstream.request(self.command, path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = _forward  # noqa: N815 - http.server's naming

            def do_CONNECT(self) -> None:  # noqa: N802
                with proxy._lock:
                    proxy.requests.append(("CONNECT", self.path))
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host, int(port)), timeout=30)
                self.send_response(200, "Connection established")
                self.end_headers()
                sockets = [self.connection, upstream]
                while True:
                    ready, _, _ = select.select(sockets, [], [], 30)
                    if not ready:
                        break
                    for side in ready:
                        data = side.recv(65536)
                        if not data:
                            upstream.close()
                            return
                        (upstream if side is self.connection else self.connection).sendall(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(SHUTDOWN_POLL,),
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
