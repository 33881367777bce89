"""``tencent-sms-sandbox``: run the sandbox until interrupted, printing how to connect to it."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import shlex
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from .frequency import FrequencyLimits
from .sandbox import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, DEFAULT_SMS_SDK_APP_ID, DEFAULT_TIMEZONE, Sandbox

INDIVIDUAL_PARAM_LENGTH_LIMIT = 12
#: Receipts take a few seconds on the command line, as a reminder that they are not instant.
DEFAULT_RECEIPT_LAG = 3.0
#: Not 8080, the port of Airflow's api-server, which often runs next to the sandbox.
DEFAULT_PORT = 8086


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tencent-sms-sandbox",
        description="A local Tencent-Cloud-SMS-compatible API server (TC3-HMAC-SHA256, API 2021-01-11 and "
        "2019-07-11). The inbox is at /_sandbox/.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument("--secret-id", default=DEFAULT_SECRET_ID, help="the SecretId to accept")
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY, help="the SecretKey to accept")
    parser.add_argument(
        "--sms-sdk-app-id",
        default=DEFAULT_SMS_SDK_APP_ID,
        help="the SmsSdkAppId to accept (default: %(default)s)",
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every API answer")
    parser.add_argument(
        "--templates", metavar="FILE", help="JSON file of signatures and templates (see the docs)"
    )
    parser.add_argument(
        "--param-length-limit",
        type=int,
        nargs="?",
        const=INDIVIDUAL_PARAM_LENGTH_LIMIT,
        metavar="N",
        help=f"refuse template parameters over N characters (alone: {INDIVIDUAL_PARAM_LENGTH_LIMIT}, the limit "
        "of individual accounts); no limit by default, as for enterprise accounts",
    )
    parser.add_argument(
        "--frequency-limits",
        action="store_true",
        help="enforce per-number limits (1 per 30 s, 5 per hour, 10 per day, 3 identical per day)",
    )
    parser.add_argument(
        "--timezone",
        default=DEFAULT_TIMEZONE,
        help="zone of the 08:00-22:00 marketing window (default: %(default)s)",
    )
    parser.add_argument(
        "--receipt-lag",
        type=float,
        default=DEFAULT_RECEIPT_LAG,
        metavar="SECONDS",
        help="delay from accepting a message to its delivery receipt (default: %(default)s)",
    )
    parser.add_argument(
        "--action-rate-limits",
        action="store_true",
        help="answer RequestLimitExceeded over each action's documented rate limit (e.g. 20/s by number)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a test CA made at start (its path is printed)"
    )
    return parser


def _banner(sandbox: Sandbox) -> str:
    connection = json.loads(sandbox.connection_json())
    custom_key = sandbox.secret_key != DEFAULT_SECRET_KEY
    if custom_key:
        # Only the well-known default key is ever printed.
        connection["password"] = "<your --secret-key>"  # noqa: S105 - a placeholder, not a secret
    lines = [
        f"Tencent Cloud SMS sandbox listening on {sandbox.url}",
        f"  SecretId:     {sandbox.secret_id}",
        f"  SecretKey:    {'(as given with --secret-key)' if custom_key else sandbox.secret_key}",
        f"  SmsSdkAppId:  {sandbox.sms_sdk_app_id}",
        f"  Signature:    {sandbox.sign_name or '(none)'}",
        f"  Inbox:        {sandbox.url}/_sandbox/",
        *(
            [
                f"  CA bundle:    {sandbox.ca_path} (trust it: connection extra ca_bundle or REQUESTS_CA_BUNDLE)"
            ]
            if sandbox.ca_path
            else []
        ),
        "Point Airflow at it with:",
        f"  export AIRFLOW_CONN_TENCENT_SMS_DEFAULT={shlex.quote(json.dumps(connection))}",
    ]
    return "\n".join(lines)


def _startup_problem(exc: Exception, host: str, port: int) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another sandbox, an Airflow api-server or some other "
            "server): choose another with --port N, or --port 0 for a free one"
        )
    return str(exc)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        sandbox = Sandbox(
            secret_id=args.secret_id,
            secret_key=args.secret_key,
            host=args.host,
            port=args.port,
            latency_ms=args.latency_ms,
            templates=args.templates,
            param_length_limit=args.param_length_limit,
            frequency_limits=FrequencyLimits() if args.frequency_limits else None,
            sms_sdk_app_id=args.sms_sdk_app_id,
            timezone=args.timezone,
            log_requests=not args.quiet,
            receipt_lag=args.receipt_lag,
            action_rate_limits=args.action_rate_limits,
            tls=args.tls,
        )
        sandbox.start()
    except (ValueError, OSError) as exc:
        print(f"tencent-sms-sandbox: {_startup_problem(exc, args.host, args.port)}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(_banner(sandbox), flush=True)
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
