"""Benchmark of a campaign from a file: read, normalise, deduplicate and plan 10,000,000 recipients of a CSV.

Run as ``.venv/bin/python bench/prepare_file.py``. The CSV (``phone_number,name``; 95 % +86 mobiles, 5 %
global, 2 % repeated, as in ``prepare.py``) is written once to a temporary folder; every measured run is a
fresh subprocess, so that its peak RSS (``ru_maxrss``) is its own, timed from opening the file to the plan's
digest: what ``SendSmsOperator(recipients_uri=...)`` does before its first request. The machine is shared,
so CPU seconds and the load average are reported next to the wall-clock time. Prints one JSON object.

Cases: the whole file (three runs: the goal is judged on their median); the first 1,000,000 rows
(memory per million); one shard of four of those (the cost of hashing every number).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prepare import SEED, _e164_numbers, _peak_rss_mb

GOAL_SECONDS = 20.0
GOAL_RSS_MB = 1024.0
COUNT = 10_000_000


def write_csv(path: Path, count: int) -> None:
    rng = random.Random(SEED)
    numbers = _e164_numbers(count, rng)
    with path.open("w", encoding="utf-8") as out:
        out.write("phone_number,name\n")
        while block := list(islice(numbers, 100_000)):
            out.write("".join(f"{number},x\n" for number in block))


def run_child(path: str, shard: int | None, shards: int) -> dict[str, Any]:
    from airflow_provider_tencent_sms.compact import BatchPlan, compact_audience
    from airflow_provider_tencent_sms.shards import Shard
    from airflow_provider_tencent_sms.sources import open_recipients, read_rows

    rss_before = _peak_rss_mb()
    cpu_before = time.process_time()
    start = time.perf_counter()
    with open_recipients(path) as stream:
        audience = compact_audience(
            read_rows(stream, "csv"), shard=None if shard is None else Shard(shard, shards)
        )
    read = time.perf_counter()
    plan = BatchPlan(audience.parts)
    digest = plan.digest()
    end = time.perf_counter()
    assert sum(plan.sizes()) == audience.recipients
    return {
        "seconds": end - start,
        "cpu_seconds": time.process_time() - cpu_before,
        "stages": {"read_normalise_dedupe": read - start, "plan_and_digest": end - read},
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_mb": rss_before,
        "recipients": audience.recipients,
        "duplicates": audience.duplicates,
        "invalid": audience.invalid_count,
        "batches": len(plan),
        "plan_digest": digest,
    }


def measure(path: Path, shard: int | None = None, shards: int = 1) -> dict[str, Any]:
    load = os.getloadavg()[0]
    command = [sys.executable, __file__, "--child", str(path), "--shards", str(shards)]
    if shard is not None:
        command += ["--shard", str(shard)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return {**json.loads(output), "load_average_at_start": load}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--shard", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--shards", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.shard, args.shards)))
        return
    with tempfile.TemporaryDirectory(prefix="tencent-sms-bench-") as folder:
        whole, million = Path(folder) / "campaign.csv", Path(folder) / "million.csv"
        write_csv(whole, args.count)
        write_csv(million, min(args.count, 1_000_000))
        runs = [measure(whole) for _ in range(args.runs)]
        report: dict[str, Any] = {
            "timed": "open + read + normalise + dedupe + plan + digest of a CSV, fresh process each",
            "count": args.count,
            "whole_runs": runs,
            "million": measure(million),
            "million_one_shard_of_4": measure(million, 1, 4),
        }
    median = statistics.median(run["seconds"] for run in runs)
    whole_run = min(runs, key=lambda run: abs(run["seconds"] - median))
    report["whole"] = whole_run
    report["same_plan_every_run"] = len({run["plan_digest"] for run in runs}) == 1
    peak = max(run["peak_rss_mb"] for run in runs)
    report["goal"] = {
        "max_seconds": GOAL_SECONDS,
        "max_peak_rss_mb": GOAL_RSS_MB,
        "met": median <= GOAL_SECONDS and peak <= GOAL_RSS_MB,
        "runs_within": sum(run["seconds"] <= GOAL_SECONDS for run in runs),
    }
    # What the recipients add to a process that has imported the provider.
    report["mb_per_million"] = (
        (whole_run["peak_rss_mb"] - whole_run["rss_before_mb"]) * 1_000_000 / args.count
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
