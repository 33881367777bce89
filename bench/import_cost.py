"""DAG-parse cost: what importing the operator and notifier adds once ``airflow.sdk`` is imported.

Each run is a fresh interpreter (imports are cached within one). An audit hook, installed after
``airflow.sdk`` is imported, records any socket or sqlite activity during the provider's imports: there
must be none. Run as ``.venv/bin/python bench/import_cost.py``; prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

RUNS = 9
PROBE = r"""
import json, sys, time
import airflow.sdk
before = set(sys.modules)
touched = []

def audit(event, args):
    if event.startswith(("socket.", "sqlite3.")) or event in ("urllib.Request", "http.client.connect"):
        touched.append(event)

sys.addaudithook(audit)
start = time.perf_counter()
import airflow_provider_tencent_sms.operators.sms
import airflow_provider_tencent_sms.notifications.sms
elapsed = time.perf_counter() - start
print(json.dumps({
    "seconds": elapsed,
    "io_events": sorted(set(touched)),
    "new_modules": len(set(sys.modules) - before),
    "heavy_modules": sorted(m for m in ("requests", "phonenumbers", "urllib3") if m in set(sys.modules) - before),
}))
"""


def main() -> None:
    runs = [
        json.loads(
            subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout
        )
        for _ in range(RUNS)
    ]
    ms = [1000 * r["seconds"] for r in runs]
    result = {
        "extra_import_ms_median": statistics.median(ms),
        "extra_import_ms_min": min(ms),
        "extra_import_ms_max": max(ms),
        "goal_ms": 60,
        "io_events": sorted({e for r in runs for e in r["io_events"]}),
        "new_modules": runs[0]["new_modules"],
        "heavy_modules_imported": runs[0]["heavy_modules"],
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
