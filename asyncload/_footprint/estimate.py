"""Memory a collection will cost once loaded: the pure estimator (no I/O, no pandas).

The caller (``AsyncClient``) fetches the schema, the row count, the indexes and a bounded sample of
variable-length values, measures the sample's byte sizes and hands them here. Every formula is in
``docs/footprint.md`` with its source; the short version:

* raw column: fixed width x rows; vectors by element type (float32 ``N*d*4``, float16/bfloat16
  ``N*d*2``, int8 ``N*d``, binary ``N*d/8``); variable-length fields from a sample's mean (the
  loaded collection's, or the caller's own rows), else a schema range (low / typical / high);
* an index replaces the raw column where it keeps the raw data (FLAT, IVF_FLAT, HNSW, ...), and
  comes on top of nothing where it does not (IVF_SQ8, IVF_PQ, HNSW_SQ/PQ: codes, no raw);
* a raw column loaded without an index keeps more than its bytes resident (measured factors, and
  per-value bookkeeping for variable-length values);
* ``bytes`` is what stays resident after the load; ``peak_bytes`` adds the share of it that passes
  through a second time while loading (measured per index type); mmap moves a part to ``disk_bytes``;
* whatever the fields: per row 8 B timestamp + 8 B timestamp index + the primary key's offset map +
  its bloom filter, and a fixed cost a load and a sealed segment (measured);
* every byte figure is summed over ``replica_number`` replicas.

The measured constants come from ``benchmarks/bench_footprint_accuracy.py`` on Milvus 2.3.5;
``tests/test_footprint_measured.py`` holds the estimator to that table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .._schema import (
    DYNAMIC_FIELD_NAME,
    FIXED_WIDTH,
    CollectionSchema,
    DataType,
    FieldSchema,
    IndexInfo,
    mmap_setting,
)

__all__ = [
    "AUTOINDEX_BINARY_NLIST",
    "AUTOINDEX_HNSW_M",
    "BLOOM_BITS_PER_ROW",
    "BLOOM_FALSE_POSITIVE_RATE",
    "DEFAULT_HNSW_M",
    "DEFAULT_NLIST",
    "DEFAULT_SEGMENT_BYTES",
    "DEFAULT_SPARSE_BYTES",
    "DEFAULT_STRING_BYTES",
    "DEFAULT_VARIABLE_BYTES",
    "FIXED_LOAD_BYTES",
    "MAX_ARRAY_CAPACITY",
    "MAX_JSON_BYTES",
    "MAX_VARCHAR_BYTES",
    "PEAK_SHARE",
    "PK_OFFSET_BYTES",
    "PK_OFFSET_STRING_BYTES",
    "RAW_COLUMN_FACTOR",
    "RAW_PEAK_SHARE",
    "RAW_PEAK_SHARE_BY_TYPE",
    "SEGMENT_BYTES",
    "SEGMENT_PEAK_SHARE",
    "SERVER_SAMPLE",
    "TIMESTAMP_BYTES_PER_ROW",
    "USER_SAMPLE",
    "VALUE_OVERHEAD_BYTES",
    "FieldFootprint",
    "Footprint",
    "estimate_footprint",
]

# --- documented constants (docs/footprint.md says where each comes from) -------------------------

#: Typical VarChar/String/Text value without a sample: ``min(max_length / 2, 256)`` bytes (a schema
#: range from 0 to ``max_length`` goes with it).
DEFAULT_STRING_BYTES = 256
#: Schema-only fallback for JSON, Array, Geometry and ``$meta``: 512 bytes a row.
DEFAULT_VARIABLE_BYTES = 512
#: Schema-only fallback for a sparse vector: 64 non-zeros x (4 B index + 4 B value).
DEFAULT_SPARSE_BYTES = 512
#: Timestamp column (8 B) + its timestamp index (8 B), every row.
TIMESTAMP_BYTES_PER_ROW = 16
#: Milvus ``common.maxBloomFalsePositive`` default.
BLOOM_FALSE_POSITIVE_RATE = 0.001
#: Optimal bloom filter size for that rate: ``ln(1/p) / ln(2)**2`` = ~1.44 x log2(1/p) = ~14.38 bits.
BLOOM_BITS_PER_ROW = math.log(1 / BLOOM_FALSE_POSITIVE_RATE) / math.log(2) ** 2
#: Knowhere's HNSW default M (Milvus >= 2.4; Milvus 2.3 requires M in the index params).
DEFAULT_HNSW_M = 30
#: Knowhere's IVF default nlist.
DEFAULT_NLIST = 128
#: What Milvus's ``autoIndex.params.build`` resolves AUTOINDEX to for dense vectors: HNSW, M=18.
AUTOINDEX_HNSW_M = 18
#: ... and for binary vectors (``autoIndex.params.binary.build``): BIN_IVF_FLAT, nlist=1024.
AUTOINDEX_BINARY_NLIST = 1024

#: Milvus's default ``dataCoord.segment.maxSize`` (512 MB of raw data a sealed segment).
DEFAULT_SEGMENT_BYTES = 512 * 1024 * 1024
#: Largest VarChar ``max_length`` (and the bound when a schema gives none).
MAX_VARCHAR_BYTES = 65535
#: Largest JSON value the server accepts (``proxy.maxJSONSize``... documented 64 KiB).
MAX_JSON_BYTES = 65536
#: Largest Array ``max_capacity``.
MAX_ARRAY_CAPACITY = 4096
_SPARSE_HIGH_FACTOR = 16  # a sparse vector has no schema bound: 16x the typical size

#: ``basis`` prefixes: a sample read from the loaded collection, and the caller's own sample.
SERVER_SAMPLE = "sampled"
USER_SAMPLE = "your sample,"

# --- measured on Milvus 2.3.5 (benchmarks/bench_footprint_accuracy.py; docs/footprint.md) --------

#: What any load costs however few its rows, per replica (segcore and query-node structures).
FIXED_LOAD_BYTES = 16_000_000
#: What each sealed segment adds, per replica.
SEGMENT_BYTES = 2_400_000
#: Primary key column + its sorted (pk, offset) map in a sealed segment: Int64 pk.
PK_OFFSET_BYTES = 30
#: ... VarChar pk: the offset map holds the string (its bytes are in the raw column) + an offset.
PK_OFFSET_STRING_BYTES = 40
#: At the loading peak the data passes through twice: the serialized index (or binlog) read into
#: memory beside the copy being built. The share of a field's resident bytes held a second time at
#: the peak, by index type (measured); an index type not listed counts a full second copy.
PEAK_SHARE = {
    "FLAT": 0.75,
    "BIN_FLAT": 0.75,
    "IVF_FLAT": 0.75,
    "BIN_IVF_FLAT": 0.6,
    "IVF_SQ8": 1.0,
    "IVF_PQ": 0.4,
    "HNSW": 0.75,
}
#: Each sealed segment past the first adds this share of its own index bytes to the peak (segments
#: load concurrently and their read buffers overlap; measured on FLAT, 1 vs 4 segments).
SEGMENT_PEAK_SHARE = 1.35
#: ... and of a raw column loaded without an index (scalars, VarChar, Array, the per-row overhead)
RAW_PEAK_SHARE = 0.05
#: ... where a type's raw column passes through more (JSON and Array: rebuilt as they load).
RAW_PEAK_SHARE_BY_TYPE = {
    DataType.JSON: 0.35,
    DataType.ARRAY: 0.3,
    **dict.fromkeys(
        (DataType.BOOL, DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FLOAT, DataType.DOUBLE),
        0.35,
    ),
}
#: What a raw column loaded without an index keeps resident, per byte of the column: the copy
#: segcore builds and what is left of the copy read from the binlog (measured; 1 where not listed).
RAW_COLUMN_FACTOR = {
    DataType.BOOL: 2.8,
    DataType.INT8: 2.8,
    DataType.INT16: 2.8,
    DataType.INT32: 2.8,
    DataType.INT64: 2.8,
    DataType.FLOAT: 2.8,
    DataType.DOUBLE: 2.8,
    DataType.VARCHAR: 2.2,
    DataType.STRING: 2.2,
    DataType.TEXT: 2.2,
    DataType.JSON: 2.2,
    DataType.ARRAY: 2.2,
}
#: ... + what the server keeps a variable-length value besides its bytes (measured, bytes a value).
VALUE_OVERHEAD_BYTES = {
    DataType.VARCHAR: 122,
    DataType.STRING: 122,
    DataType.TEXT: 122,
    DataType.JSON: 162,
    DataType.ARRAY: 158,
    DataType.GEOMETRY: 162,
}

_IVF_PQ_DEFAULT_M = 4  # knowhere <= 2.2 default; newer Milvus requires m, so DescribeIndex has it
_HNSW_PQ_DEFAULT_M = 32  # knowhere FaissHnswPqConfig
_HNSW_PRQ_DEFAULT_M = 2
_HNSW_PRQ_DEFAULT_NRQ = 2
_DEFAULT_NBITS = 8
_DISKANN_PQ_RATIO = 0.125  # pq_code_budget_gb_ratio
_DISKANN_CACHE_RATIO = 0.1  # search_cache_budget_gb_ratio
_DISKANN_MAX_DEGREE = 56

_VECTOR_ELEMENT_BITS = {
    DataType.FLOAT_VECTOR: 32,
    DataType.FLOAT16_VECTOR: 16,
    DataType.BFLOAT16_VECTOR: 16,
    DataType.INT8_VECTOR: 8,
    DataType.BINARY_VECTOR: 1,
}
_STRING_TYPES = frozenset({DataType.VARCHAR, DataType.STRING, DataType.TEXT})
_VARIABLE_DEFAULTS = {
    DataType.JSON: DEFAULT_VARIABLE_BYTES,
    DataType.ARRAY: DEFAULT_VARIABLE_BYTES,
    DataType.GEOMETRY: DEFAULT_VARIABLE_BYTES,
    DataType.SPARSE_FLOAT_VECTOR: DEFAULT_SPARSE_BYTES,
}
# Bits a code of HNSW_SQ's sq_type / a refine_type takes per dimension.
_QUANT_BITS = {"SQ4": 4, "SQ6": 6, "SQ8": 8, "FP16": 16, "BF16": 16, "FP32": 32, "FLAT": 32}


@dataclass(frozen=True)
class FieldFootprint:
    """One field's estimated cost. Every byte figure is summed over the replicas.

    ``raw_bytes`` is the raw column as the server holds it (what the field costs with no index;
    variable-length values with their per-value offsets), ``index_bytes`` the index's in-memory
    size, ``bytes`` what stays resident after the load (the index alone where it keeps the raw data,
    0 where mmap moves everything to disk), ``disk_bytes`` what mmap (or DiskANN) keeps on the query
    node's disk, ``peak_bytes`` the resident figure plus what passes through a second time while
    loading. ``basis`` says how the raw size was found: "fixed width", "sampled N rows" (from the
    loaded collection), "your sample, N rows" (from the caller) or "schema range".

    ``low_bytes`` .. ``high_bytes`` (and ``peak_low_bytes`` .. ``peak_high_bytes``) is the range the
    figure may take: equal to it where it is known, the schema's bounds for a variable-length field
    without a sample (``bytes`` is then a typical value and :attr:`is_range` is True). ``value_bytes``
    is the mean size of one value the estimate used (sample mean or typical), None for fixed width.
    """

    name: str
    dtype: DataType
    dim: int | None
    rows: int
    raw_bytes: int
    index_type: str | None
    index_bytes: int
    bytes: int
    is_primary: bool
    is_vector: bool
    selected: bool
    mmap: bool
    disk_bytes: int
    basis: str
    peak_bytes: int
    low_bytes: int
    high_bytes: int
    peak_low_bytes: int
    peak_high_bytes: int
    value_bytes: float | None

    @property
    def is_range(self) -> bool:
        """True when the figure is a schema range (a variable-length field without a sample):
        ``bytes`` is then a typical value between ``low_bytes`` and ``high_bytes``, not a measurement."""
        return self.low_bytes != self.high_bytes


@dataclass(frozen=True)
class Footprint:
    """A collection's estimated cost once loaded, field by field.

    ``selected_bytes`` sums the selected fields' ``bytes``; ``all_bytes`` every field's (what a
    load of all fields would cost); ``overhead_bytes`` is paid whatever the fields: per row
    (timestamps, the primary key's offset map, its bloom filter) plus ``fixed_bytes``;
    ``total_selected`` = selected + overhead, the figure to compare with the query nodes' memory.
    ``peak_bytes`` is the selected fields' peak while loading + the overhead's (what must fit while
    the load runs). ``disk_bytes`` is what the selected fields put on disk (mmap, DiskANN).

    ``fixed_bytes`` is what a load costs whatever its rows: a per-load constant plus one per sealed
    segment (``segments`` of them), per replica; it is part of ``overhead_bytes``.
    Where a selected variable-length field has no sample (``range_fields``), its figure is a
    schema range: ``total_low`` .. ``total_high`` (and ``peak_low_bytes`` .. ``peak_high_bytes``)
    bound the totals and ``total_selected`` is the typical value between them. ``sampled_fields``
    are the selected variable-length fields whose size comes from a sample.

    ``loaded`` says the collection was loaded when the estimate was made (its memory is then
    already in what the query nodes use). ``measured_bytes`` is the loaded segments' memory as the
    server reports it (GetQuerySegmentInfo ``mem_size``, summed), None where it does not say;
    ``measured`` says in one line which (empty when not loaded).
    """

    collection: str
    rows: int
    replica_number: int
    fields: tuple[FieldFootprint, ...]
    selected_bytes: int
    all_bytes: int
    overhead_bytes: int
    total_selected: int
    peak_bytes: int
    disk_bytes: int
    assumptions: tuple[str, ...]
    fixed_bytes: int
    segments: int
    total_low: int
    total_high: int
    peak_low_bytes: int
    peak_high_bytes: int
    range_fields: tuple[str, ...]
    sampled_fields: tuple[str, ...]
    loaded: bool = False
    measured_bytes: int | None = None
    measured: str = ""

    @property
    def exact(self) -> bool:
        """No selected figure is a schema range (every variable-length field was sampled)."""
        return not self.range_fields

    @property
    def total_all(self) -> int:
        """What loading every field would cost, overhead included."""
        return self.all_bytes + self.overhead_bytes

    @property
    def selected_fields(self) -> tuple[FieldFootprint, ...]:
        """The fields the load would load, in schema order."""
        return tuple(f for f in self.fields if f.selected)

    def field(self, name: str) -> FieldFootprint:
        """The footprint of the field called ``name``; KeyError for an unknown name."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class _IndexCost:
    label: str  # the index type the formula used, e.g. "HNSW" for AUTOINDEX
    memory: int  # in-memory size, one replica
    disk: int  # always on disk (DiskANN), one replica
    keeps_raw: bool  # the raw column is not loaded beside it


class _Notes:
    """Ordered, de-duplicated assumptions."""

    def __init__(self) -> None:
        self._items: dict[str, None] = {}

    def add(self, text: str) -> None:
        self._items.setdefault(text, None)

    def items(self) -> tuple[str, ...]:
        return tuple(self._items)


def estimate_footprint(
    schema: CollectionSchema,
    *,
    rows: int,
    indexes: Sequence[IndexInfo] = (),
    samples: Mapping[str, Sequence[int]] | None = None,
    load_fields: Sequence[str] | None = None,
    skip_load_dynamic_field: bool = False,
    replica_number: int = 1,
    segments: int | None = None,
    user_samples: Mapping[str, Sequence[int]] | None = None,
) -> Footprint:
    """Estimate the memory loading ``schema``'s collection of ``rows`` rows will take.

    ``indexes`` are the collection's indexes as DescribeIndex reports them. ``samples`` maps a
    variable-length field (VarChar, JSON, Array, sparse vector, ``$meta``) to the byte sizes of a
    sample of its values read from the server (``basis`` "sampled N rows"); ``user_samples`` the
    same from the caller's own rows (``basis`` "your sample, N rows"; they win over ``samples``).
    Fields with neither get a schema range (see :class:`FieldFootprint`). ``load_fields`` and
    ``skip_load_dynamic_field`` select fields exactly as LoadCollection does (``None`` or empty:
    every field; ``$meta`` unless skipped); names the schema lacks are ignored, the input is
    otherwise assumed valid (``validate_load_fields`` checks it before any RPC). ``segments`` is
    the number of sealed segments (``None``: as many as the data fills at Milvus's default
    segment size, at least one).
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, not {rows}")
    if replica_number < 1:
        raise ValueError(f"replica_number must be >= 1, not {replica_number}")
    if segments is not None and segments < 0:
        raise ValueError(f"segments must be >= 0, not {segments}")
    notes = _Notes()
    samples = samples or {}
    user_samples = user_samples or {}
    wanted = set(load_fields) if load_fields else None

    fields = list(schema.fields)
    if schema.enable_dynamic_field and schema.dynamic_field is None:
        fields.append(FieldSchema(name=DYNAMIC_FIELD_NAME, dtype=DataType.JSON, is_dynamic=True))
    by_field: dict[str, list[IndexInfo]] = {}
    for index in indexes:
        by_field.setdefault(index.field_name, []).append(index)

    def field_footprints(segments: int, notes: _Notes) -> list[FieldFootprint]:
        out = []
        for fs in fields:
            selected = not skip_load_dynamic_field if fs.is_dynamic else wanted is None or fs.name in wanted
            out.append(
                _field_footprint(
                    fs,
                    rows=rows,
                    indexes=by_field.get(fs.name, ()),
                    sample=_sample_for(fs, user_samples) or _sample_for(fs, samples),
                    sample_origin=USER_SAMPLE if _sample_for(fs, user_samples) else SERVER_SAMPLE,
                    collection_mmap=schema.mmap,
                    selected=selected,
                    replicas=replica_number,
                    segments=segments,
                    notes=notes,
                )
            )
        return out

    if segments is None:  # as many as the raw data fills (the server seals segments by raw size)
        data = sum(f.raw_bytes for f in field_footprints(1, _Notes())) // replica_number
        segments = max(1, math.ceil(data / DEFAULT_SEGMENT_BYTES)) if rows else 0
    footprints = field_footprints(segments, notes)
    per_row = _row_overhead(schema, rows) * replica_number
    fixed = (FIXED_LOAD_BYTES + SEGMENT_BYTES * segments) * replica_number if rows else 0
    chosen = [f for f in footprints if f.selected]
    selected_bytes = sum(f.bytes for f in chosen)
    overhead = per_row + fixed
    overhead_peak = overhead + math.ceil(per_row * RAW_PEAK_SHARE)
    peak = sum(f.peak_bytes for f in chosen) + overhead_peak
    range_fields = tuple(f.name for f in chosen if f.is_range)
    sampled = tuple(f.name for f in chosen if f.basis.startswith((USER_SAMPLE, SERVER_SAMPLE)))
    global_notes = [
        f"{rows} rows x {replica_number} replica(s): every byte figure is summed over the replicas",
        f"per-row overhead: {TIMESTAMP_BYTES_PER_ROW} B timestamps + primary key and its offset map + "
        f"primary-key bloom filter {BLOOM_BITS_PER_ROW:.2f} bits/row (false-positive rate {BLOOM_FALSE_POSITIVE_RATE})",
        f"fixed cost: {FIXED_LOAD_BYTES / 1e6:.0f} MB a load + {SEGMENT_BYTES / 1e6:.1f} MB a sealed segment "
        f"({segments} segment(s)), measured on Milvus 2.3.5",
        "peak while loading: the loaded data passes through twice (what is read + what is built), "
        "a share of it by index type, measured on Milvus 2.3.5",
    ]
    if range_fields:
        global_notes.append(
            f"schema range, not sampled: {', '.join(range_fields)} (pass sample=... or load the collection "
            "to sample it); the totals are typical values between total_low and total_high"
        )
    return Footprint(
        collection=schema.name,
        rows=rows,
        replica_number=replica_number,
        fields=tuple(footprints),
        selected_bytes=selected_bytes,
        all_bytes=sum(f.bytes for f in footprints),
        overhead_bytes=overhead,
        total_selected=selected_bytes + overhead,
        peak_bytes=peak,
        disk_bytes=sum(f.disk_bytes for f in chosen),
        assumptions=(*global_notes, *notes.items()),
        fixed_bytes=fixed,
        segments=segments,
        total_low=sum(f.low_bytes for f in chosen) + overhead,
        total_high=sum(f.high_bytes for f in chosen) + overhead,
        peak_low_bytes=sum(f.peak_low_bytes for f in chosen) + overhead_peak,
        peak_high_bytes=sum(f.peak_high_bytes for f in chosen) + overhead_peak,
        range_fields=range_fields,
        sampled_fields=sampled,
    )


def _row_overhead(schema: CollectionSchema, rows: int) -> int:
    """Per-row cost whatever the fields: timestamps, the primary key's offset map, the bloom filter."""
    bloom = math.ceil(rows * BLOOM_BITS_PER_ROW / 8)
    try:
        pk_is_string = schema.primary_field.dtype in _STRING_TYPES
    except LookupError:
        pk_is_string = False
    pk_map = PK_OFFSET_STRING_BYTES if pk_is_string else PK_OFFSET_BYTES
    return rows * (TIMESTAMP_BYTES_PER_ROW + pk_map) + bloom


def _sample_for(fs: FieldSchema, samples: Mapping[str, Sequence[int]]) -> Sequence[int]:
    found = samples.get(fs.name)
    if found is None and fs.is_dynamic:
        found = samples.get(DYNAMIC_FIELD_NAME)
    return found or ()


@dataclass(frozen=True)
class _Cost:
    resident: int
    peak: int
    disk: int
    index_memory: int
    raw_mmap: bool


def _field_footprint(
    fs: FieldSchema,
    *,
    rows: int,
    indexes: Sequence[IndexInfo],
    sample: Sequence[int],
    sample_origin: str,
    collection_mmap: bool,
    selected: bool,
    replicas: int,
    segments: int,
    notes: _Notes,
) -> FieldFootprint:
    raw, low_raw, high_raw, basis = _raw_bytes(fs, rows, sample, sample_origin, notes)
    for index in indexes:
        if index.total_rows > 0 and index.indexed_rows < index.total_rows:
            notes.add(
                f"{fs.name}: index {index.index_name or index.index_type} has {index.indexed_rows} of "
                f"{index.total_rows} rows built; counted as fully built"
            )
    index_mmap = any(_mmap_enabled(i.params, collection_mmap) for i in indexes)

    def cost(raw_size: int, notes: _Notes) -> tuple[_Cost, list[_IndexCost]]:
        costs = [_index_cost(fs, index, rows, raw_size, notes) for index in indexes]
        index_memory = sum(c.memory for c in costs)
        # Vectors whose index drops the raw data (SQ/PQ) are served from the codes alone; a scalar
        # index without the raw data (INVERTED) is loaded beside the raw column.
        raw_loaded = not costs or (not any(c.keeps_raw for c in costs) and not fs.is_vector)
        raw_part = raw_size if raw_loaded else 0
        raw_mmap = raw_loaded and _mmap_enabled(fs.params, collection_mmap or fs.mmap)
        resident_index = 0 if index_mmap and costs else index_memory
        resident_raw = 0 if raw_mmap or not raw_loaded else _resident_column(fs, raw_part, rows)
        disk = sum(c.disk for c in costs) + (index_memory if index_mmap and costs else 0)
        disk += raw_part if raw_mmap else 0
        resident = resident_index + resident_raw
        # "passes through twice": a second copy of (a share of) everything resident, at the peak
        shares = [PEAK_SHARE.get(c.label, 1.0) for c in costs]
        if segments > 1:  # the further segments' read buffers overlap while they load
            shares = [x + SEGMENT_PEAK_SHARE * (segments - 1) / segments for x in shares]
        raw_share = RAW_PEAK_SHARE if fs.is_primary else RAW_PEAK_SHARE_BY_TYPE.get(fs.dtype, RAW_PEAK_SHARE)
        peak = resident + math.ceil(resident_index * max(shares, default=0.0) + resident_raw * raw_share)
        return _Cost(resident, peak, disk, index_memory, raw_mmap), costs

    typical, costs = cost(raw, notes)
    low = high = typical
    if (low_raw, high_raw) != (raw, raw):
        quiet = _Notes()  # the bounds repeat the typical figure's notes
        low, _ = cost(low_raw, quiet)
        high, _ = cost(high_raw, quiet)

    index_type: str | None = None
    if indexes:
        index_type = "+".join(i.index_type for i in indexes)
        labels = "+".join(c.label for c in costs)
        if labels.upper() != index_type.upper():
            basis = f"{basis}; {index_type} as {labels}"
    return FieldFootprint(
        name=fs.name,
        dtype=fs.dtype,
        dim=fs.dim,
        rows=rows,
        raw_bytes=raw * replicas,
        index_type=index_type,
        index_bytes=typical.index_memory * replicas,
        bytes=typical.resident * replicas,
        is_primary=fs.is_primary,
        is_vector=fs.is_vector,
        selected=selected,
        mmap=(index_mmap and bool(costs)) or typical.raw_mmap,
        disk_bytes=typical.disk * replicas,
        basis=basis,
        peak_bytes=typical.peak * replicas,
        low_bytes=low.resident * replicas,
        high_bytes=high.resident * replicas,
        peak_low_bytes=low.peak * replicas,
        peak_high_bytes=high.peak * replicas,
        value_bytes=_value_bytes(fs, sample),
    )


def _value_bytes(fs: FieldSchema, sample: Sequence[int]) -> float | None:
    if fs.dtype in FIXED_WIDTH or fs.dtype in _VECTOR_ELEMENT_BITS:
        return None
    if sample:
        return sum(sample) / len(sample)
    if fs.dtype in _STRING_TYPES or fs.dtype in _VARIABLE_DEFAULTS:
        return float(_schema_range(fs)[1])
    return None


def _resident_column(fs: FieldSchema, raw: int, rows: int) -> int:
    """What a raw column loaded without an index keeps resident: the column x its measured factor,
    + the per-value bookkeeping of variable-length values (Milvus 2.3.5, see docs/footprint.md)."""
    if fs.is_primary or fs.is_vector:
        return raw  # the primary key's extra cost is in the per-row overhead
    factor = RAW_COLUMN_FACTOR.get(fs.dtype, 1.0)
    return math.ceil(raw * factor) + rows * VALUE_OVERHEAD_BYTES.get(fs.dtype, 0)


def _mmap_enabled(params: Mapping[str, str], inherited: bool) -> bool:
    """``mmap.enabled`` in ``params`` wins; otherwise the collection-level (or field) setting."""
    setting = mmap_setting(params)
    return inherited if setting is None else setting


# --- raw columns -------------------------------------------------------------------------------


def _schema_range(fs: FieldSchema) -> tuple[int, int, int]:
    """(low, typical, high) bytes a value of a variable-length field can take, from the schema."""
    dtype = fs.dtype
    if dtype in _STRING_TYPES:
        high = fs.max_length or MAX_VARCHAR_BYTES
        # typical: half the allowed length (values rarely fill their max_length), at most 256 B
        return 0, min(max(high // 2, 1), DEFAULT_STRING_BYTES), high
    if dtype is DataType.ARRAY:
        capacity = fs.max_capacity or MAX_ARRAY_CAPACITY
        element = FIXED_WIDTH.get(fs.element_type) if fs.element_type is not None else None
        width = element if element is not None else (fs.max_length or MAX_VARCHAR_BYTES)
        high = capacity * width
        return 0, min(high, DEFAULT_VARIABLE_BYTES), high
    if dtype is DataType.SPARSE_FLOAT_VECTOR:
        return 0, DEFAULT_SPARSE_BYTES, DEFAULT_SPARSE_BYTES * _SPARSE_HIGH_FACTOR
    return 2, DEFAULT_VARIABLE_BYTES, MAX_JSON_BYTES  # JSON, $meta, Geometry: "{}" .. the server's cap


def _raw_bytes(
    fs: FieldSchema, rows: int, sample: Sequence[int], sample_origin: str, notes: _Notes
) -> tuple[int, int, int, str]:
    """The raw column's size for one replica (typical, low, high) and how it was found."""
    valid = rows if fs.nullable else 0  # one validity byte a row
    dtype = fs.dtype
    if dtype in FIXED_WIDTH:
        size = rows * FIXED_WIDTH[dtype] + valid
        return size, size, size, "fixed width"
    if dtype in _VECTOR_ELEMENT_BITS:
        if not fs.dim:
            notes.add(f"{fs.name}: vector field without dim; raw size counted as 0")
            return valid, valid, valid, "no dim"
        size = _ceil_div(rows * fs.dim * _VECTOR_ELEMENT_BITS[dtype], 8) + valid
        return size, size, size, "fixed width"
    if sample:
        if any(size < 0 for size in sample):
            raise ValueError(f"sample sizes of {fs.name!r} must be >= 0")
        # mean x rows, rounded up, in integers
        size = _ceil_div(sum(sample) * rows, len(sample)) + valid
        return size, size, size, f"{sample_origin} {len(sample)} rows"  # "sampled 256 rows"
    if dtype in _STRING_TYPES or dtype in _VARIABLE_DEFAULTS:
        low, typical, high = _schema_range(fs)
        notes.add(
            f"{fs.name}: no sample; schema range {low}-{high} B a value, {typical} B typical "
            "(pass sample=... or load the collection to sample it)"
        )
        return (
            rows * typical + valid,
            rows * low + valid,
            rows * high + valid,
            "schema range",
        )
    notes.add(f"{fs.name}: type {dtype.milvus_name} unknown to asyncload and not sampled; counted as 0")
    return valid, valid, valid, "unknown type"


# --- indexes -----------------------------------------------------------------------------------


def _index_cost(fs: FieldSchema, index: IndexInfo, rows: int, raw: int, notes: _Notes) -> _IndexCost:
    kind = index.index_type.strip().upper()
    params = dict(index.params)
    if kind == "AUTOINDEX":
        kind, params = _resolve_autoindex(fs, params, notes)
    if fs.is_vector:
        return _vector_index_cost(fs, kind, params, rows, raw, notes)
    return _scalar_index_cost(fs, kind, rows, raw, notes)


def _resolve_autoindex(fs: FieldSchema, params: dict[str, str], notes: _Notes) -> tuple[str, dict[str, str]]:
    """What a Milvus server resolves AUTOINDEX to (``autoIndex.params.*.build`` defaults)."""
    if fs.dtype is DataType.BINARY_VECTOR:
        params.setdefault("nlist", str(AUTOINDEX_BINARY_NLIST))
        notes.add(f"{fs.name}: AUTOINDEX assumed BIN_IVF_FLAT nlist={params['nlist']} (Milvus default)")
        return "BIN_IVF_FLAT", params
    if fs.dtype is DataType.SPARSE_FLOAT_VECTOR:
        notes.add(f"{fs.name}: AUTOINDEX assumed SPARSE_INVERTED_INDEX (Milvus default)")
        return "SPARSE_INVERTED_INDEX", params
    if fs.is_vector:
        params.setdefault("M", str(AUTOINDEX_HNSW_M))
        notes.add(f"{fs.name}: AUTOINDEX assumed HNSW M={params['M']} (Milvus default)")
        return "HNSW", params
    notes.add(f"{fs.name}: scalar AUTOINDEX costed like INVERTED (the server picks per type)")
    return "INVERTED", params


def _int_param(params: Mapping[str, str], key: str, default: int, fs: FieldSchema, notes: _Notes) -> int:
    value = params.get(key)
    if value is not None:
        try:
            parsed = int(float(value))
        except ValueError:
            pass
        else:
            if parsed > 0:
                return parsed
    notes.add(f"{fs.name}: index parameter {key} not given (or not a positive number); {default} assumed")
    return default


def _float_param(params: Mapping[str, str], key: str, default: float) -> float:
    try:
        return float(params[key])
    except (KeyError, ValueError):
        return default


def _hnsw_graph(rows: int, m: int) -> int:
    """Level 0: ``N*M*2*4``; upper levels: ``~N*(M*4+4)/ln M`` (facts file; see docs)."""
    m = max(m, 2)
    return rows * m * 2 * 4 + math.ceil(rows * (m * 4 + 4) / math.log(m))


def _refine(params: Mapping[str, str], fs: FieldSchema, rows: int, dim: int, notes: _Notes) -> int:
    """The refine data an SQ/PQ index keeps when built with ``refine=true``."""
    if params.get("refine", "").strip().lower() != "true":
        return 0
    refine_type = params.get("refine_type", "").strip().upper()
    if refine_type not in _QUANT_BITS:
        notes.add(f"{fs.name}: refine_type {refine_type or '(none)'} costed as FP32")
        refine_type = "FP32"
    return _ceil_div(rows * dim * _QUANT_BITS[refine_type], 8)


def _vector_index_cost(
    fs: FieldSchema, kind: str, params: Mapping[str, str], rows: int, raw: int, notes: _Notes
) -> _IndexCost:
    n, d = rows, fs.dim or 0
    if kind in ("FLAT", "BIN_FLAT"):
        return _IndexCost(kind, raw, 0, True)
    if kind in ("IVF_FLAT", "BIN_IVF_FLAT", "IVF_SQ8", "IVF_PQ"):
        nlist = _int_param(params, "nlist", DEFAULT_NLIST, fs, notes)
        centroid_bytes = _ceil_div(d, 8) if kind == "BIN_IVF_FLAT" else d * 4
        lists = nlist * centroid_bytes + n * 8  # centroids + one 8-byte id per row
        if kind in ("IVF_FLAT", "BIN_IVF_FLAT"):
            return _IndexCost(kind, lists + raw, 0, True)
        if kind == "IVF_SQ8":
            return _IndexCost(kind, lists + n * d + _refine(params, fs, n, d, notes), 0, False)
        m = _int_param(params, "m", _IVF_PQ_DEFAULT_M, fs, notes)
        nbits = _int_param(params, "nbits", _DEFAULT_NBITS, fs, notes)
        pq = n * _ceil_div(m * nbits, 8) + 2**nbits * d * 4  # codes + codebook
        return _IndexCost(kind, lists + pq + _refine(params, fs, n, d, notes), 0, False)
    if kind in ("HNSW", "HNSW_SQ", "HNSW_PQ", "HNSW_PRQ"):
        graph = _hnsw_graph(n, _int_param(params, "M", DEFAULT_HNSW_M, fs, notes))
        if kind == "HNSW":
            return _IndexCost(kind, raw + graph, 0, True)
        if kind == "HNSW_SQ":
            sq_type = params.get("sq_type", "SQ8").strip().upper()
            if sq_type not in _QUANT_BITS:
                notes.add(f"{fs.name}: sq_type {sq_type} costed as SQ8")
                sq_type = "SQ8"
            codes = _ceil_div(n * d * _QUANT_BITS[sq_type], 8)
        else:
            default_m = _HNSW_PQ_DEFAULT_M if kind == "HNSW_PQ" else _HNSW_PRQ_DEFAULT_M
            m = _int_param(params, "m", default_m, fs, notes)
            nbits = _int_param(params, "nbits", _DEFAULT_NBITS, fs, notes)
            nrq = 1 if kind == "HNSW_PQ" else _int_param(params, "nrq", _HNSW_PRQ_DEFAULT_NRQ, fs, notes)
            codes = n * _ceil_div(m * nrq * nbits, 8) + nrq * 2**nbits * d * 4
        return _IndexCost(kind, codes + graph + _refine(params, fs, n, d, notes), 0, False)
    if kind == "DISKANN":
        pq_ratio = _float_param(params, "pq_code_budget_gb_ratio", _DISKANN_PQ_RATIO)
        cache_ratio = _float_param(params, "search_cache_budget_gb_ratio", _DISKANN_CACHE_RATIO)
        degree = _int_param(params, "max_degree", _DISKANN_MAX_DEGREE, fs, notes)
        memory = math.ceil(raw * pq_ratio) + math.ceil(raw * cache_ratio)
        return _IndexCost(kind, memory, raw + n * (degree * 4 + 4), True)
    if kind in ("SPARSE_INVERTED_INDEX", "SPARSE_WAND"):
        drop = min(max(_float_param(params, "drop_ratio_build", 0.0), 0.0), 1.0)
        return _IndexCost(kind, raw + math.ceil(raw * (1 - drop)), 0, True)
    notes.add(f"{fs.name}: index type {kind} unknown to asyncload; counted as the raw vectors")
    return _IndexCost(kind, raw, 0, True)


def _scalar_index_cost(fs: FieldSchema, kind: str, rows: int, raw: int, notes: _Notes) -> _IndexCost:
    """Rough rules: scalar index sizes depend on the data; see docs/footprint.md."""
    if kind == "STL_SORT":
        width = FIXED_WIDTH.get(fs.dtype)
        if width is None:  # STL_SORT on strings (newer Milvus): the strings + the same arrays
            return _IndexCost(kind, raw + rows * 20, 0, True)
        # sorted (value, row) pairs, each 8-byte aligned, + a 4-byte row -> position array
        return _IndexCost(kind, rows * (_align8(width) + 8 + 4), 0, True)
    if kind in ("TRIE", "MARISA-TRIE", "MARISA_TRIE"):
        return _IndexCost(kind, raw + rows * 8, 0, True)  # the strings + an 8-byte id per row
    if kind == "BITMAP":
        return _IndexCost(kind, raw + rows * 2, 0, True)  # roaring bitmaps ~2 B/row + offset cache
    if kind in ("INVERTED", "HYBRID"):
        return _IndexCost(kind, raw, 0, False)  # postings ~ the column; raw column loaded too
    notes.add(f"{fs.name}: index type {kind} unknown to asyncload; only the raw column counted")
    return _IndexCost(kind, 0, 0, False)


def _align8(width: int) -> int:
    return (width + 7) // 8 * 8


def _ceil_div(a: int, b: int) -> int:
    """Exact ``ceil(a / b)`` for integers of any size (no float rounding)."""
    return -(-a // b)
