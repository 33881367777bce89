"""TencentSmsHook: signed calls to the Tencent Cloud SMS API with typed results and errors."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

import requests
from airflow.sdk import BaseHook
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
from ..connection import DEFAULT_CONN_ID, ConnectionConfig, Transport, parse_connection, transport
from ..exceptions import InvalidConnectionError, TencentSmsApiError, TencentSmsError
from ..provider_ui import UI_FIELD_BEHAVIOUR, WIDGET_FIELDS
from ..signing import Credentials, Tc3Auth, Tc3Signer

log = logging.getLogger(__name__)

__all__ = ["SendStatus", "TencentSmsHook"]

#: A number that is well-formed but is never sent to: test_connection only asks about it.
_PROBE_NUMBER = "+8613800000000"


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
        """The connection, read and checked on first use."""
        return self._read_config(self.get_connection(self.tencent_sms_conn_id))

    async def aconfig(self) -> ConnectionConfig:
        """Read the connection without blocking an event loop (for the triggerer); cached like ``config``."""
        if "config" not in self.__dict__:
            conn = await self.aget_connection(self.tencent_sms_conn_id)
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

        :param phone_numbers: 1 to 200 numbers in E.164, all Mainland China or all global.
        :param template_id: an approved template's id.
        :param template_params: the template's positional parameters; non-strings become strings.
        :param sign_name: the approved signature's content; the connection's ``sign_name`` by default.
        :param sms_sdk_app_id: the SMS application id; the connection's ``sms_sdk_app_id`` by default.
        :param session_context: echoed back by Tencent (under 512 bytes).
        :param extend_code: the extension code, if enabled for the account.
        :param sender_id: the sender id for global SMS, if enabled.
        """
        params = send_sms_params(
            self.config,
            list(phone_numbers),
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
        """Check the credentials with one signed, read-only call (DescribePhoneNumberInfo); sends nothing."""
        try:
            config = self.config
        except InvalidConnectionError as exc:
            return False, str(exc)
        try:
            self.call("DescribePhoneNumberInfo", {"PhoneNumberSet": [_PROBE_NUMBER]}, version="2021-01-11")
        except TencentSmsApiError as exc:
            return False, f"Tencent Cloud refused the credentials: {exc}"
        except TencentSmsError as exc:
            return False, f"Could not reach {config.endpoint}: {exc}"
        return True, f"Connected to {config.endpoint} as SecretId {config.secret_id}"
