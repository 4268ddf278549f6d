"""The polling policy: when to ask the server about a load next. Pure: no I/O, no clock.

Fed with observations ``(time, percent)`` it answers the time of the next poll, an ETA, and whether
the load has stalled. Times are whatever clock the caller uses (the monitor uses anyio's).

The schedule:
- poll at once after submission;
- while progress is flat, back off geometrically from ``min_interval`` to ``max_interval``;
- once progress moves, learn the rate and jump to just before the predicted finish, then poll
  densely (``finish_interval``) through a window around it; past the window, back off again;
- never poll faster than ``min_interval`` (the server updates progress every ~200 ms) except
  inside the finish window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import InvalidArgumentError

__all__ = ["PollSchedule", "PollingConfig"]


@dataclass(frozen=True)
class PollingConfig:
    """Tunable polling behaviour; the defaults suit Milvus's ~200 ms progress updates."""

    min_interval: float = 0.2
    max_interval: float = 5.0
    finish_interval: float = 0.05
    backoff: float = 1.6
    #: Fraction of the predicted remaining time polled densely around the predicted finish.
    finish_window: float = 0.15
    #: No progress for this long counts as a stall (Milvus itself fails a load after 600 s).
    stall_timeout: float = 300.0
    #: Cap on progress polls per second for one client, shared fairly by every watched load.
    max_polls_per_second: float = 50.0

    def __post_init__(self) -> None:
        if not 0 < self.finish_interval <= self.min_interval <= self.max_interval:
            raise InvalidArgumentError(
                "polling intervals must satisfy 0 < finish_interval <= min_interval <= max_interval, got "
                f"{self.finish_interval}, {self.min_interval}, {self.max_interval}"
            )
        if self.backoff < 1.0:
            raise InvalidArgumentError(f"backoff must be >= 1, got {self.backoff}")
        if self.stall_timeout <= 0:
            raise InvalidArgumentError(f"stall_timeout must be positive, got {self.stall_timeout}")
        if not self.max_polls_per_second > 0:
            raise InvalidArgumentError(f"max_polls_per_second must be positive, got {self.max_polls_per_second}")


@dataclass
class PollSchedule:
    """The state of one watched load. Call :meth:`observe` after each answer."""

    config: PollingConfig
    started_at: float
    _first: tuple[float, int] | None = field(default=None, init=False)
    _last: tuple[float, int] | None = field(default=None, init=False)
    _last_change: tuple[float, int] | None = field(default=None, init=False)
    _flat_polls: int = field(default=0, init=False)

    def observe(self, time: float, percent: int) -> None:
        """Record an answer; percentages are clamped to be monotone (the server's may wobble)."""
        if self._last is not None:
            percent = max(percent, self._last[1])
            time = max(time, self._last[0])
        if self._first is None:
            self._first = (time, percent)
            self._last_change = (time, percent)
        elif self._last is not None and percent > self._last[1]:
            self._last_change = (time, percent)
            self._flat_polls = 0
        else:
            self._flat_polls += 1
        self._last = (time, percent)

    @property
    def percent(self) -> int:
        return self._last[1] if self._last else 0

    @property
    def finished(self) -> bool:
        return self.percent >= 100

    def rate(self) -> float | None:
        """Percent per second, learned from the observations; None while nothing has moved."""
        if self._first is None or self._last_change is None:
            return None
        (t0, p0), (t1, p1) = self._first, self._last_change
        if p1 > p0:
            return (p1 - p0) / max(t1 - t0, 1e-6)
        if p0 > 0:  # already under way at the first answer: it has been loading since submission
            return p0 / max(t0 - self.started_at, 1e-6)
        return None

    def predicted_finish(self) -> float | None:
        rate = self.rate()
        if rate is None or self._last_change is None:
            return None
        t1, p1 = self._last_change
        return t1 + (100 - p1) / rate

    def eta(self, now: float) -> float | None:
        finish = self.predicted_finish()
        return None if finish is None else max(finish - now, 0.0)

    def stalled_for(self, now: float) -> float:
        """Seconds since progress last moved (or since submission)."""
        since = self._last_change[0] if self._last_change and self._last_change[1] > 0 else self.started_at
        return max(now - since, 0.0)

    def stalled(self, now: float) -> bool:
        return not self.finished and self.stalled_for(now) >= self.config.stall_timeout

    def next_poll_at(self) -> float:
        """When to poll next; ``math.inf`` once the load is finished."""
        cfg = self.config
        if self._last is None:
            return self.started_at
        if self.finished:
            return math.inf
        last_t = self._last[0]
        backoff = min(cfg.max_interval, cfg.min_interval * cfg.backoff**self._flat_polls)
        finish = self.predicted_finish()
        if finish is None or self._last_change is None:
            return last_t + backoff
        remaining = finish - self._last_change[0]
        window = max(cfg.finish_interval * 2, cfg.finish_window * remaining)
        if last_t < finish - window:
            # Far from the predicted finish: jump towards it, at least min_interval, at most max_interval.
            return min(last_t + cfg.max_interval, max(last_t + cfg.min_interval, finish - window))
        if last_t < finish + window:
            return last_t + cfg.finish_interval
        return last_t + backoff
