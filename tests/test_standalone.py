"""Real progressive loading, partitions, release mid-load and auth on Milvus 2.3.5 standalone.

The congruence scenario (test_seed_workflow_is_the_same_on_both_servers) runs on Milvus Lite too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

import asyncload
from asyncload import LoadState
from asyncload.testing import MilvusStandalone

from ._data import make_collection

pytestmark = [pytest.mark.anyio, pytest.mark.standalone]


@dataclass(frozen=True)
class Server:
    kind: str
    uri: str
    token: str | None


@pytest.fixture(scope="session")
def standalone_data(milvus_standalone: MilvusStandalone) -> Server:
    """Collections on the session's standalone, created once:

    - ``small``: 1,000 rows, one segment (loads in 3-5 s, one intermediate percentage);
    - ``steps``: 100,000 rows in 128 segments over 2 shards (loads in ~12 s through many percentages);
    - ``parts``: 3,000 rows over partitions p1, p2;
    - ``batch_a``, ``batch_b``, ``batch_c``: 1,000 rows each, loaded together.
    """
    uri, token = milvus_standalone.uri, milvus_standalone.token
    make_collection(uri, token, "small", rows=1_000, dim=16)
    make_collection(uri, token, "steps", rows=100_000, dim=16, segments=64, shards=2)
    make_collection(uri, token, "parts", rows=3_000, dim=16, partitions=("p1", "p2"))
    for name in ("batch_a", "batch_b", "batch_c"):
        make_collection(uri, token, name, rows=1_000, dim=16)
    return Server("standalone", uri, token)


@pytest.fixture
def lite_server(tmp_path: Path) -> Iterator[Server]:
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "lite.db")
    make_collection(server_manager_instance.start_and_get_uri(path), None, "small", rows=1_000, dim=16)
    yield Server("lite", path, None)
    server_manager_instance.release_server(path)


@pytest.fixture
async def client(standalone_data: Server) -> AsyncIterator[asyncload.AsyncClient]:
    async with asyncload.connect(standalone_data.uri, token=standalone_data.token) as opened:
        yield opened


@pytest.fixture(params=["lite", "standalone"])
def any_server(request: pytest.FixtureRequest) -> Server:
    name = "lite_server" if request.param == "lite" else "standalone_data"
    server: Server = request.getfixturevalue(name)
    return server


async def test_seed_workflow_is_the_same_on_both_servers(any_server: Server) -> None:
    async with asyncload.connect(any_server.uri, token=any_server.token) as client:
        assert await client.get_load_state("small") is LoadState.NOT_LOAD
        assert (await client.loading_progress("small")).state is LoadState.NOT_LOAD

        task = await client.load_collection("small", load_fields=["id", "vec"], skip_load_dynamic_field=True)
        percents = [p.percent async for p in task.progress()]
        assert percents[-1] == 100
        assert percents == sorted(percents)
        final = await task
        assert (final.state, final.percent) == (LoadState.LOADED, 100)
        assert await client.get_load_state("small") is LoadState.LOADED
        assert (await client.loading_progress("small")).percent == 100

        await client.release_collection("small")
        assert await client.get_load_state("small") is LoadState.NOT_LOAD
        assert (await client.loading_progress("small")).state is LoadState.NOT_LOAD
        assert await client.get_load_state("no_such_collection") is LoadState.NOT_EXIST
        with pytest.raises(asyncload.CollectionNotFoundError):
            await client.load_collection("no_such_collection")


async def test_progressive_load_seen_by_many_waiters_and_streams(client: asyncload.AsyncClient) -> None:
    task = await client.load_collection("steps")
    streams: list[list[int]] = [[] for _ in range(3)]
    finals: list[asyncload.Progress] = []

    async def stream(index: int) -> None:
        async with task.progress() as snapshots:
            async for p in snapshots:
                streams[index].append(p.percent)

    async def wait() -> None:
        finals.append(await task.wait(timeout=120))

    async with anyio.create_task_group() as tg:
        for index in range(3):
            tg.start_soon(stream, index)
        for _ in range(10):
            tg.start_soon(wait)
    try:
        for percents in streams:
            assert percents == sorted(percents), "never backwards"
            assert percents[-1] == 100, "a successful stream ends with 100 %"
            assert any(0 < p < 100 for p in percents), f"intermediate percentages expected, saw {percents}"
        assert len(finals) == 10
        assert all(f.loaded for f in finals)
        assert max(f.elapsed for f in finals) > 1.0
        stats = client.statistics()
        # 13 followers shared one poller: a 0.2 s poller each would have sent > 13 x 50.
        assert stats.progress_polls < 100
        assert (stats.waiters, stats.streams, stats.polling) == (0, 0, 0)
    finally:
        await client.release_collection("steps")


async def test_partitions(client: asyncload.AsyncClient) -> None:
    task = await client.load_partitions("parts", ["p1"])
    assert task.partitions == ("p1",)
    assert (await task.wait(timeout=60)).loaded
    try:
        assert (await client.loading_progress("parts", partition_names=["p1"])).state is LoadState.LOADED
        both = await client.loading_progress("parts", partition_names=["p1", "p2"])
        assert (both.state, both.percent) == (LoadState.NOT_LOAD, 0), "a listed partition is not loaded"
        assert await client.get_load_state("parts", partition_name="p1") is LoadState.LOADED
        assert await client.get_load_state("parts", partition_name="p2") is LoadState.NOT_LOAD
        with pytest.raises(asyncload.PartitionNotFoundError) as info:
            await client.load_partitions("parts", ["p1", "nope"])
        assert info.value.partition == "nope"
        with pytest.raises(asyncload.PartitionNotFoundError):
            await client.loading_progress("parts", partition_names=["nope"])
        await client.release_partitions("parts", ["p1"])
        assert await client.get_load_state("parts", partition_name="p1") is LoadState.NOT_LOAD
    finally:
        await client.release_collection("parts")


async def test_task_release_mid_load_stops_the_load(client: asyncload.AsyncClient) -> None:
    task = await client.load_collection("steps")
    errors: list[BaseException] = []

    async def waiter() -> None:
        try:
            await task
        except asyncload.LoadReleasedError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        tg.start_soon(waiter)
        await anyio.sleep(0.5)
        assert task.state is LoadState.LOADING
        await task.release()
    assert len(errors) == 2
    assert "released before it finished" in str(errors[0])
    assert await client.get_load_state("steps") is LoadState.NOT_LOAD
    await anyio.sleep(1.5)
    assert await client.get_load_state("steps") is LoadState.NOT_LOAD, "the load does not come back"


async def test_cancelled_waiters_and_streams_leave_nothing_behind(client: asyncload.AsyncClient) -> None:
    task = await client.load_collection("small")
    try:
        with anyio.move_on_after(0.5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(task.wait)
                tg.start_soon(task.wait)

                async def follow() -> None:
                    async for _ in task.progress():
                        pass

                tg.start_soon(follow)
        stats = client.statistics()
        assert (stats.waiters, stats.streams, stats.polling) == (0, 0, 0)
        polls = stats.progress_polls
        await anyio.sleep(0.6)
        assert client.statistics().progress_polls == polls, "no background polling is left"
        assert (await task.wait(timeout=60)).loaded, "the load went on meanwhile"
    finally:
        await client.release_collection("small")


async def test_a_refused_load_raises_at_submission(client: asyncload.AsyncClient) -> None:
    with pytest.raises(asyncload.ServerError, match="nodes not enough"):
        await client.load_collection("small", replica_number=2)
    assert await client.get_load_state("small") is LoadState.NOT_LOAD


async def test_refresh_load_follows_refresh_progress(client: asyncload.AsyncClient) -> None:
    await (await client.load_collection("small")).wait(timeout=60)
    try:
        refresh = await client.refresh_load("small")
        final = await refresh.wait(timeout=60)
        assert (final.percent, final.refresh_percent) == (100, 100)
    finally:
        await client.release_collection("small")


async def test_footprint_on_the_standalone(client: asyncload.AsyncClient) -> None:
    df = await client.footprint("parts", load_fields=["id", "vec"], skip_load_dynamic_field=True)
    assert df.loc["vec", "raw_bytes"] == 3_000 * 16 * 4
    assert df.loc["vec", "index_type"] == "FLAT"
    assert df.loc["title", "selected"] is False or not df.loc["title", "selected"]
    one = await client.footprint("parts", partition_names=["p1"])
    assert set(one["rows"]) == {1_500}


@pytest.mark.parametrize("token", ["root:wrong-password", None])
async def test_wrong_or_missing_token_is_an_authentication_error(standalone_data: Server, token: str | None) -> None:
    async with asyncload.connect(standalone_data.uri, token=token) as client:
        with pytest.raises(asyncload.AuthenticationError) as info:
            await client.get_load_state("small")
        assert client.statistics().rpcs["GetLoadState"] == 1, "never retried"
    if token:
        assert "wrong-password" not in str(info.value)


async def test_concurrent_loads_share_batched_polls(client: asyncload.AsyncClient) -> None:
    names = ["batch_a", "batch_b", "batch_c"]
    tasks = [await client.load_collection(name) for name in names]
    try:
        async with anyio.create_task_group() as tg:
            for task in tasks:
                tg.start_soon(task.wait, 60)
        assert all(t.latest.loaded for t in tasks)
        rpcs = client.statistics().rpcs
        assert rpcs.get("ShowCollections", 0) >= 1, "polls of the three loads went out together"
        for name in names:
            assert await client.get_load_state(name) is LoadState.LOADED
    finally:
        for name in names:
            await client.release_collection(name)


async def test_footprint_of_known_data_on_the_standalone(client: asyncload.AsyncClient) -> None:
    """'parts' holds ids 0..2999, titles "title <id>", $meta {"tag": "t<id % 10>", "n": <id>}."""
    await (await client.load_collection("parts")).wait(timeout=60)
    try:
        df = await client.footprint("parts", sample_rows=3_000)
        assert client.statistics().rpcs["Query"] == 1
    finally:
        await client.release_collection("parts")
    rows = 3_000
    assert list(df["dtype"]) == ["Int64", "FloatVector", "VarChar", "Float", "JSON"]
    assert set(df["rows"]) == {rows}
    assert df.loc["vec", "dim"] == 16
    assert df.loc["id", "raw_bytes"] == rows * 8
    assert df.loc["score", "raw_bytes"] == rows * 4
    assert df.loc["title", "raw_bytes"] == sum(len(f"title {i}") for i in range(rows))
    assert df.loc["$meta", "raw_bytes"] == sum(len(f'{{"tag": "t{i % 10}", "n": {i}}}') for i in range(rows))
