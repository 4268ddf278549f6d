"""The polling policy: when to ask the server about a load next. Pure: no I/O, no clock.

Fed with observations ``(time, percent)`` it answers the time of the next poll, an ETA, and whether
the load has stalled. Times are whatever clock the caller uses (the monitor uses anyio's).

Milvus's query coordinator advances loads on a fixed tick (``queryCoord.checkInterval``, 1 s by
default): measured on Milvus 2.3.5, every change of a load's percentage lands on one grid of ticks,
shared by all the server's loads. So the schedule is:

- poll at once after submission; a load still at 0 % then stays unpolled for ``quiet_period`` (on
  Milvus 2.3.5 a load's first change comes at the first tick at least ~1.02 s after submission);
- while the tick's phase is unknown, probe every ``probe_interval`` for the tick after that (backing
  off each tick while flat), so the first change already bounds the phase to that spacing;
- every observed change bounds a tick between the poll before (sent) and the poll that saw it
  (received); the client-wide :class:`TickPhase` intersects these bounds, across loads;
- once the phase is known, poll only through each tick's window (``window_step`` apart) and just
  after it; a change seen inside a window narrows the phase further, so polls settle to about one
  per tick, right after it;
- a load flat for long skips ticks (every 2nd, then 4th...; at most ``max_interval`` between polls);
- without ticks (``server_tick=None``) learn the rate and poll densely around the predicted finish.

Never faster than ``finish_interval`` between two polls, never slower than ``max_interval``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .._validation import check_flag, check_number
from ..errors import InvalidArgumentError

__all__ = ["PollSchedule", "PollingConfig", "TickPhase"]

_MAX_INTERVAL = 86400.0  # a day: the longest interval, tick or margin a PollingConfig accepts
_MAX_BACKOFF = 10.0
_MAX_RATE = 1e6  # polls per second
_MAX_BATCH_DELAY = 10.0
_MAX_SKIP_DOUBLINGS = 32  # ticks skipped by a long-flat load: 2**n - 1, capped far above any max_interval


def _backed_off(base: float, factor: float, steps: int) -> float:
    """``base * factor**steps``; infinite rather than an OverflowError for a load flat for very long
    (1.6**n overflows at n = 1,511: with the defaults, after ~25 minutes of probing a load at 0 %)."""
    try:
        return base * factor**steps
    except OverflowError:
        return math.inf


@dataclass(frozen=True)
class PollingConfig:
    """Tunable polling behaviour; the defaults suit Milvus (1 s load checker, ~200 ms progress updates)."""

    min_interval: float = 0.2
    max_interval: float = 5.0
    finish_interval: float = 0.05
    backoff: float = 1.6
    #: Fraction of the predicted remaining time polled densely around the predicted finish (no ticks).
    finish_window: float = 0.15
    #: No progress for this long counts as a stall (Milvus itself fails a load after 600 s).
    stall_timeout: float = 300.0
    #: How long a wait (or stream) rides out a server that cannot be asked (connection refused or
    #: dropped, UNAVAILABLE, broken calls, Milvus 65535, ...) before it raises
    #: ``ServerUnavailableError``; well above a rolling restart of a Milvus proxy. None: as long as the
    #: wait's own timeout. Polls back off meanwhile (``min_interval`` growing by ``backoff`` up to
    #: 2 s, or ``max_interval`` if shorter).
    unreachable_timeout: float | None = 120.0
    #: Cap on progress polls per second for one client, shared fairly by every watched load.
    max_polls_per_second: float = 50.0
    #: Share one ShowCollections(InMemory) call between whole-collection polls falling due together.
    batch_polls: bool = True
    #: How long a poll waits for others to join its batch.
    batch_delay: float = 0.005
    #: The server's load-checker period (Milvus ``queryCoord.checkInterval``); None: do not assume ticks.
    server_tick: float | None = 1.0
    #: With ``server_tick``: how long after submission a load from 0 % cannot change (Milvus 2.3.5: its
    #: first change comes at the first tick at least ~1.02 s after the LoadCollection call). No poll
    #: is sent meanwhile.
    quiet_period: float = 1.0
    #: Poll spacing while the tick's phase is unknown, for one tick after the quiet period (where a
    #: fresh load's first change falls); then it backs off by ``backoff`` every tick without change.
    probe_interval: float = 0.2
    #: Poll spacing inside a tick's window.
    window_step: float = 0.2
    #: A tick window narrower than this gets one poll, just after it closes.
    fine_window: float = 0.08
    #: How long after a tick's window closes the closing poll goes out.
    tick_margin: float = 0.02

    def __post_init__(self) -> None:
        """Every field is checked: a finite number in a sensible range (a day at most for a
        duration), and consistent with the others; anything else is an InvalidArgumentError."""

        def seconds(name: str, *, alternative: str = "") -> float:
            value = getattr(self, name)
            return check_number(
                value,
                what=f"PollingConfig.{name}",
                positive=True,
                maximum=_MAX_INTERVAL,
                unit=" of seconds",
                alternative=alternative,
            )

        finish, low, high = seconds("finish_interval"), seconds("min_interval"), seconds("max_interval")
        if not finish <= low <= high:
            raise InvalidArgumentError(
                "polling intervals must satisfy 0 < finish_interval <= min_interval <= max_interval, got "
                f"{finish:g}, {low:g}, {high:g}"
            )
        check_number(self.backoff, what="PollingConfig.backoff", minimum=1.0, maximum=_MAX_BACKOFF)
        check_number(self.finish_window, what="PollingConfig.finish_window", maximum=1.0)
        check_number(self.stall_timeout, what="PollingConfig.stall_timeout", positive=True, unit=" of seconds")
        if self.unreachable_timeout is not None:
            check_number(
                self.unreachable_timeout,
                what="PollingConfig.unreachable_timeout",
                positive=True,
                unit=" of seconds",
                alternative=", or None",
            )
        check_number(
            self.max_polls_per_second, what="PollingConfig.max_polls_per_second", positive=True, maximum=_MAX_RATE
        )
        check_flag(self.batch_polls, what="PollingConfig.batch_polls")
        check_number(self.batch_delay, what="PollingConfig.batch_delay", maximum=_MAX_BATCH_DELAY, unit=" of seconds")
        window_step = seconds("window_step")
        fine_window = check_number(self.fine_window, what="PollingConfig.fine_window", maximum=_MAX_INTERVAL)
        margin = check_number(self.tick_margin, what="PollingConfig.tick_margin", maximum=_MAX_INTERVAL)
        if not finish <= window_step:
            raise InvalidArgumentError(f"window_step must be >= finish_interval, got {window_step:g}")
        if self.server_tick is None:
            return
        tick, probe = seconds("server_tick", alternative=", or None"), seconds("probe_interval")
        quiet = check_number(self.quiet_period, what="PollingConfig.quiet_period", maximum=_MAX_INTERVAL)
        if not finish <= probe <= high:
            raise InvalidArgumentError(
                f"probe_interval must lie between finish_interval and max_interval, got {probe:g}"
            )
        if not quiet <= high:
            raise InvalidArgumentError(f"quiet_period must lie between 0 and max_interval, got {quiet:g}")
        # A tick's window, its polls and the closing poll's margin must fit in one tick, or they
        # would fall into the next tick's window.
        for name, value in (("window_step", window_step), ("fine_window", fine_window), ("tick_margin", margin)):
            if not value < tick:
                raise InvalidArgumentError(
                    f"PollingConfig.{name} ({value:g} s) must be shorter than server_tick ({tick:g} s)"
                )


@dataclass
class TickPhase:
    """When the server's load checker ticks, as far as observed: some tick fell in ``[lo, hi]``,
    and ticks repeat every ``period``. One per client, fed by every watched load."""

    period: float
    lo: float | None = None
    hi: float | None = None

    @property
    def known(self) -> bool:
        return self.lo is not None

    @property
    def width(self) -> float:
        return math.inf if self.lo is None or self.hi is None else self.hi - self.lo

    def observe_change(self, before: float, after: float) -> None:
        """A change happened after ``before`` (the previous poll's send time) and no later than
        ``after`` (the time the poll that saw it was answered)."""
        if after - before >= self.period or after < before:
            return  # every phase fits: nothing learned
        # A vague bound (say, from the poll of the tick before) still narrows what is known; alone it
        # is kept too, but the schedule relies on the phase only once it is narrower than 0.6 period.
        if self.lo is None or self.hi is None:
            self.lo, self.hi = before, after
            return
        nearest = round((before - self.lo) / self.period)
        overlaps = [
            (max(self.lo + k * self.period, before), min(self.hi + k * self.period, after))
            for k in (nearest - 1, nearest, nearest + 1)
        ]
        pieces = [(lo, hi) for lo, hi in overlaps if lo <= hi]
        if pieces:  # the true tick is in one of them: keep their hull, never a guess between them
            self.lo, self.hi = min(lo for lo, _ in pieces), max(hi for _, hi in pieces)
        else:  # inconsistent with what was known (drift, another period): trust the newest
            self.lo, self.hi = before, after

    def window_after(self, time: float) -> tuple[float, float]:
        """The first tick window ``(start, end)`` ending after ``time`` (a poll answered at ``time``
        has seen every tick of the windows ending before it)."""
        assert self.lo is not None
        assert self.hi is not None
        k = math.floor((time - self.hi) / self.period + 1e-9) + 1
        return self.lo + k * self.period, self.hi + k * self.period


@dataclass
class PollSchedule:
    """The state of one watched load. Call :meth:`observe` after each answer."""

    config: PollingConfig
    started_at: float
    phase: TickPhase | None = None
    #: The load was started elsewhere (another client, process or Attu) and is only being followed:
    #: no quiet period (it may change at any tick), and a percentage already reached at the first
    #: answer says nothing about the rate (nobody knows when it was submitted).
    followed: bool = False
    _first: tuple[float, int] | None = field(default=None, init=False)
    _last: tuple[float, int] | None = field(default=None, init=False)
    _last_change: tuple[float, int] | None = field(default=None, init=False)
    _last_sent: float | None = field(default=None, init=False)
    _flat_polls: int = field(default=0, init=False)

    def observe(self, time: float, percent: int, *, sent_at: float | None = None) -> None:
        """Record an answer received at ``time`` for a poll sent at ``sent_at`` (default: ``time``).

        Percentages are clamped to be monotone (the server's may wobble). A change feeds the
        shared tick phase with its bounds.
        """
        sent = time if sent_at is None else min(sent_at, time)
        if self._last is not None:
            percent = max(percent, self._last[1])
            time = max(time, self._last[0])
        if self._first is None:
            self._first = (time, percent)
            self._last_change = (time, percent)
        elif self._last is not None and percent > self._last[1]:
            self._last_change = (time, percent)
            self._flat_polls = 0
            if self.phase is not None and self._last_sent is not None:
                # A load leaving 0 % changed no earlier than the quiet period's end.
                self.phase.observe_change(max(self._last_sent, self._quiet_until()), time)
        else:
            self._flat_polls += 1
        self._last = (time, percent)
        self._last_sent = sent

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
        if p0 > 0 and not self.followed and t0 - self.started_at >= self.config.quiet_period:
            # Already under way at a first answer that came late: it has been loading since submission.
            # (Sooner than the quiet period, a percentage comes from before the submission: a load
            # that was already running, re-submitted. It says nothing about the rate.)
            return p0 / max(t0 - self.started_at, 1e-6)
        return None

    def predicted_finish(self) -> float | None:
        rate = self.rate()
        if rate is None or self._last_change is None:
            return None
        t1, p1 = self._last_change
        return t1 + (100 - p1) / rate

    def eta(self, now: float) -> float | None:
        """Seconds until the predicted finish, counting down with ``now``; None while the rate is
        unknown, and None again once the prediction has passed without the load finishing (it was
        wrong: unknown, not "0 s"). 0 once finished."""
        if self.finished:
            return 0.0
        finish = self.predicted_finish()
        if finish is None or finish <= now:
            return None
        return finish - now

    def stalled_for(self, now: float) -> float:
        """Seconds since progress last moved (or since submission)."""
        since = self._last_change[0] if self._last_change and self._last_change[1] > 0 else self.started_at
        return max(now - since, 0.0)

    def stalled(self, now: float) -> bool:
        """Whether an unfinished load has made no progress for the stall timeout."""
        return not self.finished and self.stalled_for(now) >= self.config.stall_timeout

    def next_poll_at(self) -> float:
        """When to poll next; ``math.inf`` once the load is finished."""
        cfg = self.config
        if self._last is None:
            return self.started_at
        if self.finished:
            return math.inf
        last_t = self._last[0]
        if self.phase is None:
            wanted = self._rate_schedule(last_t)
        elif self.phase.known and self.phase.width < 0.6 * self.phase.period:
            wanted = self._tick_schedule(max(last_t, self._quiet_until()), self.phase)
        else:
            wanted = self._probe_schedule(last_t, self.phase.period)
        return min(max(wanted, last_t + cfg.finish_interval), last_t + cfg.max_interval)

    def _quiet_until(self) -> float:
        """The end of the quiet period while the load is still at 0 % (it cannot change before).
        A followed load has none: it may have been submitted long ago."""
        if self._last is not None and self._last[1] == 0 and not self.followed:
            return self.started_at + self.config.quiet_period
        return -math.inf

    def _probe_schedule(self, last_t: float, period: float) -> float:
        """Phase unknown: nothing to poll in the quiet period; then every ``probe_interval`` for one
        tick (so the first change bounds the phase that tightly), backing off each tick without change."""
        cfg = self.config
        quiet_until = self._quiet_until()
        if last_t < quiet_until:
            return quiet_until + cfg.probe_interval
        assert self._last_change is not None  # set with the first observation, like _last
        flat_ticks = int((last_t - max(quiet_until, self._last_change[0])) // period)
        return last_t + _backed_off(cfg.probe_interval, cfg.backoff, flat_ticks)

    def _tick_schedule(self, last_t: float, phase: TickPhase) -> float:
        """The next point of the next tick window: spread ``window_step`` apart, the last one
        ``tick_margin`` after the window closes. A load flat for long skips ticks (1, 3, 7...)."""
        cfg = self.config
        skip = min(
            2 ** min(self._flat_polls // 16, _MAX_SKIP_DOUBLINGS) - 1, max(0, int(cfg.max_interval // phase.period) - 1)
        )
        start, end = phase.window_after(last_t + skip * phase.period)
        width = end - start
        # Wide windows: a poll every window_step. Narrower than that but wider than fine_window: also
        # a poll at the middle, so the next change seen there halves the phase (and the lag after it).
        steps = math.ceil(width / cfg.window_step) if width > cfg.window_step else 2 if width > cfg.fine_window else 1
        for j in range(1, steps + 1):
            point = start + j * (end - start) / steps + cfg.tick_margin
            if point > last_t + 1e-9:
                return point
        return end + cfg.tick_margin

    def _rate_schedule(self, last_t: float) -> float:
        """Without ticks: back off while flat; jump towards the rate's predicted finish, then densely."""
        cfg = self.config
        backoff = min(cfg.max_interval, _backed_off(cfg.min_interval, cfg.backoff, self._flat_polls))
        finish = self.predicted_finish()
        if finish is None or self._last_change is None:
            return last_t + backoff
        remaining = finish - self._last_change[0]
        window = max(cfg.finish_interval * 2, cfg.finish_window * remaining)
        if last_t < finish - window:
            return max(last_t + cfg.min_interval, finish - window)
        if last_t < finish + window:
            return last_t + cfg.finish_interval
        return last_t + backoff
