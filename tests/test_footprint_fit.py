"""Does a load fit? GetMetrics parsing and the pure verdict, without a server.

``fixtures/system_info_2.3.5.json`` is a real Milvus 2.3.5 standalone answer to GetMetrics
``{"metric_type": "system_info"}`` (2026-12-01), trimmed to four of its seven nodes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asyncload._footprint.estimate import Footprint, estimate_footprint
from asyncload._footprint.fit import parse_system_info
from asyncload._schema import CollectionSchema, DataType, FieldSchema
from asyncload.footprint import ClusterMemory, FitVerdict, NodeMemory, fit_verdict, footprint_frame

ANSWER = (Path(__file__).parent / "fixtures" / "system_info_2.3.5.json").read_text()
GB = 10**9


def footprint(rows: int = 1_000_000, replicas: int = 1, varchar: bool = False) -> Footprint:
    fields = [FieldSchema("id", DataType.INT64, is_primary=True), FieldSchema("vec", DataType.FLOAT_VECTOR, dim=128)]
    if varchar:
        fields.append(FieldSchema("text", DataType.VARCHAR, max_length=65535))
    return estimate_footprint(CollectionSchema("c", tuple(fields)), rows=rows, replica_number=replicas)


def nodes(*capacities_gb: float, used: int = 0) -> ClusterMemory:
    """Nodes whose capacity (90 % of total - used) is the given number of GB."""
    return ClusterMemory(
        tuple(
            NodeMemory(f"querynode{i}", i, f"127.0.0.1:{i}", int((c * GB + used) / 0.9) + 1, used)
            for i, c in enumerate(capacities_gb, 1)
        ),
        True,
    )


def test_parse_system_info_keeps_only_query_nodes() -> None:
    memory_info = parse_system_info(ANSWER)
    assert memory_info.known
    assert [n.name for n in memory_info.nodes] == ["querynode1"]
    node = memory_info.nodes[0]
    assert (node.node_id, node.address) == (1, "127.0.0.1:50977")
    assert (node.total_bytes, node.used_bytes) == (25276063744, 40566784)
    assert node.free_bytes == 25276063744 - 40566784
    assert node.capacity_bytes == int(25276063744 * 0.9) - 40566784
    assert memory_info.total_bytes == node.total_bytes


@pytest.mark.parametrize(
    "answer",
    ["not json", "{}", json.dumps({"nodes_info": [{"infos": {"type": "proxy", "hardware_infos": {"memory": 1}}}]})],
)
def test_an_answer_without_query_nodes_is_unknown_never_a_guess(answer: str) -> None:
    memory = parse_system_info(answer)
    assert not memory.known
    assert memory.reason
    fit = fit_verdict(footprint(), memory)
    assert fit.verdict is FitVerdict.UNKNOWN
    assert (fit.capacity_bytes, fit.headroom_bytes) == (None, None)
    assert fit.reason.startswith("unknown")


def test_verdicts_against_the_peak() -> None:
    fp = footprint()  # ~0.55 GB steady, ~1.1 GB peak
    assert 0.5 * GB < fp.total_selected < fp.peak_bytes < 1.3 * GB
    assert fit_verdict(fp, nodes(10)).verdict is FitVerdict.FITS
    assert fit_verdict(fp, nodes(fp.peak_bytes / GB / 0.9)).verdict is FitVerdict.TIGHT
    small = fit_verdict(fp, nodes(fp.total_selected / GB))  # the steady state fits, the peak does not
    assert small.verdict is FitVerdict.DOES_NOT_FIT
    assert small.headroom_bytes is not None and small.headroom_bytes < 0
    assert small.needed_bytes == fp.peak_bytes


def test_used_memory_counts_against_the_capacity() -> None:
    fp = footprint()
    total = int(3 * fp.peak_bytes)
    roomy = ClusterMemory((NodeMemory("q", 1, "", total, 0),), True)
    busy = ClusterMemory((NodeMemory("q", 1, "", total, int(0.9 * total) - fp.peak_bytes // 2),), True)
    assert fit_verdict(fp, roomy).verdict is FitVerdict.FITS
    assert fit_verdict(fp, busy).verdict is FitVerdict.DOES_NOT_FIT


def test_replicas_need_as_many_query_nodes_and_each_its_share() -> None:
    two = footprint(replicas=2)
    one_node = fit_verdict(two, nodes(100))
    assert one_node.verdict is FitVerdict.DOES_NOT_FIT
    assert "2 replicas need 2 query nodes" in one_node.reason
    assert fit_verdict(two, nodes(100, 100)).verdict is FitVerdict.FITS
    # enough in total, but one node cannot hold its replica's share
    half = two.peak_bytes / 2 / GB
    lopsided = fit_verdict(two, nodes(half * 1.8, half * 0.5))
    assert lopsided.verdict is FitVerdict.DOES_NOT_FIT


def test_a_schema_range_is_tight_when_its_high_end_does_not_fit() -> None:
    fp = footprint(rows=100_000, varchar=True)
    assert fp.range_fields == ("text",)
    assert fp.peak_low_bytes < fp.peak_bytes < fp.peak_high_bytes
    fit = fit_verdict(fp, nodes(fp.peak_bytes * 2 / GB))
    assert fit.verdict is FitVerdict.TIGHT
    assert "text" in fit.reason and "sample" in fit.reason
    assert fit_verdict(fp, nodes(fp.peak_high_bytes * 2 / GB)).verdict is FitVerdict.FITS


def test_frame_attrs_carry_memory_and_verdict() -> None:
    fp = footprint()
    memory = nodes(10)
    df = footprint_frame(fp, memory=memory, fit=fit_verdict(fp, memory))
    assert df.attrs["fit"]["verdict"] == "fits"
    assert df.attrs["fit"]["needed_bytes"] == fp.peak_bytes
    assert df.attrs["memory"]["known"] is True
    assert df.attrs["memory"]["nodes"][0]["name"] == "querynode1"
    assert df.attrs["memory"]["free_bytes"] == memory.free_bytes


def test_a_loaded_collection_is_not_judged_again_its_memory_is_in_use() -> None:
    import dataclasses

    fp = dataclasses.replace(footprint(), loaded=True)
    fit = fit_verdict(fp, nodes(0.1))  # would not fit if judged again: counted twice
    assert fit.verdict is FitVerdict.LOADED and fit.verdict.value == "loaded"
    assert "already" in fit.reason and fit.headroom_bytes is None
    df = footprint_frame(fp, memory=nodes(0.1), fit=fit)
    assert df.attrs["fit"]["verdict"] == "loaded" and df.attrs["loaded"] is True


def test_judge_fit_on_plain_figures_is_fit_verdict() -> None:
    from asyncload.footprint import judge_fit

    for fp in (footprint(), footprint(replicas=2), footprint(varchar=True)):
        for memory in (nodes(0.2), nodes(1.2), nodes(1.2, 1.2), nodes(100), ClusterMemory.unknown("Lite")):
            plain = judge_fit(
                memory,
                needed=fp.peak_bytes,
                steady=fp.total_selected,
                peak_low=fp.peak_low_bytes,
                peak_high=fp.peak_high_bytes,
                range_fields=fp.range_fields,
                replicas=fp.replica_number,
            )
            assert plain == fit_verdict(fp, memory)
