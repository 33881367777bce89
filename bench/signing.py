"""Signing cost: microseconds per TC3-HMAC-SHA256 signature, ours against the official SDK's signer.

Two comparisons on the same inputs (a SendSms body of 200 numbers): the HMAC chain alone (the SDK's
``Sign.sign_tc3`` against ours), and our whole signature (canonical request, hashes, chain). Median of
several timeit repeats. Run as ``.venv/bin/python bench/signing.py``; prints one JSON object.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import statistics
import sys
import timeit

from tencentcloud.common.sign import Sign

from airflow_provider_tencent_sms.signing import Credentials, derive_signing_key, sign

REPEATS = 7
NUMBER = 5000
CREDENTIALS = Credentials("AKIDbench", "bench-secret-key")
TIMESTAMP = 1_764_000_000
DATE = "2025-11-24"
PAYLOAD = json.dumps(
    {
        "PhoneNumberSet": [f"+86138{i:08d}" for i in range(200)],
        "TemplateId": "1002",
        "TemplateParamSet": ["a", "b"],
    }
).encode()
HEADERS = {"content-type": "application/json", "host": "sms.tencentcloudapi.com"}
STRING_TO_SIGN = sign(
    CREDENTIALS, service="sms", timestamp=TIMESTAMP, payload=PAYLOAD, headers=HEADERS
).string_to_sign


def ours_chain() -> str:
    _, _, key = derive_signing_key(CREDENTIALS.secret_key, DATE, "sms")
    return hmac.new(key, STRING_TO_SIGN.encode(), hashlib.sha256).hexdigest()


def sdk_chain() -> str:
    return str(Sign.sign_tc3(CREDENTIALS.secret_key, DATE, "sms", STRING_TO_SIGN))


def ours_full() -> str:
    return sign(CREDENTIALS, service="sms", timestamp=TIMESTAMP, payload=PAYLOAD, headers=HEADERS).signature


def microseconds(function: object) -> dict[str, float]:
    times = [t / NUMBER * 1e6 for t in timeit.repeat(function, number=NUMBER, repeat=REPEATS)]  # type: ignore[arg-type]
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def main() -> None:
    assert ours_chain() == sdk_chain() == ours_full(), "signers disagree"
    chain_ours, chain_sdk = microseconds(ours_chain), microseconds(sdk_chain)
    result = {
        "hmac_chain_ours_us": chain_ours,
        "hmac_chain_sdk_us": chain_sdk,
        "hmac_chain_ratio": chain_ours["median"] / chain_sdk["median"],
        "full_signature_ours_us": microseconds(ours_full),
        "payload_bytes": len(PAYLOAD),
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
