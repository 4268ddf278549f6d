"""Transient faults never decide a load; deadlines bound whole calls; failed tasks hold constant memory.

Faults a real server cannot be made to show on demand run on the scripted fake Milvus, and each
test's name says which fault it is. The same promises on a real Milvus 2.3.5 behind a fault proxy
are in test_outages.py.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
import tracemalloc
from collections.abc import Iterator
from typing import Any

import anyio
import grpc
import pytest

import asyncload
from asyncload._transport.proto import milvus_pb2

from ._fake import FakeMilvus, error_status, fake_milvus, grpc_abort, progress, progress_error

pytestmark = pytest.mark.anyio

FAST = asyncload.PollingConfig(min_interval=0.05, max_interval=0.1, finish_interval=0.02, server_tick=None)
NO_RETRY = asyncload.RetryPolicy(max_retries=0)


@pytest.fixture
def fake() -> Iterator[tuple[FakeMilvus, str]]:
    with fake_milvus() as server:
        yield server


def milvus_status(code: int, reason: str, *, retriable: bool = False) -> Any:
    return lambda r, c: milvus_pb2.GetLoadingProgressResponse(status=error_status(code, reason, retriable=retriable))


TRANSIENT = {
    # gRPC codes a proxy or load balancer in between produces (a reset HTTP/2 stream is INTERNAL
    # "Stream removed" or CANCELLED); a fault proxy here cannot make grpc report each of them.
    "grpc_INTERNAL_stream_removed": grpc_abort(grpc.StatusCode.INTERNAL, "Stream removed"),
    "grpc_CANCELLED_by_a_proxy": grpc_abort(grpc.StatusCode.CANCELLED, "Received RST_STREAM"),
    "grpc_UNKNOWN": grpc_abort(grpc.StatusCode.UNKNOWN, "unknown"),
    "grpc_ABORTED": grpc_abort(grpc.StatusCode.ABORTED, "aborted"),
    "grpc_RESOURCE_EXHAUSTED": grpc_abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many requests"),
    "grpc_UNAVAILABLE_past_the_retries": grpc_abort(grpc.StatusCode.UNAVAILABLE, "proxy restarting"),
    "grpc_DEADLINE_EXCEEDED": grpc_abort(grpc.StatusCode.DEADLINE_EXCEEDED, "slow"),
    "milvus_65535_unexpected_error": milvus_status(65535, "unrecoverable error"),
    "milvus_retriable_status_past_the_retries": milvus_status(8, "rate limit", retriable=True),
}


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
async def test_one_transient_error_on_a_poll_still_ends_loaded(fake: tuple[FakeMilvus, str], fault: str) -> None:
    """Fake server: one poll answers with ``fault``, the next ones with the load's real progress."""
    server, uri = fake
    server.script("GetLoadingProgress", progress(10), TRANSIENT[fault], progress(60), progress(100))
    async with asyncload.connect(uri, polling=FAST, retry=NO_RETRY) as client:
        task = await client.load_collection("c")
        streamed = []
        async with anyio.create_task_group() as tg:

            async def stream() -> None:
                async for p in task.progress():
                    streamed.append(p)

            tg.start_soon(stream)
            final = await task
    assert final.loaded
    assert task.done()
    assert task.exception() is None
    assert streamed[-1].loaded, "the stream ends loaded too"
    assert server.calls["GetLoadingProgress"] == 4
    assert server.calls["LoadCollection"] == 1, "a failed poll never resends the load"


async def test_a_load_failure_status_still_fails_the_load(fake: tuple[FakeMilvus, str]) -> None:
    """The counterpart: what the server says about the load does end it."""
    server, uri = fake
    server.script("GetLoadingProgress", progress(10), progress_error(605, "segment request resource failed"))
    async with asyncload.connect(uri, polling=FAST, retry=NO_RETRY) as client:
        task = await client.load_collection("c")
        with pytest.raises(asyncload.LoadFailedError) as info:
            await task
    assert info.value.code == 605
    assert "segment request resource failed" in str(info.value)


