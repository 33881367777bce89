"""Keep Airflow's output out of the terminal: it goes to a log file, the demo's report to the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def output_to(log_path: Path) -> Iterator[TextIO]:
    """Send everything written to stdout and stderr to ``log_path``; yield a stream to the real terminal.

    The redirection is at the file-descriptor level because Airflow logs through several routes (structlog,
    the logging module, warnings, subprocesses) that each hold their own reference to the streams.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="replace")
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()
