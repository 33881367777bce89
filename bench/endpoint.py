"""A lean SendSms endpoint for the benchmarks: fast enough that they measure the client, not the server.

The sandbox models Tencent's rules (templates, frequency limits, an inbox) and answers a few hundred
requests a second; this answers thousands. It still checks every request as Tencent would (the TC3
signature with the sandbox's own verifier, the action, a JSON body of 1-200 numbers) and answers a
``SendStatusSet`` of one status per number, about 33 KB for 200 numbers. It counts what it accepted,
per 10 ms, so a benchmark can check that every number arrived once and that the rate never went over
the cap. Latency is injected with the event loop's timers, so waiting answers block nothing.

Run: ``.venv/bin/python bench/endpoint.py --port 8090 [--latency-ms 20] [--processes 2] [--tls-dir D]``.
``GET /_stats`` returns the counts as JSON, ``POST /_reset`` zeroes them. With ``--tls-dir`` it serves
HTTPS with a test CA it writes there (``ca.pem``).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import ssl
import sys
import time
from multiprocessing.sharedctypes import RawArray
from pathlib import Path
from typing import Any

import orjson

from airflow_provider_tencent_sms.sandbox.auth import verify
from airflow_provider_tencent_sms.sandbox.errors import ApiError
from airflow_provider_tencent_sms.sandbox.tls import TestCertificates
from airflow_provider_tencent_sms.signing import Credentials

SECRET_ID = "AKIDbench0000000000000000000000000000"
SECRET_KEY = "bench-secret-key"
BUCKET_SECONDS = 0.01
BUCKETS = 100 * 60 * 30  # 30 minutes of 10 ms buckets
#: Counters per worker: requests, numbers, refused requests.
COUNTERS = 3

#: What follows the number in each status. The statuses of one request share its serial number, so that
#: the whole set is one ``str.join`` in C (formatting 200 statuses one by one would cost more than
#: everything else a request needs).
_STATUS_TAIL = '","Fee":1,"SessionContext":"","Code":"Ok","Message":"send success","IsoCode":"CN"}'


class Stats:
    """Counters shared by the worker processes (one slot each: no locks on the hot path)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.counters: Any = RawArray("q", workers * COUNTERS)
        self.buckets: Any = RawArray("i", workers * BUCKETS)
        self.epoch: Any = RawArray("d", 1)
        self.epoch[0] = time.time()

    def count(self, worker: int, numbers: int, now: float) -> None:
        base = worker * COUNTERS
        self.counters[base] += 1
        self.counters[base + 1] += numbers
        index = int((now - self.epoch[0]) / BUCKET_SECONDS)
        if 0 <= index < BUCKETS:
            self.buckets[worker * BUCKETS + index] += 1

    def refuse(self, worker: int) -> None:
        self.counters[worker * COUNTERS + 2] += 1

    def reset(self) -> None:
        for i in range(len(self.counters)):
            self.counters[i] = 0
        self.epoch[0] = time.time()
        for i in range(len(self.buckets)):
            self.buckets[i] = 0

    def snapshot(self) -> dict[str, Any]:
        totals = [sum(self.counters[w * COUNTERS + k] for w in range(self.workers)) for k in range(COUNTERS)]
        per_bucket = [
            sum(self.buckets[w * BUCKETS + i] for w in range(self.workers))
            for i in range(int((time.time() - self.epoch[0]) / BUCKET_SECONDS) + 1)
            if i < BUCKETS
        ]
        # The most requests in any one-second window (100 consecutive buckets, sliding by 10 ms). A send
        # shorter than a second has all its requests in one window.
        window = 100
        running = sum(per_bucket[:window])
        peak = running
        for i in range(window, len(per_bucket)):
            running += per_bucket[i] - per_bucket[i - window]
            peak = max(peak, running)
        # The rate a long send keeps: its requests in each full second from its first request on (the
        # last, partial second left out), and its span from the first request's bucket to the last's.
        busy = [i for i, count in enumerate(per_bucket) if count]
        first, last = (busy[0], busy[-1]) if busy else (0, -1)
        seconds = [sum(per_bucket[i : i + window]) for i in range(first, last + 2 - window, window)]
        return {
            "requests": totals[0],
            "numbers": totals[1],
            "refused": totals[2],
            "max_per_second": peak,
            "full_seconds": seconds,
            "span_seconds": (last + 1 - first) * BUCKET_SECONDS,
        }