async def test_a_stream_reports_unreachable_then_reachable_again_and_keeps_following(
    fake: tuple[FakeMilvus, str],
) -> None:
    """Fake server: three polls answer UNAVAILABLE (a server restarting), then it answers again."""
    server, uri = fake
    down = grpc_abort(grpc.StatusCode.UNAVAILABLE, "connection refused")
    server.script("GetLoadingProgress", progress(10), down, down, down, progress(70), progress(100))
    async with asyncload.connect(uri, polling=FAST, retry=NO_RETRY) as client:
        task = await client.load_collection("c")
        snapshots = [p async for p in task.progress()]
    reachability = [p.reachable for p in snapshots]
    assert False in reachability, "the outage is reported"
    first_down = reachability.index(False)
    outage = snapshots[first_down]
    assert outage.unreachable_since is not None
    assert outage.unreachable_for is not None
    assert outage.unreachable_for >= 0
    assert "server unreachable" in str(outage)
    assert True in reachability[first_down:], "and so is the return"
    assert snapshots[-1].loaded
    assert snapshots[-1].reachable


async def test_timeout_bounds_the_whole_call_retries_included(fake: tuple[FakeMilvus, str]) -> None:
    """Fake server: every call answers UNAVAILABLE after 1.5 s (an overloaded proxy).

    With ``timeout=2`` the first attempt gets 2 s, and what is left for retries is what remains of
    those 2 s, never a fresh 2 s per attempt (which took 10 s before).
    """
    server, uri = fake
    deadlines: list[float] = []

    def slow_unavailable(request: Any, context: grpc.ServicerContext) -> Any:
        remaining = context.time_remaining()
        deadlines.append(remaining if remaining is not None else float("inf"))
        time.sleep(min(1.5, max(remaining or 0.0, 0.0)))
        context.abort(grpc.StatusCode.UNAVAILABLE, "overloaded")

    server.script("GetLoadState", slow_unavailable)
    async with asyncload.connect(uri, timeout=2) as client:
        with pytest.raises(asyncload.ConnectionFailedError):
            await client.get_load_state("c")
    retry = asyncload.RetryPolicy()
    slack = 0.05  # gRPC carries deadlines with a few ms of rounding
    assert deadlines[0] <= 2.0 + slack
    assert deadlines[0] > 1.5
    # Whatever attempts followed were given only what was left of the 2 s.
    assert all(later <= 2.0 - 1.5 + slack for later in deadlines[1:])
    assert len(deadlines) <= 1 + retry.max_retries
    assert sum(min(d, 1.5) for d in deadlines) <= 2.0 + 0.05


async def test_a_failed_task_awaited_a_thousand_times_holds_constant_memory(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadingProgress", progress_error(52, "deny to load, insufficient memory"))
    async with asyncload.connect(uri, polling=FAST) as client:
        task = await client.load_collection("c")
        frames: list[int] = []
        codes: set[tuple[int, type]] = set()
        tracemalloc.start()
        try:
            for round_ in range(1000):
                try:
                    await task
                except asyncload.LoadFailedError as exc:
                    frames.append(len(traceback.extract_tb(exc.__traceback__)))
                    codes.add((exc.code, type(exc.__cause__)))
                    del exc
                if round_ == 99:
                    after_100 = tracemalloc.get_traced_memory()[0]
            after_1000 = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    assert len(frames) == 1000
    assert codes == {(52, asyncload.ServerError)}, "each raise is the server's reason, with its cause"
    assert max(frames) == min(frames), "every raise carries a traceback of the same length"
    stored = task.exception()
    assert stored is not None
    assert stored.__traceback__ is None, "the stored error is never raised itself"
    # 900 more awaits may not hold on to anything (before: ~780 bytes and 3 frames per await).
    assert after_1000 - after_100 < 64 * 1024


async def test_aclose_from_another_task_inside_the_block_closes_cleanly(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadingProgress", progress(20))
    caught: list[BaseException] = []
    async with asyncload.connect(uri, polling=FAST) as client:
        task = await client.load_collection("c")
        async with anyio.create_task_group() as tg:

            async def waiter() -> None:
                try:
                    await task
                except asyncload.ClientClosedError as exc:
                    caught.append(exc)

            async def closer() -> None:
                await anyio.sleep(0.1)
                await client.aclose()

            tg.start_soon(waiter)
            tg.start_soon(closer)
        assert client.state is asyncload.ClientState.CLOSED
        with pytest.raises(asyncload.ClientClosedError):
            await client.get_load_state("c")
    assert len(caught) == 1
    assert not task.done(), "closing the client does not end the load"


async def test_unreachable_timeout_none_rides_out_until_the_waits_own_timeout(fake: tuple[FakeMilvus, str]) -> None:
    """Fake server: UNAVAILABLE for good after the first poll."""
    server, uri = fake
    server.script("GetLoadingProgress", progress(10), grpc_abort(grpc.StatusCode.UNAVAILABLE, "gone"))
    polling = dataclasses.replace(FAST, unreachable_timeout=None)
    async with asyncload.connect(uri, polling=polling, retry=NO_RETRY) as client:
        task = await client.load_collection("c")
        with pytest.raises(TimeoutError):
            await task.wait(timeout=0.5)
        assert not task.done()
        assert task.latest.unreachable_since is not None


def test_unreachable_timeout_is_validated() -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match="unreachable_timeout"):
        asyncload.PollingConfig(unreachable_timeout=0)
    with pytest.raises(asyncload.InvalidArgumentError, match="unreachable_timeout"):
        asyncload.PollingConfig(unreachable_timeout=-1.0)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"keepalive": 1}, "keepalive"),
        ({"keepalive": float("nan")}, "keepalive"),
        ({"keepalive": "10"}, "keepalive"),
        ({"keepalive": True}, "keepalive"),
        ({"channel_options": [("grpc.x", 1)]}, "channel_options"),
        ({"channel_options": {"x": 1}}, "channel_options"),
        ({"channel_options": {"grpc.x": 1.5}}, "channel_options"),
        ({"channel_options": {"grpc.x": 2**40}}, "channel_options"),
    ],
)
def test_keepalive_and_channel_options_are_validated(kwargs: dict[str, Any], word: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match=word):
        asyncload.connect("http://127.0.0.1:1", **kwargs)


