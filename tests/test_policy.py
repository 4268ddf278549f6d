"""The pure polling policy, on a fake clock, with hypothesis."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncload import PollingConfig
from asyncload._monitor.policy import PollSchedule, TickPhase

CONFIG = PollingConfig()


def loads() -> st.SearchStrategy[list[tuple[float, int]]]:
    """A load as the server reports it: (seconds since start, percent) steps, percent ending at 100."""
    steps = st.lists(
        st.tuples(st.floats(min_value=0.05, max_value=30.0), st.integers(min_value=0, max_value=60)),
        min_size=0,
        max_size=8,
    )

    def build(raw: list[tuple[float, int]]) -> list[tuple[float, int]]:
        t, p, out = 0.0, 0, [(0.0, 0)]
        for dt, dp in raw:
            t, p = t + dt, min(100, p + dp)
            out.append((t, p))
        out.append((t + 1.0, 100))
        return out

    return steps.map(build)


def percent_at(load: list[tuple[float, int]], t: float) -> int:
    current = 0
    for at, p in load:
        if t >= at:
            current = p
    return current


def simulate(load: list[tuple[float, int]], config: PollingConfig) -> list[tuple[float, int]]:
    """Drive a schedule against a server timeline; return the polls (time, percent seen)."""
    schedule = PollSchedule(config, 0.0)
    polls: list[tuple[float, int]] = []
    now = 0.0
    for _ in range(10_000):
        due = schedule.next_poll_at()
        if math.isinf(due):
            return polls
        assert due >= now - 1e-9, "never schedules a poll in the past"
        now = max(now, due)
        seen = percent_at(load, now)
        polls.append((now, seen))
        schedule.observe(now, seen)
    raise AssertionError("the schedule did not terminate")


@settings(max_examples=300, deadline=None)
@given(loads())
def test_terminates_on_100_and_polls_at_once(load: list[tuple[float, int]]) -> None:
    polls = simulate(load, CONFIG)
    assert polls[0][0] == 0.0, "the first poll is immediate"
    assert polls[-1][1] == 100


@settings(max_examples=300, deadline=None)
@given(loads())
def test_intervals_stay_within_the_caps(load: list[tuple[float, int]]) -> None:
    polls = simulate(load, CONFIG)
    for (t0, _), (t1, _) in itertools.pairwise(polls):
        gap = t1 - t0
        assert gap <= CONFIG.max_interval + 1e-9
        assert gap >= CONFIG.finish_interval - 1e-9


@settings(max_examples=300, deadline=None)
@given(loads())
def test_detects_completion_within_max_interval(load: list[tuple[float, int]]) -> None:
    polls = simulate(load, CONFIG)
    finished_at = load[-1][0]
    assert polls[-1][0] - finished_at <= CONFIG.max_interval + 1e-9


@given(st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=30))
def test_observed_percent_is_monotone(percents: list[int]) -> None:
    schedule = PollSchedule(CONFIG, 0.0)
    seen = []
    for i, p in enumerate(percents):
        schedule.observe(float(i), p)
        seen.append(schedule.percent)
    assert seen == sorted(seen)
    assert seen[-1] == max(percents)


def test_flat_progress_backs_off_to_the_cap() -> None:
    schedule = PollSchedule(CONFIG, 0.0)
    now, gaps = 0.0, []
    for _ in range(20):
        due = schedule.next_poll_at()
        gaps.append(due - now)
        now = due
        schedule.observe(now, 0)
    assert gaps[1] == pytest.approx(CONFIG.min_interval)
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(gaps))
    assert gaps[-1] == pytest.approx(CONFIG.max_interval)


def test_steady_progress_jumps_to_the_predicted_finish_and_polls_densely_there() -> None:
    """10 %/s from 0 s: finished at 10 s. Few polls, dense only near the end, completion seen promptly."""
    schedule = PollSchedule(CONFIG, 0.0)
    schedule.observe(0.0, 0)
    schedule.observe(1.0, 10)
    assert schedule.eta(1.0) == pytest.approx(9.0)
    assert schedule.next_poll_at() == pytest.approx(1.0 + CONFIG.max_interval), "jumps, capped by max_interval"
    polls = [0.0, 1.0]
    while not schedule.finished:
        now = schedule.next_poll_at()
        polls.append(now)
        schedule.observe(now, min(100, int(now * 10)))
    dense = [t1 for t0, t1 in itertools.pairwise(polls) if t1 - t0 <= CONFIG.finish_interval + 1e-9]
    assert dense, "polls densely around the predicted finish"
    assert min(dense) > 8.0, "and only there"
    assert polls[-1] - 10.0 <= CONFIG.finish_interval + 1e-9
    assert len(polls) < 25, f"a fixed 0.2 s poller would send 50; sent {len(polls)}"


def test_stall_after_the_timeout_without_progress() -> None:
    config = PollingConfig(stall_timeout=10.0)
    schedule = PollSchedule(config, 0.0)
    schedule.observe(0.0, 0)
    schedule.observe(2.0, 40)
    assert not schedule.stalled(11.9)
    assert schedule.stalled(12.0)
    assert schedule.stalled_for(12.0) == pytest.approx(10.0)
    schedule.observe(13.0, 100)
    assert not schedule.stalled(100.0), "a finished load never stalls"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_interval": 0.0},
        {"finish_interval": 0.5, "min_interval": 0.2},
        {"max_interval": 0.1},
        {"backoff": 0.5},
        {"stall_timeout": 0},
        {"batch_delay": -0.01},
    ],
)
def test_inconsistent_configs_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs)).split("_")[0]):
        PollingConfig(**kwargs)


# -- tick-aware scheduling (Milvus's load checker ticks every queryCoord.checkInterval) -------------

TICKS = PollingConfig()  # server_tick=1.0


def on_tick_grid(phi: float, ticks: list[int]) -> list[tuple[float, int]]:
    """A load whose percentage changes only on ticks phi + k: (time, percent) steps ending at 100."""
    steps = [(0.0, 0)]
    for n, k in enumerate(ticks, start=1):
        steps.append((phi + k, 100 if n == len(ticks) else min(99, 10 * n)))
    return steps


def simulate_ticks(
    load: list[tuple[float, int]], phase: TickPhase, start: float = 0.0, latency: float = 0.001
) -> list[float]:
    """Drive a tick-aware schedule (sharing ``phase``); returns the poll send times."""
    schedule = PollSchedule(TICKS, start, phase)
    sent: list[float] = []
    now = start
    for _ in range(10_000):
        due = schedule.next_poll_at()
        if math.isinf(due):
            return sent
        now = max(now, due)
        sent.append(now)
        schedule.observe(now + latency, percent_at(load, now - start + latency / 2), sent_at=now)
        now += latency
    raise AssertionError("the schedule did not terminate")


@st.composite
def tick_loads(draw: st.DrawFn) -> tuple[float, list[int]]:
    phi = draw(st.floats(min_value=0.0, max_value=0.999))
    first = draw(st.integers(min_value=1, max_value=4))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=4), min_size=0, max_size=4))
    ticks = [first]
    for gap in gaps:
        ticks.append(ticks[-1] + gap)
    return phi, ticks


@settings(max_examples=300, deadline=None)
@given(tick_loads())
def test_tick_schedule_terminates_within_the_caps(case: tuple[float, list[int]]) -> None:
    phi, ticks = case
    load = on_tick_grid(phi, ticks)
    sent = simulate_ticks(load, TickPhase(1.0))
    assert sent[0] == 0.0
    for t0, t1 in itertools.pairwise(sent):
        assert TICKS.finish_interval - 1e-9 <= t1 - t0 <= TICKS.max_interval + 1e-9
    assert sent[-1] + 0.0005 >= load[-1][0] - 1e-9, "the last poll saw the finished load"


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=0.999),
    st.lists(st.tuples(st.integers(0, 50), st.floats(0.0, 0.59), st.floats(0.0, 1.0)), min_size=1, max_size=20),
)
def test_tick_phase_never_excludes_the_true_ticks(phi: float, spans: list[tuple[int, float, float]]) -> None:
    """Fed true bounds (each containing a real tick), the known window always holds a real tick."""
    phase = TickPhase(1.0)
    for k, width, offset in spans:
        tick = phi + k
        before = tick - width * offset
        after = before + width
        phase.observe_change(before, after)
        assert phase.lo is not None
        assert phase.hi is not None
        nearest = phi + round(phase.lo - phi)
        candidates = [nearest - 1, nearest, nearest + 1]
        assert any(phase.lo - 1e-9 <= c <= phase.hi + 1e-9 for c in candidates)


def test_a_learned_phase_brings_polls_down_to_about_one_per_tick() -> None:
    phase = TickPhase(1.0)
    cold = simulate_ticks(on_tick_grid(0.37, [2, 4]), phase)
    assert phase.width < 0.6, "the cold load taught the client the tick's phase"
    start = 20.0
    warm = simulate_ticks(on_tick_grid(0.37, [2, 4]), phase, start=start)
    finished_at = start + 0.37 + 4
    assert len(warm) < len(cold)
    assert len(warm) <= 10, f"one or two polls per tick over 4.4 s, got {len(warm)}: {warm}"
    assert warm[-1] - warm[-2] > 0.6, "once the phase is narrow: the finishing tick gets a single poll"
    assert warm[-1] - finished_at <= phase.width + TICKS.window_step + TICKS.tick_margin + 0.01
    # A fixed 0.2 s poller sends 23 polls for this load, and sees completion 0.1 s late on average.


def test_without_ticks_the_schedule_falls_back_to_the_rate() -> None:
    schedule = PollSchedule(PollingConfig(server_tick=None), 0.0, None)
    schedule.observe(0.0, 0)
    assert schedule.next_poll_at() == pytest.approx(0.2)


# -- the quiet period and the first tick (Milvus 2.3.5: a load's first change comes at the first
#    tick at least ~1.02 s after LoadCollection) -----------------------------------------------------


def test_a_fresh_load_is_not_polled_during_the_quiet_period() -> None:
    sent = simulate_ticks(on_tick_grid(0.3, [2, 4]), TickPhase(1.0))
    assert sent[0] == 0.0
    assert sent[1] == pytest.approx(TICKS.quiet_period + TICKS.probe_interval), sent
    assert all(not 0.0 < t < TICKS.quiet_period for t in sent)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.0, max_value=0.999), st.floats(min_value=0.0, max_value=0.999))
def test_the_first_change_bounds_the_phase_to_the_probe_spacing(phi: float, start_phase: float) -> None:
    """Submitted at any point of the tick, the load's first change (at the first tick >= 1.02 s after
    submission) is seen within one probe spacing, so the client knows the phase that well."""
    start = 10.0 + start_phase
    first_tick = phi + math.ceil(start + 1.02 - phi)
    phase = TickPhase(1.0)
    latency = 0.001
    simulate_ticks(on_tick_grid(first_tick - start, [0, 2]), phase, start=start, latency=latency)
    assert phase.width <= TICKS.probe_interval + latency + 1e-9
    assert phase.lo is not None
    assert phase.hi is not None
    offset = (first_tick - phase.lo) % 1.0
    assert offset <= phase.width + 1e-9 or offset >= 1.0 - 1e-9, "the learned window holds a real tick"


def test_a_load_already_under_way_gets_no_quiet_period() -> None:
    schedule = PollSchedule(TICKS, 0.0, TickPhase(1.0))
    schedule.observe(0.001, 40, sent_at=0.0)
    assert schedule.next_poll_at() < TICKS.quiet_period


def test_with_a_known_phase_the_quiet_period_skips_the_tick_windows_it_covers() -> None:
    phase = TickPhase(1.0, 0.49, 0.51)
    sent = simulate_ticks(on_tick_grid(0.5, [2]), phase, start=0.0)
    assert sent[1] > 1.5, f"the tick at 0.5 s falls in the quiet period: not polled ({sent})"
    assert len(sent) <= 3, sent


def test_the_quiet_period_is_checked() -> None:
    with pytest.raises(ValueError, match="quiet_period"):
        PollingConfig(quiet_period=-1.0)
