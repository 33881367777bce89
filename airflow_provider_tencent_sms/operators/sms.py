"""SendSmsOperator: one template to many recipients, each getting exactly one message."""

from __future__ import annotations

import gzip
import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from ..connection import DEFAULT_CONN_ID
from ..ledger import Ledger, LedgerMismatchError, SendUnit, Watch
from ..next_step import (
    CheckDelivery,
    Delivery,
    Fail,
    Finish,
    Policy,
    Reconcile,
    Resend,
    Send,
    Step,
    Wait,
    next_step,
    sent_so_far,
)
from ..pacing import DEFAULT_MAX_CONCURRENCY
from ..phone import mask
from ..rendering import GapProbe, describe_gap, find_gaps
from ..send_window import DEFAULT_TIMEZONE, DEFAULT_WINDOW, SendWindow
from ..session_context import check_user_context, task_instance_tag
from ..task_state import ledger_store
from ..wording import plural

# What sending needs (requests, phonenumbers…) is imported in execute(): DAG files that use this
# operator are parsed far more often than they run, and parsing must stay cheap.
if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from ..compact import BatchPlan, CompactAudience
    from ..cost import FeeBudget, Prices
    from ..dispatch import Dispatcher, SendSettings
    from ..hooks.sms import TencentSmsHook
    from ..preflight import Preflight
    from ..shards import Shard

SMS_TYPES = ("notification", "verification", "marketing")
INVALID_NUMBER_POLICIES = ("fail", "skip")
RATE_LIMIT_SCOPES = ("account", "task")
#: What recipients_format accepts (``sources.FORMATS``, not imported here: parsing must stay cheap).
RECIPIENTS_FORMATS = ("csv", "jsonl", "text")
UNKNOWN_OUTCOME_POLICIES = ("reconcile", "fail")
#: How many failures the XCom result lists one by one; the rest are counted.
MAX_LISTED_FAILURES = 100
MAX_LOGGED_FAILURES = 20
#: How many invalid entries the result lists (masked, with their positions) when they are skipped.
MAX_LISTED_INVALID = 100
_VERIFICATION_PARAM = re.compile(r"^\d{0,6}$")
#: When the task fails, its result is still pushed to XCom under this key.
SUMMARY_XCOM_KEY = "sms_summary"


