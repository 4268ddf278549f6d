"""The Load & Release workflow on the embedded default (Milvus Lite), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import asyncload
from asyncload import LoadState

from ._data import make_collection

pytestmark = pytest.mark.anyio


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[str]:
    """A Milvus Lite database path holding 'books' (500 rows, FLAT index, dynamic field), not loaded."""
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "lite.db")
    uri = server_manager_instance.start_and_get_uri(path)
    make_collection(uri, None, "books", rows=500, dim=8)
    yield path
    server_manager_instance.release_server(path)


async def test_seed_workflow(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        assert "books" in await client.list_collections()
        assert await client.get_load_state("books") is LoadState.NOT_LOAD
        before = await client.loading_progress("books")
        assert (before.state, before.percent) == (LoadState.NOT_LOAD, 0)

        task = await client.load_collection("books", load_fields=["id", "vec"], skip_load_dynamic_field=True)
        assert task.done(), "Milvus Lite answers LoadCollection once loaded"
        final = await task
        assert (final.percent, final.state, final.collection) == (100, LoadState.LOADED, "books")
        assert "books" in repr(task) and "LOADED 100%" in repr(task)

        snapshots = [p async for p in task.progress()]
        assert [p.percent for p in snapshots] == [100]

        assert await client.get_load_state("books") is LoadState.LOADED
        now = await client.loading_progress("books")
        assert (now.percent, now.state) == (100, LoadState.LOADED)

        await task.release()
        assert await client.get_load_state("books") is LoadState.NOT_LOAD
        assert (await task).loaded, "it did load; releasing later does not change that"

        again = await client.load_collection("books")
        await again.wait(timeout=30)
        await client.release_collection("books")
        assert await client.get_load_state("books") is LoadState.NOT_LOAD


async def test_many_waiters_and_streams_on_one_task(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        task = await client.load_collection("books")
        results: list[int] = []

        async def waiter() -> None:
            results.append((await task).percent)

        async def streamer() -> None:
            async with task.progress() as stream:
                results.extend([p.percent async for p in stream])

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(waiter)
                tg.start_soon(streamer)
        assert results == [100] * 10
        stats = client.statistics()
        assert (stats.waiters, stats.streams, stats.polling) == (0, 0, 0)


async def test_missing_collections(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        assert await client.get_load_state("nope") is LoadState.NOT_EXIST
        with pytest.raises(asyncload.CollectionNotFoundError, match="nope") as info:
            await client.load_collection("nope")
        assert info.value.code == 100
        with pytest.raises(asyncload.CollectionNotFoundError):
            await client.load_collection("nope", load_fields=["id", "vec"])
        with pytest.raises(asyncload.CollectionNotFoundError):
            await client.describe_collection("nope")


async def test_invalid_load_fields_leave_the_collection_untouched(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        with pytest.raises(asyncload.InvalidLoadFieldsError) as info:
            await client.load_collection("books", load_fields=["vec", "title"])
        assert info.value.missing == ("id",)
        assert set(info.value.valid) == {"id", "vec", "title", "score"}
        with pytest.raises(asyncload.InvalidLoadFieldsError, match="'nosuch'"):
            await client.load_collection("books", load_fields=["id", "vec", "nosuch"])
        assert await client.get_load_state("books") is LoadState.NOT_LOAD
        assert client.statistics().rpcs.get("LoadCollection", 0) == 0


async def test_partition_loads_are_refused_clearly_by_milvus_lite(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        with pytest.raises(asyncload.UnsupportedOperationError, match="LoadPartitions"):
            await client.load_partitions("books", ["_default"])


async def test_schema_description(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        schema = await client.describe_collection("books")
    assert schema.primary_field.name == "id"
    assert [f.name for f in schema.vector_fields] == ["vec"]
    assert schema.field("vec").dim == 8
    assert schema.field("title").max_length == 256
    assert schema.dynamic_field is not None


async def test_two_clients_share_one_embedded_server(lite: str) -> None:
    async with asyncload.connect(lite) as first, asyncload.connect(lite) as second:
        task = await first.load_collection("books")
        await task
        assert await second.get_load_state("books") is LoadState.LOADED
        assert first.statistics().rpcs.get("LoadCollection") == 1
    async with asyncload.connect(lite) as third:  # a restarted Milvus Lite keeps data, not loads
        assert "books" in await third.list_collections()


async def test_refresh_load_completes_on_milvus_lite(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        await (await client.load_collection("books"))
        refresh = await client.refresh_load("books")
        assert refresh.refresh
        final = await refresh.wait(timeout=30)
        assert final.loaded
