"""Many signed POSTs in flight at once from one thread, through libcurl's multi interface.

Measured against ``requests`` in threads and aiohttp (see the performance page), libcurl costs the least
CPU per request and keeps hundreds of keep-alive connections without a thread each. This module only moves
bytes: what to send and what an answer means are :mod:`.calls`' job.

A request that was written and then lost its connection must never be sent again: libcurl silently
re-sends a request whose reused connection closed before any answer, so the body is given through a read
callback that cannot rewind. libcurl then fails such a transfer (``E_SEND_FAIL_REWIND``) instead of
sending it twice, and it is reported as outcome unknown.

The loop is driven through libcurl's socket interface: libcurl says which sockets to watch and when its
next timeout is due, ``epoll`` (:mod:`selectors`) waits on them, and each turn hands libcurl only the
sockets that are ready. The cost of a turn follows the sockets with something to do, not the hundreds of
connections open, and descriptors above ``FD_SETSIZE`` (1,024, the limit of ``select()``, easily passed
with ``max_concurrency`` near 1,000) are waited on like any other.
"""

from __future__ import annotations

import logging
import resource
import selectors
import time
from collections.abc import Sequence
from io import BytesIO
from typing import Any, NamedTuple

import certifi
import pycurl

from .connection import Transport

log = logging.getLogger(__name__)

#: libcurl's receive buffer: a 33 KB answer in one or two writes instead of three or more.
RECEIVE_BUFFER = 64 * 1024
#: File descriptors kept for everything else the task process opens (logs, the database, the supervisor).
FD_RESERVE = 64


class Reply(NamedTuple):
    """How one transfer ended: an HTTP answer (``errno`` 0) or a libcurl failure."""

    token: Any
    status: int
    body: bytes
    errno: int
    error: str
    #: Request bytes libcurl wrote: 0 proves nothing reached the server.
    bytes_written: int
    #: From the connection being ready to the answer: a new connection's set-up (a TLS handshake) is left
    #: out, so that the in-flight sizing sees how long requests take on the connections it keeps.
    seconds: float


#: What libcurl asks to wait for, as :mod:`selectors` events (anything else: stop watching the socket).
_EVENTS = {
    pycurl.POLL_IN: selectors.EVENT_READ,
    pycurl.POLL_OUT: selectors.EVENT_WRITE,
    pycurl.POLL_INOUT: selectors.EVENT_READ | selectors.EVENT_WRITE,
}
#: And back: what a socket is ready for, as libcurl's flags.
_CSELECT = {
    selectors.EVENT_READ: pycurl.CSELECT_IN,
    selectors.EVENT_WRITE: pycurl.CSELECT_OUT,
    selectors.EVENT_READ | selectors.EVENT_WRITE: pycurl.CSELECT_IN | pycurl.CSELECT_OUT,
}


def _refuse_rewind(offset: int, origin: int) -> int:
    return int(pycurl.SEEKFUNC_FAIL)