@dataclass(frozen=True)
class _Progress:
    """The ledger's counters at one moment, to tell what this try did from what earlier ones had done."""

    sent: int
    failed: int
    #: The recipients whose outcome is unknown, as (batch, position).
    unknown: frozenset[tuple[int, int]]
    fee: int
    requests: int
    #: Unknown outcomes settled as sent by delivery receipts (they move from ``unknown`` to ``sent``).
    reconciled: int = 0

    @classmethod
    def of(cls, ledger: Ledger) -> _Progress:
        return cls(
            ledger.sent,
            ledger.failed_count,
            frozenset(ledger.unknown_positions()),
            ledger.fee,
            ledger.requests,
            ledger.reconciled,
        )

    @property
    def handled(self) -> int:
        return self.sent + self.failed + len(self.unknown)

    def counts(self) -> str:
        return f"{self.sent} sent, {self.failed} failed, {len(self.unknown)} outcome unknown"

    def since(self, before: _Progress) -> str:
        settled = self.reconciled - before.reconciled
        # Unknown outcomes that this try settled (by a receipt, or a re-send's answer) leave "unknown": only
        # those that arose in this try count, and the ones a receipt settled are told apart from "sent".
        now = _Progress(
            self.sent - before.sent - settled,
            self.failed - before.failed,
            self.unknown - before.unknown,
            self.fee - before.fee,
            self.requests - before.requests,
        )
        earlier = (
            f"; earlier tries had handled {before.handled} ({before.counts()})" if before.handled else ""
        )
        receipts = (
            f"; delivery receipts settled {plural(settled, 'recipient')} with an unknown outcome as sent"
            if settled
            else ""
        )
        if not now.requests and not now.handled:
            return f"This try sent nothing{receipts}{earlier or ('' if receipts else ': there was nothing to send')}."
        return (
            f"This try: {now.counts()}, fee {now.fee}, {plural(now.requests, 'request')}{receipts}{earlier}."
        )


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
    :param recipients_uri: instead of either, a file read as a stream: a local path, a URI (``file://``,
        ``s3://``, ``gs://``… through Airflow's object storage) or an ``ObjectStoragePath``. CSV with a
        header (a ``phone_number`` column), JSON Lines (a ``phone_number`` key) or plain text (one number a
        line), optionally gzipped. (templated)
    :param recipients_conn_id: the Airflow connection of the storage ``recipients_uri`` is in.
    :param recipients_format: ``csv``, ``jsonl`` or ``text``; by default from the file's suffix.
    :param param_columns: the columns (or JSON keys) of ``recipients_uri`` holding each row's template
        parameters, in template order; instead of ``template_params``.
    :param shards: split the send into this many shards, one task instance each (see :func:`sharded_send`):
        each keeps the recipients whose number hashes into its ``shard``.
    :param shard: this task instance's shard, 0 to ``shards - 1``; set by ``.expand(shard=list(range(shards)))``.
    :param rate_limit_scope: ``account`` (default): ``max_requests_per_second`` is the account's and each
        shard gets ``1 / shards`` of it; ``task``: each shard gets all of it.
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
        logged, masked, and listed in the result); by default the task then fails, after sending to
        everyone else.
    :param allow_empty_params: send template parameters that are empty strings; by default an empty
        parameter fails the task before anything is sent, like one that rendered to ``None``.
    :param max_concurrency: the most requests in flight at once; the sender keeps as many in flight as the
        rate cap and the measured latency need (Little's law), up to this.
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
    :param exclude: numbers never to message (e.g. an opt-out list), in any form ``phone_numbers`` takes and
        any format, normalised the same way; the result counts them in ``excluded``. (templated)
    :param dry_run: do everything short of sending (connection, window, recipients, batch plan, template
        preflight, fee estimate) and return that report; no SendSms request is made, no ledger written.
    :param preflight: ask Tencent about the template (DescribeSmsTemplateList) before the first request:
        one that is not approved, or whose placeholders differ from the parameters, fails the task.
    :param max_fee: the most the send may cost, in billed SMS: the task refuses to start when the estimate
        is over it, and stops before a request that would take Tencent's reported fees past it.
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
        "recipients_uri",
        "template_id",
        "template_params",
        "sign_name",
        "sms_sdk_app_id",
        "session_context",
        "extend_code",
        "sender_id",
        "exclude",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "phone_numbers": "py",
        "exclude": "py",
        "template_params": "py",
        "recipients": "json",
    }
    ui_color = "#e6f4ff"
    #: The ledger as this try found it in the task state store, for what a failure before it is loaded
    #: says about earlier sends; None when there is none, and in a dry run, which reads none.
    _stored_ledger: Any = None

    def __init__(
        self,
        *,
        template_id: str | int,
        phone_numbers: Any = None,
        template_params: Any = None,
        recipients: Any = None,
        recipients_uri: Any = None,
        recipients_conn_id: str | None = None,
        recipients_format: str | None = None,
        param_columns: Sequence[str] | None = None,
        shards: int = 1,
        shard: int | None = None,
        rate_limit_scope: str = "account",
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
        allow_empty_params: bool = False,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_requests_per_second: float = 1000.0,
        request_attempts: int = 3,
        recipient_retries: int = 2,
        max_recipient_wait: timedelta = timedelta(minutes=5),
        recipient_retry_delay: timedelta | None = None,
        send_window: tuple[str, str] = DEFAULT_WINDOW,
        send_window_timezone: str = DEFAULT_TIMEZONE,
        send_window_margin: timedelta = timedelta(seconds=30),
        exclude: Any = None,
        dry_run: bool = False,
        preflight: bool = True,
        max_fee: int | None = None,
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
        self.recipients_uri = recipients_uri
        self.recipients_conn_id = recipients_conn_id
        self.recipients_format = recipients_format
        self.param_columns = list(param_columns) if param_columns is not None else None
        self.shards = shards
        self.shard = shard
        self.rate_limit_scope = rate_limit_scope
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
        self.allow_empty_params = allow_empty_params
        self.max_concurrency = max_concurrency
        self.max_requests_per_second = max_requests_per_second
        self.request_attempts = request_attempts
        self.recipient_retries = recipient_retries
        self.max_recipient_wait = max_recipient_wait
        self.recipient_retry_delay = recipient_retry_delay
        self.send_window = send_window
        self.send_window_timezone = send_window_timezone
        self.send_window_margin = send_window_margin
        self.exclude = exclude
        # Not ``self.dry_run``: BaseOperator.dry_run() is a method (it renders the templates).
        self.report_only = dry_run
        self.preflight = preflight
        self.max_fee = max_fee
        self.on_unknown_outcome = on_unknown_outcome
        self.reconcile_after = reconcile_after
        self.reconcile_timeout = reconcile_timeout
        self.resend_unresolved = resend_unresolved
        self.wait_for_delivery = wait_for_delivery
        self.delivery_check_limit = delivery_check_limit
        self.min_delivery_rate = min_delivery_rate
        # Settings that are not templated are checked now, so a typo fails when the DAG is parsed.
        self._check_settings()

    def _check_settings(self) -> None:
        if self.sms_type not in SMS_TYPES:
            raise ValueError(f"sms_type must be one of {', '.join(SMS_TYPES)}, got {self.sms_type!r}")
        if self.on_invalid_number not in INVALID_NUMBER_POLICIES:
            raise ValueError(f"on_invalid_number must be 'fail' or 'skip', got {self.on_invalid_number!r}")
        for name in ("max_concurrency", "request_attempts"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.recipient_retries, int) or self.recipient_retries < 0:
            raise ValueError(f"recipient_retries must be 0 or more, got {self.recipient_retries!r}")
        rate = self.max_requests_per_second
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not rate > 0:
            raise ValueError(f"max_requests_per_second must be a positive number, got {rate!r}")
        for name in ("max_recipient_wait", "recipient_retry_delay", "send_window_margin"):
            value = getattr(self, name)
            if not (isinstance(value, timedelta) or (value is None and name == "recipient_retry_delay")):
                raise TypeError(f"{name} must be a datetime.timedelta, got {value!r}")
        for name, value in (("dry_run", self.report_only), ("preflight", self.preflight)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, got {value!r}")
        fee = self.max_fee
        if fee is not None and (not isinstance(fee, int) or isinstance(fee, bool) or fee < 0):
            raise ValueError(f"max_fee must be a whole number of billed SMS (0 or more) or None, got {fee!r}")
        # Raises ValueError naming the bad part: "08:00-22:00" typos and unknown time zones.
        SendWindow.parse(self.send_window, self.send_window_timezone)
        if self.rate_limit_scope not in RATE_LIMIT_SCOPES:
            raise ValueError(f"rate_limit_scope must be 'account' or 'task', got {self.rate_limit_scope!r}")
        if self.recipients_format is not None and self.recipients_format not in RECIPIENTS_FORMATS:
            raise ValueError(
                f"recipients_format must be one of {', '.join(RECIPIENTS_FORMATS)}, got {self.recipients_format!r}"
            )
        if self.param_columns is not None and not all(isinstance(c, str) and c for c in self.param_columns):
            raise TypeError(f"param_columns must be a list of column names, got {self.param_columns!r}")
        self._shard()
        self._check_receipt_settings()

    def _check_receipt_settings(self) -> None:
        if self.on_unknown_outcome not in UNKNOWN_OUTCOME_POLICIES:
            raise ValueError(
                f"on_unknown_outcome must be 'reconcile' or 'fail', got {self.on_unknown_outcome!r}"
            )
        for name in ("reconcile_after", "reconcile_timeout", "wait_for_delivery"):
            value = getattr(self, name)
            if value is None and name == "wait_for_delivery":
                continue
            if not isinstance(value, timedelta) or value <= timedelta(0):
                raise ValueError(f"{name} must be a positive datetime.timedelta, got {value!r}")
        if self.reconcile_timeout < self.reconcile_after:
            raise ValueError(
                f"reconcile_timeout ({self.reconcile_timeout}) must not be shorter than reconcile_after "
                f"({self.reconcile_after})"
            )
        limit = self.delivery_check_limit
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"delivery_check_limit must be a positive integer, got {limit!r}")
        rate = self.min_delivery_rate
        if rate is not None:
            if self.wait_for_delivery is None:
                raise ValueError("min_delivery_rate needs wait_for_delivery: how long to wait for receipts")
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ValueError(f"min_delivery_rate is a share between 0 and 1, got {rate!r}")

    def _shard(self) -> Shard | None:
        """This task's shard, or None for an unsharded send; raises for inconsistent settings."""
        from ..shards import Shard

        if self.shards == 1 and self.shard in (None, 0):
            return None
        if self.shard is None:
            raise ValueError(
                f"shards={self.shards} needs shard= for each of the {self.shards} shards: map the task with "
                f".expand(shard=list(range({self.shards}))), or use sharded_send()"
            )
        return Shard(self.shard, self.shards)

    # -- rendering: a field that rendered to None or an undefined value is refused in _run -------------

    def render_template(
        self,
        content: Any,
        context: Context,
        jinja_env: jinja2.Environment | None = None,
        seen_oids: set[int] | None = None,
    ) -> Any:
        # Overridden here rather than in render_template_fields: mapped tasks render through this method only.
        if not isinstance(content, str) or not ("{{" in content or "{%" in content):
            return super().render_template(content, context, jinja_env, seen_oids)
        probe = GapProbe()
        env = probe.environment(jinja_env or self.get_template_env())
        return probe.render(
            content, lambda: super(SendSmsOperator, self).render_template(content, context, env, seen_oids)
        )

    @cached_property
    def hook(self) -> TencentSmsHook:
        from ..hooks.sms import TencentSmsHook

        return TencentSmsHook(self.tencent_sms_conn_id)

    # -- Airflow entry points --------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        return self._run_and_close(context, resumed=False)

    def resume(self, context: Context, event: Any = None, **kwargs: Any) -> dict[str, Any]:
        """Called after a deferral (window opening, recipient retry, receipt lookup); all state is in the ledger."""
        return self._run_and_close(context, resumed=True)

    def on_kill(self) -> None:
        """Stop sending (Airflow calls this on SIGTERM and on ``execution_timeout``); the ledger is kept."""
        dispatcher: Dispatcher | None = getattr(self, "_dispatcher", None)
        if dispatcher is not None:
            dispatcher.stop()

    def _run_and_close(self, context: Context, resumed: bool) -> dict[str, Any]:
        try:
            return self._run(context, resumed)
        finally:
            # The keep-alive pool is released here, not whenever the hook happens to be collected.
            if "hook" in self.__dict__:
                self.hook.close()

    # -- orchestration ---------------------------------------------------------------------------------

    def _run(self, context: Context, resumed: bool) -> dict[str, Any]:
        from ..compact import BatchPlan
        from ..cost import Prices
        from ..dispatch import Dispatcher, DispatchResult
        from ..receipt_checks import ReceiptChecker

        if not self.report_only:
            # Read first, so that a failure before the ledger is loaded never says "Nothing was sent" after
            # a try that sent.
            store = ledger_store(context)
            stored = self._stored_ledger = store.load()
        self._refuse_gaps()
        tag = self._task_instance_tag(context)
        settings = self._settings(tag)
        window = self._window()
        if self.report_only:
            return self._dry_run(settings, window)
        audience = self._audience()
        self._check_connection(settings)
        batches = BatchPlan(audience.parts)
        ledger = self._load_ledger(stored, batches, settings)
        fees = self._check_template(settings, batches, ledger, resumed)
        prices = None if fees is None else Prices(batches.sizes(), fees)

        def checkpoint() -> None:
            store.save(ledger.dump())

        before = _Progress.of(ledger)
        lost = ledger.recover(batches.sizes())
        if lost:
            self.log.warning(
                "A previous attempt stopped while %d recipients' requests may have been on the wire; "
                "they are reported as outcome unknown and not sent again",
                lost,
            )
            checkpoint()
        self.log.info(
            "%s in %s (%s removed, %s skipped); %s already handled by earlier tries",
            plural(batches.recipients, "recipient") + self._shard_label(),
            plural(len(batches), "request"),
            plural(audience.duplicates, "duplicate"),
            plural(audience.invalid_count, "invalid entry", "invalid entries"),
            plural(before.handled, "recipient"),
        )

        total = batches.recipients
        budget = self._budget(ledger, prices)
        policy = self._policy(window)
        checker = ReceiptChecker(self.hook, batches, ledger, tag, settings.sms_sdk_app_id, checkpoint)
        targets: list[tuple[int, int]] = []
        step: Step = next_step(ledger, len(batches), total, policy, datetime.now(timezone.utc), prices=prices)
        while isinstance(step, Send | Resend | Reconcile | CheckDelivery):
            result = DispatchResult()
            if isinstance(step, Send | Resend):
                units = step.units if isinstance(step, Send) else self._resend(ledger)
                if units:
                    ledger.note_first_send(time.time())
                deadline = step.deadline.timestamp() if step.deadline else None
                dispatcher = Dispatcher(
                    self.hook,
                    batches,
                    ledger,
                    settings,
                    store.save,
                    deadline=deadline,
                    budget=budget,
                    message_fees=fees or (),
                )
                # Reachable from on_kill(), which Airflow may call from a signal handler while run() sends.
                self._dispatcher: Dispatcher | None = dispatcher
                try:
                    result = dispatcher.run(units)
                finally:
                    self._dispatcher = None
            elif isinstance(step, Reconcile):
                checker.reconcile()
            else:
                checker.check_delivery(targets)
            self._start_watches(ledger, policy, total)
            checkpoint()
            delivery = None
            if ledger.delivery is not None:
                targets = checker.targets(self.delivery_check_limit)
                checkpoint()
                delivery = Delivery(
                    not checker.missing(targets), checker.report(targets, ledger.sent).delivered_rate
                )
            step = next_step(
                ledger, len(batches), total, policy, datetime.now(timezone.utc), result, delivery, prices
            )
        if isinstance(step, Wait):
            self._defer(step, ledger, checkpoint)
        summary = self._summary(ledger, batches, audience, fees)
        if ledger.delivery is not None:
            report = checker.report(targets, recipients=ledger.sent, app_wide=True)
            summary["delivery"] = {
                **report.to_json(),
                "failures": checker.failures(targets, MAX_LISTED_FAILURES),
            }
        self.log.info(
            "%s. %s", "Done" if isinstance(step, Finish) else "Stopped", _Progress.of(ledger).since(before)
        )
        if summary["failed"] + summary["unknown"]:
            self._log_failures(summary)
        if "delivery" in summary:
            self._log_delivery(summary["delivery"])
        if isinstance(step, Fail):
            # A failing task returns nothing: its result is pushed to XCom so that it can still be read.
            self._push_summary(context, summary)
            raise (AirflowException if step.retry else AirflowFailException)(step.message)
        store.finish()
        return summary

    # -- before sending: template preflight, fee estimate and cap, dry run ---------------------------------

    def _preflight(self, settings: SendSettings, batches: BatchPlan) -> Preflight | None:
        """What Tencent says about the template (None with ``preflight=False``); a notice is logged."""
        from ..preflight import preflight

        if not self.preflight or not batches:
            return None
        checked = preflight(self.hook, settings.template_id, batches)
        if checked.notice:
            self.log.warning("%s", checked.notice)
        return checked

    def _fees(self, content: str | None, settings: SendSettings, batches: BatchPlan) -> list[int] | None:
        """Per batch, the estimated fee of one message; None without the template's content."""
        from ..cost import message_fees

        if content is None:
            return None
        sign_name = settings.sign_name or self.hook.config.sign_name
        return message_fees(batches, content, sign_name)

    def _check_template(
        self, settings: SendSettings, batches: BatchPlan, ledger: Ledger, resumed: bool
    ) -> list[int] | None:
        """Fail before anything more is sent on a template Tencent would refuse; the per-batch fee estimate.

        Tencent is asked once a try: resuming after a deferral, the estimate comes from the text the try's
        check read (kept in the ledger), so that a lookup failing then cannot leave ``max_fee`` without an
        estimate halfway through a send; it is asked again only when the ledger has no text (the lookup
        failed, or a version that did not keep it wrote the ledger). A lookup that fails on a new try leaves
        the text an earlier try read.
        A template changed meanwhile is refused by SendSms itself.
        """
        if not resumed or (self.preflight and ledger.template_content is None):
            checked = self._preflight(settings, batches)
            if checked is not None and checked.problem:
                raise AirflowFailException(f"{checked.problem} {sent_so_far(ledger)}")
            if checked is not None and checked.content is not None:
                ledger.template_content = checked.content
        return self._fees(ledger.template_content, settings, batches)

    def _budget(self, ledger: Ledger, prices: Prices | None) -> FeeBudget | None:
        """The fee cap's reservations for this try, from what earlier ones spent; None without ``max_fee``
        or an estimate (next_step then sends nothing)."""
        from ..cost import FeeBudget

        if self.max_fee is None or prices is None:
            return None
        return FeeBudget(self.max_fee, ledger.fee, prices.positions(ledger.unpriced), ledger.fee_scale)

    def _dry_run(self, settings: SendSettings, window: SendWindow | None) -> dict[str, Any]:
        """Everything short of sending, as a report: no SendSms request, no ledger read or written."""
        from ..compact import BatchPlan
        from ..cost import estimate
        from ..dry_run import describe, estimate_report, plan_report, window_report

        problems: list[str] = []
        audience = self._audience(problems)
        try:
            self._check_connection(settings)
            ok, message = self.hook.test_connection()
        except AirflowFailException as exc:
            ok, message = False, str(exc)
        if not ok:
            problems.append(f"The connection does not work: {message}")
        batches = BatchPlan(audience.parts)
        checked = self._preflight(settings, batches) if ok else None
        if checked is not None and checked.problem:
            problems.append(checked.problem)
        fees = self._fees(checked.content if checked is not None else None, settings, batches)
        cost = estimate(batches, fees) if fees is not None else None
        why_not = None
        if cost is None:
            why_not = "preflight=False" if not self.preflight else "the template's content could not be read"
            if self.max_fee is not None:
                problems.append(f"max_fee needs the template's content to estimate the fee ({why_not})")
        elif self.max_fee is not None and cost.billed_sms > self.max_fee:
            problems.append(
                f"The estimate, {cost.billed_sms} billed SMS, is more than max_fee={self.max_fee}"
            )
        report = {
            "dry_run": True,
            "connection": {"ok": ok, "message": message},
            "window": window_report(window, datetime.now(timezone.utc)),
            **plan_report(audience, batches),
            "template": (
                checked.to_json() if checked is not None else {"checked": False, "notice": "preflight=False"}
            ),
            "estimate": estimate_report(cost, self.max_fee, why_not),
            "problems": problems,
        }
        self.log.info("%s", describe(report))
        return report

    def _policy(self, window: SendWindow | None) -> Policy:
        wait = self.wait_for_delivery
        return Policy(
            window,
            self.send_window_margin,
            self.retries or 0,
            self.allow_partial_failure,
            reconcile=self.on_unknown_outcome == "reconcile",
            reconcile_after=self.reconcile_after.total_seconds(),
            reconcile_timeout=self.reconcile_timeout.total_seconds(),
            resend_unresolved=bool(self.resend_unresolved),
            wait_for_delivery=None if wait is None else wait.total_seconds(),
            min_delivery_rate=self.min_delivery_rate,
            max_fee=self.max_fee,
        )

    def _task_instance_tag(self, context: Context) -> str:
        ti = context.get("ti")
        if ti is None:
            # execute() called outside Airflow: there is no run to name, only the task.
            return task_instance_tag(self.dag_id, "", self.task_id, -1)
        return task_instance_tag(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))

    @staticmethod
    def _start_watches(ledger: Ledger, policy: Policy, total: int) -> None:
        """Start looking for receipts: for unknown outcomes once they arise, for delivery once all is sent."""
        now = time.time()
        if ledger.unknown_count and policy.reconcile and ledger.reconcile is None and not ledger.resent:
            ledger.reconcile = Watch(now)
        handled = ledger.sent + ledger.failed_count + ledger.unknown_count
        waiting = ledger.has_retries or ledger.has_window_waiters or ledger.has_resends
        sending_over = handled == total and not waiting
        if policy.wait_for_delivery and ledger.delivery is None and sending_over and ledger.sent:
            ledger.delivery = Watch(now)

    def _resend(self, ledger: Ledger) -> list[SendUnit]:
        units = ledger.resend_unknown()
        self.log.warning(
            "No receipt by reconcile_timeout for %s whose outcome is unknown: sending them once more "
            "(resend_unresolved=True)",
            plural(sum(len(u.positions or ()) for u in units), "recipient"),
        )
        return units

    def _log_delivery(self, delivery: dict[str, Any]) -> None:
        self.log.info(
            "Delivery receipts of %d checked recipients: %d delivered, %d failed, %d without a receipt%s",
            delivery["checked"],
            delivery["delivered"],
            delivery["failed"],
            delivery["no_receipt"],
            "" if delivery["exact"] else f" (a sample of {delivery['recipients']})",
        )
        for failure in delivery["failures"][:MAX_LOGGED_FAILURES]:
            self.log.error("Not delivered to %s: %s", mask(failure["phone_number"]), failure["description"])

    def _log_failures(self, summary: dict[str, Any]) -> None:
        """Failed recipients stay findable, masked, whether or not partial failure is accepted."""
        for failure in summary["failures"][:MAX_LOGGED_FAILURES]:
            self.log.error(
                "Not delivered to %s: %s (%s)",
                mask(failure["phone_number"]),
                failure["code"],
                failure["message"],
            )
        more = summary["failed"] + summary["unknown"] - min(len(summary["failures"]), MAX_LOGGED_FAILURES)
        if more > 0:
            self.log.error("… and %s more (counts by code in the result)", plural(more, "recipient"))

    @staticmethod
    def _push_summary(context: Context, summary: dict[str, Any]) -> None:
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key=SUMMARY_XCOM_KEY, value=summary)

    def _check_connection(self, settings: SendSettings) -> None:
        """Fail before anything is sent if the connection cannot work: no retry would fix it."""
        from ..exceptions import InvalidConnectionError

        try:
            config = self.hook.config
            self.hook.transport  # noqa: B018 - resolves (and checks) the CA bundle and proxy now
        except InvalidConnectionError as exc:
            raise AirflowFailException(str(exc)) from None
        if not (settings.sms_sdk_app_id or config.sms_sdk_app_id):
            raise AirflowFailException(
                f"No SMS application id: pass sms_sdk_app_id or set the extra 'sms_sdk_app_id' of connection "
                f"{self.tencent_sms_conn_id!r} (SMS console > Applications)"
            )

    def _defer(self, deferral: Wait, ledger: Ledger, checkpoint: Callable[[], None]) -> NoReturn:
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        moment = deferral.moment.astimezone(timezone.utc)
        ledger.note_deferral(moment.isoformat(), deferral.reason)
        checkpoint()
        where = deferral.window.describe(moment) if deferral.window else f"{moment:%Y-%m-%d %H:%M:%S} UTC"
        self.log.info("Deferring: %s; sending resumes at %s", deferral.reason, where)
        self.defer(trigger=DateTimeTrigger(moment), method_name="resume")

    # -- inputs ----------------------------------------------------------------------------------------

    def _refuse_gaps(self) -> None:
        """Fail, before anything is sent and with no retry (it would render the same), on a field that
        rendered to ``None`` or an undefined value."""
        problems = [
            describe_gap(where, value, show_template=name not in ("phone_numbers", "recipients"))
            for name in self.template_fields
            for where, value in find_gaps(name, getattr(self, name))
        ]
        if problems:
            raise AirflowFailException(
                f"{plural(len(problems), 'field')} rendered with a missing value: "
                + "; ".join(problems)
                + f". {self._sent_before()} Fix the template (a task_ids or key typo in xcom_pull renders None) and "
                "run the task again."
            )

    def _settings(self, task_instance: str) -> SendSettings:
        from ..dispatch import SendSettings

        try:
            check_user_context(self.session_context or None)
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from None
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
            max_requests_per_second=self._rate(),
            request_attempts=self.request_attempts,
            recipient_attempts=self.recipient_retries + 1,
            max_recipient_wait=self.max_recipient_wait.total_seconds(),
            recipient_retry_delay=(
                self.recipient_retry_delay.total_seconds() if self.recipient_retry_delay is not None else None
            ),
            task_instance=task_instance,
        )

    def _rate(self) -> float:
        """This task's cap on request starts: the account's is shared by its shards unless scoped to the task."""
        rate = float(self.max_requests_per_second)
        return rate if self.rate_limit_scope == "task" else rate / self.shards

    def _shard_label(self) -> str:
        return f" (shard {self.shard} of {self.shards})" if self.shards > 1 else ""

    def _window(self) -> SendWindow | None:
        if self.sms_type != "marketing":
            return None
        return SendWindow.parse(self.send_window, self.send_window_timezone)

    def _audience(self, problems: list[str] | None = None) -> CompactAudience:
        """The recipients, less the excluded ones; what would stop the send fails the task, or, given a
        ``problems`` list (a dry run), is added to it."""
        from ..compact import CompactAudience
        from ..recipients import audience_for_numbers, parse_list, personalised

        def refuse(message: str) -> None:
            if problems is None:
                raise AirflowFailException(message)
            problems.append(message)

        given = [self.phone_numbers is not None, self.recipients is not None, self.recipients_uri is not None]
        if sum(given) != 1:
            raise AirflowFailException(
                "Give exactly one of phone_numbers (one message for all), recipients (personalised rows) or "
                "recipients_uri (a file)"
            )
        allow_empty = self.allow_empty_params
        shard = self._shard()
        try:
            if self.recipients_uri is not None:
                audience = self._file_audience(shard)
            elif self.recipients is not None:
                if self.template_params is not None:
                    raise ValueError(
                        "template_params cannot be combined with recipients, which carry their own"
                    )
                rows = parse_list(self.recipients, "recipients")
                listed = personalised(rows, self.default_region, allow_empty_params=allow_empty)
                audience = CompactAudience.from_audience(listed, shard)
            else:
                listed = audience_for_numbers(
                    self.phone_numbers,
                    self._template_params(),
                    self.default_region,
                    allow_empty_params=allow_empty,
                )
                audience = CompactAudience.from_audience(listed, shard)
        except (TypeError, ValueError) as exc:
            raise AirflowFailException(f"{exc} {self._sent_before()}") from None
        if audience.invalid_count:
            what = "row" if audience.positions_are_rows else "phone number"
            where = "row " if audience.positions_are_rows else "#"
            entries = ", ".join(
                f"{where}{i}{':' if audience.positions_are_rows else ''} {n}"
                for i, n in audience.invalid_entries[:10]
            )
            more = f" and {audience.invalid_count - 10} more" if audience.invalid_count > 10 else ""
            count = audience.invalid_count
            if not audience.parts:
                refuse(
                    f"All {plural(count, what)} given {'is' if count == 1 else 'are'} "
                    f"invalid ({entries}{more}). {self._sent_before()} Numbers without '+' are read as "
                    f"{self.default_region} numbers: set default_region or write them in E.164 (+86…)."
                )
            elif self.on_invalid_number == "fail":
                refuse(
                    f"{plural(count, 'invalid ' + what)} ({entries}{more}). {self._sent_before()} "
                    f"Fix them (numbers without '+' are read as {self.default_region} numbers) or pass "
                    "on_invalid_number='skip' to send to the valid ones."
                )
            else:
                self.log.warning("Skipping %s: %s%s", plural(count, "invalid " + what), entries, more)
        before_exclusion = audience.recipients
        audience = audience.without(self._excluded())
        if not audience.parts:
            if before_exclusion:
                refuse(
                    f"Nothing to send: all {plural(before_exclusion, 'recipient')} are excluded (exclude=...)"
                )
            elif shard is not None and not audience.invalid_count:
                self.log.info("No recipient of the list falls in shard %d of %d", shard.index, shard.count)
                return audience
            elif not audience.invalid_count:
                refuse("No recipients to send to: the phone number list is empty")
        if self.sms_type == "verification":
            for group_params in audience.params:
                bad = [p for p in group_params if not _VERIFICATION_PARAM.match(p)]
                if bad:
                    refuse(f"Verification-code templates take parameters of 0-6 digits only; got {bad[0]!r}")
                    break
        return audience

    def _excluded(self) -> frozenset[str]:
        """The numbers of ``exclude``, in E.164."""
        from ..recipients import exclusion_list

        try:
            listed = exclusion_list(self.exclude, self.default_region)
        except (TypeError, ValueError) as exc:
            raise AirflowFailException(f"exclude: {exc} {self._sent_before()}") from None
        if listed.invalid:
            self.log.warning(
                "exclude: %s ignored: not phone numbers, they cannot match a recipient",
                plural(len(listed.invalid), "entry", "entries"),
            )
        return frozenset(listed.valid)

    def _template_params(self) -> list[Any]:
        from ..recipients import parse_list

        return parse_list(self.template_params, "template_params") if self.template_params is not None else []

    def _file_audience(self, shard: Shard | None) -> CompactAudience:
        """The recipients in ``recipients_uri``, read as a stream."""
        from ..compact import compact_audience
        from ..recipients import _template_param
        from ..sources import describe, format_of, open_recipients, read_rows

        if self.param_columns is not None and self.template_params is not None:
            raise ValueError(
                "param_columns cannot be combined with template_params: the file carries the parameters"
            )
        params = tuple(
            _template_param(value, f"template_params[{i}]", self.allow_empty_params)
            for i, value in enumerate(self._template_params())
        )
        source = self.recipients_uri
        fmt = format_of(str(getattr(source, "path", source)), self.recipients_format)
        try:
            with open_recipients(source, self.recipients_conn_id) as stream:
                rows = read_rows(
                    stream, fmt, self.param_columns or (), allow_empty_params=self.allow_empty_params
                )
                return compact_audience(rows, self.default_region, shard, params)
        except (OSError, EOFError) as exc:
            if isinstance(exc, gzip.BadGzipFile):
                raise ValueError(f"{describe(source)} is not a gzip file ({exc}).") from None
            # Missing, not yet written, or storage unreachable: a retry may well succeed.
            raise AirflowException(
                f"Could not read the recipients from {describe(source)}: {type(exc).__name__}: {exc}. "
                f"{self._sent_before()}"
            ) from None

    def _sent_before(self) -> str:
        """What the stored ledger of earlier tries says was sent, read before the batch plan is known."""
        raw = self._stored_ledger
        try:
            stored = Ledger.load(raw, raw.get("plan", "") if isinstance(raw, dict) else "")
        except LedgerMismatchError:
            return "An earlier try's ledger could not be read: messages may have been sent."
        return sent_so_far(stored)

    def _load_ledger(self, raw: Any, batches: BatchPlan, settings: SendSettings) -> Ledger:
        # What recipients see depends on more than numbers and parameters: a changed template or
        # signature is a different message, and must not pass for the one already sent.
        message = (settings.template_id, settings.sign_name, settings.sms_sdk_app_id, settings.sender_id)
        plan = hashlib.sha256(f"{batches.digest()}{message}".encode()).hexdigest()[:24]
        try:
            return Ledger.load(raw, plan)
        except LedgerMismatchError as exc:
            raise AirflowFailException(
                f"An earlier try of this task sent messages for a different list of recipients or parameters "
                f"({exc}). To avoid sending anyone a second message nothing is sent: run the new list in a new "
                "DAG run, or delete this task instance's task state (key 'tencent_sms_ledger') to start over."
            ) from None

    # -- results ---------------------------------------------------------------------------------------

    def _summary(
        self, ledger: Ledger, batches: BatchPlan, audience: CompactAudience, fees: list[int] | None
    ) -> dict[str, Any]:
        from ..cost import estimate

        failures = [
            {"phone_number": batches.number(b, p), "code": f.code, "message": f.message}
            for b, p, f in ledger.failures()
        ]
        unknown = [
            {"phone_number": batches.number(b, p), "code": "OutcomeUnknown", "message": "sent, no answer"}
            for b, p in ledger.unknown_positions()
        ]
        listed = (failures + unknown)[:MAX_LISTED_FAILURES]
        total = batches.recipients
        handled = ledger.sent + len(failures) + len(unknown)
        return {
            "recipients": total,
            "sent": ledger.sent,
            "failed": len(failures),
            "unknown": len(unknown),
            "pending": total - handled,
            "duplicates": audience.duplicates,
            "invalid": audience.invalid_count,
            # Which entries were skipped, masked, by their position in the input (0-based) or row of the file.
            "invalid_entries": [
                {"position": i, "entry": entry} for i, entry in audience.invalid_entries[:MAX_LISTED_INVALID]
            ],
            "excluded": audience.excluded,
            "fee": ledger.fee,
            "estimated_fee": estimate(batches, fees).billed_sms if fees is not None else None,
            "requests": ledger.requests,
            "rate_limited": ledger.rate_limited,
            "failures_by_code": dict(Counter(item["code"] for item in failures + unknown)),
            "failures": listed,
            "failures_not_listed": len(failures) + len(unknown) - len(listed),
            "deferrals": [{"until": until, "reason": reason} for until, reason in ledger.deferrals],
            "reconciled": ledger.reconciled,
            "resent_unresolved": ledger.resent,
        }


def sharded_send(task_id: str, shards: int = 4, **kwargs: Any) -> Any:
    """A send split into ``shards`` mapped task instances, which Airflow can run on different workers.

    ``SendSmsOperator.partial(task_id=task_id, shards=shards, **kwargs).expand(shard=list(range(shards)))``: every
    shard reads the same input and sends to the recipients whose number hashes into it, with a ledger of its
    own; ``max_requests_per_second`` is divided among them unless ``rate_limit_scope="task"``.

    :param task_id: the mapped task's id.
    :param shards: how many shards (task instances).
    :param kwargs: any other ``SendSmsOperator`` (and ``BaseOperator``) argument.
    :return: the mapped task, to set dependencies with.
    """
    return SendSmsOperator.partial(task_id=task_id, shards=shards, **kwargs).expand(shard=list(range(shards)))
