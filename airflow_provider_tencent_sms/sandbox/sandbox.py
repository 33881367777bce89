"""The sandbox as a Python object: start it in a background thread, send to it, read its inbox."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterable
from os import PathLike
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..signing import Credentials
from .api import Api
from .context import Context, Settings
from .delivery import FAIL, DeliveryRule
from .faults import Fault
from .frequency import FrequencyLimits
from .replies import new_reply
from .server import SandboxServer
from .store import RequestRecord
from .templates import Registry
from .tls import TestCertificates

# Well-known, printed at start: the sandbox guards nothing, so its credentials are not secret.
DEFAULT_SECRET_ID = "AKIDsandbox00000000000000000000000000"  # noqa: S105
DEFAULT_SECRET_KEY = "sandbox-secret-key-00000000000000"  # noqa: S105
DEFAULT_SMS_SDK_APP_ID = "1400000000"
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_MAX_MESSAGES = 100_000


class Sandbox:
    """A local Tencent-Cloud-SMS-compatible API server.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`)::

        with Sandbox() as sandbox:
            ...  # point a client at sandbox.url with sandbox.secret_id / sandbox.secret_key
            assert sandbox.messages[0]["phone_number"] == "+8613800138000"

    :param secret_id: the only SecretId accepted.
    :param secret_key: its SecretKey.
    :param host: the address to listen on; loopback by default.
    :param port: the port; 0 picks a free one.
    :param latency_ms: delay added to every API answer.
    :param templates: the approved signatures and templates: a :class:`Registry`, its JSON document as a dict,
        or the path of a JSON file; the default registry if None.
    :param param_length_limit: the most characters a template parameter may have (12 for individual
        accounts); None for no limit, as for enterprise accounts.
    :param frequency_limits: per-number limits; True for the defaults, None/False for none.
    :param sms_sdk_app_id: the only SMS application id accepted.
    :param timezone: the zone of the marketing window (08:00-22:00), of "daily" and of statistics' hours.
    :param max_messages: how many messages, receipts and request records are kept (oldest dropped first).
    :param log_requests: log one line per API request (action, version, outcome) at INFO level.
    :param receipt_lag: seconds from accepting a message to its delivery receipt (0: at once);
        :meth:`set_delivery` changes it, and the outcome, for chosen numbers.
    :param action_rate_limits: answer ``RequestLimitExceeded`` over each action's documented rate limit
        (SendSms 3000/s, PullSmsSendStatus 100/s, PullSmsSendStatusByPhoneNumber 20/s, statistics 10/s...).
    :param tls: serve HTTPS, with a certificate from a test CA made for this sandbox (see :attr:`ca_path`).
    """

    def __init__(
        self,
        *,
        secret_id: str = DEFAULT_SECRET_ID,
        secret_key: str = DEFAULT_SECRET_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        templates: Registry | dict[str, Any] | str | PathLike[str] | None = None,
        param_length_limit: int | None = None,
        frequency_limits: FrequencyLimits | bool | None = None,
        sms_sdk_app_id: str = DEFAULT_SMS_SDK_APP_ID,
        timezone: str = DEFAULT_TIMEZONE,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        log_requests: bool = False,
        receipt_lag: float = 0.0,
        action_rate_limits: bool = False,
        tls: bool = False,
    ) -> None:
        if receipt_lag < 0:
            raise ValueError(f"receipt_lag must be >= 0 seconds, got {receipt_lag!r}")
        if latency_ms < 0 or max_messages < 1 or (param_length_limit is not None and param_length_limit < 1):
            raise ValueError("latency_ms must be >= 0, max_messages and param_length_limit >= 1")
        if isinstance(templates, Registry):
            registry = templates
        elif isinstance(templates, dict):
            registry = Registry.from_json(templates)
        elif templates is not None:
            registry = Registry.load(templates)
        else:
            registry = Registry.default()
        if frequency_limits is True:
            frequency_limits = FrequencyLimits()
        settings = Settings(
            credentials=Credentials(secret_id, secret_key),
            sms_sdk_app_id=sms_sdk_app_id,
            registry=registry,
            param_length_limit=param_length_limit,
            frequency_limits=frequency_limits or None,
            zone=_zone(timezone),
            latency_ms=latency_ms,
            max_messages=max_messages,
            log_requests=log_requests,
            receipt_lag=float(receipt_lag),
            action_rate_limits=action_rate_limits,
        )
        self._ctx = Context.create(settings)
        self._address = (host, port)
        self._tls = tls
        self._certificates: TestCertificates | None = None
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = self.url if self._server else "stopped"
        return f"Sandbox({state}, secret_id={self.secret_id!r})"

    # --- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Listen and serve in a background thread; returns once requests are accepted."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        context = None
        if self._tls:
            if self._certificates is None:
                self._tls_dir = tempfile.TemporaryDirectory(prefix="tencent-sms-sandbox-tls-")
                self._certificates = TestCertificates.create(self._tls_dir.name)
            context = self._certificates.server_context()
        self._server = SandboxServer(self._address, Api(self._ctx), context)
        # stop() waits for one poll interval: keep it short so that per-test sandboxes stop quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="tencent-sms-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket and open connections."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        thread.join()
        self._server = self._thread = None
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = self._certificates = None

    def wait(self) -> None:
        """Block until the sandbox is stopped (or the process interrupted)."""
        while self._thread is not None and self._thread.is_alive():
            # A timeout keeps the main thread responsive to Ctrl-C.
            self._thread.join(0.5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- where and how to connect -----------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._address[0]

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The endpoint, e.g. ``http://127.0.0.1:8080``; a wildcard bind is reached through loopback."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self._tls else 'http'}://{host}:{self.port}"

    @property
    def ca_path(self) -> str | None:
        """The test CA's certificate (PEM) that HTTPS clients must trust; None without ``tls``."""
        return str(self._certificates.ca_path) if self._certificates is not None else None

    @property
    def secret_id(self) -> str:
        return self._ctx.settings.credentials.secret_id

    @property
    def secret_key(self) -> str:
        return self._ctx.settings.credentials.secret_key

    @property
    def sms_sdk_app_id(self) -> str:
        return self._ctx.settings.sms_sdk_app_id

    @property
    def sign_name(self) -> str | None:
        """The first approved signature, the one the connection from :meth:`connection_json` uses."""
        signatures = self._ctx.settings.registry.signatures
        return signatures[0] if signatures else None

    def connection_json(self) -> str:
        """The value of ``AIRFLOW_CONN_TENCENT_SMS_DEFAULT`` that points the provider at this sandbox."""
        extra: dict[str, str] = {"region": DEFAULT_REGION, "sms_sdk_app_id": self.sms_sdk_app_id}
        if self.sign_name:
            extra["sign_name"] = self.sign_name
        if self.ca_path:
            extra["ca_bundle"] = self.ca_path
        return json.dumps(
            {
                "conn_type": "tencent_sms",
                "login": self.secret_id,
                "password": self.secret_key,
                "host": self.url,
                "extra": extra,
            }
        )

    # --- what it received -------------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, object]]:
        """The accepted messages, oldest first, as in ``GET /_sandbox/messages`` (a snapshot)."""
        return [d.to_json() for d in self._ctx.store.messages()]

    @property
    def requests(self) -> list[RequestRecord]:
        """The API requests received, oldest first (a snapshot)."""
        return self._ctx.store.requests()

    # --- replies from recipients -------------------------------------------------------------------------

    def add_reply(
        self,
        phone_number: str,
        content: str,
        *,
        reply_time: float | None = None,
        sign_name: str | None = None,
        extend_code: str = "",
    ) -> dict[str, object]:
        """Make ``phone_number`` (E.164) reply ``content``, as PullSmsReplyStatus* will report it.

        :param reply_time: Unix seconds; now by default.
        :param sign_name: the signature the reply answers; the first approved one by default.
        :returns: the reply as ``GET /_sandbox/replies`` lists it.
        """
        reply = new_reply(
            phone_number,
            content,
            reply_time=time.time() if reply_time is None else reply_time,
            sign_name=self.sign_name if sign_name is None else sign_name,
            extend_code=extend_code,
        )
        self._ctx.store.add_reply(reply)
        return reply.to_json()

    @property
    def replies(self) -> list[dict[str, object]]:
        """Every reply added, oldest first, whether pulled already or not (a snapshot)."""
        return [r.to_json() for r in self._ctx.store.replies()]

    def clear(self) -> None:
        """Forget messages, delivery receipts, replies, statistics, the request log and frequency history."""
        self._ctx.clear()

    # --- faults -----------------------------------------------------------------------------------------

    def add_fault(
        self,
        *,
        code: str | None = None,
        message: str | None = None,
        recipient_code: str | None = None,
        phone_numbers: Iterable[str] = (),
        http_status: int | None = None,
        body: str | None = None,
        process: bool = False,
        latency_ms: int = 0,
        drop_connection: bool = False,
        fee: int | None = None,
        drop_before_send: bool = False,
        action: str | None = "SendSms",
        after: int = 0,
        count: int | None = None,
    ) -> Fault:
        """Make matching requests fail; see :class:`Fault` for the options. Returns the fault with its id."""
        if isinstance(phone_numbers, str):
            raise ValueError("phone_numbers must be a collection of numbers, not one string")
        fault = Fault(
            code=code,
            message=message,
            recipient_code=recipient_code,
            phone_numbers=frozenset(phone_numbers),
            http_status=http_status,
            body=body,
            process=process,
            latency_ms=latency_ms,
            drop_connection=drop_connection,
            fee=fee,
            drop_before_send=drop_before_send,
            action=action,
            after=after,
            count=count,
        )
        return self._ctx.faults.add(fault)

    @property
    def faults(self) -> list[Fault]:
        """The active faults (used-up ones are removed)."""
        return self._ctx.faults.faults()

    def clear_faults(self) -> None:
        self._ctx.faults.clear()

    # --- delivery receipts ------------------------------------------------------------------------------

    def set_delivery(
        self,
        pattern: str,
        status: str | None = FAIL,
        description: str | None = None,
        delay: float | None = None,
    ) -> DeliveryRule:
        """Give the messages accepted from now on for numbers matching ``pattern`` another receipt.

        :param pattern: an E.164 number, or a glob such as ``+86138000000*``; the newest matching rule wins.
        :param status: ``FAIL``, ``SUCCESS``, or None for no receipt at all (the carrier never reports).
        :param description: the receipt's ``Description``; ``UNDELIV`` for FAIL, ``DELIVRD`` for SUCCESS.
        :param delay: seconds until the receipt appears; the sandbox's ``receipt_lag`` by default.
        """
        return self._ctx.deliveries.add(DeliveryRule(pattern, status, description, delay))

    @property
    def delivery_rules(self) -> list[DeliveryRule]:
        """The delivery rules, newest first."""
        return self._ctx.deliveries.rules()

    def clear_deliveries(self) -> None:
        """Drop every delivery rule: later messages are delivered after the receipt lag."""
        self._ctx.deliveries.clear()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'Asia/Shanghai'") from None
