"""The sender checks the open-file limit before opening hundreds of connections."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import logging, resource, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))
from airflow_provider_tencent_sms.engine import usable_connections
print("usable", usable_connections(1000))
print("soft", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def probe(soft: int, hard: int) -> str:
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(soft=soft, hard=hard)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_a_low_soft_limit_is_raised_to_what_is_needed():
    output = probe(256, 4096)
    assert "usable 1000" in output and "soft 1064" in output
    assert "open files" not in output


def test_a_low_hard_limit_caps_the_requests_in_flight_and_says_so():
    output = probe(256, 512)
    assert "usable 448" in output and "soft 512" in output
    assert "Only 512 open files allowed (ulimit -n): at most 448 requests in flight instead of 1000" in output
