"""A ``tencent-sms-sandbox`` process started from its console script, and what its banner said."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from .client import Endpoint

SCRIPT = Path(sys.executable).parent / "tencent-sms-sandbox"


class Running:
    """A sandbox process and what its banner said."""

    def __init__(self, *args: str, script: Path = SCRIPT, env: Mapping[str, str] | None = None) -> None:
        """Start ``script`` (by default this venv's ``tencent-sms-sandbox``) on a free port with ``args``."""
        self.process = subprocess.Popen(
            [str(script), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=None if env is None else dict(env),
        )
        assert self.process.stdout is not None
        self.banner: list[str] = []
        for line in self.process.stdout:
            self.banner.append(line.rstrip("\n"))
            if "AIRFLOW_CONN_TENCENT_SMS_DEFAULT=" in line:
                break
        match = re.search(r"listening on (https?://\S+)", self.banner[0])
        assert match, self.banner
        self.url = match.group(1)
        self.connection = json.loads(shlex.split(self.banner[-1].split("=", 1)[1])[0])

    def endpoint(self, secret_key: str | None = None) -> Endpoint:
        return Endpoint(self.url, self.connection["login"], secret_key or self.connection["password"])

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=10)
        return self.process.returncode, stderr
