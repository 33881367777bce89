"""Benchmark of the work before the first request: parse, normalise, deduplicate, plan batches.

Run as ``.venv/bin/python bench/prepare.py``. Every measured run is a fresh subprocess, so that
its peak RSS (``ru_maxrss``) belongs to that run alone; the input is built in the subprocess
before the clock starts, the way an operator receives it (a list decoded from JSON, or the text
Jinja renders for it). Prints one JSON object on stdout.

Cases:

* ``e164``: 1,000,000 canonical E.164 numbers (95 % +86 mobiles, 5 % global, 2 % repeated).
  The goal: at most 2 s and 300 MB peak RSS.
* ``e164_text``: the same numbers as ``str(list)``, what ``"{{ ti.xcom_pull(...) }}"`` renders.
* ``mixed``: local formats (``138 0013 8000``, ``0086-138-...``, ``+1 650-...``, some invalid),
  which go through phonenumbers at about 18 µs a number: fewer numbers by default, with the
  time per million extrapolated linearly.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

E164_GOAL_SECONDS = 2.0
E164_GOAL_RSS_MB = 300.0
SEED = 20240611
TEMPLATE_PARAMS = ["1234", "5"]
#: Global numbers as prefix and the count of random digits that make them valid.
GLOBAL_E164 = (("+1650", 7), ("+1212", 7), ("+447", 9), ("+8529", 7), ("+659", 7), ("+8190", 8))


def _peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cn_subscriber(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _e164_numbers(count: int, rng: random.Random) -> Iterator[str]:
    earlier: list[str] = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.02 and earlier:
            yield rng.choice(earlier)
            continue
        if draw < 0.07:
            prefix, digits = rng.choice(GLOBAL_E164)
            number = f"{prefix}{rng.randrange(10**digits):0{digits}d}"
        else:
            number = f"+86{_cn_subscriber(rng)}"
        if len(earlier) < 10_000:
            earlier.append(number)
        yield number


def _mixed_numbers(count: int, rng: random.Random) -> Iterator[str]:
    formats: list[Callable[[str], str]] = [
        lambda s: f"{s[:3]} {s[3:7]} {s[7:]}",
        lambda s: f"0086-{s[:3]}-{s[3:7]}-{s[7:]}",
        lambda s: f"+86 {s}",
        lambda s: s,
        lambda s: f"+86{s}",
    ]
    global_numbers = ["+1 650-253-{:04d}", "+44 20 7946 {:04d}", "+852 9123 {:04d}", "+65 9123 {:04d}"]
    earlier: list[str] = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.03:
            yield rng.choice(["12345", "abc", "+86123", "138-0013"])
        elif draw < 0.08:
            yield rng.choice(global_numbers).format(rng.randrange(10**4))
        else:
            # One in ten is somebody already listed, written another way.
            if draw < 0.18 and earlier:
                subscriber = rng.choice(earlier)
            else:
                subscriber = _cn_subscriber(rng)
                if len(earlier) < 10_000:
                    earlier.append(subscriber)
            yield rng.choice(formats)(subscriber)


def _build_input(case: str, count: int) -> object:
    """The recipients as the operator gets them: decoded from JSON, or the text Jinja renders.

    The text is written straight from a generator, so that no second copy of the list raises
    the peak RSS before the clock starts, and decoding lays the strings out in list order.
    """
    rng = random.Random(SEED)
    if case == "e164_text":
        # Exactly str(list_of_numbers).
        return "[" + ", ".join(f"'{number}'" for number in _e164_numbers(count, rng)) + "]"
    numbers = _e164_numbers(count, rng) if case == "e164" else _mixed_numbers(count, rng)
    decoded: object = json.loads("[" + ",".join(f'"{number}"' for number in numbers) + "]")
    return decoded


def run_child(case: str, count: int) -> dict[str, Any]:
    """One measured run: build the input, then time each stage of the preparation."""
    from airflow_provider_tencent_sms.compact import BatchPlan, CompactAudience
    from airflow_provider_tencent_sms.recipients import Audience, normalise, parse_phone_numbers

    value = _build_input(case, count)
    rss_before = _peak_rss_mb()
    start = time.perf_counter()
    numbers = parse_phone_numbers(value)
    parsed = time.perf_counter()
    recipients = normalise(numbers)
    normalised = time.perf_counter()
    # What the operator does with a list: its compact form, a plan of slices of it, the plan's digest.
    audience = Audience(
        {tuple(TEMPLATE_PARAMS): recipients.valid},
        recipients.duplicates,
        recipients.invalid,
        recipients.invalid_positions,
    )
    batches = BatchPlan(CompactAudience.from_audience(audience).parts)
    digest = batches.digest()
    planned = time.perf_counter()

    # The run only counts if the work was done: every input accounted for, every valid
    # number in exactly one batch.
    assert len(numbers) == count
    assert len(recipients.valid) + recipients.duplicates + len(recipients.invalid) == count
    assert batches.recipients == len(recipients.valid)
    return {
        "seconds": planned - start,
        "stages": {
            "parse": parsed - start,
            "normalise": normalised - parsed,
            "plan_batches": planned - normalised,
        },
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_mb": rss_before,
        "valid": len(recipients.valid),
        "duplicates": recipients.duplicates,
        "invalid": len(recipients.invalid),
        "batches": len(batches),
        "plan_digest": digest,
    }


def _run_case(case: str, count: int, runs: int) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, __file__, "--child", case, "--count", str(count)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        results.append(json.loads(completed.stdout))
    seconds = [result["seconds"] for result in results]
    rss = [result["peak_rss_mb"] for result in results]
    first = results[0]
    return {
        "count": count,
        "seconds": statistics.median(seconds),
        "seconds_runs": seconds,
        "seconds_spread": max(seconds) - min(seconds),
        "stage_seconds": {
            stage: statistics.median(result["stages"][stage] for result in results)
            for stage in first["stages"]
        },
        # The largest of the runs: a limit has to hold for every run.
        "peak_rss_mb": max(rss),
        "peak_rss_mb_runs": rss,
        "rss_before_timing_mb": statistics.median(result["rss_before_mb"] for result in results),
        "outcome": {key: first[key] for key in ("valid", "duplicates", "invalid", "batches")},
        "same_plan_every_run": len({result["plan_digest"] for result in results}) == 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--e164-count", type=int, default=1_000_000)
    parser.add_argument("--mixed-count", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=["e164", "e164_text", "mixed"], help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.count)))
        return

    report: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "runs_per_case": args.runs,
        "timed": "parse_phone_numbers + normalise + the operator's compact plan and its digest, median of fresh processes",
    }
    for case, count in (
        ("e164", args.e164_count),
        ("e164_text", args.e164_count),
        ("mixed", args.mixed_count),
    ):
        result = _run_case(case, count, args.runs)
        for key, value in result.items():
            report[f"{case}_{key}"] = value
    report["mixed_seconds_per_million_extrapolated"] = report["mixed_seconds"] * 1_000_000 / args.mixed_count
    report["e164_goal"] = {
        "max_seconds": E164_GOAL_SECONDS,
        "max_peak_rss_mb": E164_GOAL_RSS_MB,
        "met": report["e164_seconds"] <= E164_GOAL_SECONDS and report["e164_peak_rss_mb"] <= E164_GOAL_RSS_MB,
        "applies_to_count": args.e164_count,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
