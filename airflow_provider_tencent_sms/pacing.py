"""How fast to start requests and how many to keep in flight: pure rules over a clock the caller passes.

- :class:`Pacer` spaces request starts under the rate cap, and never lets more than the cap start in any
  one-second window, even when a late loop catches up. Tencent's ``RequestLimitExceeded`` (the account
  is shared with other senders) halves the rate; it then climbs back gradually to the cap.
- :class:`InFlightLimit` sizes the number of requests in flight from the measured latency and the rate,
  by Little's law (in flight = rate x latency) with headroom. Connections open gradually because starts
  are paced: at 3,000 requests/s one new request (and at most one new connection) every 0.33 ms, never
  hundreds at once; until the first answers tell the latency, the pacing alone bounds them.

The latency it sizes from is a low percentile of the recent answers, not their mean: time an answer
spends queued (behind a busy client loop, or a busy server) would otherwise raise the estimate, which
raises the requests in flight, which opens more connections (over HTTPS a handshake of about a
millisecond of CPU each), which queues the answers more. Measured at 0 ms over HTTPS on a loaded
machine, the mean grew to 40-200 ms, sizing 700 to 1,000 in flight where 20 do.
"""

from __future__ import annotations

import math
from collections import deque

#: Idle time is not banked beyond this: a late loop may catch up this many seconds' worth of starts. More
#: would recover the slots of a long stall, but measured with 100 ms the catch-up bursts opened three times
#: the connections (hundreds of starts at once) and arrived bunched at the server (3,060 in one second).
BURST_SECONDS = 0.015
#: However late the loop was, no more than the cap start in any window of this many seconds (the catch-up
#: alone would allow the cap plus ``BURST_SECONDS`` x the cap).
WINDOW_SECONDS = 1.0
#: A refusal halves the rate, at most once per this many seconds (the answers of requests already in flight
#: all arrive together and are one signal).
DECREASE_HOLD = 0.5
#: After the last refusal, the rate recovers by this share of the cap per second.
RECOVERY_PER_SECOND = 0.1
MIN_RATE = 1.0

#: The default ceiling on requests in flight: enough for 3,000 requests/s at up to about 300 ms.
DEFAULT_MAX_CONCURRENCY = 1000

#: Requests in flight = rate x latency x HEADROOM, plus a few for answers that take longer than usual.
HEADROOM = 1.5
SLACK = 8
#: The latency estimate: this percentile of the last LATENCY_WINDOW answers, taken again every
#: LATENCY_EVERY answers (sorting 256 numbers costs about 10 µs: a few hundredths of a µs per answer).
LATENCY_PERCENTILE = 10
LATENCY_WINDOW = 256
LATENCY_EVERY = 32


class Pacer:
    """Request starts at most ``cap`` per second, slowed by refusals and recovering after them.

    :param cap: the most requests to start per second.
    :param now: the current time on the caller's monotonic clock.
    """

    def __init__(self, cap: float, now: float) -> None:
        if not cap > 0:
            raise ValueError(f"the rate cap must be a positive number of requests per second, got {cap!r}")
        self.cap = cap
        self.rate = cap
        self._next = now
        self._last_cut = -math.inf
        self._updated = now
        #: When the starts of the last WINDOW_SECONDS were, oldest first.
        self._recent: deque[float] = deque()
        self._per_window = max(1, math.floor(cap * WINDOW_SECONDS))

    def take(self, now: float) -> bool:
        """Whether a request may start now; if so, its slot is used."""
        if now < self._next:
            return False
        recent = self._recent
        while recent and recent[0] <= now - WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= self._per_window:
            # Catching up would pass the cap: wait until the oldest start leaves the window.
            self._next = recent[0] + WINDOW_SECONDS
            return False
        recent.append(now)
        self._next = max(self._next, now - BURST_SECONDS) + 1.0 / self.rate
        return True

    def wait(self, now: float) -> float:
        """Seconds until the next start is allowed."""
        return max(0.0, self._next - now)

    def refused(self, now: float) -> bool:
        """Tencent refused a request for the rate: halve the rate (once per hold); True if it was cut."""
        if now - self._last_cut < DECREASE_HOLD:
            return False
        self._last_cut = self._updated = now
        self.rate = max(MIN_RATE, self.rate / 2)
        self._next = max(self._next, now + 1.0 / self.rate)
        return True

    def recover(self, now: float) -> None:
        """Let the rate climb back towards the cap, one small step per call."""
        elapsed, self._updated = now - self._updated, now
        if self.rate < self.cap and now - self._last_cut >= DECREASE_HOLD:
            self.rate = min(self.cap, self.rate + self.cap * RECOVERY_PER_SECOND * elapsed)


class InFlightLimit:
    """How many requests may be in flight: Little's law from the measured latency.

    :param ceiling: the most ever (``max_concurrency``, or fewer if file descriptors are short).
    """

    def __init__(self, ceiling: int) -> None:
        if ceiling < 1:
            raise ValueError(f"the in-flight ceiling must be at least 1, got {ceiling!r}")
        self.ceiling = ceiling
        self.latency: float | None = None
        #: Before any answer only the pacing bounds the requests in flight.
        self.current = ceiling
        self.peak = 0
        self._recent: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._until_estimate = 0

    def target(self, rate: float) -> int:
        if self.latency is None:
            return self.ceiling
        return min(self.ceiling, math.ceil(rate * self.latency * HEADROOM) + SLACK)

    def answered(self, seconds: float, rate: float) -> None:
        """One request took ``seconds``: update the latency estimate and the limit."""
        self._recent.append(seconds)
        self._until_estimate -= 1
        if self._until_estimate <= 0:
            # Also after each of the first answers, so that the first (slow: connections being set up)
            # is soon outvoted.
            self._until_estimate = min(LATENCY_EVERY, len(self._recent))
            ordered = sorted(self._recent)
            self.latency = ordered[len(ordered) * LATENCY_PERCENTILE // 100]
        self.current = self.target(rate)

    def note(self, in_flight: int) -> None:
        self.peak = max(self.peak, in_flight)
