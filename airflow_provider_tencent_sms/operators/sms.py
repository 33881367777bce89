"""SendSmsOperator: one template to many recipients, each getting exactly one message."""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from ..connection import DEFAULT_CONN_ID
from ..decision import (
    MAX_WINDOW_REFUSALS,
    CheckDelivery,
    Fail,
    Policy,
    Reconcile,
    Resend,
    Round,
    Step,
    Wait,
    next_step,
)
from ..ledger import Ledger, LedgerMismatchError, SendUnit, Watch
from ..phone import mask
from ..send_window import DEFAULT_TIMEZONE, DEFAULT_WINDOW, SendWindow
from ..session_context import check_user_context, task_instance_tag
from ..task_state import LedgerStore, ledger_store

# What sending needs (requests, phonenumbers…) is imported in execute(): DAG files that use this
# operator are parsed far more often than they run, and parsing must stay cheap.
if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..batching import Batch
    from ..dispatch import DispatchResult, SendSettings
    from ..hooks.sms import TencentSmsHook
    from ..receipt_checks import ReceiptChecker
    from ..recipients import Audience

SMS_TYPES = ("notification", "verification", "marketing")
INVALID_NUMBER_POLICIES = ("fail", "skip")
UNKNOWN_OUTCOME_POLICIES = ("reconcile", "fail")
#: How many failures the XCom result lists one by one; the rest are counted.
MAX_LISTED_FAILURES = 100
MAX_LOGGED_FAILURES = 20
#: When the task fails, its result is still pushed to XCom under this key.
SUMMARY_XCOM_KEY = "sms_summary"
_VERIFICATION_PARAM = re.compile(r"^\d{0,6}$")
__all__ = ["MAX_WINDOW_REFUSALS", "SendSmsOperator"]


