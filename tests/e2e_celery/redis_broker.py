"""Debian's redis-server as the Celery broker: started on a free loopback port, stopped afterwards."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.ports import free_port
from tests.e2e.waiting import wait_for

REDIS_SERVER = "/usr/bin/redis-server"


def missing_reason() -> str | None:
    """Why the broker cannot run here, or None."""
    if not Path(REDIS_SERVER).is_file() and shutil.which("redis-server") is None:
        return "redis-server is not installed (make test installs Debian's redis-server when run as root)"
    return None


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(folder: Path, log_path: Path) -> Iterator[str]:
    """A throwaway Redis (no persistence, loopback only); yields its URL."""
    port = free_port()
    binary = REDIS_SERVER if Path(REDIS_SERVER).is_file() else str(shutil.which("redis-server"))
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: process.poll() is None and _answers(port), timeout=20, what="redis-server to answer")
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
