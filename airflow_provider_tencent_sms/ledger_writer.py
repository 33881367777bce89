"""Storing the ledger from a thread of its own, so that the sending loop does not wait for each save.

Through Airflow's task state store a save is a round trip to the API server (15-25 ms under ``dag.test``,
more on a busy deployment). Done on the loop's thread four times a second, it would stop every request
start and answer for that long. Here the loop takes a snapshot (a copy, in memory), hands it over and
goes on; it starts the requests a snapshot covers only once :meth:`LedgerWriter.stored` says that
snapshot is durable, so write-ahead holds: no request leaves before the record that it may leave is
stored.

Snapshots are numbered. Only the newest waiting one is kept: each is a whole ledger, and a later one
covers everything an earlier one did (a request is marked possibly sent until its answer is recorded), so
storing the newest makes every earlier number durable too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LedgerWriter:
    """Saves ledger snapshots, newest last, on a background thread.

    :param save: stores one snapshot durably (e.g. the task state store's ``set``); it may block.
    """

    def __init__(self, save: Callable[[dict[str, Any]], None]) -> None:
        self._save = save
        self._changed = threading.Condition()
        self._waiting: tuple[int, dict[str, Any]] | None = None
        self._submitted = 0
        self._stored = 0
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="tencent-sms-ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, snapshot: dict[str, Any]) -> int:
        """Queue ``snapshot`` (which nothing may change afterwards) for storing; return its number."""
        with self._changed:
            self._raise_failure()
            if self._closed:
                raise RuntimeError("the ledger writer is closed")
            self._submitted += 1
            self._waiting = (self._submitted, snapshot)
            self._changed.notify_all()
            return self._submitted

    @property
    def stored(self) -> int:
        """The number of the newest snapshot stored; raises what the store raised, if it failed."""
        with self._changed:
            self._raise_failure()
            return self._stored

    def wait(self, number: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for snapshot ``number`` to be stored; whether it is."""
        with self._changed:
            self._changed.wait_for(lambda: self._stored >= number or self._error is not None, timeout)
            self._raise_failure()
            return self._stored >= number

    def close(self) -> None:
        """End the thread, after the save it may be in; a snapshot still waiting is dropped (the caller
        stores its final one itself, once nothing else can be saving)."""
        with self._changed:
            self._closed = True
            self._waiting = None
            self._changed.notify_all()
        self._thread.join()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._waiting is not None or self._closed)
                if self._waiting is None:
                    return
                (number, snapshot), self._waiting = self._waiting, None
            try:
                self._save(snapshot)
            except BaseException as exc:  # handed to the loop's thread, which raises it
                with self._changed:
                    self._error = exc
                    self._changed.notify_all()
                return
            with self._changed:
                self._stored = number
                self._changed.notify_all()
