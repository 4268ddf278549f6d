"""Faults no real server here can produce, on a scripted fake Milvus (named in each test)."""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import grpc
import pytest

import asyncload
from asyncload._transport.proto import milvus_pb2

from ._fake import FakeMilvus, error_status, fake_milvus, grpc_abort, ok, progress, progress_error

pytestmark = pytest.mark.anyio

TOKEN = "root:S3cret-Passw0rd"
FAST = asyncload.PollingConfig(min_interval=0.05, max_interval=0.1, finish_interval=0.02, server_tick=None)
# A batch waits longer than the polls' longest spacing, so every other watched load's next poll joins it
# (with FAST alone, loads submitted a few ms apart may never fall due within the 5 ms batch delay).
JOINING = dataclasses.replace(FAST, batch_delay=2 * FAST.max_interval)


@pytest.fixture
def fake() -> Iterator[tuple[FakeMilvus, str]]:
    with fake_milvus() as server:
        yield server


def timeline(*steps: tuple[float, Any]) -> Any:
    """An answer that changes with time since the first call: [(after_seconds, answer), ...]."""
    start: list[float] = []

    def answer(request: Any, context: grpc.ServicerContext) -> Any:
        if not start:
            start.append(time.monotonic())
        elapsed = time.monotonic() - start[0]
        current = steps[0][1]
        for after, step in steps:
            if elapsed >= after:
                current = step
        return current(request, context)

    return answer


async def test_load_failing_at_60_percent_ends_every_waiter_and_stream_with_the_reason(
    fake: tuple[FakeMilvus, str],
) -> None:
    server, uri = fake
    server.script(
        "GetLoadingProgress",
        timeline(
            (0.0, progress(0)),
            (0.15, progress(30)),
            (0.3, progress(60)),
            (0.45, progress_error(52, "deny to load, insufficient memory")),
        ),
    )
    async with asyncload.connect(uri, polling=FAST) as client:
        task = await client.load_collection("c")
        errors: list[BaseException] = []
        seen: list[list[int]] = [[], []]

        async def waiter() -> None:
            with pytest.raises(asyncload.LoadFailedError) as info:
                await task
            errors.append(info.value)

        async def streamer(index: int) -> None:
            with pytest.raises(asyncload.LoadFailedError) as info:
                async for p in task.progress():
                    seen[index].append(p.percent)
            errors.append(info.value)

        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(waiter)
            tg.start_soon(streamer, 0)
            tg.start_soon(streamer, 1)
    assert len(errors) == 5
    # Every waiter gets the same error, each as its own copy (one instance raised in many tasks would
    # share, and grow, one traceback): same class, message, code and cause as task.exception().
    stored = task.exception()
    assert stored is not None
    assert all(type(e) is type(stored) and str(e) == str(stored) for e in errors), "every waiter gets the same error"
    assert all(e.__cause__ is stored.__cause__ and e is not stored for e in errors)
    assert errors[0].code == 52  # type: ignore[attr-defined]
    assert "insufficient memory" in str(errors[0])
    for percents in seen:
        assert percents == sorted(percents)
        assert 60 in percents
    assert task.done()
    assert isinstance(task.exception(), asyncload.LoadFailedError)
    assert task.state is asyncload.LoadState.NOT_LOAD
    assert server.calls["LoadCollection"] == 1, "a failed poll never resends the load"


