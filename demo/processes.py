"""Start long-running processes in their own sessions and stop them together with everything they started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def free_port(preferred: int) -> int:
    """``preferred`` if nothing listens on it, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port")


def start(argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` with its output in ``log_path``, in a session of its own.

    Its own session keeps Ctrl-C in the terminal away from it (we stop it in order), and lets us find
    every process it started, even those that moved to another process group (Airflow's task runners do).
    """
    with log_path.open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _in_session(session: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # /proc/PID/stat: "pid (comm) state ppid pgrp session ..."; comm may contain spaces.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def stop(process: subprocess.Popen[bytes], first_signal: signal.Signals, grace: float = 20.0) -> None:
    """Ask ``process`` to stop with ``first_signal``; after ``grace`` seconds, terminate and then kill whatever
    is left of its session (whose id is its pid)."""
    if process.poll() is None:
        process.send_signal(first_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = _in_session(process.pid)
        if not left:
            break
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while _in_session(process.pid) and time.monotonic() < deadline:
            process.poll()  # reaps the leader once it exits
            time.sleep(0.2)
    process.wait()
