"""Bulk send: SendSmsOperator against the official SDK, same batches, same sandbox, same run.

Run as ``.venv/bin/python bench/bulk_send.py``. The sandbox runs as its own process (so the CPU time
measured here is the client's alone) with a fixed latency per request. Each round sends 100,000 unique
recipients twice: through ``SendSmsOperator.execute`` (its real code path: normalise, plan, ledger,
concurrent requests under the rate cap) and through the official ``tencentcloud-sdk-python-sms`` client
sending the same 200-number batches one after another. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from airflow_provider_tencent_sms.task_state import InMemoryTaskState

SECRET_ID = "AKIDbench0000000000000000000000000000"
SECRET_KEY = "bench-secret-key"
APP_ID = "1400000000"
TEMPLATE = ("1002", ["Bench", "hello"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def sandbox_process(latency_ms: int) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_tencent_sms.sandbox",
            "--port",
            str(port),
            "--quiet",
            "--secret-id",
            SECRET_ID,
            "--secret-key",
            SECRET_KEY,
            "--latency-ms",
            str(latency_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/_sandbox/messages", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def inbox_count(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_sandbox/messages", timeout=60) as answer:
        return len(json.load(answer))


def clear_inbox(url: str) -> None:
    urllib.request.urlopen(
        urllib.request.Request(f"{url}/_sandbox/messages", method="DELETE"), timeout=10
    ).close()


def recipients(count: int) -> list[str]:
    return [f"+86138{i:08d}" for i in range(count)]


def use_sandbox(url: str) -> None:
    os.environ["AIRFLOW_CONN_TENCENT_SMS_DEFAULT"] = json.dumps(
        {
            "conn_type": "tencent_sms",
            "login": SECRET_ID,
            "password": SECRET_KEY,
            "host": url,
            "extra": {"sms_sdk_app_id": APP_ID, "sign_name": "Airflow"},
        }
    )


def send_with_operator(url: str, numbers: list[str], **options: Any) -> Callable[[], int]:
    """Build the operator (DAG-parse work, not measured) and return its execution."""
    from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

    use_sandbox(url)
    operator = SendSmsOperator(
        task_id="bench",
        phone_numbers=numbers,
        template_id=TEMPLATE[0],
        template_params=TEMPLATE[1],
        **options,
    )

    def execute() -> int:
        summary = operator.execute({"task_state_store": InMemoryTaskState()})  # type: ignore[arg-type]
        return int(summary["requests"])

    return execute


def send_with_sdk(url: str, numbers: list[str]) -> int:
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import models, sms_client

    http = HttpProfile(endpoint=url.removeprefix("http://"), protocol="http")
    client = sms_client.SmsClient(
        credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", ClientProfile(httpProfile=http)
    )
    requests = 0
    for start in range(0, len(numbers), 200):
        request = models.SendSmsRequest()
        request.PhoneNumberSet = numbers[start : start + 200]
        request.SmsSdkAppId = APP_ID
        request.TemplateId = TEMPLATE[0]
        request.SignName = "Airflow"
        request.TemplateParamSet = TEMPLATE[1]
        client.SendSms(request)
        requests += 1
    return requests


def measure(run: Callable[[], int]) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    requests = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"seconds": wall, "cpu_seconds": cpu, "requests": requests}


def summarise(runs: list[dict[str, float]], recipients_count: int) -> dict[str, Any]:
    seconds = [r["seconds"] for r in runs]
    cpu_ms = [1000 * r["cpu_seconds"] / r["requests"] for r in runs]
    return {
        "numbers_per_second": recipients_count / statistics.median(seconds),
        "seconds_median": statistics.median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "cpu_ms_per_request_median": statistics.median(cpu_ms),
        "cpu_ms_per_request_min": min(cpu_ms),
        "cpu_ms_per_request_max": max(cpu_ms),
        "runs": runs,
    }


def bench(latency_ms: int, count: int, rounds: int) -> dict[str, Any]:
    numbers = recipients(count)
    ours: list[dict[str, float]] = []
    sdk: list[dict[str, float]] = []
    with sandbox_process(latency_ms) as url:
        # Warm up both clients (imports, connection set-up) outside the measured runs.
        send_with_operator(url, numbers[:400])()
        send_with_sdk(url, numbers[:400])
        for _ in range(rounds):
            for name, runs, run in (
                ("operator", ours, send_with_operator(url, numbers)),
                ("sdk", sdk, lambda: send_with_sdk(url, numbers)),
            ):
                clear_inbox(url)
                runs.append(measure(run))
                received = inbox_count(url)
                if received != count:
                    raise SystemExit(f"{name} delivered {received} of {count} messages")
    result = {"operator": summarise(ours, count), "sdk": summarise(sdk, count)}
    result["speedup"] = result["sdk"]["seconds_median"] / result["operator"]["seconds_median"]
    result["cpu_ratio"] = (
        result["operator"]["cpu_ms_per_request_median"] / result["sdk"]["cpu_ms_per_request_median"]
    )
    return result


def rate_cap(cap: float, requests: int) -> dict[str, Any]:
    """Send ``requests`` single-number requests under a cap; measure the rate the sandbox saw."""
    from datetime import datetime

    with sandbox_process(0) as url:
        personal = [
            {"phone_number": n, "template_params": [str(i), "x"]} for i, n in enumerate(recipients(requests))
        ]
        from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

        use_sandbox(url)
        operator = SendSmsOperator(
            task_id="cap", recipients=personal, template_id=TEMPLATE[0], max_requests_per_second=cap
        )
        operator.execute({"task_state_store": InMemoryTaskState()})  # type: ignore[arg-type]
        with urllib.request.urlopen(f"{url}/_sandbox/messages", timeout=60) as answer:
            times = sorted(datetime.fromisoformat(m["received_at"]).timestamp() for m in json.load(answer))
    rate = (len(times) - 1) / (times[-1] - times[0])
    return {
        "cap": cap,
        "requests": len(times),
        "measured_rate": rate,
        "over_cap_percent": 100 * (rate / cap - 1),
    }


def main() -> None:
    # A throwaway Airflow home: the operator runs outside Airflow here and needs no metadata DB.
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="tencent-sms-bench-"))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # Airflow's task logging writes to file descriptor 1: send it to stderr, keeping stdout for the result.
    result_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    result = {
        "latency_20ms": bench(20, args.recipients, args.rounds),
        "latency_0ms": bench(0, args.recipients, args.rounds),
        "rate_cap": rate_cap(100.0, 300),
    }
    sys.stdout.flush()
    json.dump(result, result_out, indent=2)
    result_out.write("\n")
    result_out.close()


if __name__ == "__main__":
    main()