def test_channel_options_carry_keepalive_and_reconnect_backoff() -> None:
    from asyncload._channel import channel_options

    options = dict(channel_options(10.0, {}))
    assert options["grpc.keepalive_time_ms"] == 10_000
    assert options["grpc.keepalive_time_ms"] >= 5_000, "Milvus closes connections pinging more often"
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.http2.ping_timeout_ms"] == 10_000, "gRPC core's own ping timeout (60 s) governs otherwise"
    assert options["grpc.initial_reconnect_backoff_ms"] <= 200
    assert "grpc.keepalive_time_ms" not in dict(channel_options(None, {}))
    assert dict(channel_options(10.0, {"grpc.keepalive_time_ms": 30_000}))["grpc.keepalive_time_ms"] == 30_000


async def test_a_call_failing_slowly_gets_one_more_attempt_not_every_retry(fake: tuple[FakeMilvus, str]) -> None:
    """Fake server: every call answers UNAVAILABLE after 1.7 s (like a hung server that keepalive
    detects): with ``timeout=None`` retries stop once the retry window after the first failure is
    over, instead of repeating the slow failure ``max_retries`` times."""
    server, uri = fake

    def slow_unavailable(request: Any, context: grpc.ServicerContext) -> Any:
        time.sleep(1.7)
        context.abort(grpc.StatusCode.UNAVAILABLE, "connection lost")

    server.script("GetLoadState", slow_unavailable)
    retry = asyncload.RetryPolicy()
    assert retry.window() < 1.7
    async with asyncload.connect(uri, timeout=None, retry=retry) as client:
        with pytest.raises(asyncload.ServerUnavailableError):
            await client.get_load_state("c")
    assert server.calls["GetLoadState"] == 2


async def test_a_poll_the_server_holds_is_given_up_on_after_5_s_and_asked_again(fake: tuple[FakeMilvus, str]) -> None:
    """Fake server: one progress poll is held without an answer (an overloaded or half-hung server):
    each poll gets at most 5 s, not the client's 30 s, and the wait then ends LOADED on a later poll."""
    server, uri = fake
    deadlines: list[float] = []

    def held(request: Any, context: grpc.ServicerContext) -> Any:
        deadlines.append(context.time_remaining() or float("inf"))
        time.sleep(min(context.time_remaining() or 6.0, 6.0))
        return milvus_pb2.GetLoadingProgressResponse(progress=10)

    server.script("GetLoadingProgress", progress(10), held, progress(100))
    async with asyncload.connect(uri, timeout=30, polling=FAST) as client:
        task = await client.load_collection("c")
        final = await task.wait(timeout=60)
    assert final.loaded
    assert deadlines
    assert max(deadlines) <= 5.0 + 0.05
