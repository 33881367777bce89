"""``make bench``: runs every benchmark, writes ``bench/results/latest.json`` and ``latest.md``.

Each figure is measured side by side with its baseline in the same run (these machines are noisy) and
reported as a median with its spread. The markdown table is what the docs' performance page shows.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results"
BENCHMARKS = ("bulk_send", "prepare", "import_cost", "signing")


def run(name: str) -> dict[str, Any]:
    started = time.monotonic()
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    # Each benchmark imports Airflow: give it a throwaway home, never the user's (or ~/airflow).
    with tempfile.TemporaryDirectory(prefix="tencent-sms-bench-") as airflow_home:
        output = subprocess.run(
            [sys.executable, str(HERE / f"{name}.py")],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "AIRFLOW_HOME": airflow_home},
        ).stdout
    result: dict[str, Any] = json.loads(output)
    print(f"bench: {name} done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return result


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def goal(ok: bool) -> str:
    return "met" if ok else "**missed**"


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    bulk, prep = results["bulk_send"], results["prepare"]
    imp, sig = results["import_cost"], results["signing"]
    lines = [
        f"Measured on {m['cpu']} ({m['cores']} cores), Python {m['python']}, {m['date']}.",
        "",
        "| Benchmark | Ours | Baseline (same run) | Ratio | Goal |",
        "|---|---|---|---|---|",
    ]
    for key, label in (("latency_20ms", "20 ms"), ("latency_0ms", "0 ms")):
        b = bulk[key]
        o, s = b["operator"], b["sdk"]
        lines.append(
            f"| Bulk send, 100,000 recipients, {label} latency: numbers/s (median, min–max s) | "
            f"{o['numbers_per_second']:,.0f} ({o['seconds_min']:.2f}–{o['seconds_max']:.2f} s) | "
            f"official SDK, sequential: {s['numbers_per_second']:,.0f} ({s['seconds_min']:.2f}–{s['seconds_max']:.2f} s) | "
            f"{b['speedup']:.1f}x | "
            + (f"≥ 10x: {goal(b['speedup'] >= 10)}" if key == "latency_20ms" else "—")
            + " |"
        )
        lines.append(
            f"| Client CPU per request, {label} latency (ms, median) | {o['cpu_ms_per_request_median']:.2f} | "
            f"{s['cpu_ms_per_request_median']:.2f} | {b['cpu_ratio']:.2f} | ≤ SDK: {goal(b['cpu_ratio'] <= 1)} |"
        )
    cap = bulk["rate_cap"]
    lines.append(
        f"| Rate cap {cap['cap']:.0f} requests/s, rate seen by the server | {cap['measured_rate']:.1f}/s | "
        f"— | {cap['over_cap_percent']:+.1f} % | within +5 %: {goal(cap['over_cap_percent'] <= 5)} |"
    )
    lines.append(
        f"| Prepare 1,000,000 E.164 recipients (normalise, dedupe, batch) | {prep['e164_seconds']:.2f} s, "
        f"{prep['e164_peak_rss_mb']:.0f} MB peak RSS | — | — | ≤ 2 s, ≤ 300 MB: "
        f"{goal(prep['e164_seconds'] <= 2 and prep['e164_peak_rss_mb'] <= 300)} |"
    )
    if "mixed_seconds_per_million_extrapolated" in prep:
        lines.append(
            f"| Prepare mixed local formats (phonenumbers), per million | {prep['mixed_seconds_per_million_extrapolated']:.1f} s (extrapolated) | "
            "— | — | — |"
        )
    lines.append(
        f"| Import operator + notifier after `airflow.sdk` | {imp['extra_import_ms_median']:.0f} ms "
        f"({imp['extra_import_ms_min']:.0f}–{imp['extra_import_ms_max']:.0f}); network/DB events: "
        f"{len(imp['io_events'])} | — | — | ≤ 60 ms, none: "
        f"{goal(imp['extra_import_ms_median'] <= 60 and not imp['io_events'])} |"
    )
    lines.append(
        f"| Signature, HMAC chain (µs) | {sig['hmac_chain_ours_us']['median']:.1f} | "
        f"SDK `sign_tc3`: {sig['hmac_chain_sdk_us']['median']:.1f} | {sig['hmac_chain_ratio']:.2f} | — |"
    )
    lines.append(
        f"| Signature, whole (canonical request + chain, {sig['payload_bytes']} B body) (µs) | "
        f"{sig['full_signature_ours_us']['median']:.1f} | — | — | — |"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    results: dict[str, Any] = {"machine": machine()}
    for name in BENCHMARKS:
        results[name] = run(name)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (RESULTS / "latest.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
