"""Footprint honesty and "does it fit" on a real Milvus 2.3.5 standalone.

The collection ``fp_books`` (tests/_data.py): 3,000 rows, ids 0..2999, ``title`` VarChar(256)
``"title <id>"``, ``$meta`` ``{"tag": "t<id % 10>", "n": <id>}``, FLAT on a 16-d vector.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

import asyncload
from asyncload.footprint import ClusterMemory, FitVerdict, NodeMemory, fit_verdict
from asyncload.testing import MilvusStandalone

from ._data import drop_collection, make_collection

pytestmark = [pytest.mark.anyio, pytest.mark.standalone]

ROWS = 3_000
NAME = "fp_books"


@pytest.fixture(scope="module")
def books(milvus_standalone: MilvusStandalone) -> MilvusStandalone:
    drop_collection(milvus_standalone.uri, milvus_standalone.token, NAME)
    make_collection(milvus_standalone.uri, milvus_standalone.token, NAME, rows=ROWS, dim=16)
    return milvus_standalone


@pytest.fixture
async def client(books: MilvusStandalone) -> AsyncIterator[asyncload.AsyncClient]:
    async with asyncload.connect(books.uri, token=books.token) as opened:
        yield opened


def raw_system_info(server: MilvusStandalone) -> dict[str, Any]:
    """GetMetrics system_info straight from the server, without asyncload."""
    from asyncload._transport.proto import milvus_pb2, milvus_pb2_grpc

    channel = grpc.insecure_channel(server.uri.split("://", 1)[1])
    try:
        stub = milvus_pb2_grpc.MilvusServiceStub(channel)
        token = base64.b64encode((server.token or "").encode()).decode()
        reply = stub.GetMetrics(
            milvus_pb2.GetMetricsRequest(request=json.dumps({"metric_type": "system_info"})),
            metadata=[("authorization", token)],
            timeout=30,
        )
        answer: dict[str, Any] = json.loads(reply.response)
        return answer
    finally:
        channel.close()


async def test_query_node_memory_matches_get_metrics(client: asyncload.AsyncClient, books: MilvusStandalone) -> None:
    memory = await client.query_node_memory()
    raw = raw_system_info(books)
    nodes = [n["infos"] for n in raw["nodes_info"] if n["infos"]["type"] == "querynode"]
    assert memory.known
    assert [n.name for n in memory.nodes] == [n["name"] for n in nodes]
    for mine, theirs in zip(memory.nodes, nodes, strict=True):
        assert mine.total_bytes == theirs["hardware_infos"]["memory"]
        # usage moves with everything the process does: the two reads are moments apart
        assert mine.used_bytes == pytest.approx(theirs["hardware_infos"]["memory_usage"], rel=0.25)
        assert mine.free_bytes == mine.total_bytes - mine.used_bytes
        assert mine.address == theirs["hardware_infos"]["ip"]


async def test_footprint_attrs_hold_memory_and_a_verdict(client: asyncload.AsyncClient) -> None:
    df = await client.footprint(NAME)
    assert df.attrs["memory"]["known"] is True
    assert df.attrs["memory"]["nodes"][0]["name"].startswith("querynode")
    fit = df.attrs["fit"]
    assert fit["needed_bytes"] == df.attrs["peak_bytes"]
    assert fit["capacity_bytes"] > 0
    # a small collection under a schema range of VarChar(256) + JSON: fits, even at the high end
    assert fit["verdict"] == "fits", fit["reason"]


async def test_a_selection_larger_than_the_free_memory_is_flagged(client: asyncload.AsyncClient) -> None:
    estimate = await client.footprint_estimate(NAME)
    memory = await client.query_node_memory()
    node = memory.nodes[0]
    # the same footprint against a node with less room than its loading peak
    small = ClusterMemory(
        (NodeMemory(node.name, node.node_id, node.address, node.used_bytes + estimate.peak_bytes, node.used_bytes),),
        True,
    )
    flagged = fit_verdict(estimate, small)
    assert flagged.verdict is FitVerdict.DOES_NOT_FIT
    assert flagged.headroom_bytes is not None and flagged.headroom_bytes < 0
    # and two replicas on a standalone (one query node) cannot load at all
    df = await client.footprint(NAME, replica_number=2)
    assert df.attrs["fit"]["verdict"] == "does not fit"
    assert "query nodes" in df.attrs["fit"]["reason"]


async def test_before_the_load_a_schema_range_then_your_sample_then_the_server_sample(
    client: asyncload.AsyncClient,
) -> None:
    assert await client.get_load_state(NAME) is asyncload.LoadState.NOT_LOAD
    before = await client.footprint(NAME)
    for field in ("title", "$meta"):
        assert before.loc[field, "basis"] == "schema range"
        low, typical, high = before.loc[field, ["low_bytes", "bytes", "high_bytes"]].tolist()
        assert low < typical <= high
    assert before.attrs["exact"] is False
    assert before.attrs["total_low"] < before.attrs["total_selected"] < before.attrs["total_high"]

    titles = [f"title {i}" for i in range(ROWS)]
    meta = [json.dumps({"tag": f"t{i % 10}", "n": i}) for i in range(ROWS)]
    mine = await client.footprint(NAME, sample={"title": titles, "$meta": meta})
    assert client.statistics().rpcs.get("Query", 0) == 0, "nothing loaded, nothing queried"
    assert mine.loc["title", "basis"] == f"your sample, {ROWS} rows"
    assert mine.attrs["exact"] is True

    await (await client.load_collection(NAME)).wait(timeout=120)
    try:
        after = await client.footprint(NAME, sample_rows=ROWS)
    finally:
        await client.release_collection(NAME)
    assert after.loc["title", "basis"] == f"sampled {ROWS} rows"
    for field in ("title", "$meta"):
        measured = after["bytes"].tolist()[list(after.index).index(field)]
        low, high = before.loc[field, ["low_bytes", "high_bytes"]].tolist()
        # the interval shown before the load holds what the loaded collection measures
        assert low <= measured <= high
        # and the user's sample of the same rows gives the same point estimate before the load
        assert mine.loc[field, ["bytes"]].tolist() == [measured]