class SendSmsOperator(BaseOperator):
    """
    Send one SMS template to many recipients through Tencent Cloud SMS.

    Recipients are normalised to E.164, deduplicated, and sent in batches of up to 200 (Mainland China and
    global numbers apart), concurrently under a rate cap. What was sent is recorded in the task's state
    store, so neither a retry by Airflow nor a resumed deferral ever sends a recipient a second message.

    :param phone_numbers: the recipients: a list, an XComArg, a Jinja string rendering a list (JSON or a
        Python list repr) or numbers separated by commas, semicolons, spaces or new lines. (templated)
    :param template_id: the approved template's id. (templated)
    :param template_params: the template's parameters, the same for every recipient: a list whose items
        may each be templated, or an XComArg / Jinja string giving a list. (templated)
    :param recipients: instead of ``phone_numbers``, personalised rows
        ``{"phone_number": ..., "template_params": [...]}``; recipients with the same parameters share
        requests. (templated)
    :param sign_name: the approved signature; the connection's ``sign_name`` by default. (templated)
    :param sms_sdk_app_id: the SMS application; the connection's ``sms_sdk_app_id`` by default. (templated)
    :param sms_type: ``notification``, ``verification`` (parameters must be 0-6 digits) or ``marketing``
        (sent only inside ``send_window``; outside it the task defers until it opens).
    :param session_context: your own context, echoed back by Tencent in each status and receipt after the
        tag that traces each request to this task instance and batch (at most 484 bytes). (templated)
    :param extend_code: the extension code, if enabled for the account. (templated)
    :param sender_id: the sender id for global SMS, if enabled. (templated)
    :param tencent_sms_conn_id: the Airflow connection.
    :param default_region: the region (ISO 3166 code) numbers without ``+`` are read in.
    :param on_invalid_number: ``fail`` (default: fail before sending anything) or ``skip`` (send to the
        valid numbers and report the invalid ones).
    :param allow_partial_failure: succeed even if some recipients could not get the message (they are
        listed in the result); by default the task then fails, after sending to everyone else.
    :param max_concurrency: requests in flight at once.
    :param max_requests_per_second: client-side cap on request starts (Tencent allows 3,000/s per account).
    :param request_attempts: attempts per request for transient errors that prove nothing was sent,
        before the task fails and Airflow's ``retries`` take over.
    :param recipient_retries: how many times a recipient refused with a short rate limit (e.g. the
        30-second limit) is retried, after deferring for the wait.
    :param max_recipient_wait: longer recipient rate limits (e.g. one hour) count as failures.
    :param recipient_retry_delay: wait before retrying rate-limited recipients; by default what the error
        code calls for (30 s for the 30-second limit).
    :param send_window: for marketing sends, the daily window ``("HH:MM", "HH:MM")``.
    :param send_window_timezone: the window's IANA time zone.
    :param send_window_margin: stop starting new requests this long before the window closes.
    :param on_unknown_outcome: ``reconcile`` (default): recipients whose request's outcome is unknown are
        looked up by number in Tencent's delivery receipts after ``reconcile_after``, then at growing
        intervals until ``reconcile_timeout``, the task deferred in between; a receipt of this task settles
        them as sent. ``fail``: no lookup, they are reported as unknown.
    :param reconcile_after: the wait before the first lookup.
    :param reconcile_timeout: after this long, recipients without a receipt stay unknown.
    :param resend_unresolved: at the timeout, send the still unknown recipients once more. Risk: one whose
        receipt comes later than the timeout got the message and gets a second one.
    :param wait_for_delivery: after sending, wait (deferred) up to this long for delivery receipts and add a
        ``delivery`` report to the result.
    :param delivery_check_limit: up to this many recipients every one is checked; above it, a uniform random
        sample of this size, with an estimated delivery rate and its 95 % confidence interval.
    :param min_delivery_rate: with ``wait_for_delivery``, fail the task when the delivered share of the
        checked recipients is below this (0 to 1) once the wait is over.
    """

    template_fields: Sequence[str] = (
        "phone_numbers",
        "recipients",
        "template_id",
        "template_params",
        "sign_name",
        "sms_sdk_app_id",
        "session_context",
        "extend_code",
        "sender_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "phone_numbers": "py",
        "template_params": "py",
        "recipients": "json",
    }
    ui_color = "#e6f4ff"

    def __init__(
        self,
        *,
        template_id: str | int,
        phone_numbers: Any = None,
        template_params: Any = None,
        recipients: Any = None,
        sign_name: str | None = None,
        sms_sdk_app_id: str | None = None,
        sms_type: str = "notification",
        session_context: str | None = None,
        extend_code: str | None = None,
        sender_id: str | None = None,
        tencent_sms_conn_id: str = DEFAULT_CONN_ID,
        default_region: str = "CN",
        on_invalid_number: str = "fail",
        allow_partial_failure: bool = False,
        max_concurrency: int = 16,
        max_requests_per_second: float = 1000.0,
        request_attempts: int = 3,
        recipient_retries: int = 2,
        max_recipient_wait: timedelta = timedelta(minutes=5),
        recipient_retry_delay: timedelta | None = None,
        send_window: tuple[str, str] = DEFAULT_WINDOW,
        send_window_timezone: str = DEFAULT_TIMEZONE,
        send_window_margin: timedelta = timedelta(seconds=30),
        on_unknown_outcome: str = "reconcile",
        reconcile_after: timedelta = timedelta(minutes=2),
        reconcile_timeout: timedelta = timedelta(hours=1),
        resend_unresolved: bool = False,
        wait_for_delivery: timedelta | None = None,
        delivery_check_limit: int = 1000,
        min_delivery_rate: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.phone_numbers = phone_numbers
        self.recipients = recipients
        self.template_id = template_id
        self.template_params = template_params
        self.sign_name = sign_name
        self.sms_sdk_app_id = sms_sdk_app_id
        self.sms_type = sms_type
        self.session_context = session_context
        self.extend_code = extend_code
        self.sender_id = sender_id
        self.tencent_sms_conn_id = tencent_sms_conn_id
        self.default_region = default_region
        self.on_invalid_number = on_invalid_number
        self.allow_partial_failure = allow_partial_failure
        self.max_concurrency = max_concurrency
        self.max_requests_per_second = max_requests_per_second
        self.request_attempts = request_attempts
        self.recipient_retries = recipient_retries
        self.max_recipient_wait = max_recipient_wait
        self.recipient_retry_delay = recipient_retry_delay
        self.send_window = send_window
        self.send_window_timezone = send_window_timezone
        self.send_window_margin = send_window_margin
        self.on_unknown_outcome = on_unknown_outcome
        self.reconcile_after = reconcile_after
        self.reconcile_timeout = reconcile_timeout
        self.resend_unresolved = resend_unresolved
        self.wait_for_delivery = wait_for_delivery
        self.delivery_check_limit = delivery_check_limit
        self.min_delivery_rate = min_delivery_rate

    @cached_property
    def hook(self) -> TencentSmsHook:
        from ..hooks.sms import TencentSmsHook

        return TencentSmsHook(self.tencent_sms_conn_id, max_connections=self.max_concurrency)

    # -- Airflow entry points --------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        return self._run(context)

    def resume(self, context: Context, event: Any = None, **kwargs: Any) -> dict[str, Any]:
        """Called after a deferral (window opening, recipient retry, receipt check); all state is in the ledger."""
        return self._run(context)

    # -- orchestration ---------------------------------------------------------------------------------

    def _run(self, context: Context) -> dict[str, Any]:
        from ..batching import plan_batches
        from ..receipt_checks import ReceiptChecker

        tag = self._task_instance_tag(context)
        settings = self._settings(tag)
        policy = self._policy()
        window = self._window()
        audience = self._audience()
        self._check_connection(settings)
        batches = plan_batches(audience.groups)
        store = ledger_store(context)
        ledger = self._load_ledger(store, batches, settings)

        def checkpoint() -> None:
            store.save(ledger.dump())

        lost = ledger.recover([len(b.numbers) for b in batches])
        if lost:
            self.log.warning(
                "A previous attempt stopped while %d recipients' requests may have been on the wire; "
                "they are reported as outcome unknown and not sent blindly again",
                lost,
            )
            checkpoint()
        self.log.info(
            "%d recipients in %d requests (%d duplicates removed, %d invalid skipped); %d already handled",
            sum(len(b.numbers) for b in batches),
            len(batches),
            audience.duplicates,
            len(audience.invalid),
            ledger.sent + ledger.failed_count + ledger.unknown_count,
        )

        now = datetime.now(timezone.utc)
        if window is not None and not window.is_open(now) and self._has_work(ledger, batches):
            self._defer(
                Wait(window.next_opening(now), window, "the marketing window is closed"), ledger, checkpoint
            )
        units = ledger.new_batches(len(batches)) + ledger.due_retries(time.time(), 200)
        if window is None or window.is_open(now):
            units += ledger.window_units()
        checker = ReceiptChecker(self.hook, batches, ledger, tag, settings.sms_sdk_app_id, checkpoint)
        while True:
            last = self._send_round(units, batches, ledger, settings, window, checkpoint)
            units = []
            self._start_watches(ledger, policy, last.pending, checker)
            checkpoint()
            targets = checker.targets(self.delivery_check_limit) if ledger.delivery is not None else []
            step = next_step(ledger, last, policy, delivery_complete=not checker.missing(targets))
            if isinstance(step, Reconcile):
                checker.reconcile()
            elif isinstance(step, CheckDelivery):
                checker.check_delivery(targets)
            elif isinstance(step, Resend):
                units = ledger.resend_unknown()
                self.log.warning(
                    "No receipt within reconcile_timeout for %d recipients whose outcome is unknown: sending "
                    "them once more (resend_unresolved=True)",
                    sum(len(u.positions or ()) for u in units),
                )
            else:
                break
        return self._finish(context, step, ledger, batches, audience, checker, targets, checkpoint)

    def _send_round(
        self,
        units: list[SendUnit],
        batches: list[Batch],
        ledger: Ledger,
        settings: SendSettings,
        window: SendWindow | None,
        checkpoint: Callable[[], None],
    ) -> Round:
        """Send ``units`` (if any) and say how the round ended."""
        from ..dispatch import Dispatcher, DispatchResult

        result = DispatchResult()
        now = datetime.now(timezone.utc)
        if units:
            deadline = None
            if window is not None:
                deadline = (window.closing(now) - self.send_window_margin).timestamp()
            ledger.note_first_send(time.time())
            result = Dispatcher(self.hook, batches, ledger, settings, checkpoint, deadline=deadline).run(
                units
            )
            checkpoint()
        return self._round(result, ledger, batches, window)

    @staticmethod
    def _round(
        result: DispatchResult, ledger: Ledger, batches: list[Batch], window: SendWindow | None
    ) -> Round:
        total = sum(len(b.numbers) for b in batches)
        return Round(
            now=datetime.now(timezone.utc),
            window=window,
            terminal_error=None if result.terminal_error is None else str(result.terminal_error),
            transient_error=None if result.transient_error is None else str(result.transient_error),
            not_sent=result.not_sent,
            stopped_at_deadline=result.stopped_at_deadline,
            pending=total - ledger.sent - ledger.failed_count - ledger.unknown_count,
        )

    def _start_watches(self, ledger: Ledger, policy: Policy, pending: int, checker: ReceiptChecker) -> None:
        """Start looking for receipts: for unknown outcomes as they arise, for delivery once all is sent."""
        now = time.time()
        if ledger.unknown_count and policy.reconcile and ledger.reconcile is None and not ledger.resent:
            ledger.reconcile = Watch(now)
        sending_over = not (pending or ledger.has_retries or ledger.has_window_waiters)
        if policy.wait_for_delivery and ledger.delivery is None and sending_over and ledger.sent:
            ledger.delivery = Watch(now)

    def _finish(
        self,
        context: Context,
        step: Step,
        ledger: Ledger,
        batches: list[Batch],
        audience: Audience,
        checker: ReceiptChecker,
        targets: list[tuple[int, int]],
        checkpoint: Callable[[], None],
    ) -> dict[str, Any]:
        """Carry out the last step: fail, defer, or report."""
        summary = self._summary(ledger, batches, audience)
        if ledger.delivery is not None:
            report = checker.report(targets, recipients=ledger.sent)
            summary["delivery"] = {
                **report.to_json(),
                "failures": checker.failures(targets, MAX_LISTED_FAILURES),
            }
        if isinstance(step, Fail):
            if step.retryable:
                raise AirflowException(step.message)
            raise AirflowFailException(step.message)
        if isinstance(step, Wait):
            self._defer(step, ledger, checkpoint)
        self.log.info(
            "Done: %d sent, %d failed, %d outcome unknown, fee %d, %d requests",
            summary["sent"],
            summary["failed"],
            summary["unknown"],
            summary["fee"],
            summary["requests"],
        )
        if summary["pending"]:
            # Every path above settles or defers all recipients; if one slipped through, say so and let
            # Airflow retry rather than report success with people left out. The ledger prevents repeats.
            raise AirflowException(
                f"{summary['pending']} recipients are still unsent; retrying will send them"
            )
        if summary["failed"] + summary["unknown"] and not self.allow_partial_failure:
            self._report_failures(context, summary)
            raise AirflowFailException(self._failure_message(summary))
        delivery = summary.get("delivery")
        if delivery is not None and self.min_delivery_rate is not None:
            rate = delivery["delivered_rate"] or 0.0
            if rate < self.min_delivery_rate:
                self._report_undelivered(context, summary)
                raise AirflowFailException(
                    f"{rate:.1%} of the {delivery['checked']} checked recipients had a delivery receipt within "
                    f"wait_for_delivery, below min_delivery_rate {self.min_delivery_rate:.1%} "
                    f"({delivery['failed']} failed: {delivery['failed_by_reason']}; {delivery['no_receipt']} "
                    "without a receipt). Nobody is sent a second message."
                )
        return summary

    def _report_undelivered(self, context: Context, summary: dict[str, Any]) -> None:
        for failure in summary["delivery"]["failures"][:MAX_LOGGED_FAILURES]:
            self.log.error("Not delivered to %s: %s", mask(failure["phone_number"]), failure["description"])
        self._push_summary(context, summary)

    @staticmethod
    def _push_summary(context: Context, summary: dict[str, Any]) -> None:
        """The task fails, yet its result stays findable in XCom."""
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key=SUMMARY_XCOM_KEY, value=summary)

    def _report_failures(self, context: Context, summary: dict[str, Any]) -> None:
        """Failed recipients stay findable although the task fails: in the log (masked) and in XCom."""
        for failure in summary["failures"][:MAX_LOGGED_FAILURES]:
            self.log.error(
                "Not delivered to %s: %s (%s)",
                mask(failure["phone_number"]),
                failure["code"],
                failure["message"],
            )
        self._push_summary(context, summary)

    def _check_connection(self, settings: SendSettings) -> None:
        """Fail before anything is sent if the connection cannot work: no retry would fix it."""
        from ..exceptions import InvalidConnectionError

        try:
            config = self.hook.config
        except InvalidConnectionError as exc:
            raise AirflowFailException(str(exc)) from None
        if not (settings.sms_sdk_app_id or config.sms_sdk_app_id):
            raise AirflowFailException(
                f"No SMS application id: pass sms_sdk_app_id or set the extra 'sms_sdk_app_id' of connection "
                f"{self.tencent_sms_conn_id!r} (SMS console > Applications)"
            )

    def _has_work(self, ledger: Ledger, batches: list[Batch]) -> bool:
        return bool(ledger.new_batches(len(batches))) or ledger.has_retries or ledger.has_window_waiters

    def _defer(self, deferral: Wait, ledger: Ledger, checkpoint: Callable[[], None]) -> NoReturn:
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        moment = deferral.moment.astimezone(timezone.utc)
        ledger.note_deferral(moment.isoformat(), deferral.reason)
        checkpoint()
        where = deferral.window.describe(moment) if deferral.window else f"{moment:%Y-%m-%d %H:%M:%S} UTC"
        self.log.info("Deferring: %s; the task resumes at %s", deferral.reason, where)
        self.defer(trigger=DateTimeTrigger(moment), method_name="resume")

    # -- inputs ----------------------------------------------------------------------------------------

    @staticmethod
    def _task_instance_tag(context: Context) -> str:
        ti = context.get("ti")
        if ti is None:
            # execute() called outside Airflow: there is no run to name.
            return task_instance_tag("", "", "", -1)
        return task_instance_tag(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))

    def _policy(self) -> Policy:
        if self.on_unknown_outcome not in UNKNOWN_OUTCOME_POLICIES:
            raise AirflowFailException(
                f"on_unknown_outcome must be 'reconcile' or 'fail', got {self.on_unknown_outcome!r}"
            )
        for name in ("reconcile_after", "reconcile_timeout", "wait_for_delivery"):
            value = getattr(self, name)
            if value is None and name == "wait_for_delivery":
                continue
            if not isinstance(value, timedelta) or value <= timedelta(0):
                raise AirflowFailException(f"{name} must be a positive timedelta, got {value!r}")
        if self.reconcile_timeout < self.reconcile_after:
            raise AirflowFailException(
                f"reconcile_timeout ({self.reconcile_timeout}) must not be shorter than reconcile_after "
                f"({self.reconcile_after})"
            )
        limit = self.delivery_check_limit
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise AirflowFailException(f"delivery_check_limit must be a positive integer, got {limit!r}")
        if self.min_delivery_rate is not None:
            if self.wait_for_delivery is None:
                raise AirflowFailException(
                    "min_delivery_rate needs wait_for_delivery: how long to wait for receipts"
                )
            if not 0 <= self.min_delivery_rate <= 1:
                raise AirflowFailException(
                    f"min_delivery_rate is a share between 0 and 1, got {self.min_delivery_rate!r}"
                )
        return Policy(
            reconcile=self.on_unknown_outcome == "reconcile",
            reconcile_after=self.reconcile_after.total_seconds(),
            reconcile_timeout=self.reconcile_timeout.total_seconds(),
            resend_unresolved=bool(self.resend_unresolved),
            wait_for_delivery=None
            if self.wait_for_delivery is None
            else self.wait_for_delivery.total_seconds(),
        )

    def _settings(self, task_instance: str) -> SendSettings:
        from ..dispatch import SendSettings

        try:
            check_user_context(self.session_context or None)
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from None

        if self.sms_type not in SMS_TYPES:
            raise AirflowFailException(
                f"sms_type must be one of {', '.join(SMS_TYPES)}, got {self.sms_type!r}"
            )
        if self.on_invalid_number not in INVALID_NUMBER_POLICIES:
            raise AirflowFailException(
                f"on_invalid_number must be 'fail' or 'skip', got {self.on_invalid_number!r}"
            )
        for name in ("max_concurrency", "request_attempts"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise AirflowFailException(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not isinstance(self.recipient_retries, int) or self.recipient_retries < 0:
            raise AirflowFailException(f"recipient_retries must be 0 or more, got {self.recipient_retries!r}")
        if not self.max_requests_per_second or self.max_requests_per_second <= 0:
            raise AirflowFailException(
                f"max_requests_per_second must be positive, got {self.max_requests_per_second!r}"
            )
        if self.template_id in (None, ""):
            raise AirflowFailException("template_id is required: the id of an approved template")
        return SendSettings(
            template_id=str(self.template_id).strip(),
            sign_name=self.sign_name or None,
            sms_sdk_app_id=str(self.sms_sdk_app_id) if self.sms_sdk_app_id else None,
            session_context=self.session_context or None,
            extend_code=self.extend_code or None,
            sender_id=self.sender_id or None,
            max_concurrency=self.max_concurrency,
            max_requests_per_second=float(self.max_requests_per_second),
            request_attempts=self.request_attempts,
            recipient_attempts=self.recipient_retries + 1,
            max_recipient_wait=self.max_recipient_wait.total_seconds(),
            recipient_retry_delay=(
                self.recipient_retry_delay.total_seconds() if self.recipient_retry_delay is not None else None
            ),
            task_instance=task_instance,
        )

    def _window(self) -> SendWindow | None:
        if self.sms_type != "marketing":
            return None
        try:
            return SendWindow.parse(self.send_window, self.send_window_timezone)
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from None

    def _audience(self) -> Audience:
        from ..recipients import audience_for_numbers, parse_list, personalised

        if (self.phone_numbers is None) == (self.recipients is None):
            raise AirflowFailException(
                "Give exactly one of phone_numbers (one message for all) or recipients"
            )
        try:
            if self.recipients is not None:
                if self.template_params is not None:
                    raise ValueError(
                        "template_params cannot be combined with recipients, which carry their own"
                    )
                audience = personalised(parse_list(self.recipients, "recipients"), self.default_region)
            else:
                params = (
                    parse_list(self.template_params, "template_params")
                    if self.template_params is not None
                    else []
                )
                audience = audience_for_numbers(self.phone_numbers, params, self.default_region)
        except (TypeError, ValueError) as exc:
            raise AirflowFailException(str(exc)) from None
        if audience.invalid:
            shown = ", ".join(mask(str(n)) for n in audience.invalid[:10])
            more = f" and {len(audience.invalid) - 10} more" if len(audience.invalid) > 10 else ""
            if self.on_invalid_number == "fail":
                raise AirflowFailException(
                    f"{len(audience.invalid)} invalid phone numbers ({shown}{more}); nothing was sent. Fix them "
                    f"(numbers without '+' are read as {self.default_region} numbers) or pass "
                    "on_invalid_number='skip' to send to the valid ones."
                )
            self.log.warning("Skipping %d invalid phone numbers: %s%s", len(audience.invalid), shown, more)
        if not audience.groups:
            raise AirflowFailException("No recipients to send to: the phone number list is empty")
        if self.sms_type == "verification":
            for group_params in audience.groups:
                bad = [p for p in group_params if not _VERIFICATION_PARAM.match(p)]
                if bad:
                    raise AirflowFailException(
                        f"Verification-code templates take parameters of 0-6 digits only; got {bad[0]!r}"
                    )
        return audience

    def _load_ledger(self, store: LedgerStore, batches: list[Batch], settings: SendSettings) -> Ledger:
        from ..batching import plan_digest

        # What recipients see depends on more than numbers and parameters: a changed template or
        # signature is a different message, and must not pass for the one already sent.
        message = (settings.template_id, settings.sign_name, settings.sms_sdk_app_id, settings.sender_id)
        plan = hashlib.sha256(f"{plan_digest(batches)}{message}".encode()).hexdigest()[:24]
        try:
            return Ledger.load(store.load(), plan)
        except LedgerMismatchError as exc:
            raise AirflowFailException(
                f"An earlier try of this task sent messages for a different list of recipients or parameters "
                f"({exc}). To avoid sending anyone a second message nothing is sent: run the new list in a new "
                "DAG run, or delete this task instance's task state (key 'tencent_sms_ledger') to start over."
            ) from None

    # -- results ---------------------------------------------------------------------------------------

    def _summary(self, ledger: Ledger, batches: list[Batch], audience: Audience) -> dict[str, Any]:
        failures = [
            {"phone_number": batches[b].numbers[p], "code": f.code, "message": f.message}
            for b, p, f in ledger.failures()
        ]
        unknown = [
            {"phone_number": batches[b].numbers[p], "code": "OutcomeUnknown", "message": "sent, no answer"}
            for b, p in ledger.unknown_positions()
        ]
        listed = (failures + unknown)[:MAX_LISTED_FAILURES]
        total = sum(len(b.numbers) for b in batches)
        handled = ledger.sent + len(failures) + len(unknown)
        return {
            "recipients": total,
            "sent": ledger.sent,
            "failed": len(failures),
            "unknown": len(unknown),
            "pending": total - handled,
            "duplicates": audience.duplicates,
            "invalid": len(audience.invalid),
            "fee": ledger.fee,
            "requests": ledger.requests,
            "failures_by_code": dict(Counter(item["code"] for item in failures + unknown)),
            "failures": listed,
            "failures_not_listed": len(failures) + len(unknown) - len(listed),
            "deferrals": [{"until": until, "reason": reason} for until, reason in ledger.deferrals],
            "reconciled": ledger.reconciled,
            "resent_unresolved": ledger.resent,
        }

    def _failure_message(self, summary: dict[str, Any]) -> str:
        by_code = ", ".join(f"{code}: {count}" for code, count in sorted(summary["failures_by_code"].items()))
        unknown = ""
        if summary["unknown"]:
            looked = (
                "no delivery receipt of this task came for them by reconcile_timeout"
                if self.on_unknown_outcome == "reconcile"
                else "receipts were not looked up (on_unknown_outcome='fail')"
            )
            unknown = (
                f" For {summary['unknown']} recipients the outcome is unknown (sent, no answer; {looked}): they may "
                "have been delivered and are not re-sent; resend_unresolved=True would send them once more."
            )
        return (
            f"{summary['failed'] + summary['unknown']} of {summary['recipients']} recipients did not get the "
            f"message ({by_code}); {summary['sent']} did.{unknown} Pass allow_partial_failure=True to accept "
            "partial success."
        )
