"""A :class:`~asyncload.footprint.Footprint` as a pandas DataFrame, one row per field.

The engine's own conversion (``client.footprint()`` returns it); imported only when a frame is
made, so ``import asyncload`` does not import pandas. The notebook views (Styler, charts) are the
front-end's, in :mod:`asyncload.footprint`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._format import human_bytes
from .estimate import FieldFootprint, Footprint
from .fit import ClusterMemory, Fit

__all__ = [
    "BYTE_COLUMNS",
    "FIXED_ROW",
    "FRAME_COLUMNS",
    "OVERHEAD_ROW",
    "TOTAL_ROW",
    "basis_line",
    "footprint_frame",
    "memory_dict",
]

#: Columns of :func:`footprint_frame`, in order.
FRAME_COLUMNS = (
    "dtype",
    "dim",
    "rows",
    "raw_bytes",
    "index_type",
    "index_bytes",
    "bytes",
    "low_bytes",
    "high_bytes",
    "share",
    "is_primary",
    "is_vector",
    "selected",
    "mmap",
    "peak_bytes",
    "disk_bytes",
    "basis",
)
BYTE_COLUMNS = ("raw_bytes", "index_bytes", "bytes", "low_bytes", "high_bytes", "peak_bytes", "disk_bytes")
OVERHEAD_ROW = "(per-row overhead)"
FIXED_ROW = "(fixed per load)"
TOTAL_ROW = "total"


def footprint_frame(fp: Footprint, *, memory: ClusterMemory | None = None, fit: Fit | None = None) -> pd.DataFrame:
    """One row per field, indexed by field name; totals and assumptions in ``df.attrs``.

    ``share`` is the field's part of ``selected_bytes`` (0 for unselected fields). ``low_bytes`` ..
    ``high_bytes`` is the field's range: equal to ``bytes`` where it is known (fixed width,
    sampled), the schema's bounds where it is not (``basis`` "schema range": ``bytes`` is then a
    typical value, not a measurement). ``df.attrs``: collection, rows, replica_number,
    selected_bytes, all_bytes, overhead_bytes, fixed_bytes, segments, total_selected, total_low,
    total_high, total_all, peak_bytes, peak_low_bytes, peak_high_bytes, disk_bytes, exact,
    range_fields, sampled_fields, basis (one line saying which figures are sampled and which are
    schema ranges), assumptions (a list), loaded, measured_bytes (the loaded segments' memory the
    server reports, None where it does not say: not loaded, Milvus 2.3.5's 0, Milvus Lite) and
    measured (one line saying which); with ``memory`` / ``fit`` also ``memory`` (the query
    nodes' total/used/free, per node) and ``fit`` (verdict, reason, needed and capacity bytes).
    """
    total = fp.selected_bytes
    records = [_record(f, total) for f in fp.fields]
    df = pd.DataFrame.from_records(records, columns=["field", *FRAME_COLUMNS])
    df = df.set_index("field")
    frame: pd.DataFrame = df.astype(
        {
            "dtype": "string",
            "dim": "Int64",
            "rows": "int64",
            "index_type": "string",
            "share": "float64",
            "is_primary": "bool",
            "is_vector": "bool",
            "selected": "bool",
            "mmap": "bool",
            "basis": "string",
            **dict.fromkeys(BYTE_COLUMNS, "int64"),
        }
    )
    frame.attrs.update(
        collection=fp.collection,
        rows=fp.rows,
        replica_number=fp.replica_number,
        selected_bytes=fp.selected_bytes,
        all_bytes=fp.all_bytes,
        overhead_bytes=fp.overhead_bytes,
        total_selected=fp.total_selected,
        total_all=fp.total_all,
        peak_bytes=fp.peak_bytes,
        disk_bytes=fp.disk_bytes,
        assumptions=list(fp.assumptions),
        byte_columns=list(BYTE_COLUMNS),
        fixed_bytes=fp.fixed_bytes,
        segments=fp.segments,
        total_low=fp.total_low,
        total_high=fp.total_high,
        peak_low_bytes=fp.peak_low_bytes,
        peak_high_bytes=fp.peak_high_bytes,
        exact=fp.exact,
        range_fields=list(fp.range_fields),
        sampled_fields=list(fp.sampled_fields),
        basis=basis_line(fp),
        loaded=fp.loaded,
        measured_bytes=fp.measured_bytes,
        measured=fp.measured,
    )
    if memory is not None:
        frame.attrs["memory"] = memory_dict(memory)
    if fit is not None:
        frame.attrs["fit"] = fit.as_dict()
    return frame


def basis_line(fp: Footprint) -> str:
    """One line on what the totals rest on: which fields are sampled, which are schema ranges."""
    parts = []
    if fp.sampled_fields:
        parts.append(f"sampled: {', '.join(fp.sampled_fields)}")
    if fp.range_fields:
        parts.append(
            f"schema range (not sampled): {', '.join(fp.range_fields)}; total "
            f"{human_bytes(fp.total_low)} .. {human_bytes(fp.total_high)}, {human_bytes(fp.total_selected)} typical"
        )
    if not parts:
        return "fixed-width fields only: no sample needed"
    return "; ".join(parts)


def memory_dict(memory: ClusterMemory) -> dict[str, Any]:
    """The query nodes' memory as plain values (``known`` False: ``reason`` says why)."""
    return {
        "known": memory.known,
        "reason": memory.reason,
        "total_bytes": memory.total_bytes if memory.known else None,
        "used_bytes": memory.used_bytes if memory.known else None,
        "free_bytes": memory.free_bytes if memory.known else None,
        "capacity_bytes": memory.capacity_bytes if memory.known else None,
        "nodes": [
            {
                "name": n.name,
                "node_id": n.node_id,
                "address": n.address,
                "total_bytes": n.total_bytes,
                "used_bytes": n.used_bytes,
                "free_bytes": n.free_bytes,
            }
            for n in memory.nodes
        ],
    }


def _record(f: FieldFootprint, total: int) -> dict[str, Any]:
    return {
        "field": f.name,
        "dtype": f.dtype.milvus_name,
        "dim": f.dim if f.dim is not None else pd.NA,
        "rows": f.rows,
        "raw_bytes": f.raw_bytes,
        "index_type": f.index_type if f.index_type is not None else pd.NA,
        "index_bytes": f.index_bytes,
        "bytes": f.bytes,
        "low_bytes": f.low_bytes,
        "high_bytes": f.high_bytes,
        "share": f.bytes / total if f.selected and total else 0.0,
        "is_primary": f.is_primary,
        "is_vector": f.is_vector,
        "selected": f.selected,
        "mmap": f.mmap,
        "peak_bytes": f.peak_bytes,
        "disk_bytes": f.disk_bytes,
        "basis": f.basis,
    }
