"""Your own sample of rows: accepted forms, clear errors before any RPC, sizes as the server holds them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import asyncload
from asyncload._footprint.estimate import estimate_footprint
from asyncload._footprint.sample import normalize_sample, sample_sizes
from asyncload._schema import CollectionSchema, DataType, FieldSchema

SCHEMA = CollectionSchema(
    "books",
    (
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("vec", DataType.FLOAT_VECTOR, dim=4),
        FieldSchema("title", DataType.VARCHAR, max_length=65535),
        FieldSchema("tags", DataType.ARRAY, element_type=DataType.INT64, max_capacity=32),
        FieldSchema("doc", DataType.JSON),
    ),
    enable_dynamic_field=True,
)
ROWS = [
    {"id": 1, "vec": [0.0] * 4, "title": "Dune", "tags": [1, 2, 3], "doc": {"a": 1}, "lang": "en"},
    {"id": 2, "vec": [0.0] * 4, "title": "Ségou", "tags": [4], "doc": {"a": 22}, "lang": "fr", "year": 1984},
]


def test_every_accepted_form_gives_the_same_sizes(tmp_path: Path) -> None:
    columns = {name: [row.get(name) for row in ROWS] for name in ["id", "vec", "title", "tags", "doc", "lang", "year"]}
    frame = pd.DataFrame(columns).astype({"year": "Int64"})  # a nullable int column, as pandas reads one
    path = tmp_path / "rows.parquet"
    frame.drop(columns=["doc"]).to_parquet(path)
    by_rows = sample_sizes(SCHEMA, normalize_sample(ROWS))
    assert sample_sizes(SCHEMA, normalize_sample(columns)) == by_rows
    assert sample_sizes(SCHEMA, normalize_sample(frame)) == by_rows
    from_parquet = sample_sizes(SCHEMA, normalize_sample(path))
    assert from_parquet["title"] == by_rows["title"] and from_parquet["tags"] == by_rows["tags"]
    assert by_rows["title"] == [4, len("Ségou".encode())]  # UTF-8 bytes
    assert by_rows["tags"] == [3 * 8, 1 * 8]  # Int64 elements
    assert by_rows["doc"] == [len('{"a":1}'), len('{"a":22}')]
    # undeclared keys go to $meta, as Milvus does on insert
    assert by_rows["$meta"] == [len('{"lang":"en"}'), len('{"lang":"fr","year":1984}')]
    assert "id" not in by_rows and "vec" not in by_rows


def test_missing_values_are_skipped() -> None:
    sizes = sample_sizes(SCHEMA, normalize_sample({"title": ["abc", None, float("nan")]}))
    assert sizes == {"title": [3]}


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (42, "sample must be"),
        ("rows.csv", "does not end in .parquet"),
        ("missing.parquet", "does not exist"),
        ({}, "sample is empty"),
        ({"title": []}, "sample is empty"),
        ({"title": "abc"}, "not a list of values"),
        ({"title": ["a"], "tags": [[1], [2]]}, "same length"),
        ([{"title": "a"}, "b"], "row dicts"),
        ({1: ["a"]}, "non-empty strings"),
    ],
)
def test_bad_samples_are_refused_clearly(sample: object, message: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match=message):
        normalize_sample(sample)


def test_a_file_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_text("not parquet")
    with pytest.raises(asyncload.InvalidArgumentError, match="not a readable parquet file"):
        normalize_sample(path)


def test_columns_a_collection_cannot_hold_are_refused() -> None:
    strict = CollectionSchema("s", SCHEMA.fields, enable_dynamic_field=False)
    with pytest.raises(asyncload.InvalidArgumentError, match="not fields of collection"):
        sample_sizes(strict, normalize_sample({"title": ["a"], "colour": ["red"]}))


def test_a_user_sample_turns_a_schema_range_into_a_point() -> None:
    without = estimate_footprint(SCHEMA, rows=10_000)
    title = without.field("title")
    assert title.basis == "schema range" and title.is_range
    assert title.low_bytes < title.bytes < title.high_bytes
    assert set(without.range_fields) == {"title", "tags", "doc", "$meta"}
    sizes = sample_sizes(SCHEMA, normalize_sample(ROWS))
    with_sample = estimate_footprint(SCHEMA, rows=10_000, user_samples=sizes)
    title = with_sample.field("title")
    assert title.basis == "your sample, 2 rows"
    assert not title.is_range and title.low_bytes == title.bytes == title.high_bytes
    assert title.low_bytes >= without.field("title").low_bytes
    assert with_sample.exact and with_sample.total_low == with_sample.total_selected == with_sample.total_high
    assert set(with_sample.sampled_fields) == {"title", "tags", "doc", "$meta"}
    # the caller's sample wins over a server sample of the same field
    both = estimate_footprint(SCHEMA, rows=10_000, samples={"title": [1000]}, user_samples=sizes)
    assert both.field("title").bytes == title.bytes


@pytest.mark.anyio
async def test_a_bad_sample_fails_before_any_rpc(milvus_lite_path: str) -> None:
    async with asyncload.connect(milvus_lite_path) as client:
        before = dict(client.statistics().rpcs)
        with pytest.raises(asyncload.InvalidArgumentError, match="sample must be"):
            await client.footprint_estimate("anything", sample=3.5)
        with pytest.raises(asyncload.InvalidArgumentError, match="does not exist"):
            await client.footprint("anything", sample="nowhere.parquet")
        assert dict(client.statistics().rpcs) == before


@pytest.mark.anyio
async def test_footprint_with_a_sample_on_milvus_lite(tmp_path: Path) -> None:
    from milvus_lite.server_manager import server_manager_instance

    from ._data import make_collection

    path = str(tmp_path / "lite.db")
    make_collection(server_manager_instance.start_and_get_uri(path), None, "books", rows=300, dim=8)
    try:
        async with asyncload.connect(path) as client:
            titles = [f"title {i}" for i in range(300)]
            meta = [json.dumps({"tag": f"t{i % 10}", "n": i}) for i in range(300)]
            df = await client.footprint("books", sample={"title": titles, "$meta": meta})
            assert df.loc["title", "basis"] == "your sample, 300 rows"
            low, typical, high = df.loc["title", ["low_bytes", "bytes", "high_bytes"]].tolist()
            assert low == typical == high
            assert df.attrs["exact"] is True
            assert df.attrs["sampled_fields"] == ["title", "$meta"]
            assert df.attrs["memory"]["known"] is False, "Milvus Lite does not report memory"
            assert df.attrs["fit"]["verdict"] == "unknown"
            plain = await client.footprint("books")
            assert plain.loc["title", "basis"] == "schema range"
            assert plain.attrs["exact"] is False
            assert "schema range (not sampled): title" in plain.attrs["basis"]
    finally:
        server_manager_instance.release_server(path)
