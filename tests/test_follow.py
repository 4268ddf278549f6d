"""Following a load started elsewhere (``follow_load``), and messages that name what the user did,
on the real Milvus 2.3.5 standalone with progressive loading."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import anyio
import pytest

import asyncload
from asyncload import LoadState
from asyncload.testing import MilvusStandalone

from ._data import make_collection
from .test_cli import cli_env, one_error_line, run

pytestmark = [pytest.mark.anyio, pytest.mark.standalone]

SLOW = "follow_slow"  # loads over several seconds through intermediate percentages
PARTS = "follow_parts"


@pytest.fixture(scope="session")
def server(milvus_standalone: MilvusStandalone) -> MilvusStandalone:
    make_collection(milvus_standalone.uri, milvus_standalone.token, SLOW, rows=60_000, dim=16, segments=48, shards=2)
    make_collection(milvus_standalone.uri, milvus_standalone.token, PARTS, rows=3_000, dim=16, partitions=("p1", "p2"))
    return milvus_standalone


@pytest.fixture
async def clients(server: MilvusStandalone) -> AsyncIterator[tuple[asyncload.AsyncClient, asyncload.AsyncClient]]:
    """Two clients of one server: ``submitter`` starts loads, ``follower`` follows them."""
    async with (
        asyncload.connect(server.uri, token=server.token) as submitter,
        asyncload.connect(server.uri, token=server.token) as follower,
    ):
        try:
            yield submitter, follower
        finally:
            with anyio.CancelScope(shield=True):
                for name in (SLOW, PARTS):
                    await submitter.release_collection(name)


async def _follow_to_the_end(task: asyncload.LoadTask) -> list[asyncload.Progress]:
    with anyio.fail_after(120):
        return [p async for p in task.progress()]


async def test_a_load_submitted_by_another_client_is_followed_to_loaded(
    clients: tuple[asyncload.AsyncClient, asyncload.AsyncClient],
) -> None:
    submitter, follower = clients
    await submitter.load_collection(SLOW)
    task = await follower.follow_load(SLOW)
    assert task.followed
    snapshots = await _follow_to_the_end(task)
    percents = [p.percent for p in snapshots]
    assert percents == sorted(percents)
    assert snapshots[-1].loaded
    assert any(0 < p < 100 for p in percents), f"progressive loading expected, saw {percents}"
    assert all(p.eta is None or p.eta > 0 for p in snapshots if not p.loaded), "never 'eta 0' while loading"
    assert (await task).loaded
    assert "LoadCollection" not in follower.statistics().rpcs, "following sends no load"


async def test_a_load_submitted_by_pymilvus_is_followed_to_loaded(
    server: MilvusStandalone, clients: tuple[asyncload.AsyncClient, asyncload.AsyncClient]
) -> None:
    from pymilvus import MilvusClient

    _, follower = clients

    def submit() -> None:
        milvus = MilvusClient(server.uri, token=server.token)
        try:
            milvus.load_collection(SLOW, _async=True)
        finally:
            milvus.close()

    await anyio.to_thread.run_sync(submit)
    task = await follower.follow_load(SLOW)
    snapshots = await _follow_to_the_end(task)
    assert snapshots[-1].loaded
    assert await follower.get_load_state(SLOW) is LoadState.LOADED


async def test_followed_partitions(clients: tuple[asyncload.AsyncClient, asyncload.AsyncClient]) -> None:
    submitter, follower = clients
    await submitter.load_partitions(PARTS, ["p1"])
    task = await follower.follow_load(PARTS, partition_names=["p1"])
    assert task.partitions == ("p1",)
    assert (await task.wait(timeout=60)).loaded
    with pytest.raises(asyncload.NotLoadedError) as info:
        await follower.follow_load(PARTS, partition_names=["p2"])
    assert info.value.partitions == ("p2",)


async def test_an_already_loaded_target_is_done_at_once(
    clients: tuple[asyncload.AsyncClient, asyncload.AsyncClient],
) -> None:
    submitter, follower = clients
    await (await submitter.load_collection(PARTS)).wait(timeout=60)
    task = await follower.follow_load(PARTS)
    assert task.done()
    assert task.latest.loaded
    assert (await task).percent == 100
    assert follower.statistics().rpcs.get("GetLoadingProgress", 0) <= 1, "one poll told it was loaded"


async def test_a_release_by_the_other_client_ends_the_follower(
    clients: tuple[asyncload.AsyncClient, asyncload.AsyncClient],
) -> None:
    submitter, follower = clients
    await submitter.load_collection(SLOW)
    task = await follower.follow_load(SLOW)
    errors: list[asyncload.LoadReleasedError] = []

    async def wait() -> None:
        with pytest.raises(asyncload.LoadReleasedError) as info, anyio.fail_after(60):
            await task
        errors.append(info.value)

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await anyio.sleep(1.5)
        assert not task.done()
        await submitter.release_collection(SLOW)
    assert SLOW in str(errors[0]) and "released" in str(errors[0])
    assert "released" in repr(task)


async def test_following_a_target_that_is_not_loading_is_a_clear_error(
    clients: tuple[asyncload.AsyncClient, asyncload.AsyncClient],
) -> None:
    _, follower = clients
    with pytest.raises(asyncload.NotLoadedError) as info:
        await follower.follow_load(SLOW)
    assert (info.value.collection, info.value.state) == (SLOW, LoadState.NOT_LOAD)
    assert f"follow_load({SLOW!r})" in str(info.value) and "NOT_LOAD" in str(info.value)
    with pytest.raises(asyncload.CollectionNotFoundError) as missing:
        await follower.follow_load("follow_slwo")
    assert missing.value.suggestions[0] == SLOW
    assert f"did you mean {SLOW!r}" in str(missing.value)


async def test_a_timed_out_wait_says_target_state_percent_and_that_the_load_goes_on(
    clients: tuple[asyncload.AsyncClient, asyncload.AsyncClient],
) -> None:
    submitter, _ = clients
    task = await submitter.load_collection(SLOW)
    with pytest.raises(TimeoutError) as info:
        await task.wait(timeout=0.5)
    message = str(info.value)
    assert f"{SLOW!r} is still LOADING at {task.percent}%" in message
    assert "the load goes on on the server" in message
    assert not task.done()


async def test_a_released_task_says_released(clients: tuple[asyncload.AsyncClient, asyncload.AsyncClient]) -> None:
    submitter, _ = clients
    mid_load = await submitter.load_collection(SLOW)
    await mid_load.release()
    assert re.search(r"released at \d+% \(before it finished loading\)", repr(mid_load)), repr(mid_load)
    assert "failed" not in repr(mid_load)
    loaded = await submitter.load_collection(PARTS)
    await loaded.wait(timeout=60)
    await submitter.release_collection(PARTS)
    assert "released (after loading 100%)" in repr(loaded)
    assert "LOADED 100% (done)" not in repr(loaded)


async def test_a_dropped_collection_is_named_not_numbered(server: MilvusStandalone) -> None:
    """Milvus 2.3.5 names a just-dropped collection by its internal id; asyncload names it as asked."""
    from pymilvus import MilvusClient

    name = f"follow_dropped_{anyio.current_time():.0f}".replace(".", "_")
    make_collection(server.uri, server.token, name, rows=100, dim=8)
    async with asyncload.connect(server.uri, token=server.token) as client:
        await client.describe_collection(name)  # the proxy caches the collection's id
        milvus = MilvusClient(server.uri, token=server.token)
        try:
            await anyio.to_thread.run_sync(milvus.drop_collection, name)
        finally:
            milvus.close()
        for call in (client.load_collection(name), client.footprint_estimate(name)):
            with pytest.raises(asyncload.CollectionNotFoundError) as info:
                await call
            message = str(info.value)
            assert name in message.split(": ", 1)[1], "the server's reason names the collection too"
            assert not re.search(r"\d{12,}", message), message
        assert str(info.value).startswith(f"footprint_estimate({name!r}): "), "the user's call, not describe_*"


def test_the_cli_waits_for_a_load_started_elsewhere(server: MilvusStandalone) -> None:
    from pymilvus import MilvusClient

    milvus = MilvusClient(server.uri, token=server.token)
    env = cli_env(MILVUS_URI=server.uri, MILVUS_TOKEN=server.token)
    try:
        milvus.load_collection(SLOW, _async=True)
        timed_out = run("wait", SLOW, "--timeout", "0.5", env=env)
        assert timed_out.returncode == 1
        assert "still loading after 0.5 s" in one_error_line(timed_out)
        result = run("--json", "wait", SLOW, env=env)
        assert result.returncode == 0, result.stderr
        assert '"state": "LOADED"' in result.stdout and '"followed": true' in result.stdout
        again = run("wait", SLOW, env=env)
        assert again.returncode == 0 and f"{SLOW} is loaded" in again.stdout, "already loaded: done at once"
    finally:
        milvus.release_collection(SLOW)
        milvus.close()
