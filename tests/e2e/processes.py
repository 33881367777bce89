"""Start components in their own sessions, stop them, and find anything they left behind.

Task processes call ``setpgid`` and leave their component's process group, but not its session, so
descendants are found by session id. A process that starts a session of its own (e.g. a BashOperator's
command) is still found by an environment marker every component passes on; ``setproctitle`` can
overwrite that marker, which is why both are checked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER_VARIABLE = "TENCENT_SMS_E2E_DEPLOYMENT"


@dataclass
class Component:
    """One long-running process (and its group), logging to ``log_path``."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> Component:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                list(argv),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name, process, log_path)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _signal_group(component: Component, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(component.process.pid, sig)


def stop(components: Iterable[Component], grace: float = 20.0) -> None:
    """SIGTERM every group, wait up to ``grace`` seconds for a clean shutdown, then SIGKILL the rest."""
    components = list(components)
    for component in components:
        _signal_group(component, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for component in components:
        with contextlib.suppress(subprocess.TimeoutExpired):
            component.process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for component in components:
        # Also reaches children still running after their leader exited.
        _signal_group(component, signal.SIGKILL)
        component.process.wait()


def _session(entry: Path) -> int:
    # /proc/PID/stat: "pid (comm) state ppid pgrp session ..."; comm may contain spaces and parentheses.
    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[3])


def descendants(sessions: Collection[int], marker: str) -> dict[int, str]:
    """Live processes (pid -> command line) in one of ``sessions`` or whose environment carries ``marker``."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            ours = _session(entry) in sessions or needle in (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # exited meanwhile, or not ours to read
        if ours and cmdline:  # zombies have an empty command line and hold nothing
            found[int(entry.name)] = cmdline.strip()
    return found


def kill_session(component: Component) -> list[int]:
    """SIGKILL every process of the component's session, task processes included, as a lost machine would
    stop them; returns their pids."""
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if _session(entry) != component.process.pid:
                continue
            os.kill(int(entry.name), signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        killed.append(int(entry.name))
    component.process.wait()
    return killed


def kill_strays(sessions: Collection[int], marker: str, wait: float = 5.0) -> dict[int, str]:
    """Wait for the components' descendants to exit; SIGKILL and return those that do not."""
    deadline = time.monotonic() + wait
    while (strays := descendants(sessions, marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in strays:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return strays
