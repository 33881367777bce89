"""``[core] hostname_callable`` for the Celery workers: both run on this machine, so each says which it is."""

from __future__ import annotations

import os

WORKER_NAME_VARIABLE = "TENCENT_SMS_E2E_WORKER_NAME"


def worker_name() -> str:
    return os.environ[WORKER_NAME_VARIABLE]
