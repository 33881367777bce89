"""The benchmark endpoint's own capacity: how many 200-number SendSms requests a second it answers.

Run as ``.venv/bin/python bench/endpoint_capacity.py``; prints one JSON object. The load generator is as
lean as a client can be, so that it is not what limits: libcurl's multi interface (the provider's own
engine) re-sending one signed 200-number body (the signature stays valid for five minutes), a fixed number
in flight, a fixed number of requests. The endpoint still verifies every signature and builds every
answer. Loopback only, bounded in count and time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import orjson
from bulk_send import APP_ID, endpoint_process, recipients
from endpoint import SECRET_ID, SECRET_KEY

from airflow_provider_tencent_sms.connection import Transport
from airflow_provider_tencent_sms.engine import CurlEngine
from airflow_provider_tencent_sms.signing import Credentials, Tc3Signer

REQUESTS = 20_000
TIME_LIMIT = 30.0


def load(url: str, ca_path: str | None, in_flight: int, count: int) -> dict[str, Any]:
    host = url.partition("://")[2]
    transport = Transport(url + "/", host, ca_path or True, None, 5.0, 30.0)
    body = orjson.dumps(
        {
            "PhoneNumberSet": recipients(200),
            "SmsSdkAppId": APP_ID,
            "TemplateId": "1002",
            "TemplateParamSet": ["Bench", "hello"],
        }
    )
    signed = Tc3Signer(Credentials(SECRET_ID, SECRET_KEY)).headers(body, host)
    headers = [
        "Content-Type: application/json",
        "X-TC-Action: SendSms",
        "X-TC-Version: 2021-01-11",
        "Expect:",
        *(f"{k}: {v}" for k, v in signed.items()),
    ]
    engine = CurlEngine(transport, in_flight)
    started = done = failed = 0
    begin = time.perf_counter()
    deadline = begin + TIME_LIMIT
    while done < count and time.perf_counter() < deadline:
        while engine.in_flight < in_flight and started < count:
            engine.start(started, body, headers)
            started += 1
        for reply in engine.poll(0.01):
            done += 1
            failed += reply.status != 200 or b'"Error"' in reply.body[:200]
    seconds = time.perf_counter() - begin
    engine.close()
    return {"requests": done, "failed": failed, "seconds": seconds, "requests_per_second": done / seconds}


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
    json.dump({"processes": 2, "runs": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
