"""Looking up receipts for a SendSmsOperator task: the I/O around the pure rules of reconciliation.py.

One ``PullSmsSendStatusByPhoneNumber`` query per recipient looked at (the hook keeps to its 20/s), from a
little before the task's first request: per-number queries consume nothing, so other consumers of the
application's receipt queue are not robbed. What is found goes into the ledger, checkpointed as it goes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from .batching import Batch
from .delivery_report import DeliveryReport, build_report, sample_indices
from .exceptions import TencentSmsError
from .hooks.receipts import HISTORY_WINDOW
from .hooks.sms import TencentSmsHook
from .ledger import Ledger
from .phone import mask
from .reconciliation import Settlement, settle

log = logging.getLogger(__name__)

#: Receipts are looked for from this long before the first request (clocks differ).
CLOCK_MARGIN = timedelta(minutes=5)
CHECKPOINT_EVERY = 50


class ReceiptChecker:
    """
    :param hook: the hook the queries go through.
    :param batches: the batch plan (positions in the ledger refer to it).
    :param ledger: where the settlements and receipts are recorded.
    :param task_instance: the tag of this task instance (see session_context.py).
    :param sms_sdk_app_id: the application, if not the connection's.
    :param checkpoint: stores the ledger.
    """

    def __init__(
        self,
        hook: TencentSmsHook,
        batches: Sequence[Batch],
        ledger: Ledger,
        task_instance: str,
        sms_sdk_app_id: str | None,
        checkpoint: Callable[[], None],
    ) -> None:
        self.hook = hook
        self.batches = batches
        self.ledger = ledger
        self.task_instance = task_instance
        self.sms_sdk_app_id = sms_sdk_app_id
        self.checkpoint = checkpoint

    def _begin(self) -> datetime:
        now = datetime.now(timezone.utc)
        oldest = now - HISTORY_WINDOW + CLOCK_MARGIN
        first = self.ledger.first_send
        start = oldest if first is None else datetime.fromtimestamp(first, timezone.utc) - CLOCK_MARGIN
        return max(start, oldest)

    def _look_up(self, positions: Iterable[tuple[int, int]]) -> Iterable[tuple[int, int, Settlement]]:
        """Each position's settlement, where its receipts prove one; stops at the first failed query."""
        begin = self._begin()
        for count, (batch, position) in enumerate(positions, 1):
            number = self.batches[batch].numbers[position]
            try:
                receipts = self.hook.pull_send_status_by_phone_number(
                    number, begin, sms_sdk_app_id=self.sms_sdk_app_id
                )
            except TencentSmsError as exc:
                # A failed query proves nothing either way: the next check asks again.
                log.warning(
                    "Looking up receipts failed at %s (%s); the next check tries again", mask(number), exc
                )
                return
            found = settle(receipts, self.task_instance, batch)
            if found is not None:
                yield batch, position, found
            if count % CHECKPOINT_EVERY == 0:
                self.checkpoint()

    def reconcile(self) -> int:
        """Look up every recipient whose outcome is unknown; settle those a receipt proves were sent."""
        watch = self.ledger.reconcile
        assert watch is not None, "reconcile() needs the ledger's reconcile watch"
        unknown = list(self.ledger.unknown_positions())
        settled = 0
        for batch, position, found in self._look_up(unknown):
            self.ledger.settle_unknown(batch, position, found.delivered, found.description)
            settled += 1
        watch.checks += 1
        self.checkpoint()
        log.info(
            "Check %d for receipts: %d of %d recipients with an unknown outcome were sent (receipt found)",
            watch.checks,
            settled,
            len(unknown),
        )
        return settled

    # -- delivery reports ------------------------------------------------------------------------------

    def targets(self, limit: int) -> list[tuple[int, int]]:
        """The recipients whose delivery is checked: all who were sent to, or a sample chosen once."""
        if self.ledger.checked:
            return [(b, p) for b, positions in sorted(self.ledger.checked.items()) for p in positions]
        sent = list(self.ledger.sent_positions([len(b.numbers) for b in self.batches]))
        if len(sent) <= limit:
            return sent
        chosen = [sent[i] for i in sample_indices(len(sent), limit, self.task_instance)]
        for batch, position in chosen:
            self.ledger.checked.setdefault(batch, []).append(position)
        return chosen

    def missing(self, targets: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        return [(b, p) for b, p in targets if self.ledger.receipt(b, p) is None]

    def check_delivery(self, targets: Sequence[tuple[int, int]]) -> None:
        """Look up the receipts of the targets that have none yet."""
        watch = self.ledger.delivery
        assert watch is not None, "check_delivery() needs the ledger's delivery watch"
        missing = self.missing(targets)
        started = time.monotonic()
        for batch, position, found in self._look_up(missing):
            self.ledger.record_receipt(batch, position, found.delivered, found.description)
        watch.checks += 1
        self.checkpoint()
        log.info(
            "Delivery check %d: %d of %d checked recipients have a receipt (%.0f s of queries)",
            watch.checks,
            len(targets) - len(self.missing(targets)),
            len(targets),
            time.monotonic() - started,
        )

    def report(
        self, targets: Sequence[tuple[int, int]], recipients: int, *, app_wide: bool = False
    ) -> DeliveryReport:
        """The report over ``targets``; with ``app_wide``, a sampled one carries the application's statistics
        (one more query, so only for the final report)."""
        settlements = []
        for batch, position in targets:
            receipt = self.ledger.receipt(batch, position)
            if receipt is not None:
                settlements.append(Settlement(*receipt))
        statistics = self._app_wide() if app_wide and len(targets) < recipients else None
        return build_report(recipients, len(targets), settlements, statistics)

    def _app_wide(self) -> dict[str, Any] | None:
        now = datetime.now(timezone.utc)
        first = self.ledger.first_send
        begin = now if first is None else datetime.fromtimestamp(first, timezone.utc)
        try:
            stats = self.hook.callback_status_statistics(begin, now, sms_sdk_app_id=self.sms_sdk_app_id)
        except (TencentSmsError, ValueError) as exc:
            log.warning(
                "CallbackStatusStatistics not available (%s); the report has no app-wide figures", exc
            )
            return None
        return stats.to_json()

    def failures(self, targets: Sequence[tuple[int, int]], limit: int) -> list[dict[str, str]]:
        """Checked recipients whose receipt says not delivered, for the task's result (numbers in full)."""
        listed = []
        for batch, position in targets:
            receipt = self.ledger.receipt(batch, position)
            if receipt is not None and not receipt[0]:
                listed.append(
                    {"phone_number": self.batches[batch].numbers[position], "description": receipt[1]}
                )
                if len(listed) >= limit:
                    break
        return listed