def usable_connections(wanted: int) -> int:
    """How many connections the process can open: raises the soft file limit if that is needed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    usable = max(1, soft - FD_RESERVE)
    log.warning(
        "Only %d open files allowed (ulimit -n): at most %d requests in flight instead of %d; "
        "raise the limit for the worker to send faster",
        soft,
        usable,
        wanted,
    )
    return usable


class CurlEngine:
    """POSTs to one endpoint, up to ``max_in_flight`` at once on keep-alive connections.

    :param transport: endpoint, CA bundle, proxy and timeouts.
    :param max_in_flight: the most transfers (and connections) at once.
    """

    def __init__(self, transport: Transport, max_in_flight: int) -> None:
        self.transport = transport
        self.max_in_flight = max_in_flight
        self._multi = pycurl.CurlMulti()
        # Keep every connection open between requests (the default cache is far smaller).
        self._multi.setopt(pycurl.M_MAXCONNECTS, max_in_flight)
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._watch)
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._set_timer)
        # TLS sessions are shared by all connections: each new connection resumes one (no certificate
        # chain to verify again), which is most of what a handshake costs the client.
        self._share = pycurl.CurlShare()
        self._share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_SSL_SESSION)
        self._share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_DNS)
        self._selector = selectors.DefaultSelector()
        #: When libcurl wants its timeout handled (``time.monotonic()``), or None.
        self._due: float | None = None
        self._idle: list[pycurl.Curl] = []
        self._running: dict[pycurl.Curl, tuple[Any, BytesIO]] = {}

    def _watch(self, what: int, fd: int, multi: Any, socketp: Any) -> None:
        """libcurl's socket callback: what to wait for on ``fd`` from now on."""
        selector = self._selector
        key = selector.get_map().get(fd)
        events = _EVENTS.get(what, 0)
        if not events:
            if key is not None:
                selector.unregister(fd)
        elif key is None:
            selector.register(fd, events)
        elif key.events != events:
            try:
                selector.modify(fd, events)
            except OSError:
                # The descriptor was closed and reused without a removal in between: watch the new one.
                selector.register(fd, events)

    def _set_timer(self, timeout_ms: int) -> None:
        """libcurl's timer callback: call it back in ``timeout_ms`` (-1: no timeout wanted)."""
        self._due = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000

    @property
    def in_flight(self) -> int:
        return len(self._running)

    def _handle(self) -> pycurl.Curl:
        if self._idle:
            return self._idle.pop()
        t = self.transport
        curl = pycurl.Curl()
        curl.setopt(pycurl.URL, t.endpoint)
        curl.setopt(pycurl.POST, 1)
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(t.connect_timeout * 1000))
        curl.setopt(pycurl.TIMEOUT_MS, int((t.connect_timeout + t.timeout) * 1000))
        curl.setopt(pycurl.CAINFO, t.verify if isinstance(t.verify, str) else certifi.where())
        curl.setopt(pycurl.PROXY, t.proxy or "")
        curl.setopt(pycurl.SEEKFUNCTION, _refuse_rewind)
        curl.setopt(pycurl.BUFFERSIZE, RECEIVE_BUFFER)
        curl.setopt(pycurl.SHARE, self._share)
        return curl

    def start(self, token: Any, body: bytes, headers: Sequence[str]) -> None:
        """Start one POST of ``body``; its :class:`Reply` comes from :meth:`poll` with ``token``."""
        curl = self._handle()
        curl.setopt(pycurl.HTTPHEADER, headers)
        curl.setopt(pycurl.POSTFIELDSIZE, len(body))
        curl.setopt(pycurl.READFUNCTION, BytesIO(body).read)
        answer = BytesIO()
        curl.setopt(pycurl.WRITEFUNCTION, answer.write)
        self._running[curl] = (token, answer)
        self._multi.add_handle(curl)

    def poll(self, timeout: float) -> list[Reply]:
        """Move the transfers forward, waiting up to ``timeout`` seconds for activity; return those done."""
        self._on_timeout()
        done = self._finished()
        if done or timeout <= 0 or not self._running:
            return done
        if self._due is not None:
            timeout = min(timeout, max(0.0, self._due - time.monotonic()))
        act = self._multi.socket_action
        for key, events in self._selector.select(timeout):
            act(key.fd, _CSELECT[events])
        self._on_timeout()
        return self._finished()

    def _on_timeout(self) -> None:
        if self._due is not None and self._due <= time.monotonic():
            self._due = None
            self._multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)

    def _finished(self) -> list[Reply]:
        replies: list[Reply] = []
        multi = self._multi
        while True:
            queued, succeeded, failed = multi.info_read()
            for curl in succeeded:
                replies.append(self._reply(curl, 0, ""))
            for curl, errno, message in failed:
                replies.append(self._reply(curl, errno, message))
            if not queued:
                return replies

    def _reply(self, curl: pycurl.Curl, errno: int, message: str) -> Reply:
        token, answer = self._running.pop(curl)
        self._multi.remove_handle(curl)
        status = int(curl.getinfo(pycurl.RESPONSE_CODE)) if errno == 0 else 0
        written = int(curl.getinfo(pycurl.REQUEST_SIZE))
        waited = curl.getinfo(pycurl.TOTAL_TIME) - curl.getinfo(pycurl.PRETRANSFER_TIME)
        self._idle.append(curl)
        return Reply(token, status, answer.getvalue(), errno, message, written, waited)

    def abandon(self) -> list[Any]:
        """Stop every transfer still running; return their tokens (their outcome is unknown)."""
        tokens = []
        for curl, (token, _) in list(self._running.items()):
            self._multi.remove_handle(curl)
            tokens.append(token)
            self._idle.append(curl)
        self._running.clear()
        return tokens

    def close(self) -> None:
        self.abandon()
        for curl in self._idle:
            curl.close()
        self._idle.clear()
        self._multi.close()
        self._share.close()
        self._selector.close()
