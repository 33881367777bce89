"""Measure how many SendSms requests of 200 numbers per second the sandbox answers.

Run: ``.venv/bin/python tests/sandbox/measure_throughput.py [--seconds 10] [--processes 2] [--threads 4]
[--client requests|http.client]``. The sandbox runs in this process; the clients (one keep-alive connection
per thread, every request freshly signed and its 200 statuses checked) run in other processes so that they
do not compete with the server for its interpreter lock. ``requests`` clients are what the provider uses;
``http.client`` ones cost less CPU, leaving more of a small machine to the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import threading
import time
from collections.abc import Callable

import requests

from airflow_provider_tencent_sms.sandbox import Sandbox
from airflow_provider_tencent_sms.signing import Credentials, Tc3Auth, sign

NUMBERS = [f"+86138{i:08d}" for i in range(200)]
HEADERS = {
    "Content-Type": "application/json",
    "X-TC-Action": "SendSms",
    "X-TC-Version": "2021-01-11",
    "X-TC-Region": "ap-guangzhou",
}


def _requests_sender(url: str, credentials: Credentials, body: bytes) -> Callable[[], bytes]:
    session = requests.Session()
    session.auth = Tc3Auth(credentials)
    return lambda: session.post(url, data=body, headers=HEADERS, timeout=10).content


def _http_client_sender(url: str, credentials: Credentials, body: bytes) -> Callable[[], bytes]:
    host = url.removeprefix("http://").rstrip("/")
    connection = http.client.HTTPConnection(host, timeout=10)

    def send() -> bytes:
        timestamp = int(time.time())
        signed = sign(
            credentials,
            service="sms",
            timestamp=timestamp,
            payload=body,
            headers={"content-type": HEADERS["Content-Type"], "host": host},
        )
        headers = {
            **HEADERS,
            "Host": host,
            "X-TC-Timestamp": str(timestamp),
            "Authorization": signed.authorization,
        }
        connection.request("POST", "/", body, headers)
        return connection.getresponse().read()

    return send


def _client(url: str, secret_id: str, secret_key: str, kind: str, seconds: float, threads: int) -> int:
    body = json.dumps(
        {
            "PhoneNumberSet": NUMBERS,
            "SmsSdkAppId": "1400000000",
            "TemplateId": "1002",
            "SignName": "Airflow",
            "TemplateParamSet": ["bench", "a notification"],
        }
    ).encode()
    make_sender = _requests_sender if kind == "requests" else _http_client_sender
    credentials = Credentials(secret_id, secret_key)
    deadline = time.monotonic() + seconds
    counts = [0] * threads

    def run(index: int) -> None:
        send = make_sender(url, credentials, body)
        while time.monotonic() < deadline:
            answer = send()
            assert answer.count(b'"Code":"Ok"') == len(NUMBERS), answer[:300]
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
    parser.add_argument("--client", choices=["requests", "http.client"], default="requests")
    args = parser.parse_args()
    with Sandbox(max_messages=20_000) as sandbox:
        job = (
            sandbox.url + "/",
            sandbox.secret_id,
            sandbox.secret_key,
            args.client,
            args.seconds,
            args.threads,
        )
        with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
            results = pool.starmap(_client, [job] * args.processes)
        served = [r for r in sandbox.requests if r.outcome == "Ok"]
    # Rate over the requests' arrival times, so that starting the client processes does not count.
    window = served[-1].monotonic - served[0].monotonic
    print(
        f"{sum(results)} SendSms requests of 200 numbers with {args.processes}x{args.threads} keep-alive "
        f"{args.client} clients: {len(served) / window:.0f} requests/s ({len(served) * 200 / window:.0f} numbers/s)"
    )


if __name__ == "__main__":
    main()
