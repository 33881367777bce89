"""TencentSmsNotifier: SMS alerts from DAG and task callbacks."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import secrets
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from ..connection import DEFAULT_CONN_ID
from ..exceptions import TencentSmsApiError, TencentSmsError, is_transient_not_sent
from ..phone import mask
from ..rendering import GapProbe, RenderedWithGap, describe_gap
from .params import UNRENDERED, neutralise_urls, shorten

# The hook (requests) and recipient parsing (phonenumbers) are imported when an alert is sent, not when
# the DAG file that declares the notifier is parsed.
if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.definitions.callback import AsyncCallback

    from ..batching import Batch
    from ..escalation import Escalate, SentAlert
    from ..hooks.receipts import Receipt
    from ..hooks.sms import SendStatus, TencentSmsHook

__all__ = ["TencentSmsNotifier", "send_tencent_sms_notification", "shorten"]

#: Waits before the 2nd, 3rd and 4th attempt of an alert that was certainly not sent: 15 s of waiting,
#: about 30 s in all with the attempts' own connect timeouts, short enough for a callback.
DEFAULT_RETRY_DELAYS = (1.0, 4.0, 10.0)
DEFAULT_ESCALATE_AFTER = timedelta(minutes=5)
#: Receipts can be looked up for 7 days: the last look of the longest wait must still fall within them.
MAX_ESCALATE_AFTER = timedelta(days=6)
#: Receipts are asked for from this long before the first request left: the two clocks may differ.
CLOCK_MARGIN = timedelta(minutes=1)


class TencentSmsNotifier(BaseNotifier):
    """
    Send an SMS from a DAG or task callback (``on_failure_callback``, ``on_retry_callback``,
    ``on_success_callback``) or a deadline alert.

    Fields are rendered with the callback's context: ``{{ dag.dag_id }}``, ``{{ ti.task_id }}``,
    ``{{ run_id }}``, ``{{ exception }}``… A failure to send is logged (code, message, request id) and never
    raised, so it cannot hide the task's own outcome. A parameter that rendered to ``None`` or an undefined
    value is logged as a mistake and the alert is still sent.

    :param phone_numbers: the recipients, in any form ``SendSmsOperator`` accepts. (templated)
    :param template_id: the approved template's id. (templated)
    :param template_params: the template's parameters. (templated)
    :param sign_name: the approved signature; the connection's ``sign_name`` by default. (templated)
    :param sms_sdk_app_id: the SMS application; the connection's by default. (templated)
    :param tencent_sms_conn_id: the Airflow connection.
    :param default_region: the region numbers without ``+`` are read in.
    :param max_param_length: shorten each rendered parameter to this many characters, ending in an
        ellipsis (individual Tencent accounts accept at most 12); ``None`` leaves them as they are.
    :param neutralise_urls: rewrite URLs in rendered parameters so they are no longer links
        (``https://x.example.com/a`` → ``x[.]example[.]com/a``): Tencent refuses a whole request whose
        parameters contain a URL. ``False`` sends them as rendered.
    :param retry_delays: seconds to wait before each new attempt of a request that was certainly not sent
        (not sent over the network, or a transient Tencent code); ``()`` for a single attempt. A request
        whose outcome is unknown is never sent again: that could deliver a second alert.
    :param escalate_to: who gets the alert when none of ``phone_numbers`` is known to have received it
        within ``escalate_after``: no delivery receipt of the alert says ``SUCCESS``. Watched only where
        the notifier runs in the triggerer (a deadline alert's ``AsyncCallback``); in a task or DAG
        callback the alert is escalated only when it could be sent to nobody. Off by default. (templated)
    :param escalate_after: how long to wait for a ``SUCCESS`` receipt (a ``timedelta`` or seconds).
    :param context: the context to render with when awaited (set by the triggerer for deadline alerts).
    """

    template_fields: Sequence[str] = (
        "phone_numbers",
        "template_id",
        "template_params",
        "sign_name",
        "sms_sdk_app_id",
        "escalate_to",
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
        neutralise_urls: bool = True,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        escalate_to: Any = None,
        escalate_after: timedelta | float = DEFAULT_ESCALATE_AFTER,
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
        self.neutralise_urls = neutralise_urls
        self.retry_delays = tuple(retry_delays)
        self.escalate_to = escalate_to
        self.escalate_after = _positive_delay(escalate_after)

    def __call__(self, *args: Any) -> None:
        # Airflow keeps one notifier instance for every run of a DAG, and rendering replaces the templates
        # in place: render and send from a fresh copy (with no cached hook, so no stale connection) instead.
        fresh = copy.copy(self)
        fresh.__dict__.pop("hook", None)
        BaseNotifier.__call__(fresh, *args)

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        dag = context.get("dag")
        if jinja_env is None:
            # Airflow 3.3.2's dag.test() hands DAG-level callbacks a serialized DAG, which cannot make a
            # template environment (apache/airflow#64649): render with the default one.
            usable = dag is not None and hasattr(dag, "get_template_env")
            jinja_env = self.get_template_env(dag=dag if usable else None)
        # Each parameter is rendered on its own, so that one that fails (StrictUndefined) does not lose the
        # alert; the other fields are rendered by Airflow. The probe notes expressions that gave no value.
        probe = GapProbe()
        jinja_env = probe.environment(jinja_env)
        templates, self.template_params = self.template_params, None
        escalation, self.escalate_to = self.escalate_to, None
        super().render_template_fields(context, jinja_env)
        self.escalate_to = self._render_escalation(escalation, context, jinja_env)
        if isinstance(templates, list | tuple):
            self.template_params = [
                self._render_param(f"template_params[{i}]", t, context, jinja_env, probe)
                for i, t in enumerate(templates)
            ]
        elif templates is not None:
            self.template_params = self._render_param("template_params", templates, context, jinja_env, probe)

    def _render_escalation(self, template: Any, context: Context, jinja_env: Any) -> Any:
        """``escalate_to`` rendered; one that fails turns escalation off without losing the alert."""
        if template is None:
            return None
        try:
            return self.render_template(template, context, jinja_env)
        except Exception as exc:
            self.log.error(
                "SMS alert: escalate_to %r failed to render (%s: %s); the alert is sent without escalation",
                template,
                type(exc).__name__,
                exc,
            )
            return None

    def _render_param(
        self, where: str, template: Any, context: Context, jinja_env: Any, probe: GapProbe
    ) -> Any:
        """Render one parameter; a failure or an expression with no value is logged, never raised."""
        probe.gaps.clear()
        try:
            rendered = self.render_template(template, context, jinja_env)
        except Exception as exc:
            self.log.error(
                "SMS alert: %s %r failed to render (%s: %s); sending %r in its place",
                where,
                template,
                type(exc).__name__,
                exc,
                UNRENDERED,
            )
            return UNRENDERED
        if rendered is None:
            probe.gaps.append("it is None")
        if probe.gaps:
            gap = RenderedWithGap(str(rendered), str(template), tuple(probe.gaps))
            self.log.error(
                "SMS alert: %s; the alert is sent anyway, as %r", describe_gap(where, gap), str(gap)
            )
        return rendered

    @cached_property
    def hook(self) -> TencentSmsHook:
        from ..hooks.sms import TencentSmsHook

        return TencentSmsHook(self.tencent_sms_conn_id)

    @classmethod
    def deadline_callback(cls, **kwargs: Any) -> AsyncCallback:
        """An ``AsyncCallback`` for ``DeadlineAlert(callback=...)``, its arguments checked when the DAG file is
        parsed rather than when the deadline is missed: ``kwargs`` are this class's arguments."""
        from airflow.sdk.definitions.callback import AsyncCallback

        cls(**kwargs)
        return AsyncCallback(cls, kwargs=kwargs)

    def notify(self, context: Context) -> None:
        """Send the alert; every error is logged, none raised.

        A callback must not wait minutes for receipts, so here the alert is escalated only when it reached
        nobody (see ``escalate_to``).
        """
        from ..escalation import Escalate, decide, describe

        escalation = self._escalation()
        alert = self._send(self.phone_numbers)
        if escalation is None:
            return
        step = decide(alert, (), alert.started, self.escalate_after)
        if isinstance(step, Escalate):
            self._escalation_log(step)
            self._send(escalation, exclude=alert.watched)
        else:
            self.log.warning(
                "SMS alert: escalate_to is not watched here: a task or DAG callback cannot wait %s for "
                "receipts. Give the notifier to a deadline alert (AsyncCallback), which runs in the "
                "triggerer, to escalate alerts that are not delivered",
                describe(self.escalate_after),
            )

    async def async_notify(self, context: Context) -> None:
        """For callbacks that run in the triggerer (deadline alerts): send the alert and, with ``escalate_to``,
        watch its receipts. The event loop is never blocked: imports, number parsing and requests run in a
        worker thread, waits are ``asyncio.sleep``."""
        try:
            hook = await asyncio.to_thread(lambda: self.hook)
            await hook.aconfig()
        except Exception as exc:
            self.log.error("SMS alert not sent: cannot read connection %r: %s", self.tencent_sms_conn_id, exc)
            return
        escalation = await asyncio.to_thread(self._escalation)
        alert = await self._asend(self.phone_numbers)
        if escalation is not None:
            await self._watch(alert, escalation)

    # -- sending -------------------------------------------------------------------------------------------

    def _send(self, phone_numbers: Any, exclude: frozenset[str] = frozenset()) -> SentAlert:
        """Send the alert to ``phone_numbers`` but not ``exclude`` (E.164), retrying what was certainly not
        sent."""
        tally = _Tally()
        for index, batch in enumerate(self._batches(phone_numbers, exclude)):
            request = self._request(batch, tally.tag, index)
            for attempt in itertools.count():
                delay = self._record(tally, batch, attempt, self._attempt(request))
                if delay is None:
                    break
                time.sleep(delay)
        return tally.alert()

    async def _asend(self, phone_numbers: Any, exclude: frozenset[str] = frozenset()) -> SentAlert:
        """:meth:`_send` for the event loop."""
        tally = _Tally()
        batches = await asyncio.to_thread(self._batches, phone_numbers, exclude)
        for index, batch in enumerate(batches):
            request = self._request(batch, tally.tag, index)
            for attempt in itertools.count():
                answer = await asyncio.to_thread(self._attempt, request)
                delay = self._record(tally, batch, attempt, answer)
                if delay is None:
                    break
                await asyncio.sleep(delay)
        return tally.alert()

    def _attempt(self, request: dict[str, Any]) -> list[SendStatus] | Exception:
        """One SendSms request; its error is returned (to be logged), never raised."""
        try:
            return self.hook.send_sms(**request)
        except Exception as exc:
            return exc

    def _record(
        self, tally: _Tally, batch: Batch, attempt: int, answer: list[SendStatus] | Exception
    ) -> float | None:
        """Note and log one attempt's answer; the seconds to wait before trying again, or None when done."""
        if isinstance(answer, Exception):
            delay = self._retry_delay(answer, attempt) if isinstance(answer, TencentSmsError) else None
            if delay is None:
                if isinstance(answer, TencentSmsError) and answer.outcome_unknown:
                    tally.unknown.update(batch.numbers)
                self._log_failure(answer)
            return delay
        self._log_statuses(answer)
        tally.accepted.update((s.phone_number, s.serial_no) for s in answer if s.ok)
        return None

    # -- escalation ----------------------------------------------------------------------------------------

    def _escalation(self) -> tuple[str, ...] | None:
        """The valid numbers of ``escalate_to``, or None when escalation is off (a mistake is logged)."""
        if not self.escalate_to:
            return None
        from ..recipients import normalise, parse_phone_numbers

        try:
            numbers = normalise(parse_phone_numbers(self.escalate_to), self.default_region).valid
        except (TypeError, ValueError) as exc:
            self.log.error("SMS alert: escalate_to cannot be read (%s); the alert is not escalated", exc)
            return None
        if not numbers:
            self.log.error("SMS alert: escalate_to holds no valid phone number; the alert is not escalated")
            return None
        return tuple(numbers)

    async def _watch(self, alert: SentAlert, escalation: tuple[str, ...]) -> None:
        """Look for the alert's receipts until one says SUCCESS, or escalate (once)."""
        from ..escalation import Delivered, Escalate, decide

        receipts: list[Receipt] = []
        try:
            while True:
                # The wall clock, as receipts are stamped with it (a jump of the clock moves the deadline).
                step = decide(alert, receipts, datetime.now(timezone.utc), self.escalate_after)
                if isinstance(step, Delivered):
                    self.log.info("SMS alert delivered to %s: no escalation", mask(step.phone_number))
                    return
                if isinstance(step, Escalate):
                    self._escalation_log(step)
                    await self._asend(escalation, exclude=alert.watched)
                    return
                await asyncio.sleep(max(0.0, (step.moment - datetime.now(timezone.utc)).total_seconds()))
                receipts += await asyncio.to_thread(self._receipts, alert, receipts)
        except asyncio.CancelledError:
            self.log.warning(
                "SMS alert: the escalation watch was stopped before it ended; nobody was escalated to"
            )
            raise

    def _receipts(self, alert: SentAlert, known: list[Receipt]) -> list[Receipt]:
        """The alert's receipts for the numbers that have none yet; a failed query is logged (and proves
        nothing, so the watch goes on)."""
        from ..escalation import unsettled

        found: list[Receipt] = []
        for number in unsettled(alert, known):
            try:
                receipts = self.hook.pull_send_status_by_phone_number(
                    number, alert.started - CLOCK_MARGIN, sms_sdk_app_id=self.sms_sdk_app_id or None
                )
            except Exception as exc:
                self.log.warning("SMS alert: could not read the receipts of %s: %s", mask(number), exc)
            else:
                found += (r for r in receipts if alert.is_ours(r))
        return found

    def _escalation_log(self, step: Escalate) -> None:
        self.log.warning("SMS alert escalated: %s; sending it to escalate_to", step.reason)

    # -- logging -------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _logged_failure(self) -> Iterator[None]:
        """Log any error as the alert not being sent, and swallow it: an alert must not fail its callback."""
        try:
            yield
        except Exception as exc:
            self._log_failure(exc)

    def _log_failure(self, exc: Exception) -> None:
        if isinstance(exc, TencentSmsApiError):
            self.log.error(
                "SMS alert not sent: Tencent Cloud answered %s (%s) [RequestId %s]%s",
                exc.code,
                exc.message,
                exc.request_id,
                f" ({exc.error_class.hint})" if exc.error_class.hint else "",
            )
        elif isinstance(exc, TencentSmsError) and exc.outcome_unknown:
            self.log.error("SMS alert outcome unknown, not sent again (no second alert): %s", exc)
        elif isinstance(exc, TencentSmsError | TypeError | ValueError):
            self.log.error("SMS alert not sent: %s", exc)
        else:
            self.log.error("SMS alert not sent: unexpected error", exc_info=exc)

    def _retry_delay(self, exc: TencentSmsError, attempt: int) -> float | None:
        """Seconds to wait before sending ``exc``'s request again, or None to give up."""
        if not is_transient_not_sent(exc) or attempt >= len(self.retry_delays):
            return None
        delay = self.retry_delays[attempt]
        self.log.warning(
            "SMS alert not sent (%s); trying again in %g s (attempt %d of %d)",
            exc,
            delay,
            attempt + 2,
            len(self.retry_delays) + 1,
        )
        return delay

    def _batches(self, phone_numbers: Any, exclude: frozenset[str] = frozenset()) -> list[Batch]:
        """The alert's requests; problems with the recipients or parameters are logged (none if unusable)."""
        with self._logged_failure():
            from ..batching import plan_batches
            from ..recipients import normalise, parse_list, parse_phone_numbers

            recipients = normalise(parse_phone_numbers(phone_numbers), self.default_region)
            if recipients.invalid:
                self.log.warning(
                    "SMS alert: skipping %d invalid numbers: %s",
                    len(recipients.invalid),
                    ", ".join(mask(n) for n in recipients.invalid[:10]),
                )
            if not recipients.valid:
                self.log.error("SMS alert not sent: no valid phone numbers")
                return []
            # Someone on both lists may have the alert already.
            numbers = tuple(n for n in recipients.valid if n not in exclude)
            if not numbers:
                self.log.warning("SMS alert: everyone to escalate to was sent the alert already")
                return []
            raw = (
                parse_list(self.template_params, "template_params")
                if self.template_params is not None
                else []
            )
            return plan_batches({self._params(raw): numbers})
        return []

    def _params(self, rendered: list[Any]) -> tuple[str, ...]:
        texts = (str(value) for value in rendered)
        if self.neutralise_urls:
            texts = (neutralise_urls(text) for text in texts)
        return tuple(shorten(text, self.max_param_length) for text in texts)

    def _request(self, batch: Batch, tag: str, index: int) -> dict[str, Any]:
        from ..session_context import compose

        return {
            "phone_numbers": batch.numbers,
            "template_id": str(self.template_id),
            "template_params": batch.template_params,
            "sign_name": self.sign_name or None,
            "sms_sdk_app_id": self.sms_sdk_app_id or None,
            # Names this alert in its receipts, for the requests whose answer was lost.
            "session_context": compose(tag, index),
        }

    def _log_statuses(self, statuses: list[SendStatus]) -> None:
        for status in statuses:
            if status.ok:
                self.log.info("SMS alert sent to %s", mask(status.phone_number))
            else:
                self.log.error(
                    "SMS alert to %s failed: %s (%s)", mask(status.phone_number), status.code, status.message
                )


class _Tally:
    """What one sending of the alert has found out so far, request by request."""

    def __init__(self) -> None:
        # A new tag each time: receipts of an earlier alert to the same people prove nothing about this one.
        self.tag = secrets.token_hex(6)
        self.started = datetime.now(timezone.utc)
        self.accepted: dict[str, str] = {}
        self.unknown: set[str] = set()

    def alert(self) -> SentAlert:
        from ..escalation import SentAlert

        return SentAlert(self.tag, self.started, dict(self.accepted), frozenset(self.unknown))


def _positive_delay(value: timedelta | float) -> timedelta:
    """``escalate_after`` as a timedelta; a clear error for anything but a positive duration."""
    if isinstance(value, bool) or not isinstance(value, timedelta | int | float):
        raise TypeError(f"escalate_after must be a timedelta or a number of seconds, not {value!r}")
    delay = value if isinstance(value, timedelta) else timedelta(seconds=value)
    if not timedelta(0) < delay <= MAX_ESCALATE_AFTER:
        raise ValueError(
            f"escalate_after must be positive and at most 6 days (receipts can be looked up for 7), got {value!r}"
        )
    return delay


send_tencent_sms_notification = TencentSmsNotifier
