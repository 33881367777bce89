"""The ledger writer: snapshots stored in order from a thread of their own, failures raised to the loop."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from airflow_provider_tencent_sms.ledger_writer import LedgerWriter


class GatedStore:
    """Blocks each save until the test lets it through."""

    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []
        self.entered = threading.Semaphore(0)
        self.gate = threading.Semaphore(0)

    def save(self, snapshot: dict[str, Any]) -> None:
        self.entered.release()
        assert self.gate.acquire(timeout=10)
        self.saved.append(snapshot)


def test_snapshots_queued_behind_a_slow_save_collapse_into_the_newest():
    store = GatedStore()
    writer = LedgerWriter(store.save)
    try:
        assert writer.submit({"n": 1}) == 1
        assert store.entered.acquire(timeout=10)  # the first save is under way
        writer.submit({"n": 2})
        newest = writer.submit({"n": 3})
        assert writer.stored == 0 and not writer.wait(newest, 0.05)
        store.gate.release()
        store.gate.release()
        assert writer.wait(newest, 10)
        assert store.saved == [{"n": 1}, {"n": 3}]  # the newest covers the one it replaced
        assert writer.stored == 3
    finally:
        store.gate.release()
        writer.close()


def test_a_failed_save_is_raised_in_the_senders_thread_and_nothing_later_is_taken():
    attempts: list[dict[str, Any]] = []

    def save(snapshot: dict[str, Any]) -> None:
        attempts.append(snapshot)
        raise ConnectionError("API server unreachable")

    writer = LedgerWriter(save)
    number = writer.submit({"n": 1})
    with pytest.raises(ConnectionError, match="unreachable"):
        writer.wait(number, 10)
    with pytest.raises(ConnectionError):
        _ = writer.stored
    with pytest.raises(ConnectionError):
        writer.submit({"n": 2})
    writer.close()
    assert attempts == [{"n": 1}]


def test_close_waits_for_the_save_under_way_and_drops_the_one_waiting():
    store = GatedStore()
    writer = LedgerWriter(store.save)
    writer.submit({"n": 1})
    assert store.entered.acquire(timeout=10)
    writer.submit({"n": 2})
    closing = threading.Thread(target=writer.close)
    closing.start()
    closing.join(0.1)
    assert closing.is_alive()  # still saving the first
    store.gate.release()
    closing.join(10)
    assert not closing.is_alive() and store.saved == [{"n": 1}]
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit({"n": 3})