async def test_unavailable_twice_is_retried_then_succeeds(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script(
        "GetLoadState",
        grpc_abort(grpc.StatusCode.UNAVAILABLE, "connection reset"),
        grpc_abort(grpc.StatusCode.UNAVAILABLE, "connection reset"),
        lambda r, c: milvus_pb2.GetLoadStateResponse(state=3),
    )
    async with asyncload.connect(uri) as client:
        assert await client.get_load_state("c") is asyncload.LoadState.LOADED
        assert client.statistics().rpcs["GetLoadState"] == 3


async def test_retriable_milvus_status_is_retried(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script(
        "GetLoadState",
        lambda r, c: milvus_pb2.GetLoadStateResponse(status=error_status(8, "rate limit", retriable=True)),
        lambda r, c: milvus_pb2.GetLoadStateResponse(state=2),
    )
    async with asyncload.connect(uri) as client:
        assert await client.get_load_state("c") is asyncload.LoadState.LOADING
    assert server.calls["GetLoadState"] == 2


async def test_unavailable_forever_gives_up_after_the_retry_budget(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadState", grpc_abort(grpc.StatusCode.UNAVAILABLE, "down"))
    retry = asyncload.RetryPolicy(max_retries=3, base=0.01, cap=0.02)
    async with asyncload.connect(uri, retry=retry) as client:
        with pytest.raises(asyncload.ServerUnavailableError) as info:
            await client.get_load_state("c")
    assert server.calls["GetLoadState"] == 4
    assert isinstance(info.value.__cause__, grpc.RpcError)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (grpc_abort(grpc.StatusCode.UNAUTHENTICATED, "bad token"), asyncload.AuthenticationError),
        (grpc_abort(grpc.StatusCode.PERMISSION_DENIED, "no privilege"), asyncload.PermissionDeniedError),
        (grpc_abort(grpc.StatusCode.INVALID_ARGUMENT, "bad"), asyncload.TransportError),
        (
            lambda r, c: milvus_pb2.GetLoadStateResponse(status=error_status(100, "collection not found[c]")),
            asyncload.CollectionNotFoundError,
        ),
        (
            lambda r, c: milvus_pb2.GetLoadStateResponse(status=error_status(200, "partition not found[p]")),
            asyncload.PartitionNotFoundError,
        ),
    ],
)
async def test_non_transient_failures_are_never_retried(
    fake: tuple[FakeMilvus, str], answer: Any, error: type[Exception]
) -> None:
    server, uri = fake
    server.script("GetLoadState", answer)
    async with asyncload.connect(uri) as client:
        with pytest.raises(error):
            await client.get_load_state("c")
    assert server.calls["GetLoadState"] == 1


async def test_token_travels_as_metadata_and_never_in_messages(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadState", grpc_abort(grpc.StatusCode.UNAUTHENTICATED, "auth failed"))
    client = asyncload.connect(uri, token=TOKEN, db_name="analytics")
    async with client:
        with pytest.raises(asyncload.AuthenticationError) as info:
            await client.get_load_state("c")
        texts = [repr(client), str(client.uri), str(info.value), repr(info.value), repr(client._endpoint)]
    assert all(TOKEN not in text and "S3cret" not in text for text in texts)
    sent = dict(server.metadata[-1])
    assert sent["authorization"] == base64.b64encode(TOKEN.encode()).decode()
    assert sent["dbname"] == "analytics"


async def test_an_unreachable_server_ends_waits_after_the_unreachable_bound_without_resending_the_load(
    fake: tuple[FakeMilvus, str],
) -> None:
    """Fake server: UNAVAILABLE on every poll after the first (a proxy that went away for good)."""
    server, uri = fake
    server.script("GetLoadingProgress", progress(10), grpc_abort(grpc.StatusCode.UNAVAILABLE, "proxy restarting"))
    retry = asyncload.RetryPolicy(max_retries=1, base=0.01, cap=0.01)
    polling = dataclasses.replace(FAST, unreachable_timeout=0.3)
    async with asyncload.connect(uri, polling=polling, retry=retry) as client:
        task = await client.load_collection("c")
        with pytest.raises(asyncload.ServerUnavailableError) as info:
            await task
        assert info.value.since is not None and (info.value.unreachable_for or 0) >= 0.3
        assert isinstance(info.value.__cause__, asyncload.ServerUnavailableError), "the last poll's error"
        assert not task.done(), "an unreachable server is no verdict on the load"
    assert server.calls["LoadCollection"] == 1


async def test_caller_cancel_scope_bounds_the_rpc_deadline(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake

    def slow(request: Any, context: grpc.ServicerContext) -> Any:
        deadline = context.time_remaining()
        server.requests["deadline"].append(deadline)
        time.sleep(min(deadline or 5.0, 5.0))
        return milvus_pb2.GetLoadStateResponse(state=3)

    server.script("GetLoadState", slow)
    async with asyncload.connect(uri, timeout=60) as client:
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.3):
                await client.get_load_state("c")
    assert server.requests["deadline"][0] < 1.0, "the server saw the caller's deadline, not the 60 s default"


async def test_client_timeout_raises_deadline_exceeded(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake

    def slow(request: Any, context: grpc.ServicerContext) -> Any:
        time.sleep(1.0)
        return milvus_pb2.GetLoadStateResponse(state=3)

    server.script("GetLoadState", slow)
    async with asyncload.connect(uri, timeout=0.2, retry=asyncload.RetryPolicy(max_retries=0)) as client:
        with pytest.raises(asyncload.DeadlineExceededError):
            await client.get_load_state("c")


async def test_stall_is_an_event_in_streams_and_an_error_on_request(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadingProgress", progress(40))
    polling = asyncload.PollingConfig(
        min_interval=0.05, max_interval=0.1, finish_interval=0.02, stall_timeout=0.4, server_tick=None
    )
    async with asyncload.connect(uri, polling=polling) as client:
        task = await client.load_collection("c")
        with pytest.raises(asyncload.LoadStalledError) as info:
            await task.wait(raise_on_stall=True)
        assert info.value.percent == 40
        stalled = None
        async with task.progress() as stream:
            async for p in stream:
                if p.stalled_for is not None:
                    stalled = p
                    break
        assert stalled is not None and stalled.percent == 40 and (stalled.stalled_for or 0) >= 0.4
        with pytest.raises(TimeoutError):
            await task.wait(timeout=0.2)  # without raise_on_stall a stall does not end the wait
        assert not task.done()


async def test_cancelling_every_waiter_stops_polling(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadingProgress", progress(10))
    async with asyncload.connect(uri, polling=FAST) as client:
        task = await client.load_collection("c")
        async with anyio.create_task_group() as tg:

            async def wait_a_little() -> None:
                with anyio.move_on_after(0.3):
                    await task

            async def stream_a_little() -> None:
                with anyio.move_on_after(0.3):
                    async for _ in task.progress():
                        pass

            for _ in range(5):
                tg.start_soon(wait_a_little)
                tg.start_soon(stream_a_little)
            await anyio.sleep(0.15)
            stats = client.statistics()
            assert (stats.waiters, stats.streams, stats.polling) == (5, 5, 1)
        await anyio.sleep(0.1)  # a request cancelled in flight may still reach the server
        polls = server.calls["GetLoadingProgress"]
        await anyio.sleep(0.4)
        assert server.calls["GetLoadingProgress"] == polls, "nobody waits, nothing polls"
        stats = client.statistics()
        assert (stats.waiters, stats.streams, stats.polling) == (0, 0, 0)
        assert not task.done(), "cancelling waiters does not end the load"


async def test_many_waiters_share_one_poll_per_tick(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadingProgress", timeline((0.0, progress(0)), (0.5, progress(50)), (1.0, progress(100))))
    async with asyncload.connect(uri, polling=FAST) as client:
        task = await client.load_collection("c")
        results: list[asyncload.Progress] = []

        async def waiter() -> None:
            results.append(await task)

        async def streamer() -> None:
            async for p in task.progress():
                if p.loaded:
                    results.append(p)

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(waiter)
            for _ in range(5):
                tg.start_soon(streamer)
    assert len(results) == 25 and all(r.percent == 100 for r in results)
    # One poller at >= 0.02 s spacing over ~1 s: far fewer polls than 25 independent pollers would send.
    assert server.calls["GetLoadingProgress"] <= 1.2 / 0.02


async def release_while_a_waiter_waits(task: asyncload.LoadTask) -> None:
    """Release ``task`` 0.1 s into a wait, which must end with LoadReleasedError."""
    async with anyio.create_task_group() as tg:

        async def waiter() -> None:
            with pytest.raises(asyncload.LoadReleasedError):
                await task

        tg.start_soon(waiter)
        await anyio.sleep(0.1)
        await task.release()


async def test_release_mid_load_ends_waiters_with_load_released(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadingProgress", progress(20))
    async with asyncload.connect(uri, polling=FAST) as client:
        task = await client.load_collection("c")
        await release_while_a_waiter_waits(task)
        assert isinstance(task.exception(), asyncload.LoadReleasedError)
        assert "release" in repr(task) or "failed" in repr(task)
    assert server.calls["ReleaseCollection"] == 1


async def test_closing_the_client_ends_waiters_with_client_closed(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    server.script("GetLoadingProgress", progress(20))
    caught: list[BaseException] = []
    async with anyio.create_task_group() as tg:
        async with asyncload.connect(uri, polling=FAST) as client:
            task = await client.load_collection("c")

            async def waiter() -> None:
                try:
                    await task
                except asyncload.ClientClosedError as exc:
                    caught.append(exc)

            tg.start_soon(waiter)
            await anyio.sleep(0.1)
    assert len(caught) == 1
    assert client.state is asyncload.ClientState.CLOSED
    with pytest.raises(asyncload.ClientClosedError):
        await client.get_load_state("c")


async def test_the_poll_rate_cap_holds_across_many_watched_loads(fake: tuple[FakeMilvus, str]) -> None:
    """40 loads (1 waiter each), all eager to poll every 20 ms, under a 25 polls/s client cap."""
    server, uri = fake
    server.script("GetLoadingProgress", progress(10))
    polling = asyncload.PollingConfig(
        min_interval=0.02, max_interval=0.02, finish_interval=0.02, max_polls_per_second=25, server_tick=None
    )
    async with asyncload.connect(uri, polling=polling) as client:
        tasks = [await client.load_collection(f"c{i}") for i in range(40)]
        polled: dict[str, int] = {}
        start_calls = server.calls["GetLoadingProgress"]
        started = anyio.current_time()
        with anyio.move_on_after(1.0):
            async with anyio.create_task_group() as tg:
                for task in tasks:
                    tg.start_soon(task.wait)
        elapsed = anyio.current_time() - started
        sent = server.calls["GetLoadingProgress"] - start_calls
        for request in server.requests["GetLoadingProgress"]:
            polled[request.collection_name] = polled.get(request.collection_name, 0) + 1
    burst = client._monitor_.limiter.burst if client._monitor_ else 0
    assert sent <= 25 * elapsed + burst + 1
    assert len(polled) == 40, "every load gets its turn"
    assert max(polled.values()) - min(polled.values()) <= 2, "shared fairly"


def in_memory(percent_of: Any) -> Any:
    """A ShowCollections(InMemory) answer giving percent_of(name) for every requested name."""

    def answer(request: Any, context: grpc.ServicerContext) -> Any:
        names = list(request.collection_names)
        return milvus_pb2.ShowCollectionsResponse(
            collection_names=names,
            inMemory_percentages=[percent_of(n) for n in names],
            query_service_available=[True] * len(names),
        )

    return answer


async def test_concurrent_loads_share_batched_polls(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    start = time.monotonic()

    def percent_now(name: str = "") -> int:
        return 100 if time.monotonic() - start > 0.6 else 30

    server.script("GetLoadingProgress", lambda request, context: progress(percent_now())(request, context))
    server.script("ShowCollections", in_memory(percent_now))
    async with asyncload.connect(uri, polling=JOINING) as client:
        tasks = [await client.load_collection(f"c{i}") for i in range(6)]
        async with anyio.create_task_group() as tg:
            for task in tasks:
                tg.start_soon(task.wait)
        stats = client.statistics()
    assert all(t.done() and t.percent == 100 for t in tasks)
    batches = server.calls["ShowCollections"]
    assert stats.progress_polls == server.calls["GetLoadingProgress"] + batches, "batched calls count as polls"
    assert batches >= 1
    assert max(len(r.collection_names) for r in server.requests["ShowCollections"]) > 1
    # 6 separate pollers would each have needed the polls one batch answers for all.
    assert server.calls["GetLoadingProgress"] + batches < 6 * batches


async def test_a_failing_batch_falls_back_to_each_collection_and_its_reason(fake: tuple[FakeMilvus, str]) -> None:
    """One load fails (insufficient memory): the batch errors for everyone, each asks on its own."""
    server, uri = fake
    failed = threading.Event()  # set on the fake server's thread

    def progress_of(request: Any, context: grpc.ServicerContext) -> Any:
        # "bad" fails once a batch has been tried; "good" finishes only after that, so both are
        # loading (and every poll joins a batch) until the failure is reported.
        if request.collection_name == "bad" and server.calls["ShowCollections"] >= 1:
            failed.set()
            return progress_error(52, "deny to load, insufficient memory")(request, context)
        return progress(100 if failed.is_set() else 40)(request, context)

    server.script("GetLoadingProgress", progress_of)
    server.script(
        "ShowCollections",
        lambda r, c: milvus_pb2.ShowCollectionsResponse(status=error_status(65535, "collection not loaded[bad]")),
    )
    with anyio.fail_after(30):
        async with asyncload.connect(uri, polling=JOINING) as client:
            good = await client.load_collection("good")
            bad = await client.load_collection("bad")
            async with anyio.create_task_group() as tg:
                tg.start_soon(good.wait)

                async def fails() -> None:
                    with pytest.raises(asyncload.LoadFailedError, match="insufficient memory"):
                        await bad

                tg.start_soon(fails)
    assert good.percent == 100
    assert max(len(r.collection_names) for r in server.requests["ShowCollections"]) == 2
    assert bad.exception() is not None and bad.exception().code == 52  # type: ignore[union-attr]


async def test_release_racing_a_poll_still_reads_as_released(fake: tuple[FakeMilvus, str]) -> None:
    """The server already answers "not loaded" (101) to polls while the release is in flight."""
    server, uri = fake
    releasing = {"now": False}

    def progress_of(request: Any, context: grpc.ServicerContext) -> Any:
        if releasing["now"]:
            return progress_error(101, "collection not loaded[collection=1]")(request, context)
        return progress(20)(request, context)

    def slow_release(request: Any, context: grpc.ServicerContext) -> Any:
        releasing["now"] = True
        time.sleep(0.3)  # polls keep coming (and failing with 101) before the release answers
        return ok()

    server.script("GetLoadingProgress", progress_of)
    server.script("ReleaseCollection", slow_release)
    async with asyncload.connect(uri, polling=FAST) as client:
        task = await client.load_collection("c")
        await release_while_a_waiter_waits(task)
    assert isinstance(task.exception(), asyncload.LoadReleasedError)
