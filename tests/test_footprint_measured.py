"""The pure estimator against what real loads cost: ``fixtures/footprint_measured.json``.

That file is the measured table of benchmarks/bench_footprint_accuracy.py (its ``provenance``,
``milvus_version`` and ``date`` say which run): per schema, the resident anonymous memory a load
added to a fresh Milvus 2.3.5 standalone (steady state and peak while loading, medians over
repeats), with what is needed to rebuild the schema, the index and the sample the estimator saw.
A formula change that drifts from those measurements fails here. Targets (issue 14): steady state
within 15 % for vectors and indexes and 25 % for every schema, peak within 25 %, once sampled;
before the load, the schema range holds the measured figure. Where a target is not met the case
is listed in ``KNOWN_MISSES`` with the bound it does meet and why (docs/footprint.md says more).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from asyncload._footprint.estimate import Footprint, estimate_footprint
from asyncload._schema import CollectionSchema, DataType, FieldSchema, IndexInfo

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "footprint_measured.json").read_text())
CASES = {c["case"]: c for c in FIXTURE["cases"]}
VECTOR_CASES = {"flat", "flat_4seg", "ivf_flat", "ivf_sq8", "ivf_pq", "hnsw_m8", "hnsw_m32", "bin_ivf_flat"}
#: case -> (figure, the tolerance it does meet, why the target is not met)
KNOWN_MISSES: dict[str, tuple[str, float, str]] = {}


def replay(entry: dict[str, Any]) -> tuple[Footprint, Footprint]:
    """(schema only, sampled) estimates of one measured case."""
    fields = tuple(
        FieldSchema(
            f["name"],
            DataType[f["dtype"]],
            is_primary=f["is_primary"],
            dim=f["dim"],
            max_length=f["max_length"],
            element_type=None if f["element_type"] is None else DataType[f["element_type"]],
            max_capacity=f["max_capacity"],
        )
        for f in entry["fields"]
    )
    schema = CollectionSchema(entry["case"], fields, enable_dynamic_field=entry["dynamic"])
    idx = entry["index"]
    params = {"index_type": idx["index_type"], "metric_type": idx["metric_type"], **idx["params"]}
    indexes = [IndexInfo(idx["field"], idx["field"], idx["index_type"], idx["metric_type"], params)]
    samples = {name: [round(v)] for name, v in entry["sampled_value_bytes"].items()}
    common: dict[str, Any] = {"rows": entry["rows"], "indexes": indexes, "segments": entry["segments"]}
    return estimate_footprint(schema, **common), estimate_footprint(schema, samples=samples, **common)


def tolerance(case: str, figure: str) -> float:
    miss = KNOWN_MISSES.get(case)
    if miss is not None and miss[0] == figure:
        return miss[1]
    if figure == "steady":
        return 0.15 if case in VECTOR_CASES else 0.25
    return 0.25


def test_the_fixture_says_where_it_comes_from() -> None:
    assert FIXTURE["milvus_version"] == "2.3.5"
    assert FIXTURE["date"]
    assert "bench_footprint_accuracy.py" in FIXTURE["provenance"]
    assert len(CASES) >= 12
    for entry in FIXTURE["cases"]:
        assert entry["measured_steady_repeats"], entry["case"]
        assert entry["measured_steady_bytes"] > 0 and entry["measured_peak_bytes"] >= entry["measured_steady_bytes"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_steady_state_once_sampled(case: str) -> None:
    entry = CASES[case]
    _, sampled = replay(entry)
    ratio = sampled.total_selected / entry["measured_steady_bytes"]
    assert abs(ratio - 1) <= tolerance(case, "steady"), f"{case}: estimate/measured = {ratio:.2f}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_peak_while_loading_once_sampled(case: str) -> None:
    entry = CASES[case]
    _, sampled = replay(entry)
    ratio = sampled.peak_bytes / entry["measured_peak_bytes"]
    assert abs(ratio - 1) <= tolerance(case, "peak"), f"{case}: estimate/measured = {ratio:.2f}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_before_the_load_the_range_holds_the_measurement(case: str) -> None:
    entry = CASES[case]
    before, sampled = replay(entry)
    measured = entry["measured_steady_bytes"]
    if before.exact:  # fixed-width fields only: the same point before and after
        assert before.total_selected == sampled.total_selected
    else:
        assert before.total_low <= measured <= before.total_high, case
        assert before.total_low <= sampled.total_selected <= before.total_high, case
        assert before.peak_low_bytes <= entry["measured_peak_bytes"] <= before.peak_high_bytes, case


def test_known_misses_are_real_misses() -> None:
    """A case listed as a miss that meets its target again must leave the list."""
    for case, (figure, _, _) in KNOWN_MISSES.items():
        entry = CASES[case]
        _, sampled = replay(entry)
        estimate = sampled.total_selected if figure == "steady" else sampled.peak_bytes
        measured = entry["measured_steady_bytes" if figure == "steady" else "measured_peak_bytes"]
        target = (0.15 if case in VECTOR_CASES else 0.25) if figure == "steady" else 0.25
        assert abs(estimate / measured - 1) > target, f"{case} {figure} meets its target: drop it from KNOWN_MISSES"
