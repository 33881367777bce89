"""TencentSmsHook: signed calls to the Tencent Cloud SMS API with typed results and errors."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any

import requests
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from requests.adapters import HTTPAdapter

from ..calls import (
    SendStatus,
    api_headers,
    encode,
    read_answer,
    requests_failure,
    send_sms_params,
    send_status_items,
    statuses,
)
from ..connection import (
    DEFAULT_CONN_ID,
    ConnectionConfig,
    Transport,
    missing_connection_error,
    parse_connection,
    transport,
)
from ..error_codes import WRONG_APP_ID_CODES
from ..exceptions import InvalidConnectionError, TencentSmsApiError, TencentSmsError
from ..pacing import Pacer
from ..phone import mask
from ..provider_ui import UI_FIELD_BEHAVIOUR, WIDGET_FIELDS
from ..replies import Reply
from ..signing import Credentials, Tc3Auth, Tc3Signer
from ..templates import Template, review_status
from .receipts import (
    PAGE_SIZE,
    RATE_MARGIN,
    RECEIPT_RATE_LIMITS,
    CallbackStatistics,
    Receipt,
    check_limit,
    history_range,
    hour_range,
    receipts_of,
)

log = logging.getLogger(__name__)

__all__ = ["SendStatus", "TencentSmsHook"]

#: A number that is well-formed but is never sent to: test_connection only asks about it.
_PROBE_NUMBER = "+8613800000000"
#: test_connection's read-only calls exist in this API version only.
_QUERY_VERSION = "2021-01-11"
#: SendStatusStatistics takes Beijing-time hours (UTC+8, no daylight saving time).
_BEIJING = timezone(timedelta(hours=8))
#: The most items Tencent's list and pull actions take or give per call.
#: At most this many pages of signatures per region are read (a large account has a few hundred).
_MAX_SIGN_PAGES = 20
#: Tencent's documented per-account limits (requests per second) of the template and reply actions.
_QUERY_RATE_LIMITS = {
    "DescribeSmsTemplateList": 20,
    "PullSmsReplyStatus": 100,
    "PullSmsReplyStatusByPhoneNumber": 20,
}


def _all_of_types(items: list[Any], allowed: tuple[type, ...]) -> bool:
    """A fast first check, run once per request: both ways run in C."""
    if allowed == (str,):
        # Joining raises TypeError at the first item that is not a str: 200 numbers in about 2 µs.
        try:
            "".join(items)
        except TypeError:
            return False
        return True
    return set(map(type, items)) <= set(allowed)


def _list_argument(
    value: object, name: str, allowed: tuple[type, ...], accepted: str, example: str
) -> list[Any]:
    """``value`` as a list, refusing a bare string and items whose type is not in ``allowed`` (nor bool).

    A string is iterable, so without this check ``"+8613900139000"`` would go out as 14 one-character
    numbers and ``"abc"`` as three parameters; ``None`` or a dict would go out as its text.
    """
    if isinstance(value, str | bytes):
        shown = value if isinstance(value, str) else value.decode(errors="replace")
        if name == "phone_numbers":
            shown = mask(shown)
        raise TypeError(
            f"{name} must be a list of {accepted}, not one {type(value).__name__} ({shown!r}), which would "
            f"be sent one character per item: pass e.g. {example}"
        )
    items: list[Any] = list(value)  # type: ignore[call-overload]
    if not _all_of_types(items, allowed):
        for position, item in enumerate(items):
            if not isinstance(item, allowed) or isinstance(item, bool):
                kind = "None (NoneType)" if item is None else f"of type {type(item).__name__}"
                raise TypeError(
                    f"{name}[{position}] is {kind}; each item must be a {accepted}: pass e.g. {example}"
                )
    return items


class TencentSmsHook(BaseHook):
    """
    Calls the Tencent Cloud SMS API with credentials from an Airflow connection.

    The connection's login is the SecretId, its password the SecretKey; the host is the endpoint
    (default ``sms.tencentcloudapi.com``). Extra keys: ``region``, ``sms_sdk_app_id``, ``sign_name``,
    ``api_version``, ``token``, ``language`` and ``timeout``.

    :param tencent_sms_conn_id: the Airflow connection to use.
    :param max_connections: the size of the HTTP connection pool, i.e. how many requests may be in flight
        at once through this hook.
    """

    conn_name_attr = "tencent_sms_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "tencent_sms"
    hook_name = "Tencent Cloud SMS"

    def __init__(
        self, tencent_sms_conn_id: str = default_conn_name, *, max_connections: int = 10, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.tencent_sms_conn_id = tencent_sms_conn_id
        self.max_connections = max_connections

    def __repr__(self) -> str:
        return f"TencentSmsHook(tencent_sms_conn_id={self.tencent_sms_conn_id!r})"

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Custom fields of the connection form, for Airflow 3.0/3.1 (3.2+ reads ``conn-fields``)."""
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import PasswordField, StringField

        widgets: dict[str, Any] = {}
        for name, label, sensitive in WIDGET_FIELDS:
            if sensitive:
                widgets[name] = PasswordField(lazy_gettext(label), widget=BS3PasswordFieldWidget())
            else:
                widgets[name] = StringField(lazy_gettext(label), widget=BS3TextFieldWidget())
        return widgets

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabelled and hidden standard fields, for Airflow 3.0/3.1 (3.2+ reads ``ui-field-behaviour``)."""
        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    @cached_property
    def config(self) -> ConnectionConfig:
        """The connection, read and checked on first use.

        :raises InvalidConnectionError: the connection is not defined or a field is wrong; the message
            says what to fix (no retry can fix it).
        """
        try:
            conn = self.get_connection(self.tencent_sms_conn_id)
        except AirflowNotFoundException:
            raise missing_connection_error(self.tencent_sms_conn_id) from None
        return self._read_config(conn)

    async def aconfig(self) -> ConnectionConfig:
        """Read the connection without blocking an event loop (for the triggerer); cached like ``config``."""
        if "config" not in self.__dict__:
            try:
                conn = await self.aget_connection(self.tencent_sms_conn_id)
            except AirflowNotFoundException:
                raise missing_connection_error(self.tencent_sms_conn_id) from None
            self.__dict__["config"] = self._read_config(conn)
        return self.config

    def _read_config(self, conn: Any) -> ConnectionConfig:
        config = parse_connection(
            conn_id=self.tencent_sms_conn_id,
            login=conn.login,
            password=conn.password,
            host=conn.host,
            port=conn.port,
            extra=conn.extra,
        )
        self._mask_secrets(config)
        return config

    @staticmethod
    def _mask_secrets(config: ConnectionConfig) -> None:
        try:
            from airflow.sdk.log import mask_secret
        except ImportError:  # pragma: no cover - older task SDKs
            return
        mask_secret(config.secret_key)
        if config.token:
            mask_secret(config.token)

    @cached_property
    def transport(self) -> Transport:
        """Endpoint, TLS, proxy and timeouts, resolved once: the same for every client of this hook."""
        return transport(self.config)

    @cached_property
    def signer(self) -> Tc3Signer:
        """The one signer of this hook's requests, whichever HTTP client sends them."""
        config = self.config
        return Tc3Signer(Credentials(config.secret_id, config.secret_key, config.token))

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session, its pool sized for ``max_connections`` concurrent requests."""
        settings = self.transport
        session = requests.Session()
        # Proxy and CA bundle resolved once (see ``transport``): requests would otherwise re-read the
        # whole environment on every request.
        session.proxies = {"http": settings.proxy, "https": settings.proxy} if settings.proxy else {}
        session.verify = settings.verify
        session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.max_connections, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.auth = Tc3Auth(self.signer)
        return session

    def get_conn(self) -> requests.Session:
        return self.session

    def close(self) -> None:
        if "session" in self.__dict__:
            self.session.close()
            del self.__dict__["session"]

    def call(self, action: str, params: dict[str, Any], *, version: str | None = None) -> dict[str, Any]:
        """
        Make one signed API call and return its ``Response`` object.

        :param action: the API action, e.g. ``SendSms``.
        :param params: the request parameters, with their wire names.
        :param version: the API version; the connection's ``api_version`` by default.
        :raises TencentSmsApiError: Tencent answered with an error, a non-200 status or a body that is not
            the API's JSON.
        :raises RequestNotSentError: the request never reached the server (safe to retry).
        :raises OutcomeUnknownError: the request was sent but no answer came back.
        """
        settings = self.transport
        try:
            response = self.session.post(
                settings.endpoint,
                data=encode(params),
                headers=api_headers(self.config, action, version),
                timeout=(settings.connect_timeout, settings.timeout),
            )
        except requests.RequestException as exc:
            raise requests_failure(exc, action) from None
        return read_answer(response.status_code, response.content)

    def send_sms(
        self,
        phone_numbers: Iterable[str],
        template_id: str | int,
        template_params: Sequence[object] = (),
        *,
        sign_name: str | None = None,
        sms_sdk_app_id: str | None = None,
        session_context: str | None = None,
        extend_code: str | None = None,
        sender_id: str | None = None,
    ) -> list[SendStatus]:
        """
        Send one SendSms request and return one status per number.

        :param phone_numbers: a list of 1 to 200 numbers (strings) in E.164, all Mainland China or all
            global; a bare string is refused, not split into characters.
        :param template_id: an approved template's id.
        :param template_params: a list of the template's positional parameters, each a str, int or
            float (numbers become text); a bare string, ``None``, a bool or any other type is refused.
        :raises TypeError: ``phone_numbers`` or ``template_params`` is not a list of the accepted types.
        :param sign_name: the approved signature's content; the connection's ``sign_name`` by default.
        :param sms_sdk_app_id: the SMS application id; the connection's ``sms_sdk_app_id`` by default.
        :param session_context: echoed back by Tencent (under 512 bytes).
        :param extend_code: the extension code, if enabled for the account.
        :param sender_id: the sender id for global SMS, if enabled.
        """
        numbers = _list_argument(
            phone_numbers, "phone_numbers", (str,), "str in E.164 form", "['+8613800138000']"
        )
        template_params = _list_argument(
            template_params,
            "template_params",
            (str, int, float),
            "str, int or float",
            "['order 42', 3] (convert anything else to the text the SMS should show)",
        )
        params = send_sms_params(
            self.config,
            numbers,
            template_id,
            template_params,
            sign_name=sign_name,
            sms_sdk_app_id=sms_sdk_app_id,
            session_context=session_context,
            extend_code=extend_code,
            sender_id=sender_id,
        )
        return statuses(send_status_items(self.call("SendSms", params)))

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection with read-only calls; sends nothing.

        - the credentials: ``DescribePhoneNumberInfo`` (needs no application id);
        - the ``sms_sdk_app_id``, when set: ``SendStatusStatistics`` for the current hour of that
          application, which Tencent refuses for an application id the account does not have (or a
          disabled one); any other refusal (e.g. a CAM policy without that action) is reported as not
          checked;
        - the ``sign_name``, when set: ``DescribeSmsSignList`` lists the account's signatures (Mainland
          China and global, page by page) with their review status; the name must be among them and approved.
          This proves the account has an approved signature with exactly that content, not that a given
          template may be sent with it. If the list cannot be read (an account or CAM policy without access
          to it), the signature is reported as not checked and the result does not fail on it.

        :return: whether everything checked is right, and a message saying what was checked or what is wrong.
        """
        try:
            config = self.config
        except InvalidConnectionError as exc:
            return False, str(exc)
        try:
            self.call("DescribePhoneNumberInfo", {"PhoneNumberSet": [_PROBE_NUMBER]}, version=_QUERY_VERSION)
        except TencentSmsApiError as exc:
            return False, f"Tencent Cloud refused the credentials: {exc}"
        except TencentSmsError as exc:
            return False, f"Could not reach {config.endpoint}: {exc}"
        findings = [(True, f"Connected to {config.endpoint} as SecretId {config.secret_id}")]
        try:
            if config.sms_sdk_app_id:
                findings.append(self._check_app_id(config.sms_sdk_app_id))
            if config.sign_name:
                findings.append(self._check_sign_name(config.sign_name))
        except TencentSmsError as exc:
            return False, f"Could not finish checking {config.endpoint}: {exc}"
        ok = all(found for found, _ in findings)
        return ok, "; ".join(text for _, text in findings)

    def _check_app_id(self, app_id: str) -> tuple[bool, str]:
        hour = datetime.now(_BEIJING).strftime("%Y%m%d%H")
        params = {"BeginTime": hour, "EndTime": hour, "SmsSdkAppId": app_id, "Limit": 0, "Offset": 0}
        try:
            self.call("SendStatusStatistics", params, version=_QUERY_VERSION)
        except TencentSmsApiError as exc:
            if exc.code in WRONG_APP_ID_CODES:
                return False, f"SdkAppId {app_id!r} (extra 'sms_sdk_app_id') is wrong: {exc}"
            return True, f"SdkAppId {app_id!r} (extra 'sms_sdk_app_id') not checked: {exc}"
        return True, f"SdkAppId {app_id!r} exists"

    def _check_sign_name(self, sign_name: str) -> tuple[bool, str]:
        try:
            signatures = dict(self._signatures())
        except TencentSmsApiError as exc:
            return (
                True,
                f"signature {sign_name!r} (extra 'sign_name') not checked: cannot list signatures: {exc}",
            )
        status = signatures.get(sign_name)
        if status is None:
            known = ", ".join(repr(name) for name in list(signatures)[:10]) or "none"
            return False, (
                f"signature {sign_name!r} (extra 'sign_name') is not one of the account's signatures "
                f"(the content must match exactly; the account has: {known})"
            )
        if status != 0:
            state = review_status(status)
            return False, f"signature {sign_name!r} (extra 'sign_name') is {state}: SendSms refuses it"
        return True, f"signature {sign_name!r} is approved"

    def _signatures(self) -> Iterator[tuple[str, int]]:
        """(content, StatusCode) of the account's Mainland China and global signatures."""
        for international in (0, 1):
            for page in range(_MAX_SIGN_PAGES):
                answer = self.call(
                    "DescribeSmsSignList",
                    {"International": international, "Limit": PAGE_SIZE, "Offset": page * PAGE_SIZE},
                    version=_QUERY_VERSION,
                )
                items = answer.get("DescribeSignListStatusSet") or []
                for item in items:
                    yield str(item.get("SignName", "")), int(item.get("StatusCode", -1))
                if len(items) < PAGE_SIZE:
                    break

    # -- delivery receipts (types and checks in hooks/receipts.py) --------------------------------------

    @cached_property
    def _receipt_pacers(self) -> dict[str, Pacer]:
        """One pacer per receipt action, each a little under its documented rate (Tencent counts arrivals,
        which jitter): the actions are limited apart, as Tencent limits them."""
        now = time.monotonic()
        rates = {**RECEIPT_RATE_LIMITS, **_QUERY_RATE_LIMITS}
        return {action: Pacer(rate * RATE_MARGIN, now) for action, rate in rates.items()}

    @cached_property
    def _receipt_locks(self) -> dict[str, threading.Lock]:
        return {action: threading.Lock() for action in self._receipt_pacers}

    def _receipt_call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        pacer = self._receipt_pacers[action]
        # Waiting for the slot under the action's lock is the point: callers of that action in other threads
        # queue behind it, and callers of other actions do not.
        with self._receipt_locks[action]:
            while not pacer.take(time.monotonic()):
                time.sleep(pacer.wait(time.monotonic()))
        return self.call(action, params, version=_QUERY_VERSION)

    # -- templates and inbound replies (read-only actions, each under its documented rate limit) -------

    def _query(self, action: str, params: dict[str, Any], items: str) -> list[dict[str, Any]]:
        """One 2021-01-11 read-only call under the action's rate limit; the list named ``items``."""
        answer = self._receipt_call(action, params)
        found = answer.get(items)
        if not isinstance(found, list):
            raise TencentSmsApiError(
                "InvalidResponse", f"{action} answer has no {items} list", answer.get("RequestId")
            )
        return found

    def describe_templates(
        self, template_ids: Iterable[str | int], *, international: bool = False
    ) -> list[Template]:
        """
        The account's templates with these ids (DescribeSmsTemplateList), with status and content.

        Ids Tencent does not know are left out. Individual (non-enterprise) accounts cannot call this:
        Tencent answers ``FailedOperation.NotEnterpriseCertification``, raised as a TencentSmsApiError.

        :param template_ids: template ids (numeric).
        :param international: ask about global templates instead of Mainland China ones.
        """
        ids = []
        for template_id in template_ids:
            if not str(template_id).strip().isdigit():
                raise ValueError(f"Template ids are numbers, e.g. 1234567; got {template_id!r}")
            ids.append(int(str(template_id).strip()))
        templates: list[Template] = []
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start : start + PAGE_SIZE]
            params = {
                "International": int(international),
                "TemplateIdSet": chunk,
                "Limit": len(chunk),
                "Offset": 0,
            }
            items = self._query("DescribeSmsTemplateList", params, "DescribeTemplateStatusSet")
            templates.extend(Template.from_api(item) for item in items)
        return templates

    def pull_replies(self, limit: int = PAGE_SIZE, *, sms_sdk_app_id: str | None = None) -> list[Reply]:
        """
        Take up to ``limit`` new replies off the application's reply queue (PullSmsReplyStatus).

        Each reply is handed out once: a second reader of the same application gets the rest, not
        the same ones.

        :param limit: the most replies to take, in calls of up to 100.
        :param sms_sdk_app_id: the SMS application; the connection's by default.
        """
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive number of replies, got {limit!r}")
        app_id = self._app_id(sms_sdk_app_id)
        replies: list[Reply] = []
        while len(replies) < limit:
            page = min(PAGE_SIZE, limit - len(replies))
            params = {"Limit": page, "SmsSdkAppId": app_id}
            items = self._query("PullSmsReplyStatus", params, "PullSmsReplyStatusSet")
            replies.extend(Reply.from_api(item) for item in items)
            if len(items) < page:
                break
        return replies

    def pull_replies_by_phone_number(
        self,
        phone_number: str,
        begin: datetime,
        end: datetime | None = None,
        *,
        sms_sdk_app_id: str | None = None,
    ) -> list[Reply]:
        """
        Every reply from one number between ``begin`` and ``end`` (PullSmsReplyStatusByPhoneNumber).

        Reads pages of 100 until the last. Nothing is consumed: the reply queue is not affected.

        :param phone_number: the number, E.164.
        :param begin: the start, timezone-aware, within the last 7 days (Tencent keeps no more).
        :param end: the end, timezone-aware; now by default.
        :param sms_sdk_app_id: the SMS application; the connection's by default.
        """
        items = self._by_number(
            "PullSmsReplyStatusByPhoneNumber",
            "PullSmsReplyStatusSet",
            phone_number,
            begin,
            end,
            sms_sdk_app_id,
        )
        return [Reply.from_api(item) for item in items]

    def _by_number(
        self,
        action: str,
        items: str,
        phone_number: str,
        begin: datetime,
        end: datetime | None,
        sms_sdk_app_id: str | None,
    ) -> list[dict[str, Any]]:
        """Every item of one number's history (receipts or replies) from ``begin`` to ``end``.

        Pages of 100 are read until one comes back short; a page that brings nothing new also ends it
        (Tencent documents ``Offset`` as fixed at 0, so a server that ignores it would repeat the first).
        """
        first, last = history_range(begin, end, datetime.now(timezone.utc), action)
        params: dict[str, Any] = {
            "PhoneNumber": phone_number,
            "SmsSdkAppId": self._app_id(sms_sdk_app_id),
            "BeginTime": first,
            "Limit": PAGE_SIZE,
            "Offset": 0,
        }
        if last is not None:
            params["EndTime"] = last
        found: dict[str, dict[str, Any]] = {}
        while True:
            page = self._query(action, params, items)
            new = {_identity(item): item for item in page if _identity(item) not in found}
            found.update(new)
            if len(page) < PAGE_SIZE or not new:
                return list(found.values())
            params["Offset"] += len(page)

    def _app_id(self, sms_sdk_app_id: str | None) -> str:
        app_id = sms_sdk_app_id or self.config.sms_sdk_app_id
        if not app_id:
            raise ValueError(
                "No SMS application id: pass sms_sdk_app_id or set the connection extra 'sms_sdk_app_id'"
            )
        return str(app_id)

    def pull_send_status(self, limit: int = PAGE_SIZE, *, sms_sdk_app_id: str | None = None) -> list[Receipt]:
        """
        Take up to ``limit`` receipts off the application's receipt queue (``PullSmsSendStatus``).

        Each receipt is handed out once: another consumer of the same application's queue (a second
        deployment, a console integration) takes receipts this one then never sees. The action must be
        enabled by Tencent support.

        :param limit: 1 to 100.
        :param sms_sdk_app_id: the SMS application; the connection's by default.
        """
        check_limit(limit)
        params = {"Limit": limit, "SmsSdkAppId": self._app_id(sms_sdk_app_id)}
        return receipts_of(self._query("PullSmsSendStatus", params, "PullSmsSendStatusSet"))

    def pull_send_status_by_phone_number(
        self,
        phone_number: str,
        begin: datetime,
        end: datetime | None = None,
        *,
        sms_sdk_app_id: str | None = None,
    ) -> list[Receipt]:
        """
        Every receipt of one number for messages sent from ``begin`` to ``end`` (``PullSmsSendStatusByPhoneNumber``).

        Reads nothing off the queue. Pages of 100 are fetched until one comes back short; a page that
        brings no new ``SerialNo`` also ends it (Tencent documents ``Offset`` as fixed at 0), and receipts
        are deduplicated by ``SerialNo``.

        :param phone_number: an E.164 number.
        :param begin: a timezone-aware moment within the last 7 days.
        :param end: a timezone-aware moment; now by default.
        """
        items = self._by_number(
            "PullSmsSendStatusByPhoneNumber", "PullSmsSendStatusSet", phone_number, begin, end, sms_sdk_app_id
        )
        return receipts_of(items)

    def callback_status_statistics(
        self, begin: datetime, end: datetime, *, sms_sdk_app_id: str | None = None
    ) -> CallbackStatistics:
        """
        Receipt counts of the whole application (every sender) for the Beijing hours ``begin``..``end``.

        :param begin: a timezone-aware moment; its hour is the first counted.
        :param end: a timezone-aware moment, at most 32 days after ``begin``; its hour is the last counted.
        """
        first, last = hour_range(begin, end)
        answer = self._receipt_call(
            "CallbackStatusStatistics",
            {
                "BeginTime": first,
                "EndTime": last,
                "SmsSdkAppId": self._app_id(sms_sdk_app_id),
                "Limit": 0,
                "Offset": 0,
            },
        )
        return CallbackStatistics.from_api(first, last, answer.get("CallbackStatusStatistics") or {})


def _identity(item: dict[str, Any]) -> str:
    """What tells two items of a history apart: a receipt's serial number (receipts may come twice), or the
    whole of a reply, which has none."""
    return str(item.get("SerialNo") or json.dumps(item, sort_keys=True, ensure_ascii=False))
