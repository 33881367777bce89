"""HTTP/1.1 plumbing: a threaded server that keeps idle keep-alive connections open, and the routes.

``POST /`` is the Tencent Cloud API; ``/_sandbox/...`` is the sandbox's own control API and inbox page.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .api import JSON_TYPE, MAX_BODY_BYTES, Api, Reply, error_envelope
from .delivery import DeliveryRule
from .errors import ApiError
from .faults import Fault
from .pages import inbox_page
from .replies import replies_from_json

log = logging.getLogger(__name__)

#: Bodies over the limit are read and discarded up to this size, so that the client (still sending) gets
#: the error answer instead of a reset connection; beyond it the connection is closed.
_DRAIN_LIMIT = 64 * 1024 * 1024
_CHUNK = 64 * 1024
_CONTROL_BODY_LIMIT = 1024 * 1024
#: The limits http.server applies too.
_MAX_LINE = 65536
_MAX_HEADERS = 100
INBOX_PAGE_ROWS = 500


class SandboxServer(ThreadingHTTPServer):
    """One thread per connection. Idle connections stay open (no timeout) because clients reuse pooled
    connections and would see spurious failures if the server closed them."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: Api, tls: ssl.SSLContext | None = None) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.api = api
        self.tls = tls
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SandboxHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can hang where reverse DNS is slow.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            # The TLS handshake runs in the connection's own thread, so a slow client holds up no other.
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                # E.g. a client that does not trust the sandbox's CA: its problem, reported on its side.
                log.debug("TLS handshake with %s failed: %s", client_address, exc)
                return
        super().finish_request(request, client_address)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down open connections so that their threads, waiting for a next request, end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that go away mid-request are normal (timeouts, dropped-connection tests); anything else is a bug.
        if isinstance(sys.exc_info()[1], OSError):
            log.debug("connection from %s failed", client_address, exc_info=True)
        else:
            log.error("the sandbox failed on a request from %s", client_address, exc_info=True)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tencent-sms-sandbox"
    sys_version = ""
    # Headers and body go out in one write, and small answers must not wait for delayed ACKs.
    disable_nagle_algorithm = True
    server: SandboxServer

    #: Set by http.server before parse_request.
    raw_requestline: bytes
    #: The request's headers by lower-case name (the last of repeated ones).
    header_map: dict[str, str]

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def parse_request(self) -> bool:
        """Read the request line and headers, or answer an error and return False.

        http.server's own version parses headers with the email package, which costs as much as a whole
        SendSms of 200 numbers; this one handles what HTTP/1.x clients send: one header per line.
        """
        self.header_map = {}
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request line {self.requestline[:100]!r}")
            return False
        self.command, self.path, self.request_version = words
        for _ in range(_MAX_HEADERS + 1):
            line = self.rfile.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Header line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, colon, value = line.decode("iso-8859-1").partition(":")
            if not colon or not name.strip():
                self.send_error(HTTPStatus.BAD_REQUEST, "Malformed header line")
                return False
            self.header_map[name.strip().lower()] = value.strip()
        else:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        connection = self.header_map.get("connection", "").lower()
        keep_alive = (
            connection == "keep-alive" if self.request_version == "HTTP/1.0" else connection != "close"
        )
        self.close_connection = not keep_alive
        if self.header_map.get("expect", "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: " + format, self.address_string(), *args)

    # --- routes -----------------------------------------------------------------------------------------

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == "/":
            self._api()
        elif path == "/_sandbox/faults":
            self._add_fault()
        elif path == "/_sandbox/replies":
            self._add_replies()
        elif path == "/_sandbox/deliveries":
            self._add_delivery_rule()
        else:
            self._not_found()

    def do_GET(self) -> None:
        self._refuse_body()
        path = urlsplit(self.path).path
        api = self.server.api
        if path in ("/_sandbox", "/_sandbox/"):
            page = inbox_page(*api.ctx.store.newest(INBOX_PAGE_ROWS))
            self._send(200, "text/html; charset=utf-8", page.encode())
        elif path == "/_sandbox/messages":
            self._send_json(200, [d.to_json() for d in api.ctx.store.messages()])
        elif path == "/_sandbox/faults":
            self._send_json(200, [f.to_json() for f in api.ctx.faults.faults()])
        elif path == "/_sandbox/replies":
            self._send_json(200, [r.to_json() for r in api.ctx.store.replies()])
        elif path == "/_sandbox/deliveries":
            self._send_json(200, [r.to_json() for r in api.ctx.deliveries.rules()])
        elif path == "/_sandbox/requests":
            self._send_json(200, [vars(r) for r in api.ctx.store.requests()])
        elif path == "/":
            self._refuse("UnsupportedProtocol", "The API takes POST requests signed with TC3-HMAC-SHA256.")
        else:
            self._not_found()

    def do_DELETE(self) -> None:
        self._refuse_body()
        path = urlsplit(self.path).path
        ctx = self.server.api.ctx
        if path == "/_sandbox/messages":
            ctx.clear()
            self._send_json(200, {"cleared": "messages"})
        elif path == "/_sandbox/faults":
            ctx.faults.clear()
            self._send_json(200, {"cleared": "faults"})
        elif path == "/_sandbox/deliveries":
            ctx.deliveries.clear()
            self._send_json(200, {"cleared": "deliveries"})
        else:
            self._not_found()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, unsupported method...) also get the API's error envelope."""
        self.close_connection = True
        error = ApiError("UnsupportedProtocol", message or HTTPStatus(code).phrase)
        self._reply(self.server.api.refuse({}, error), status=code)

    # --- the API --------------------------------------------------------------------------------------

    def _api(self) -> None:
        body = self._read_body(MAX_BODY_BYTES)
        if body is not None:
            self._reply(self.server.api.handle(self.header_map, body))

    def _read_body(self, limit: int) -> bytes | None:
        """The request body, or None after answering (too large, unreadable) or if the client went away."""
        api, headers = self.server.api, self.header_map
        if "transfer-encoding" in headers:
            self.close_connection = True
            error = ApiError("UnsupportedProtocol", "Chunked bodies are not supported; send Content-Length.")
            self._reply(api.refuse(headers, error))
            return None
        raw_length = headers.get("content-length", "0").strip()
        if not (raw_length.isascii() and raw_length.isdigit()):
            self.close_connection = True
            self._reply(api.refuse(headers, ApiError("InvalidParameter", "Content-Length is not a number.")))
            return None
        length = int(raw_length)
        if length > limit:
            self._discard(length)
            error = ApiError(
                "RequestSizeLimitExceeded",
                f"The request body has {length} bytes; at most {limit} are allowed.",
            )
            self._reply(api.refuse(headers, error))
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def _discard(self, length: int) -> None:
        if length > _DRAIN_LIMIT:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(_CHUNK, remaining))
            if not chunk:
                self.close_connection = True
                return
            remaining -= len(chunk)

    def _refuse_body(self) -> None:
        # GET and DELETE bodies are not read; the connection cannot be reused past one.
        if (
            self.header_map.get("content-length", "0") not in ("", "0")
            or "transfer-encoding" in self.header_map
        ):
            self.close_connection = True

    # --- control API ----------------------------------------------------------------------------------

    def _add_fault(self) -> None:
        ctx = self.server.api.ctx
        self._add_control("fault", lambda document: ctx.faults.add(Fault.from_json(document)).to_json())

    def _add_delivery_rule(self) -> None:
        ctx = self.server.api.ctx
        self._add_control(
            "delivery rule", lambda document: ctx.deliveries.add(DeliveryRule.from_json(document)).to_json()
        )

    def _add_control(self, what: str, add: Callable[[object], dict[str, Any]]) -> None:
        """Read a JSON object, ``add`` it (which raises ValueError or TypeError on bad input), answer 201."""
        body = self._read_body(_CONTROL_BODY_LIMIT)
        if body is None:
            return
        try:
            added = add(json.loads(body))
        except (ValueError, TypeError, RecursionError) as exc:
            self._send_json(400, {"error": f"invalid {what}: {exc}"})
            return
        self._send_json(201, added)

    def _add_replies(self) -> None:
        body = self._read_body(_CONTROL_BODY_LIMIT)
        if body is None:
            return
        ctx = self.server.api.ctx
        signatures = ctx.settings.registry.signatures
        try:
            replies = replies_from_json(json.loads(body), time.time(), signatures[0] if signatures else None)
        except (ValueError, RecursionError) as exc:
            self._send_json(400, {"error": f"invalid reply: {exc}"})
            return
        for reply in replies:
            ctx.store.add_reply(reply)
        self._send_json(201, [r.to_json() for r in replies])

    # --- answers --------------------------------------------------------------------------------------

    def _not_found(self) -> None:
        # Not an API request, so not in the request log.
        error = ApiError("ResourceNotFound", "Tencent Cloud API is served at POST /.")
        self._reply(error_envelope(str(uuid.uuid4()), error), status=404)

    def _refuse(self, code: str, message: str) -> None:
        self._reply(self.server.api.refuse(self.header_map, ApiError(code, message)))

    def _reply(self, reply: Reply, status: int | None = None) -> None:
        if reply.drop:
            self.close_connection = True
            return
        self._send(status or reply.status, reply.content_type, reply.body)

    def _send_json(self, status: int, document: object) -> None:
        self._send(status, JSON_TYPE, json.dumps(document, ensure_ascii=False).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        head = (
            f"HTTP/1.1 {status} {phrase}\r\n"
            f"Server: {self.server_version}\r\n"
            f"Date: {self.date_time_string()}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
        if self.close_connection:
            head += "Connection: close\r\n"
        try:
            self.wfile.write(head.encode("latin-1") + b"\r\n" + body)
        except OSError:
            # The client gave up (e.g. its read timeout passed during injected latency).
            self.close_connection = True
