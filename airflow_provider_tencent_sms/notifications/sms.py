"""TencentSmsNotifier: SMS alerts from DAG and task callbacks."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from ..connection import DEFAULT_CONN_ID
from ..exceptions import TencentSmsApiError, TencentSmsError
from ..phone import mask

# The hook (requests) and recipient parsing (phonenumbers) are imported when an alert is sent, not when
# the DAG file that declares the notifier is parsed.
if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..hooks.sms import TencentSmsHook

ELLIPSIS = "…"


def shorten(value: str, limit: int | None) -> str:
    """Cut ``value`` to ``limit`` characters, the last being an ellipsis, so Tencent does not refuse it."""
    if limit is None or len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + ELLIPSIS if limit > 0 else ""


class TencentSmsNotifier(BaseNotifier):
    """
    Send an SMS from a DAG or task callback (``on_failure_callback``, ``on_retry_callback``,
    ``on_success_callback``) or a deadline alert.

    Fields are rendered with the callback's context: ``{{ dag.dag_id }}``, ``{{ ti.task_id }}``,
    ``{{ run_id }}``, ``{{ exception }}``… A failure to send is logged (code, message, request id) and never
    raised, so it cannot hide the task's own outcome.

    :param phone_numbers: the recipients, in any form ``SendSmsOperator`` accepts. (templated)
    :param template_id: the approved template's id. (templated)
    :param template_params: the template's parameters. (templated)
    :param sign_name: the approved signature; the connection's ``sign_name`` by default. (templated)
    :param sms_sdk_app_id: the SMS application; the connection's by default. (templated)
    :param tencent_sms_conn_id: the Airflow connection.
    :param default_region: the region numbers without ``+`` are read in.
    :param max_param_length: shorten each rendered parameter to this many characters, ending in an
        ellipsis (individual Tencent accounts accept at most 12); ``None`` leaves them as they are.
    :param context: the context to render with when awaited (set by the triggerer for deadline alerts).
    """

    template_fields: Sequence[str] = (
        "phone_numbers",
        "template_id",
        "template_params",
        "sign_name",
        "sms_sdk_app_id",
    )

    def __init__(
        self,
        phone_numbers: Any,
        template_id: str | int,
        template_params: Sequence[Any] | None = None,
        sign_name: str | None = None,
        tencent_sms_conn_id: str = DEFAULT_CONN_ID,
        *,
        sms_sdk_app_id: str | None = None,
        default_region: str = "CN",
        max_param_length: int | None = None,
        context: Context | None = None,
    ) -> None:
        # The triggerer passes ``context`` when it runs the notifier for a deadline alert.
        super().__init__(context)
        self.phone_numbers = phone_numbers
        self.template_id = template_id
        self.template_params = template_params
        self.sign_name = sign_name
        self.sms_sdk_app_id = sms_sdk_app_id
        self.tencent_sms_conn_id = tencent_sms_conn_id
        self.default_region = default_region
        self.max_param_length = max_param_length

    def __call__(self, *args: Any) -> None:
        # Airflow keeps one notifier instance for every run of a DAG, and rendering replaces the templates
        # in place: render and send from a fresh copy (with no cached hook, so no stale connection) instead.
        fresh = copy.copy(self)
        fresh.__dict__.pop("hook", None)
        BaseNotifier.__call__(fresh, *args)

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        dag = context.get("dag")
        if jinja_env is None and dag is not None and not hasattr(dag, "get_template_env"):
            # Airflow 3.3.2's dag.test() hands DAG-level callbacks a serialized DAG, which cannot make a
            # template environment (apache/airflow#64649): render with the default one.
            jinja_env = self.get_template_env(dag=None)
        super().render_template_fields(context, jinja_env)

    @cached_property
    def hook(self) -> TencentSmsHook:
        from ..hooks.sms import TencentSmsHook

        return TencentSmsHook(self.tencent_sms_conn_id)

    def notify(self, context: Context) -> None:
        """Send the alert; every error is logged, none raised."""
        try:
            self._send()
        except TencentSmsApiError as exc:
            self.log.error(
                "SMS alert not sent: Tencent Cloud answered %s (%s) [RequestId %s]",
                exc.code,
                exc.message,
                exc.request_id,
            )
        except TencentSmsError as exc:
            self.log.error("SMS alert not sent: %s", exc)
        except (TypeError, ValueError) as exc:
            self.log.error("SMS alert not sent: %s", exc)
        except Exception:
            self.log.exception("SMS alert not sent: unexpected error")

    async def async_notify(self, context: Context) -> None:
        """For callbacks that run in the triggerer (deadline alerts): same as ``notify``, off the event loop."""
        try:
            await self.hook.aconfig()
        except Exception as exc:
            self.log.error("SMS alert not sent: cannot read connection %r: %s", self.tencent_sms_conn_id, exc)
            return
        await asyncio.to_thread(self.notify, context)

    def _send(self) -> None:
        from ..batching import plan_batches
        from ..recipients import normalise, parse_list, parse_phone_numbers

        recipients = normalise(parse_phone_numbers(self.phone_numbers), self.default_region)
        if recipients.invalid:
            self.log.warning(
                "SMS alert: skipping %d invalid numbers: %s",
                len(recipients.invalid),
                ", ".join(mask(n) for n in recipients.invalid[:10]),
            )
        if not recipients.valid:
            self.log.error("SMS alert not sent: no valid phone numbers")
            return
        raw_params = (
            parse_list(self.template_params, "template_params") if self.template_params is not None else []
        )
        params = tuple(shorten(str(p), self.max_param_length) for p in raw_params)
        for batch in plan_batches({params: recipients.valid}):
            statuses = self.hook.send_sms(
                batch.numbers,
                str(self.template_id),
                batch.template_params,
                sign_name=self.sign_name or None,
                sms_sdk_app_id=self.sms_sdk_app_id or None,
            )
            for status in statuses:
                if status.ok:
                    self.log.info("SMS alert sent to %s", mask(status.phone_number))
                else:
                    self.log.error(
                        "SMS alert to %s failed: %s (%s)",
                        mask(status.phone_number),
                        status.code,
                        status.message,
                    )


send_tencent_sms_notification = TencentSmsNotifier
