"""The pure footprint estimator against hand-computed bytes.

Unless a test says otherwise: N = 1000 rows, d = 128, one replica. Every expected figure is written
as the arithmetic a reader can redo from docs/footprint.md.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncload._footprint.estimate import (
    BLOOM_BITS_PER_ROW,
    FIXED_LOAD_BYTES,
    PEAK_SHARE,
    PK_OFFSET_BYTES,
    RAW_COLUMN_FACTOR,
    RAW_PEAK_SHARE,
    RAW_PEAK_SHARE_BY_TYPE,
    SEGMENT_BYTES,
    VALUE_OVERHEAD_BYTES,
    Footprint,
    estimate_footprint,
)
from asyncload._schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema, IndexInfo

N = 1000
D = 128
PK = FieldSchema("id", DataType.INT64, is_primary=True)
# timestamps 16 B/row + the pk offset map + bloom filter ceil(N * ln(1/0.001) / ln(2)^2 / 8) = 1798
BLOOM = math.ceil(N * math.log(1 / 0.001) / math.log(2) ** 2 / 8)
ROW_OVERHEAD = N * (16 + PK_OFFSET_BYTES) + BLOOM
# what a load costs whatever its rows: one load, one sealed segment
FIXED = FIXED_LOAD_BYTES + SEGMENT_BYTES
OVERHEAD = ROW_OVERHEAD + FIXED  # paid whatever the fields
RAW_F32 = N * D * 4  # 512_000


def resident(dtype: DataType, raw: int, rows: int = N) -> int:
    """A raw column loaded without an index (not the primary key, not a vector): the column x
    its measured factor + the per-value bookkeeping of variable-length values."""
    return math.ceil(raw * RAW_COLUMN_FACTOR.get(dtype, 1.0)) + rows * VALUE_OVERHEAD_BYTES.get(dtype, 0)


def raw_peak(dtype: DataType, resident_bytes: int) -> int:
    return peak(resident_bytes, RAW_PEAK_SHARE_BY_TYPE.get(dtype, RAW_PEAK_SHARE))


# a VarChar(64) without a sample: typical 32 B a value; $meta typical 512 B; Int32 4 B
TITLE = resident(DataType.VARCHAR, N * 32)
META = resident(DataType.JSON, N * 512)
INT32 = resident(DataType.INT32, N * 4)
INT64 = resident(DataType.INT64, N * 8)


def peak(resident: int, share: float = RAW_PEAK_SHARE) -> int:
    """Resident bytes + the share of them that passes through a second time while loading."""
    return resident + math.ceil(resident * share)


def hnsw_graph(m: int, n: int = N) -> int:
    """Level 0: n*M*2*4 bytes of links; upper levels: ~n*(M*4+4)/ln(M)."""
    return n * m * 2 * 4 + math.ceil(n * (m * 4 + 4) / math.log(m))


def estimate(
    *fields: FieldSchema,
    indexes: list[IndexInfo] | None = None,
    dynamic: bool = False,
    collection_mmap: bool = False,
    rows: int = N,
    **kwargs: object,
) -> Footprint:
    schema = CollectionSchema("c", (PK, *fields), enable_dynamic_field=dynamic, mmap=collection_mmap)
    return estimate_footprint(schema, rows=rows, indexes=indexes or [], **kwargs)  # type: ignore[arg-type]


def vec(dtype: DataType = DataType.FLOAT_VECTOR, dim: int = D, **kwargs: object) -> FieldSchema:
    return FieldSchema("vec", dtype, dim=dim, **kwargs)  # type: ignore[arg-type]


def index(index_type: str, field: str = "vec", **params: str) -> IndexInfo:
    return IndexInfo(field, f"{field}_idx", index_type, params=params)


# --- overhead ---------------------------------------------------------------------------------


def test_overhead_is_timestamps_pk_map_and_bloom_filter() -> None:
    assert BLOOM == 1798
    assert math.isclose(BLOOM_BITS_PER_ROW, 14.3775, abs_tol=1e-4)  # ~1.44 * log2(1000)
    fp = estimate()
    assert fp.overhead_bytes == OVERHEAD
    assert fp.fields[0].bytes == N * 8
    assert (fp.fixed_bytes, fp.segments) == (FIXED, 1)
    assert fp.total_selected == N * 8 + OVERHEAD
    assert fp.peak_bytes == peak(N * 8) + peak(ROW_OVERHEAD) + FIXED
    empty = estimate(rows=0)
    assert (empty.total_selected, empty.peak_bytes, empty.segments) == (0, 0, 0)


def test_fixed_cost_grows_with_the_sealed_segments() -> None:
    four = estimate(rows=N, segments=4)
    assert four.fixed_bytes == FIXED_LOAD_BYTES + 4 * SEGMENT_BYTES
    assert four.total_selected - estimate(segments=1).total_selected == 3 * SEGMENT_BYTES
    # derived from the raw size when not given: one segment a 512 MiB of raw data
    big = estimate(vec(), rows=3_000_000)  # 3M x 512 B = 1.43 GiB of vectors
    assert big.segments == 3
    with pytest.raises(ValueError, match="segments"):
        estimate(segments=-1)


# --- raw columns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (DataType.BOOL, N * 1),
        (DataType.INT8, N * 1),
        (DataType.INT16, N * 2),
        (DataType.INT32, N * 4),
        (DataType.INT64, N * 8),
        (DataType.FLOAT, N * 4),
        (DataType.DOUBLE, N * 8),
        (DataType.TIMESTAMPTZ, N * 8),
    ],
)
def test_fixed_width_scalars(dtype: DataType, expected: int) -> None:
    f = estimate(FieldSchema("x", dtype)).field("x")
    held = resident(dtype, expected)
    assert held == math.ceil(expected * RAW_COLUMN_FACTOR.get(dtype, 1.0))
    assert (f.raw_bytes, f.index_bytes, f.bytes, f.peak_bytes) == (expected, 0, held, raw_peak(dtype, held))
    assert (f.low_bytes, f.high_bytes, f.is_range, f.value_bytes) == (held, held, False, None)
    assert f.basis == "fixed width"
    assert f.index_type is None


def test_nullable_adds_one_validity_byte_per_row() -> None:
    f = estimate(FieldSchema("x", DataType.INT32, nullable=True)).field("x")
    assert f.raw_bytes == N * 4 + N
    assert f.bytes == resident(DataType.INT32, N * 4 + N)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (DataType.FLOAT_VECTOR, N * D * 4),  # 512_000
        (DataType.FLOAT16_VECTOR, N * D * 2),  # 256_000
        (DataType.BFLOAT16_VECTOR, N * D * 2),
        (DataType.INT8_VECTOR, N * D),  # 128_000
        (DataType.BINARY_VECTOR, N * D // 8),  # 16_000
    ],
)
def test_vectors_without_index_cost_raw(dtype: DataType, expected: int) -> None:
    f = estimate(vec(dtype)).field("vec")
    assert (f.raw_bytes, f.index_bytes, f.bytes) == (expected, 0, expected)
    assert f.is_vector
    assert f.dim == D


def test_vector_without_dim_counts_zero_and_says_so() -> None:
    fp = estimate(FieldSchema("vec", DataType.FLOAT_VECTOR))
    assert fp.field("vec").bytes == 0
    assert any("vec" in a and "dim" in a for a in fp.assumptions)


@pytest.mark.parametrize(
    ("field", "low", "typical", "high"),
    [
        # VarChar: 0 .. max_length a value, typical half of max_length (at most 256), + offsets
        (FieldSchema("s", DataType.VARCHAR, max_length=64), 0, 32, 64),
        (FieldSchema("s", DataType.VARCHAR, max_length=65_535), 0, 256, 65_535),
        (FieldSchema("s", DataType.VARCHAR), 0, 256, 65_535),  # no max_length: the largest allowed
        (FieldSchema("s", DataType.STRING, max_length=100), 0, 50, 100),
        (FieldSchema("s", DataType.TEXT, max_length=1000), 0, 256, 1000),
        # JSON: "{}" .. the server's 64 KiB cap, typical 512
        (FieldSchema("s", DataType.JSON), 2, 512, 65_536),
        (FieldSchema("s", DataType.GEOMETRY), 2, 512, 65_536),
        # Array: empty .. max_capacity x element width; typical 512 or less
        (FieldSchema("s", DataType.ARRAY, element_type=DataType.INT64, max_capacity=8), 0, 64, 64),
        (FieldSchema("s", DataType.ARRAY, element_type=DataType.INT32, max_capacity=1000), 0, 512, 4000),
        (
            FieldSchema("s", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=10, max_length=20),
            0,
            200,
            200,
        ),
        # sparse: no schema bound; 64 non-zeros x 8 B typical, 16x that as the high end
        (FieldSchema("s", DataType.SPARSE_FLOAT_VECTOR), 0, 512, 512 * 16),
    ],
)
def test_variable_length_without_a_sample_is_a_schema_range(
    field: FieldSchema, low: int, typical: int, high: int
) -> None:
    fp = estimate(field)
    f = fp.field("s")
    assert f.raw_bytes == N * typical
    assert f.bytes == resident(field.dtype, N * typical)
    assert (f.low_bytes, f.high_bytes) == (resident(field.dtype, N * low), resident(field.dtype, N * high))
    peaks = (f.peak_low_bytes, f.peak_bytes, f.peak_high_bytes)
    assert peaks == tuple(raw_peak(field.dtype, b) for b in (f.low_bytes, f.bytes, f.high_bytes))
    assert f.basis == "schema range"
    assert f.value_bytes == typical
    assert f.is_range == (low != high)
    assert fp.range_fields == ("s",) and not fp.exact
    assert fp.total_low == fp.total_selected - f.bytes + f.low_bytes
    assert fp.total_high == fp.total_selected - f.bytes + f.high_bytes
    assert any(a.startswith("s: no sample; schema range") for a in fp.assumptions)


def test_samples_mean_times_rows() -> None:
    fp = estimate(
        FieldSchema("title", DataType.VARCHAR, max_length=512),
        FieldSchema("tags", DataType.ARRAY, element_type=DataType.VARCHAR),
        samples={"title": [10, 20, 33], "tags": [100, 0]},
    )
    assert fp.field("title").raw_bytes == N * (10 + 20 + 33) // 3  # mean 21 -> 21_000
    assert fp.field("tags").raw_bytes == N * (100 + 0) // 2  # 50_000
    assert fp.field("title").bytes == resident(DataType.VARCHAR, 21_000)
    assert fp.field("tags").bytes == resident(DataType.ARRAY, 50_000)
    assert fp.field("title").basis == "sampled 3 rows"
    assert fp.field("title").value_bytes == 21
    assert not any("no sample" in a for a in fp.assumptions)
    assert fp.exact and fp.sampled_fields == ("title", "tags")


def test_sample_mean_rounds_up() -> None:
    f = estimate(FieldSchema("s", DataType.JSON), rows=3, samples={"s": [1, 2]}).field("s")
    assert f.raw_bytes == 5  # ceil(1.5 * 3) = ceil(4.5)
    assert f.bytes == resident(DataType.JSON, 5, rows=3)


def test_empty_sample_falls_back_to_schema_default() -> None:
    f = estimate(FieldSchema("s", DataType.VARCHAR, max_length=64), samples={"s": []}).field("s")
    assert (f.bytes, f.basis) == (TITLE, "schema range")


def test_samples_are_ignored_for_fixed_width_and_unknown_names() -> None:
    fp = estimate(FieldSchema("x", DataType.INT32), samples={"x": [999], "nope": [1]})
    assert fp.field("x").raw_bytes == N * 4


def test_negative_sample_size_is_refused() -> None:
    with pytest.raises(ValueError, match="sample"):
        estimate(FieldSchema("s", DataType.JSON), samples={"s": [-1]})


def test_unknown_type_uses_a_sample_or_counts_zero() -> None:
    fp = estimate(FieldSchema("u", DataType.UNKNOWN))
    assert fp.field("u").bytes == 0
    assert any("u:" in a and "unknown" in a for a in fp.assumptions)
    assert estimate(FieldSchema("u", DataType.UNKNOWN), samples={"u": [7]}).field("u").bytes == N * 7


def test_dynamic_field_is_json_sampled_under_its_name() -> None:
    fp = estimate(dynamic=True, samples={DYNAMIC_FIELD_NAME: [30, 50]})
    meta = fp.field(DYNAMIC_FIELD_NAME)
    assert meta.dtype is DataType.JSON
    assert meta.raw_bytes == N * 40
    assert meta.bytes == resident(DataType.JSON, N * 40)
    assert meta.peak_bytes == raw_peak(DataType.JSON, meta.bytes)


def test_declared_dynamic_field_is_not_duplicated() -> None:
    meta = FieldSchema(DYNAMIC_FIELD_NAME, DataType.JSON, is_dynamic=True)
    fp = estimate(meta, dynamic=True)
    assert [f.name for f in fp.fields] == ["id", DYNAMIC_FIELD_NAME]


# --- peak while loading -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [DataType.VARCHAR, DataType.STRING, DataType.JSON, DataType.ARRAY])
def test_raw_columns_pass_through_again_by_their_measured_share(dtype: DataType) -> None:
    fp = estimate(FieldSchema("s", dtype), samples={"s": [100]})
    f = fp.field("s")
    assert f.bytes == resident(dtype, N * 100)
    assert f.peak_bytes == raw_peak(dtype, f.bytes)
    assert fp.peak_bytes == peak(N * 8) + f.peak_bytes + peak(ROW_OVERHEAD) + FIXED


@pytest.mark.parametrize(("index_type", "share"), sorted(PEAK_SHARE.items()))
def test_an_index_passes_through_by_its_measured_share(index_type: str, share: float) -> None:
    dtype = DataType.BINARY_VECTOR if index_type.startswith("BIN_") else DataType.FLOAT_VECTOR
    f = estimate(vec(dtype), indexes=[index(index_type, M="16", m="16", nlist="128")]).field("vec")
    assert f.peak_bytes == f.bytes + math.ceil(f.bytes * share)
    unknown = estimate(vec(), indexes=[index("GPU_CAGRA")]).field("vec")
    assert unknown.peak_bytes == 2 * unknown.bytes, "an index not measured: a full second copy"


# --- vector indexes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idx", "expected", "keeps_raw"),
    [
        (index("FLAT"), RAW_F32, True),
        # nlist*d*4 (default nlist 128) + N*8 ids + raw
        (index("IVF_FLAT"), 128 * D * 4 + N * 8 + RAW_F32, True),  # 585_536
        (index("IVF_FLAT", nlist="256"), 256 * D * 4 + N * 8 + RAW_F32, True),  # 651_072
        # centroids + ids + one byte per dimension, no raw
        (index("IVF_SQ8", nlist="128"), 128 * D * 4 + N * 8 + N * D, False),  # 201_536
        # centroids + ids + N*m*nbits/8 codes + 2^nbits*d*4 codebook
        (index("IVF_PQ", nlist="128", m="16", nbits="8"), 65_536 + 8000 + N * 16 + 256 * D * 4, False),
        # raw + graph
        (index("HNSW", M="16", efConstruction="200"), RAW_F32 + hnsw_graph(16), True),  # 664_526
        (index("HNSW"), RAW_F32 + hnsw_graph(30), True),  # default M = 30 -> 788_458
        # codes (sq_type default SQ8: 1 B/dim) + graph
        (index("HNSW_SQ", M="16"), N * D + hnsw_graph(16), False),  # 280_526
        (index("HNSW_SQ", M="16", sq_type="SQ6"), N * D * 6 // 8 + hnsw_graph(16), False),
        (index("HNSW_SQ", M="16", sq_type="SQ4"), N * D // 2 + hnsw_graph(16), False),
        (index("HNSW_SQ", M="16", sq_type="FP16"), N * D * 2 + hnsw_graph(16), False),
        (index("HNSW_SQ", M="16", sq_type="BF16"), N * D * 2 + hnsw_graph(16), False),
        # refine keeps a second copy in refine_type: FP16 = 2 B/dim
        (
            index("HNSW_SQ", M="16", refine="true", refine_type="FP16"),
            N * D + N * D * 2 + hnsw_graph(16),
            False,
        ),
        # m default 32, nbits 8: N*32 codes + 256*d*4 codebook + graph
        (index("HNSW_PQ", M="16"), N * 32 + 256 * D * 4 + hnsw_graph(16), False),  # 315_598
        # nrq residual PQs of m splits: N*m*nrq*nbits/8 + nrq*2^nbits*d*4 + graph
        (
            index("HNSW_PRQ", M="16", m="4", nrq="2", nbits="8"),
            N * 4 * 2 + 2 * 256 * D * 4 + hnsw_graph(16),
            False,
        ),
        # AUTOINDEX on a dense float vector: HNSW with M = 18
        (index("AUTOINDEX"), RAW_F32 + hnsw_graph(18), True),  # 682_295
        (index("autoindex", M="24"), RAW_F32 + hnsw_graph(24), True),
    ],
)
def test_float_vector_indexes(idx: IndexInfo, expected: int, keeps_raw: bool) -> None:
    fp = estimate(vec(), indexes=[idx])
    f = fp.field("vec")
    assert f.index_bytes == expected
    assert f.bytes == expected  # raw is never counted beside the index: inside it, or dropped
    assert f.raw_bytes == RAW_F32  # still reported, for comparison
    assert f.index_type == idx.index_type
    assert f.disk_bytes == 0
    assert not f.mmap
    del keeps_raw  # documents the case; bytes == index_bytes either way


def test_hnsw_literals() -> None:
    assert hnsw_graph(16) == 128_000 + 24_526  # ceil(68_000 / ln 16)
    assert hnsw_graph(18) == 144_000 + 26_295  # ceil(76_000 / ln 18)
    assert estimate(vec(), indexes=[index("HNSW", M="16")]).field("vec").bytes == 664_526


def test_hnsw_on_float16_and_int8_vectors_keeps_their_raw_width() -> None:
    f16 = estimate(vec(DataType.FLOAT16_VECTOR), indexes=[index("HNSW", M="16")]).field("vec")
    assert f16.bytes == N * D * 2 + hnsw_graph(16)
    i8 = estimate(vec(DataType.INT8_VECTOR), indexes=[index("AUTOINDEX")]).field("vec")
    assert i8.bytes == N * D + hnsw_graph(18)


def test_diskann_keeps_pq_codes_and_cache_in_memory_the_rest_on_disk() -> None:
    f = estimate(vec(), indexes=[index("DISKANN")]).field("vec")
    # memory: raw * 0.125 (PQ codes) + raw * 0.1 (cache) = 64_000 + 51_200
    assert f.bytes == f.index_bytes == 64_000 + 51_200
    # disk: raw + Vamana graph of max_degree 56: N * (56*4 + 4)
    assert f.disk_bytes == RAW_F32 + N * (56 * 4 + 4)  # 740_000
    assert not f.mmap


def test_diskann_reads_its_ratios_from_the_index_params() -> None:
    idx = index("DISKANN", pq_code_budget_gb_ratio="0.25", search_cache_budget_gb_ratio="0", max_degree="32")
    f = estimate(vec(), indexes=[idx]).field("vec")
    assert f.bytes == RAW_F32 // 4
    assert f.disk_bytes == RAW_F32 + N * (32 * 4 + 4)


@pytest.mark.parametrize(
    ("idx", "expected"),
    [
        (index("BIN_FLAT"), N * D // 8),  # 16_000
        # binary centroids are d/8 bytes: nlist*d/8 + N*8 + raw
        (index("BIN_IVF_FLAT", nlist="128"), 128 * D // 8 + N * 8 + N * D // 8),  # 26_048
        # AUTOINDEX on binary: BIN_IVF_FLAT nlist 1024
        (index("AUTOINDEX"), 1024 * D // 8 + N * 8 + N * D // 8),  # 40_384
    ],
)
def test_binary_vector_indexes(idx: IndexInfo, expected: int) -> None:
    f = estimate(vec(DataType.BINARY_VECTOR), indexes=[idx]).field("vec")
    assert f.bytes == f.index_bytes == expected


@pytest.mark.parametrize(
    ("idx", "expected"),
    [
        # raw (sample mean 120 B x N) + posting lists of the same size
        (index("SPARSE_INVERTED_INDEX"), 120_000 + 120_000),
        (index("SPARSE_WAND"), 120_000 + 120_000),
        (index("AUTOINDEX"), 120_000 + 120_000),
        # drop_ratio_build 0.2 drops a fifth of the postings
        (index("SPARSE_INVERTED_INDEX", drop_ratio_build="0.2"), 120_000 + 96_000),
    ],
)
def test_sparse_indexes(idx: IndexInfo, expected: int) -> None:
    field = FieldSchema("vec", DataType.SPARSE_FLOAT_VECTOR)
    f = estimate(field, indexes=[idx], samples={"vec": [80, 160]}).field("vec")
    assert f.raw_bytes == N * 120
    assert f.bytes == f.index_bytes == expected


def test_autoindex_resolution_is_stated() -> None:
    fp = estimate(vec(), indexes=[index("AUTOINDEX")])
    assert any("AUTOINDEX assumed HNSW M=18" in a for a in fp.assumptions)
    assert "AUTOINDEX as HNSW" in fp.field("vec").basis


def test_unknown_vector_index_counts_raw_and_says_so() -> None:
    fp = estimate(vec(), indexes=[index("GPU_CAGRA")])
    assert fp.field("vec").bytes == RAW_F32
    assert any("GPU_CAGRA" in a and "unknown" in a for a in fp.assumptions)


def test_missing_parameters_use_defaults_and_say_so() -> None:
    fp = estimate(vec(), indexes=[index("IVF_PQ")])
    # nlist 128, m 4, nbits 8
    assert fp.field("vec").bytes == 128 * D * 4 + N * 8 + N * 4 + 256 * D * 4
    assert any("m not given (or not a positive number); 4 assumed" in a for a in fp.assumptions)
    bad = estimate(vec(), indexes=[index("HNSW", M="lots")])
    assert bad.field("vec").bytes == RAW_F32 + hnsw_graph(30)


def test_partially_built_index_is_noted() -> None:
    idx = IndexInfo("vec", "v", "FLAT", indexed_rows=500, total_rows=1000)
    fp = estimate(vec(), indexes=[idx])
    assert any("500 of 1000 rows built" in a for a in fp.assumptions)


def test_indexes_of_unknown_fields_are_ignored() -> None:
    fp = estimate(vec(), indexes=[index("HNSW", field="gone")])
    assert fp.field("vec").bytes == RAW_F32


# --- scalar indexes (rough rules) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "idx", "expected_index", "expected_bytes"),
    [
        # sorted (value, row) pairs of 8 + 8 B + a 4 B position per row; keeps the raw data
        (FieldSchema("s", DataType.INT64), index("STL_SORT", "s"), N * 20, N * 20),
        (FieldSchema("s", DataType.INT16), index("STL_SORT", "s"), N * 20, N * 20),
        # strings + 8 B id per row; keeps the raw data
        (FieldSchema("s", DataType.VARCHAR, max_length=64), index("Trie", "s"), N * 32 + N * 8, N * 32 + N * 8),
        # roaring bitmaps ~2 B/row + the values; keeps the raw data
        (FieldSchema("s", DataType.BOOL), index("BITMAP", "s"), N * 1 + N * 2, N * 3),
        # postings ~ the column, and the raw column is loaded beside it
        (FieldSchema("s", DataType.INT64), index("INVERTED", "s"), N * 8, N * 8 + INT64),
        (FieldSchema("s", DataType.INT64), index("HYBRID", "s"), N * 8, N * 8 + INT64),
        (FieldSchema("s", DataType.INT64), index("AUTOINDEX", "s"), N * 8, N * 8 + INT64),
        # unknown scalar index: only the raw column
        (FieldSchema("s", DataType.VARCHAR, max_length=64), index("NGRAM", "s"), 0, TITLE),
    ],
)
def test_scalar_indexes(field: FieldSchema, idx: IndexInfo, expected_index: int, expected_bytes: int) -> None:
    f = estimate(field, indexes=[idx]).field("s")
    assert (f.index_bytes, f.bytes) == (expected_index, expected_bytes)


def test_stl_sort_on_strings() -> None:
    f = estimate(FieldSchema("s", DataType.VARCHAR), indexes=[index("STL_SORT", "s")], samples={"s": [10]})
    assert f.field("s").bytes == N * 10 + N * 20  # the index keeps the strings: no raw column


def test_inverted_varchar_keeps_the_raw_column_beside_the_index() -> None:
    f = estimate(FieldSchema("s", DataType.VARCHAR), indexes=[index("INVERTED", "s")], samples={"s": [50]})
    s = f.field("s")
    column = resident(DataType.VARCHAR, N * 50)
    assert s.bytes == N * 50 + column
    assert s.peak_bytes == s.bytes + math.ceil(N * 50 * 1.0 + column * RAW_PEAK_SHARE)  # INVERTED: not measured


# --- selection --------------------------------------------------------------------------------


def _three_fields() -> list[FieldSchema]:
    return [vec(), FieldSchema("title", DataType.VARCHAR, max_length=64), FieldSchema("n", DataType.INT32)]


def test_all_fields_selected_by_default_dynamic_included() -> None:
    fp = estimate(*_three_fields(), dynamic=True)
    assert all(f.selected for f in fp.fields)
    expected = N * 8 + RAW_F32 + TITLE + INT32 + META
    assert fp.selected_bytes == fp.all_bytes == expected
    assert fp.total_selected == expected + OVERHEAD == fp.total_all


def test_load_fields_selects_and_keeps_dynamic_unless_skipped() -> None:
    fp = estimate(*_three_fields(), dynamic=True, load_fields=["id", "vec"])
    assert {f.name for f in fp.selected_fields} == {"id", "vec", DYNAMIC_FIELD_NAME}
    assert fp.selected_bytes == N * 8 + RAW_F32 + META
    assert fp.all_bytes == N * 8 + RAW_F32 + TITLE + INT32 + META
    assert fp.field("title").bytes == TITLE  # reported, not counted
    assert fp.range_fields == (DYNAMIC_FIELD_NAME,), "only selected fields make the totals a range"
    skipped = estimate(*_three_fields(), dynamic=True, load_fields=["id", "vec"], skip_load_dynamic_field=True)
    assert skipped.selected_bytes == N * 8 + RAW_F32
    assert not skipped.field(DYNAMIC_FIELD_NAME).selected


def test_skip_dynamic_without_load_fields() -> None:
    fp = estimate(*_three_fields(), dynamic=True, skip_load_dynamic_field=True)
    assert [f.name for f in fp.fields if not f.selected] == [DYNAMIC_FIELD_NAME]


def test_empty_load_fields_means_all_and_unknown_names_are_ignored() -> None:
    assert all(f.selected for f in estimate(*_three_fields(), load_fields=[]).fields)
    fp = estimate(*_three_fields(), load_fields=["id", "vec", "nope"])
    assert {f.name for f in fp.selected_fields} == {"id", "vec"}


def test_overhead_is_paid_whatever_the_selection() -> None:
    a = estimate(*_three_fields())
    b = estimate(*_three_fields(), load_fields=["id", "vec"])
    assert a.overhead_bytes == b.overhead_bytes == OVERHEAD
    assert a.fixed_bytes == b.fixed_bytes == FIXED
    assert a.total_selected - b.total_selected == TITLE + INT32


# --- replicas ---------------------------------------------------------------------------------


def test_every_figure_is_multiplied_by_the_replicas() -> None:
    one = estimate(vec(), indexes=[index("DISKANN")], samples={})
    three = estimate(vec(), indexes=[index("DISKANN")], replica_number=3)
    for a, b in zip(one.fields, three.fields, strict=True):
        for attr in ("raw_bytes", "index_bytes", "bytes", "peak_bytes", "disk_bytes", "low_bytes", "high_bytes"):
            assert getattr(b, attr) == 3 * getattr(a, attr), attr
    assert three.overhead_bytes == 3 * OVERHEAD
    assert three.fixed_bytes == 3 * FIXED
    assert three.total_selected == 3 * one.total_selected
    assert three.replica_number == 3


@pytest.mark.parametrize(("kwargs", "match"), [({"rows": -1}, "rows"), ({"replica_number": 0}, "replica")])
def test_bad_arguments(kwargs: dict[str, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        estimate(**kwargs)  # type: ignore[arg-type]


# --- mmap -------------------------------------------------------------------------------------


def test_mmapped_field_costs_disk_not_memory() -> None:
    f = estimate(FieldSchema("s", DataType.VARCHAR, max_length=64, mmap=True)).field("s")
    assert (f.bytes, f.disk_bytes, f.peak_bytes, f.mmap) == (0, N * 32, 0, True)
    assert f.raw_bytes == N * 32
    assert (f.low_bytes, f.high_bytes) == (0, 0), "mmap'd: no memory whatever the values"


def test_mmapped_index_costs_disk_not_memory() -> None:
    idx = IndexInfo("vec", "v", "HNSW", params={"M": "16", "mmap.enabled": "true"})
    fp = estimate(vec(), indexes=[idx])
    f = fp.field("vec")
    assert (f.bytes, f.disk_bytes, f.mmap) == (0, RAW_F32 + hnsw_graph(16), True)
    assert f.index_bytes == RAW_F32 + hnsw_graph(16)
    assert fp.disk_bytes == f.disk_bytes
    assert fp.selected_bytes == N * 8


def test_field_mmap_does_not_move_an_index_that_keeps_the_raw_data() -> None:
    f = estimate(vec(mmap=True), indexes=[index("HNSW", M="16")]).field("vec")
    assert f.bytes == RAW_F32 + hnsw_graph(16)
    assert not f.mmap


def test_inverted_index_mmap_leaves_the_raw_column_resident() -> None:
    idx = IndexInfo("s", "s", "INVERTED", params={"mmap.enabled": "true"})
    f = estimate(FieldSchema("s", DataType.INT64), indexes=[idx]).field("s")
    assert (f.bytes, f.disk_bytes, f.mmap) == (INT64, N * 8, True)


def test_collection_mmap_applies_to_every_field_unless_a_field_says_false() -> None:
    off = FieldSchema("n", DataType.INT32, params={"mmap.enabled": "false"})
    fp = estimate(vec(), off, indexes=[index("FLAT")], collection_mmap=True)
    assert fp.field("id").bytes == 0
    assert fp.field("vec").bytes == 0
    assert fp.field("vec").disk_bytes == RAW_F32
    assert fp.field("n").bytes == INT32
    assert fp.selected_bytes == INT32
    assert fp.disk_bytes == N * 8 + RAW_F32


# --- properties -------------------------------------------------------------------------------

_KINDS = [
    (DataType.BOOL, None),
    (DataType.INT32, "STL_SORT"),
    (DataType.INT64, "INVERTED"),
    (DataType.DOUBLE, None),
    (DataType.VARCHAR, None),
    (DataType.VARCHAR, "Trie"),
    (DataType.JSON, None),
    (DataType.ARRAY, None),
    (DataType.FLOAT_VECTOR, "HNSW"),
    (DataType.FLOAT_VECTOR, "IVF_PQ"),
    (DataType.FLOAT_VECTOR, "AUTOINDEX"),
    (DataType.FLOAT16_VECTOR, "DISKANN"),
    (DataType.BINARY_VECTOR, "BIN_IVF_FLAT"),
    (DataType.INT8_VECTOR, None),
    (DataType.SPARSE_FLOAT_VECTOR, "SPARSE_WAND"),
    (DataType.FLOAT_VECTOR, "SOMETHING_NEW"),
]


@st.composite
def collections(draw: st.DrawFn) -> tuple[CollectionSchema, list[IndexInfo], dict[str, list[int]], list[str]]:
    kinds = draw(st.lists(st.sampled_from(_KINDS), min_size=1, max_size=6))
    fields, indexes, samples = [PK], [], {}
    for i, (dtype, index_type) in enumerate(kinds):
        name = f"f{i}"
        dim = 16 * draw(st.integers(1, 8)) if dtype.is_vector else None
        mmap = draw(st.booleans())
        fields.append(FieldSchema(name, dtype, dim=dim, max_length=draw(st.integers(1, 1000)), mmap=mmap))
        if index_type:
            params = {"M": str(draw(st.integers(2, 64))), "m": "4", "mmap.enabled": str(draw(st.booleans()))}
            indexes.append(IndexInfo(name, name, index_type, params=params))
        if draw(st.booleans()):
            samples[name] = draw(st.lists(st.integers(0, 5000), max_size=20))
    schema = CollectionSchema("p", tuple(fields), enable_dynamic_field=draw(st.booleans()))
    load_fields = ["id", *draw(st.lists(st.sampled_from([f.name for f in fields]), unique=True))]
    return schema, indexes, samples, load_fields


@settings(max_examples=150, deadline=None)
@given(case=collections(), rows=st.integers(0, 10**7), more=st.integers(0, 10**7), replicas=st.integers(1, 5))
def test_bytes_are_monotone_in_rows(
    case: tuple[CollectionSchema, list[IndexInfo], dict[str, list[int]], list[str]],
    rows: int,
    more: int,
    replicas: int,
) -> None:
    schema, indexes, samples, load_fields = case
    kwargs = {"indexes": indexes, "samples": samples, "load_fields": load_fields, "replica_number": replicas}
    small = estimate_footprint(schema, rows=rows, **kwargs)  # type: ignore[arg-type]
    large = estimate_footprint(schema, rows=rows + more, **kwargs)  # type: ignore[arg-type]
    for a, b in zip(small.fields, large.fields, strict=True):
        assert a.bytes <= b.bytes
        assert a.peak_bytes <= b.peak_bytes
        assert a.disk_bytes <= b.disk_bytes
    assert small.total_selected <= large.total_selected
    assert small.peak_bytes <= large.peak_bytes


@settings(max_examples=150, deadline=None)
@given(case=collections(), rows=st.integers(0, 10**7), replicas=st.integers(1, 5), skip=st.booleans())
def test_totals_are_consistent(
    case: tuple[CollectionSchema, list[IndexInfo], dict[str, list[int]], list[str]],
    rows: int,
    replicas: int,
    skip: bool,
) -> None:
    schema, indexes, samples, load_fields = case
    fp = estimate_footprint(
        schema,
        rows=rows,
        indexes=indexes,
        samples=samples,
        load_fields=load_fields,
        skip_load_dynamic_field=skip,
        replica_number=replicas,
    )
    one = estimate_footprint(
        schema, rows=rows, indexes=indexes, samples=samples, load_fields=load_fields, skip_load_dynamic_field=skip
    )
    assert 0 <= fp.selected_bytes <= fp.all_bytes
    assert fp.selected_bytes == sum(f.bytes for f in fp.fields if f.selected)
    assert fp.total_selected == fp.selected_bytes + fp.overhead_bytes
    assert fp.fixed_bytes <= fp.overhead_bytes
    assert fp.total_low <= fp.total_selected <= fp.total_high
    assert fp.peak_low_bytes <= fp.peak_bytes <= fp.peak_high_bytes
    assert fp.total_selected <= fp.peak_bytes
    assert fp.exact == (not fp.range_fields)
    assert fp.total_selected == replicas * one.total_selected
    for f in fp.fields:
        assert f.bytes <= f.peak_bytes
        assert f.low_bytes <= f.bytes <= f.high_bytes
        assert f.is_range == (f.basis.startswith("schema range") and f.low_bytes != f.high_bytes)
        assert not (f.mmap and f.disk_bytes == 0 and f.raw_bytes > 0 and f.index_type is None)
        assert f.selected == (not skip if f.name == DYNAMIC_FIELD_NAME else f.name in load_fields)
