"""The load's outcome machine, without a server: what each observation does to a load."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import asyncload
from asyncload._monitor.outcome import Kind, LoadOutcome, Phase, classify, unreachable_expired

# -- classify: what a failed poll says about the load ----------------------------------------------


def server_error(code: int, *, retriable: bool = False) -> asyncload.ServerError:
    return asyncload.ServerError("reason", code=code, retriable=retriable, operation="loading_progress")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        # Transport trouble: nothing was learned about the load.
        (asyncload.ServerUnavailableError("down"), Kind.UNKNOWN),
        (asyncload.DeadlineExceededError("slow"), Kind.UNKNOWN),
        *[
            (asyncload.TransportError("broke", grpc_code=code), Kind.UNKNOWN)
            for code in (
                "INTERNAL",
                "UNKNOWN",
                "CANCELLED",
                "ABORTED",
                "RESOURCE_EXHAUSTED",
                "DATA_LOSS",
                "FAILED_PRECONDITION",
                "OUT_OF_RANGE",
                "INVALID_ARGUMENT",
                "ALREADY_EXISTS",
                "NOT_FOUND",
            )
        ],
        # Milvus statuses that say nothing about the load.
        (server_error(65535), Kind.UNKNOWN),
        (server_error(8, retriable=True), Kind.UNKNOWN),
        (server_error(700, retriable=True), Kind.UNKNOWN),
        # The server's word on the load.
        (server_error(101), Kind.NOT_LOADED),
        (server_error(201), Kind.NOT_LOADED),
        (server_error(52), Kind.FAILED),
        (server_error(605), Kind.FAILED),
        (server_error(1100), Kind.FAILED),
        (asyncload.CollectionNotFoundError("c"), Kind.FAILED),
        (asyncload.PartitionNotFoundError("c", "p"), Kind.FAILED),
        # The server refuses this client: waits end, the load is not decided.
        (asyncload.AuthenticationError("bad token"), Kind.REFUSED),
        (asyncload.PermissionDeniedError("no", code=1401), Kind.REFUSED),
        (asyncload.UnsupportedOperationError("no"), Kind.REFUSED),
        (asyncload.ClientClosedError("closed"), Kind.REFUSED),
    ],
    ids=repr,
)
def test_classify(error: asyncload.AsyncLoadError, kind: Kind) -> None:
    assert classify(error) is kind


def test_retriable_codes_as_the_transport_maps_them_are_unknown() -> None:
    from asyncload._transport.errors import RETRIABLE_CODES, status_error
    from asyncload._transport.proto import common_pb2

    for code in RETRIABLE_CODES:
        error = status_error(common_pb2.Status(code=code, reason="busy"), operation="loading_progress")
        assert error is not None
        assert classify(error) is Kind.UNKNOWN, code


def test_every_wire_level_grpc_code_is_a_transport_error_that_decides_nothing() -> None:
    import grpc

    from asyncload._transport.errors import map_rpc_error

    class Failed(grpc.RpcError):
        def __init__(self, code: grpc.StatusCode) -> None:
            self._code = code

        def code(self) -> grpc.StatusCode:
            return self._code

        def details(self) -> str:
            return "details"

    for code in grpc.StatusCode:
        if code is grpc.StatusCode.OK:
            continue
        error = map_rpc_error(Failed(code), operation="loading_progress")
        assert not isinstance(error, asyncload.LoadFailedError), code
        if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNIMPLEMENTED):
            assert classify(error) is Kind.REFUSED, code
        else:
            assert isinstance(error, asyncload.ConnectionFailedError), code
            assert not isinstance(error, asyncload.ServerError), code
            assert classify(error) is Kind.UNKNOWN, code


# -- the machine: sequences of observations -------------------------------------------------------

Step = Callable[[LoadOutcome], None]


def answered(percent: int, refresh: int = 100) -> Step:
    return lambda o: o.answered(percent, refresh)


def unknown(at: float) -> Step:
    return lambda o: o.could_not_ask(at)


def not_loaded(o: LoadOutcome) -> None:
    o.not_loaded("collection not loaded", 101)


def failed(o: LoadOutcome) -> None:
    o.load_failed("deny to load, insufficient memory", 52)


def released(o: LoadOutcome) -> None:
    o.released("released")


def releasing(o: LoadOutcome) -> None:
    o.releasing(True)


def resubmitted(o: LoadOutcome) -> None:
    o.submitted()


def refused(o: LoadOutcome) -> None:
    o.observe(Kind.REFUSED, asked_at=0.0)


@pytest.mark.parametrize(
    ("steps", "phase", "since"),
    [
        ([], Phase.RUNNING, None),
        ([answered(0), answered(50)], Phase.RUNNING, None),
        ([answered(0), answered(100)], Phase.LOADED, None),
        ([answered(100)], Phase.LOADED, None),
        # Transport trouble never decides: the load runs on, unreachable since the first failed poll.
        ([answered(30), unknown(5.0)], Phase.RUNNING, 5.0),
        ([answered(30), unknown(5.0), unknown(6.0), unknown(7.0)], Phase.RUNNING, 5.0),
        ([answered(30), unknown(5.0), answered(40)], Phase.RUNNING, None),
        ([answered(30), unknown(5.0), answered(100)], Phase.LOADED, None),
        ([unknown(1.0), unknown(2.0)], Phase.RUNNING, 1.0),
        # The server's word on the load.
        ([answered(60), failed], Phase.FAILED, None),
        ([failed], Phase.FAILED, None),
        ([answered(60), not_loaded], Phase.FAILED, None),
        ([not_loaded], Phase.RUNNING, None),  # not yet seen: no word on *this* load
        ([unknown(1.0), not_loaded], Phase.RUNNING, None),  # ...but the server answers again
        ([answered(60), unknown(3.0), not_loaded], Phase.FAILED, None),
        ([answered(60), released], Phase.RELEASED, None),
        ([answered(60), releasing, not_loaded], Phase.RELEASED, None),
        ([answered(60), releasing, failed], Phase.RELEASED, None),
        ([answered(60), releasing, not_loaded, released], Phase.RELEASED, None),
        # The first ending stays; a later answer does not undo it; a resubmission does.
        ([answered(60), failed, answered(100)], Phase.FAILED, None),
        ([answered(60), failed, released], Phase.FAILED, None),
        ([answered(60), failed, resubmitted], Phase.RUNNING, None),
        ([answered(60), failed, resubmitted, answered(100)], Phase.LOADED, None),
        ([answered(100), resubmitted], Phase.RUNNING, None),
        # A refusal is no verdict on the load.
        ([answered(30), refused], Phase.RUNNING, None),
        ([answered(30), unknown(2.0), refused], Phase.RUNNING, None),
    ],
)
def test_observations_decide_the_outcome(steps: list[Step], phase: Phase, since: float | None) -> None:
    outcome = LoadOutcome()
    outcome.submitted()
    for step in steps:
        step(outcome)
    verdict = outcome.verdict()
    assert verdict.phase is phase
    assert verdict.unreachable_since == since
    if phase is Phase.FAILED:
        assert verdict.reason
        assert verdict.code in (52, 101)


def test_a_refresh_load_is_loaded_only_with_its_refresh_done() -> None:
    outcome = LoadOutcome()
    outcome.answered(100, 40)
    assert outcome.verdict(track_refresh=True).phase is Phase.RUNNING
    assert outcome.verdict().phase is Phase.LOADED
    outcome.answered(100, 100)
    assert outcome.verdict(track_refresh=True).phase is Phase.LOADED


def test_polls_back_off_while_the_server_cannot_be_asked_and_reset_when_it_answers() -> None:
    outcome = LoadOutcome()
    assert outcome.retry_delay(0.2, 5.0, 1.6) == 0.0
    delays = []
    for at in range(200):
        outcome.could_not_ask(float(at))
        delays.append(outcome.retry_delay(0.2, 5.0, 1.6))
    assert delays[0] == pytest.approx(0.2)
    assert delays == sorted(delays)
    assert delays[-1] == 5.0
    outcome.answered(10)
    assert outcome.retry_delay(0.2, 5.0, 1.6) == 0.0


@pytest.mark.parametrize(
    ("since", "now", "bound", "expired"),
    [
        (None, 100.0, 120.0, False),
        (10.0, 100.0, 120.0, False),
        (10.0, 130.0, 120.0, True),
        (10.0, 10_000.0, None, False),  # None: only the wait's own timeout ends it
    ],
)
def test_unreachable_bound(since: float | None, now: float, bound: float | None, expired: bool) -> None:
    assert unreachable_expired(since, now, bound) is expired


# -- properties -------------------------------------------------------------------------------------

step_strategy = st.one_of(
    st.tuples(st.just("answered"), st.integers(-10, 150), st.integers(0, 100)),
    st.tuples(st.just("unknown"), st.floats(0, 1e6), st.just(0)),
    st.tuples(st.just("not_loaded"), st.just(0), st.just(0)),
    st.tuples(st.just("failed"), st.just(0), st.just(0)),
    st.tuples(st.just("refused"), st.just(0), st.just(0)),
    st.tuples(st.just("releasing"), st.just(0), st.just(0)),
    st.tuples(st.just("release_failed"), st.just(0), st.just(0)),
    st.tuples(st.just("released"), st.just(0), st.just(0)),
)


def apply(outcome: LoadOutcome, step: tuple[str, float, int]) -> None:
    name, a, b = step
    if name == "answered":
        outcome.answered(int(a), b)
    elif name == "unknown":
        outcome.could_not_ask(a)
    elif name == "not_loaded":
        outcome.not_loaded("not loaded", 101)
    elif name == "failed":
        outcome.load_failed("insufficient memory", 52)
    elif name == "refused":
        outcome.observe(Kind.REFUSED, asked_at=0.0)
    elif name == "releasing":
        outcome.releasing(True)
    elif name == "release_failed":
        outcome.releasing(False)
    else:
        outcome.released()


@given(st.lists(step_strategy, max_size=40))
def test_only_the_servers_word_ends_a_load(steps: list[tuple[str, float, int]]) -> None:
    """Whatever else happens, transport trouble and refusals alone never end a load, an ending
    stays, and the percentage stays within 0-100."""
    outcome = LoadOutcome()
    ended_by: str | None = None
    for step in steps:
        before = outcome.verdict()
        apply(outcome, step)
        after = outcome.verdict()
        assert 0 <= outcome.percent <= 100
        if before.phase in (Phase.FAILED, Phase.RELEASED):
            assert after == before, "an ending stays until the next submission"
        if after.phase in (Phase.FAILED, Phase.RELEASED) and ended_by is None:
            ended_by = step[0]
        if step[0] in ("unknown", "refused", "releasing", "release_failed"):
            assert after.phase is before.phase, "no verdict on the load"
    if ended_by is not None:
        assert ended_by in ("not_loaded", "failed", "released")


@given(st.lists(step_strategy, max_size=40))
def test_unreachable_since_is_the_first_failed_poll_of_the_current_outage(steps: list[tuple[str, float, int]]) -> None:
    outcome = LoadOutcome()
    expected: float | None = None
    for step in steps:
        apply(outcome, step)
        if step[0] == "unknown":
            expected = step[1] if expected is None else expected
        elif step[0] in ("answered", "not_loaded", "failed", "refused"):
            expected = None
        assert outcome.unreachable_since == expected
