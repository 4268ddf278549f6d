"""The client's load events (``client.subscribe``), on both backends: Milvus Lite, then Milvus 2.3.5
standalone for real progressive loading, a release mid-load and a load released by another client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

import asyncload
from asyncload import LoadEvent, LoadEventKind, LoadState
from asyncload.testing import MilvusStandalone

from ._data import drop_collection, make_collection

pytestmark = pytest.mark.anyio

SUBMITTED, PROGRESS, ENDED, RELEASED = (
    LoadEventKind.SUBMITTED,
    LoadEventKind.PROGRESS,
    LoadEventKind.ENDED,
    LoadEventKind.RELEASED,
)


def kinds(events: list[LoadEvent]) -> list[LoadEventKind]:
    return [e.kind for e in events]


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[str]:
    """A Milvus Lite path holding 'books' and 'papers', not loaded."""
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "lite.db")
    uri = server_manager_instance.start_and_get_uri(path)
    make_collection(uri, None, "books", rows=500, dim=8)
    make_collection(uri, None, "papers", rows=200, dim=8)
    yield path
    server_manager_instance.release_server(path)


async def test_a_load_and_a_release_through_the_client_are_told(lite: str) -> None:
    events: list[LoadEvent] = []
    client = asyncload.connect(lite)
    unsubscribe = client.subscribe(events.append)  # before opening: fine
    async with client:
        task = await client.load_collection("books")
        assert kinds(events) == [SUBMITTED, ENDED], "Milvus Lite loads before answering: no percentage between"
        submitted, ended = events
        assert (submitted.collection, submitted.partitions, submitted.task) == ("books", (), task)
        assert submitted.progress is not None and not submitted.loaded
        assert ended.task is task and ended.loaded and ended.error is None
        assert ended.progress == task.latest and ended.progress is not None and ended.progress.percent == 100

        await task  # waiting on a finished load tells nothing new
        assert len(events) == 2
        await task.release()
        assert kinds(events)[2:] == [RELEASED]
        assert (events[2].collection, events[2].partitions, events[2].progress, events[2].task) == (
            "books",
            (),
            None,
            None,
        )

        await client.release_collection("papers")  # never loaded: a release is still a release
        assert events[-1] == LoadEvent(RELEASED, "papers")

        unsubscribe()
        unsubscribe()  # harmless
        await client.load_collection("papers")
        assert len(events) == 4, "nothing after unsubscribing"


async def test_a_listener_that_raises_is_logged_and_breaks_nothing(lite: str, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[LoadEventKind] = []

    def broken(event: LoadEvent) -> None:
        raise RuntimeError("listener bug")

    async with asyncload.connect(lite) as client:
        client.subscribe(broken)
        client.subscribe(lambda event: seen.append(event.kind))
        with caplog.at_level(logging.ERROR, logger="asyncload"):
            task = await client.load_collection("books")
            assert (await task).loaded
            await client.release_collection("books")
        assert seen == [SUBMITTED, ENDED, RELEASED], "the other listener got every event"
        logged = [r for r in caplog.records if r.name == "asyncload" and r.exc_info]
        assert len(logged) == 3 and "listener bug" in str(logged[0].exc_info[1])  # type: ignore[index]
        assert await client.get_load_state("books") is LoadState.NOT_LOAD


async def test_subscribe_needs_a_function(lite: str) -> None:
    client = asyncload.connect(lite)
    with pytest.raises(asyncload.InvalidArgumentError, match="listener"):
        client.subscribe("print")  # type: ignore[arg-type]


async def test_a_refused_load_tells_nothing(lite: str) -> None:
    events: list[LoadEvent] = []
    async with asyncload.connect(lite) as client:
        client.subscribe(events.append)
        with pytest.raises(asyncload.CollectionNotFoundError):
            await client.load_collection("nope")
    assert events == [], "no load was submitted"


# ------------------------------------------------------------------- Milvus 2.3.5 standalone


@pytest.fixture(scope="module")
def standalone(milvus_standalone: MilvusStandalone) -> Iterator[MilvusStandalone]:
    """'evslow': 60,000 x 128-d in 4 segments (loads through intermediate percentages in seconds)."""
    uri, token = milvus_standalone.uri, milvus_standalone.token
    make_collection(uri, token, "evslow", rows=60_000, dim=128, segments=4)
    yield milvus_standalone
    drop_collection(uri, token, "evslow")


@pytest.fixture
async def remote(standalone: MilvusStandalone) -> AsyncIterator[asyncload.AsyncClient]:
    async with asyncload.connect(standalone.uri, token=standalone.token) as client:
        yield client
        await client.release_collection("evslow")


@pytest.mark.standalone
async def test_a_progressive_load_tells_each_new_percentage_then_its_end(remote: asyncload.AsyncClient) -> None:
    events: list[LoadEvent] = []
    latest: list[int] = []

    def listener(event: LoadEvent) -> None:
        events.append(event)
        if event.task is not None:  # delivered synchronously: the task already knows what the event says
            latest.append(event.task.latest.percent)

    remote.subscribe(listener)
    task = await remote.load_collection("evslow")
    assert (await task.wait(timeout=120)).loaded
    assert kinds(events)[0] is SUBMITTED and kinds(events)[-1] is ENDED
    assert set(kinds(events)[1:-1]) == {PROGRESS}, kinds(events)
    percents = [e.progress.percent for e in events if e.progress is not None]
    assert percents == latest
    progress = percents[1:-1]
    assert progress == sorted(set(progress)), f"each percentage once, never backwards: {percents}"
    assert any(0 < p < 100 for p in progress), f"no intermediate percentage: {percents}"
    assert events[-1].loaded and events[-1].progress == task.latest
    assert all(e.task is task and e.collection == "evslow" for e in events)

    await remote.release_collection("evslow")
    assert kinds(events)[-1] is RELEASED and len(events) == len(percents) + 1, "a loaded target ends only once"


@pytest.mark.standalone
async def test_a_release_mid_load_ends_the_load_then_tells_the_release(remote: asyncload.AsyncClient) -> None:
    events: list[LoadEvent] = []
    remote.subscribe(events.append)
    task = await remote.load_collection("evslow")
    async with anyio.create_task_group() as tg:

        async def waiter() -> None:
            with pytest.raises(asyncload.LoadReleasedError):
                await task

        tg.start_soon(waiter)
        await anyio.sleep(0.3)
        assert task.state is LoadState.LOADING
        await task.release()
    assert kinds(events)[-2:] == [ENDED, RELEASED]
    ended = events[-2]
    assert isinstance(ended.error, asyncload.LoadReleasedError) and not ended.loaded
    assert ended.error is task.exception() and ended.task is task
    assert kinds(events).count(ENDED) == 1


@pytest.mark.standalone
async def test_a_load_released_by_another_client_ends_released(
    remote: asyncload.AsyncClient, standalone: MilvusStandalone
) -> None:
    events: list[LoadEvent] = []
    remote.subscribe(events.append)
    task = await remote.load_collection("evslow")
    async with asyncload.connect(standalone.uri, token=standalone.token) as other:
        other_events: list[LoadEvent] = []
        other.subscribe(other_events.append)
        raised: list[BaseException] = []

        async def waiter() -> None:
            try:
                await task
            except asyncload.AsyncLoadError as exc:
                raised.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(0.3)
            await other.release_collection("evslow")
        assert len(raised) == 1 and type(raised[0]) is asyncload.LoadReleasedError, raised
        assert other_events == [LoadEvent(RELEASED, "evslow")], "the other client tells only its own release"
    assert kinds(events)[-1] is ENDED and RELEASED not in kinds(events)
    assert isinstance(events[-1].error, asyncload.LoadReleasedError) and events[-1].error is task.exception()
