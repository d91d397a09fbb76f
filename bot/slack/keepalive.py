"""Kept-alive HTTP connections to Slack's Web API, for slack_sdk's WebClient.

The WebClient sends every call through the standard library's `urllib.request.urlopen`, whose
handlers open a new connection for each request and ask the server to close it after one
answer (`Connection: close`). Opening connections is a large part of what a message costs the
sending process. Without a proxy or an SSL context of its own, `urlopen` uses the process's
installed opener (`urllib.request.install_opener`, the standard library's hook for this);
`keep_alive(base_url)` installs one whose HTTP and HTTPS handlers keep one open connection per
thread to the Web API's host and send each request on it. Every other request (another host,
or through a proxy: its host is then the proxy's) goes through urllib's own handlers, as
before. Nothing in slack_sdk is changed or patched.

A connection the server closed while it was idle is noticed before it is used again (it reads
as ready: end of file) and replaced; a request whose connection fails mid-way fails as it
would have on a connection of its own (the gateway treats a post without an answer as
uncertain, and looks before sending again).
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import urllib.request
from collections import OrderedDict
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

KEPT_PER_THREAD = 4
"""Open connections a thread keeps at most (the least recently used is closed beyond it)."""

_hosts: set[tuple[str, str]] = set()
"""(scheme, host[:port]) of the Web APIs whose connections are kept."""
_installed = False
_lock = threading.Lock()


class _Kept(threading.local):
    def __init__(self) -> None:
        self.connections: OrderedDict[tuple[str, str], _Connection] = OrderedDict()


class _Connection:
    """An open connection and the last answer read from it."""

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection
        self.last: http.client.HTTPResponse | None = None

    def reusable(self) -> bool:
        sock = self.connection.sock
        return (sock is not None and (self.last is None or self.last.isclosed())
                and not _readable(sock))


_kept = _Kept()


def keep_alive(base_url: str) -> None:
    """Keep connections open to the host of `base_url` (Slack's Web API, or a stand-in)."""
    global _installed
    parts = urlsplit(base_url)
    with _lock:
        _hosts.add((parts.scheme, parts.netloc))
        if not _installed:
            urllib.request.install_opener(urllib.request.build_opener(
                KeepAliveHTTPHandler(), KeepAliveHTTPSHandler()))
            _installed = True


class KeepAliveHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> Any:
        if ("http", req.host) not in _hosts:
            return super().http_open(req)
        return _open_kept("http", http.client.HTTPConnection, req)


class KeepAliveHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> Any:
        if ("https", req.host) not in _hosts:
            return super().https_open(req)
        return _open_kept("https", http.client.HTTPSConnection, req)


def _open_kept(scheme: str, kind: type[http.client.HTTPConnection],
               req: urllib.request.Request) -> http.client.HTTPResponse:
    """urllib's AbstractHTTPHandler.do_open, on this thread's open connection to the host
    (a new one when there is none, or the server closed it) and without `Connection: close`."""
    key = (scheme, req.host)
    kept = _kept.connections.pop(key, None)
    if kept is not None and not kept.reusable():
        kept.connection.close()
        kept = None
    if kept is None:
        kept = _Connection(kind(req.host, timeout=req.timeout))
    elif kept.connection.sock is not None:
        # urlopen's default timeout is a marker, not seconds: the process's default then
        timeout = req.timeout
        if timeout is not None and not isinstance(timeout, int | float):
            timeout = socket.getdefaulttimeout()
        kept.connection.sock.settimeout(timeout)
    headers = dict(req.unredirected_hdrs)
    headers.update({k: v for k, v in req.headers.items() if k not in headers})
    headers = {name.title(): value for name, value in headers.items()}
    try:
        try:
            kept.connection.request(req.get_method(), req.selector, req.data, headers,
                                    encode_chunked=req.has_header("Transfer-encoding"))
        except OSError as err:
            raise URLError(err) from err
        response = kept.connection.getresponse()
    except BaseException:
        kept.connection.close()
        raise
    if response.will_close:
        kept.connection.close()  # the server said so: the answer is read to its end all the same
    else:
        kept.last = response
        _kept.connections[key] = kept
        while len(_kept.connections) > KEPT_PER_THREAD:
            _kept.connections.popitem(last=False)[1].connection.close()
    response.url = req.get_full_url()
    response.msg = response.reason  # type: ignore[assignment]  # what urllib's callers expect
    return response


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the server closed it (or sent what
    nobody asked for); either way it cannot carry another request."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])
