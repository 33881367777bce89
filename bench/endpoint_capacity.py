"""The benchmark endpoint's own capacity, and what each HTTP client design costs per request.

Run as ``.venv/bin/python bench/endpoint_capacity.py``; prints one JSON object. The load generator is as
lean as a client can be, so that it is not what limits: libcurl's multi interface (the provider's own
engine) re-sending one signed 200-number body (the signature stays valid for five minutes), a fixed number
in flight, a fixed number of requests. The endpoint still verifies every signature and builds every
answer. Loopback only, bounded in count and time.

Then the same signed request through two client designs, measured by their CPU time per request (the
figure a shared machine does not distort much): libcurl multi on one thread, as the bulk sender uses it,
and ``requests`` sessions on 16 threads, as the sender of 0.1.0 did.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import orjson
from bulk_send import APP_ID, endpoint_process, in_threads, recipients
from endpoint import SECRET_ID, SECRET_KEY

from airflow_provider_tencent_sms.connection import Transport
from airflow_provider_tencent_sms.engine import CurlEngine
from airflow_provider_tencent_sms.signing import Credentials, Tc3Signer

REQUESTS = 20_000
CLIENT_REQUESTS = 4_000
TIME_LIMIT = 30.0


def signed_request(url: str) -> tuple[bytes, dict[str, str]]:
    host = url.partition("://")[2]
    body = orjson.dumps(
        {
            "PhoneNumberSet": recipients(200),
            "SmsSdkAppId": APP_ID,
            "TemplateId": "1002",
            "TemplateParamSet": ["Bench", "hello"],
        }
    )
    headers = {"Content-Type": "application/json", "X-TC-Action": "SendSms", "X-TC-Version": "2021-01-11"}
    headers.update(Tc3Signer(Credentials(SECRET_ID, SECRET_KEY)).headers(body, host))
    return body, headers


def load(url: str, ca_path: str | None, in_flight: int, count: int) -> dict[str, Any]:
    """libcurl multi, one thread: the bulk sender's engine with nothing else around it."""
    transport = Transport(url + "/", url.partition("://")[2], ca_path or True, None, 5.0, 30.0)
    body, fields = signed_request(url)
    headers = [*(f"{k}: {v}" for k, v in fields.items()), "Expect:"]
    engine = CurlEngine(transport, in_flight)
    started = done = failed = 0
    cpu = time.process_time()
    begin = time.perf_counter()
    deadline = begin + TIME_LIMIT
    while done < count and time.perf_counter() < deadline:
        while engine.in_flight < in_flight and started < count:
            engine.start(started, body, headers)
            started += 1
        for reply in engine.poll(0.01):
            done += 1
            failed += reply.status != 200 or b'"Error"' in reply.body[:200]
    seconds, cpu = time.perf_counter() - begin, time.process_time() - cpu
    engine.close()
    return {
        "requests": done,
        "failed": failed,
        "seconds": seconds,
        "requests_per_second": done / seconds,
        "client_cpu_ms_per_request": 1000 * cpu / done,
    }


def requests_threads(url: str, ca_path: str | None, threads: int, count: int) -> dict[str, Any]:
    """``requests`` sessions on ``threads`` threads, each posting the same signed request."""
    import threading

    import requests

    body, headers = signed_request(url)
    left = [count]
    lock = threading.Lock()
    failed = [0]

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            answer = session.post(url + "/", data=body, headers=headers, verify=ca_path or True, timeout=30)
            answer.json()
            if answer.status_code != 200:
                with lock:
                    failed[0] += 1

    seconds, cpu = in_threads(worker, threads)
    return {
        "requests": count,
        "failed": failed[0],
        "requests_per_second": count / seconds,
        "client_cpu_ms_per_request": 1000 * cpu / count,
    }


def main() -> None:
    results = []
    for latency, tls, in_flight in ((0, False, 128), (0, True, 128), (200, False, 1000)):
        with endpoint_process(latency, tls) as endpoint:
            result = load(endpoint.url, endpoint.ca_path, in_flight, REQUESTS)
            result.update(
                latency_ms=latency,
                protocol="https" if tls else "http",
                in_flight=in_flight,
                server_requests=endpoint.stats()["requests"],
            )
            results.append(result)
    clients = []
    for tls in (False, True):
        with endpoint_process(0, tls) as endpoint:
            for name, run in (
                (
                    "libcurl multi, 1 thread, 64 in flight",
                    lambda: load(endpoint.url, endpoint.ca_path, 64, CLIENT_REQUESTS),
                ),
                (
                    "requests, 16 threads",
                    lambda: requests_threads(endpoint.url, endpoint.ca_path, 16, CLIENT_REQUESTS),
                ),
            ):
                clients.append({"client": name, "protocol": "https" if tls else "http", **run()})
    json.dump({"processes": 2, "runs": results, "clients": clients}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
