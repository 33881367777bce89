"""Measure how many SendSms requests of 200 numbers per second the sandbox answers.

Run: ``.venv/bin/python tests/sandbox/measure_throughput.py [--seconds 10] [--processes 2] [--threads 4]``.
The sandbox runs in this process; clients (keep-alive ``requests.Session`` threads) run in other processes
so that they do not compete with the server for its interpreter lock.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import threading
import time

import requests

from airflow_provider_tencent_sms.sandbox import Sandbox
from airflow_provider_tencent_sms.signing import Credentials, Tc3Auth

NUMBERS = [f"+86138{i:08d}" for i in range(200)]


def _client(url: str, secret_id: str, secret_key: str, app_id: str, seconds: float, threads: int) -> int:
    body = json.dumps(
        {
            "PhoneNumberSet": NUMBERS,
            "SmsSdkAppId": app_id,
            "TemplateId": "1002",
            "SignName": "Airflow",
            "TemplateParamSet": ["bench", "a notification"],
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-TC-Action": "SendSms",
        "X-TC-Version": "2021-01-11",
        "X-TC-Region": "ap-guangzhou",
    }
    deadline = time.monotonic() + seconds
    counts = [0] * threads

    def run(index: int) -> None:
        session = requests.Session()
        session.auth = Tc3Auth(Credentials(secret_id, secret_key))
        while time.monotonic() < deadline:
            answer = session.post(url, data=body, headers=headers, timeout=10).json()["Response"]
            statuses = answer["SendStatusSet"]
            assert len(statuses) == 200 and all(s["Code"] == "Ok" for s in statuses), answer
            counts[index] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with Sandbox(max_messages=20_000) as sandbox:
        job = (sandbox.url + "/", sandbox.secret_id, sandbox.secret_key, sandbox.sms_sdk_app_id)
        with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
            started = time.monotonic()
            results = pool.starmap(_client, [(*job, args.seconds, args.threads)] * args.processes)
            elapsed = time.monotonic() - started
        served = [r for r in sandbox.requests if r.outcome == "Ok"]
        window = served[-1].monotonic - served[0].monotonic
    total = sum(results)
    print(
        f"{total} SendSms requests of 200 numbers in {elapsed:.1f} s with {args.processes}x{args.threads} "
        f"keep-alive clients: {total / elapsed:.0f} requests/s ({total * 200 / elapsed:.0f} numbers/s); "
        f"server-side rate {len(served) / window:.0f} requests/s"
    )


if __name__ == "__main__":
    main()
