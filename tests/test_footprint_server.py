"""Footprints on a real server (Milvus Lite here; the standalone in test_standalone.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import asyncload

from ._data import make_collection

pytestmark = pytest.mark.anyio

ROWS = 500
DIM = 8


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[str]:
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "lite.db")
    make_collection(server_manager_instance.start_and_get_uri(path), None, "books", rows=ROWS, dim=DIM)
    yield path
    server_manager_instance.release_server(path)


def expected_title_bytes() -> int:
    return sum(len(f"title {i}".encode()) for i in range(ROWS))


def expected_meta_bytes() -> set[int]:
    docs = [{"tag": f"t{i % 10}", "n": i} for i in range(ROWS)]
    return {sum(len(json.dumps(d)) for d in docs), sum(len(json.dumps(d, separators=(",", ":"))) for d in docs)}


async def test_footprint_of_a_loaded_collection_uses_real_sizes(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        await (await client.load_collection("books"))
        df = await client.footprint("books", sample_rows=ROWS)
        rpcs = client.statistics().rpcs
    assert list(df.index) == ["id", "vec", "title", "score", "$meta"]
    assert list(df["dtype"]) == ["Int64", "FloatVector", "VarChar", "Float", "JSON"]
    assert df.loc["vec", "dim"] == DIM
    assert set(df["rows"]) == {ROWS}
    assert df.loc["id", "raw_bytes"] == ROWS * 8
    assert df.loc["vec", "raw_bytes"] == ROWS * DIM * 4
    assert df.loc["score", "raw_bytes"] == ROWS * 4
    assert df.loc["title", "raw_bytes"] == expected_title_bytes()
    assert df.loc["$meta", "raw_bytes"] in expected_meta_bytes()
    assert df.attrs["exact"] is True and df.attrs["sampled_fields"] == ["title", "$meta"]
    assert df.loc["vec", "index_type"] == "FLAT"
    assert df["selected"].all()
    assert df["share"].sum() == pytest.approx(1.0)
    assert df.attrs["selected_bytes"] == df["bytes"].sum()
    assert rpcs["Query"] == 1, "one bounded sample query, no scan"
    assert rpcs["GetQuerySegmentInfo"] == 1, "loaded: one more RPC for the measured memory"
    assert df.attrs["loaded"] is True and df.attrs["measured_bytes"] is None
    assert df.attrs["measured"].startswith("unknown: the server does not implement GetQuerySegmentInfo")
    assert df.attrs["fit"]["verdict"] == "loaded"


async def test_selection_follows_load_fields_and_the_dynamic_flag(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        everything = await client.footprint("books")
        partial = await client.footprint("books", load_fields=["id", "vec"], skip_load_dynamic_field=True)
        with_meta = await client.footprint("books", load_fields=["id", "vec"])
        assert "GetQuerySegmentInfo" not in client.statistics().rpcs, "not loaded: no measured-memory RPC"
    assert everything.attrs["loaded"] is False and everything.attrs["measured"] == ""
    assert partial["selected"].to_dict() == {"id": True, "vec": True, "title": False, "score": False, "$meta": False}
    assert with_meta.loc["$meta", "selected"]
    assert partial.attrs["selected_bytes"] == partial.loc[["id", "vec"], "bytes"].sum()
    assert partial.attrs["selected_bytes"] < everything.attrs["selected_bytes"]
    assert partial.attrs["all_bytes"] == everything.attrs["all_bytes"]
    assert str(everything.loc["title", "basis"]) == "schema range", "not loaded: a schema range"
    low, typical, high = everything.loc["title", ["low_bytes", "bytes", "high_bytes"]].tolist()
    assert low < typical <= high


async def test_footprint_refuses_what_load_collection_refuses(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        with pytest.raises(asyncload.InvalidLoadFieldsError, match="primary key 'id'"):
            await client.footprint("books", load_fields=["vec"])
        with pytest.raises(asyncload.InvalidLoadFieldsError, match="'nosuch'"):
            await client.footprint("books", load_fields=["id", "vec", "nosuch"])
        with pytest.raises(asyncload.InvalidLoadFieldsError, match="a vector field"):
            await client.footprint("books", load_fields=["id", "title"])
        with pytest.raises(asyncload.CollectionNotFoundError):
            await client.footprint("nope")
        with pytest.raises(asyncload.InvalidArgumentError, match="sample_rows"):
            await client.footprint("books", sample_rows=0)


async def test_replicas_multiply(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        one = await client.footprint("books")
        two = await client.footprint("books", replica_number=2)
    assert two.attrs["selected_bytes"] == 2 * one.attrs["selected_bytes"]
