"""Headless Chromium from the system package, driven by Playwright (its own browser downloads are unavailable)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
#: Playwright waits 5 s by default; a 2-core machine busy with Airflow's components can take longer to
#: render a page, which is slowness, not a failure.
UI_TIMEOUT_MS = 30_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # running as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No calls home: the machine has no general internet access, and they would only slow things down.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    # Chromium keeps crash reports and settings under the home directory even with a throwaway profile:
    # give it a home of its own, so that the tests write nothing to the user's.
    with tempfile.TemporaryDirectory(prefix="tencent-sms-chromium-") as home, sync_playwright() as playwright:
        env = {
            **os.environ,
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_CACHE_HOME": f"{home}/cache",
        }
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
        expect.set_options(timeout=UI_TIMEOUT_MS)
        try:
            yield browser
        finally:
            browser.close()
