"""Gather what the footprint estimator needs from the server, in a fixed handful of RPCs.

Schema, row count, indexes, load state and the sealed-segment count go out concurrently; then, only
when the collection is loaded and not empty, one bounded Query samples the variable-length fields
the caller's own sample does not cover, and, only when it is loaded, one GetQuerySegmentInfo reads
the memory the server reports for its loaded segments (measured vs estimated). No full scan.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._concurrency import gather
from .._progress import LoadState
from .._schema import CollectionSchema, DataType, IndexInfo
from .._validation import validate_load_fields
from ..errors import ConnectionFailedError, ServerError, TransportError, UnsupportedOperationError
from .estimate import Footprint, estimate_footprint
from .sample import sample_sizes

if TYPE_CHECKING:
    from .._transport.milvus import MilvusAPI

__all__ = ["MEMORY_NOT_REPORTED", "VARIABLE_LENGTH", "fetch_footprint", "measured_memory"]

#: What ``Footprint.measured`` says where the server reports 0 for every loaded segment.
MEMORY_NOT_REPORTED = "the server does not report loaded memory (Milvus 2.3.5 answers 0)"
#: ... and where it does not implement GetQuerySegmentInfo.
MEMORY_UNKNOWN = "unknown: the server does not implement GetQuerySegmentInfo (Milvus Lite)"

VARIABLE_LENGTH = frozenset(
    {DataType.VARCHAR, DataType.STRING, DataType.TEXT, DataType.JSON, DataType.ARRAY, DataType.SPARSE_FLOAT_VECTOR}
)


async def fetch_footprint(
    api: MilvusAPI,
    collection: str,
    *,
    load_fields: Sequence[str],
    skip_load_dynamic_field: bool,
    replica_number: int,
    partitions: Sequence[str],
    sample_rows: int,
    user_columns: Mapping[str, Sequence[Any]] | None = None,
) -> Footprint:
    """Describe, count, list indexes, check the load state; sample if loaded; estimate.

    ``user_columns`` (from ``normalize_sample``) are the caller's own values: measured against the
    schema, they give the variable-length fields they cover a point estimate before any load.
    Raises the same InvalidLoadFieldsError as ``load_collection`` for a bad selection, and
    InvalidArgumentError for sample columns the collection cannot hold. Cancelling it cancels the
    RPCs in flight.
    """
    schema: CollectionSchema | None = None
    indexes: list[IndexInfo] = []
    state = LoadState.NOT_EXIST
    row_counts: list[int] = []
    segments: int | None = None

    async def describe() -> None:
        nonlocal schema
        schema = await api.describe_collection(collection)

    async def list_indexes() -> None:
        nonlocal indexes
        indexes = await api.describe_indexes(collection)

    async def check_state() -> None:
        nonlocal state
        state = await api.get_load_state(collection)

    async def count(partition: str | None) -> None:
        if partition is None:
            row_counts.append(await api.row_count(collection))
        else:
            row_counts.append(await api.partition_row_count(collection, partition))

    async def count_segments() -> None:
        nonlocal segments
        if partitions:
            return  # the segment list is per collection: let the estimator derive it from the size
        try:
            segments = await api.sealed_segment_count(collection)
        except (ServerError, ConnectionFailedError):
            segments = None  # Milvus Lite does not implement it; a size-derived count then

    targets: list[str | None] = list(partitions) or [None]
    counts = [functools.partial(count, partition) for partition in targets]
    await gather(describe, list_indexes, check_state, count_segments, *counts)
    assert schema is not None
    if load_fields:
        validate_load_fields(schema, load_fields)
    rows = sum(row_counts)
    user_samples = sample_sizes(schema, user_columns) if user_columns else {}
    variable = [f.name for f in schema.fields if f.dtype in VARIABLE_LENGTH and f.name not in user_samples]
    samples: dict[str, list[int]] = {}
    if variable and rows > 0 and state is LoadState.LOADED:
        try:
            samples = await api.sample_value_sizes(
                collection, variable, limit=sample_rows, partitions=tuple(partitions)
            )
        except (ServerError, TransportError):
            samples = {}  # e.g. a field outside load_fields cannot be output: schema defaults then
    estimate = estimate_footprint(
        schema,
        rows=rows,
        indexes=indexes,
        samples=samples,
        load_fields=list(load_fields) or None,
        skip_load_dynamic_field=skip_load_dynamic_field,
        replica_number=replica_number,
        segments=segments or None,
        user_samples=user_samples,
    )
    if state is not LoadState.LOADED:
        return estimate
    measured, note = await measured_memory(api, collection)
    return dataclasses.replace(estimate, loaded=True, measured_bytes=measured, measured=note)


async def measured_memory(api: MilvusAPI, collection: str) -> tuple[int | None, str]:
    """The loaded segments' memory the server reports (GetQuerySegmentInfo ``mem_size``, summed over
    segments and replicas) and one line saying what it is; None where the server does not say
    (Milvus 2.3.5 answers 0 for every segment; Milvus Lite does not implement the RPC)."""
    try:
        sizes = await api.query_segment_memory(collection)
    except UnsupportedOperationError:
        return None, MEMORY_UNKNOWN
    except (ServerError, TransportError) as exc:  # e.g. released meanwhile
        return None, f"unknown: GetQuerySegmentInfo failed ({exc})"
    if not sizes:
        return None, "unknown: the server lists no loaded sealed segment (empty, or only growing data)"
    total = sum(sizes)
    if total <= 0:
        return None, MEMORY_NOT_REPORTED
    return total, f"measured by the server: {len(sizes)} loaded segment(s), GetQuerySegmentInfo mem_size"