def _answer(status: int, document: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {len(document)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode() + document


def _error(code: str, message: str) -> bytes:
    return orjson.dumps({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "bench"}})


class Handler:
    def __init__(self, stats: Stats, worker: int, latency: float) -> None:
        self.stats = stats
        self.worker = worker
        self.latency = latency
        self.credentials = Credentials(SECRET_ID, SECRET_KEY)
        self.serial = 0

    def respond(self, request_line: str, headers: dict[str, str], body: bytes) -> bytes:
        method, _, rest = request_line.partition(" ")
        path = rest.partition(" ")[0]
        if path == "/_stats":
            return _answer(200, orjson.dumps(self.stats.snapshot()))
        if path == "/_reset" and method == "POST":
            self.stats.reset()
            return _answer(200, b"{}")
        now = time.time()
        try:
            verify(headers, body, self.credentials, now)
            if headers.get("x-tc-action") != "SendSms":
                raise ApiError("InvalidAction", "only SendSms is served here")
            numbers = orjson.loads(body)["PhoneNumberSet"]
            if not isinstance(numbers, list) or not 1 <= len(numbers) <= 200:
                raise ApiError("InvalidParameterValue", "PhoneNumberSet must hold 1 to 200 numbers")
            "".join(numbers)  # raises TypeError unless every number is a string
        except ApiError as exc:
            self.stats.refuse(self.worker)
            return _answer(200, _error(exc.code, exc.message))
        except (ValueError, KeyError, TypeError):
            self.stats.refuse(self.worker)
            return _answer(200, _error("InvalidParameter", "the body is not SendSms JSON"))
        self.stats.count(self.worker, len(numbers), now)
        self.serial += 1
        serial = f"{self.worker}{self.serial:09d}"
        head = f'{{"SerialNo":"2433:{serial}","PhoneNumber":"'
        statuses = head + (_STATUS_TAIL + "," + head).join(numbers) + _STATUS_TAIL
        document = f'{{"Response":{{"SendStatusSet":[{statuses}],"RequestId":"bench-{serial}"}}}}'
        return _answer(200, document.encode())


class Connection(asyncio.Protocol):
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.buffer = bytearray()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, hence Any.
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            answer = self.handler.respond(lines[0], headers, body)
            if self.handler.latency:
                asyncio.get_running_loop().call_later(self.handler.latency, self._write, answer)
            else:
                self._write(answer)

    def _write(self, answer: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _serve(port: int, worker: int, stats: Stats, latency: float, context: ssl.SSLContext | None) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is in the dev extra
        pass

    async def main() -> None:
        handler = Handler(stats, worker, latency)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: Connection(handler), "127.0.0.1", port, reuse_port=True, ssl=context, backlog=4096
        )
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--tls-dir", type=Path, help="serve HTTPS with a test CA written here (ca.pem)")
    args = parser.parse_args(argv)
    context = None
    if args.tls_dir is not None:
        context = TestCertificates.create(args.tls_dir).server_context()
    stats = Stats(args.processes)
    fork = multiprocessing.get_context("fork")
    workers = [
        fork.Process(target=_serve, args=(args.port, i, stats, args.latency_ms / 1000, context), daemon=True)
        for i in range(args.processes)
    ]
    for worker in workers:
        worker.start()
    print(f"bench endpoint on 127.0.0.1:{args.port}, {args.processes} processes", file=sys.stderr, flush=True)

    def stop(*_: object) -> None:
        for worker in workers:
            if worker.pid:
                os.kill(worker.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
