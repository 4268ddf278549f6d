"""A :class:`~asyncload.footprint.Footprint` as a pandas DataFrame, one row per field.

The engine's own conversion (``client.footprint()`` returns it); imported only when a frame is
made, so ``import asyncload`` does not import pandas. The notebook views (Styler, charts) are the
front-end's, in :mod:`asyncload.footprint`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .estimate import FieldFootprint, Footprint

__all__ = ["BYTE_COLUMNS", "FRAME_COLUMNS", "OVERHEAD_ROW", "TOTAL_ROW", "footprint_frame"]

#: Columns of :func:`footprint_frame`, in order.
FRAME_COLUMNS = (
    "dtype",
    "dim",
    "rows",
    "raw_bytes",
    "index_type",
    "index_bytes",
    "bytes",
    "share",
    "is_primary",
    "is_vector",
    "selected",
    "mmap",
    "peak_bytes",
    "disk_bytes",
    "basis",
)
BYTE_COLUMNS = ("raw_bytes", "index_bytes", "bytes", "peak_bytes", "disk_bytes")
OVERHEAD_ROW = "(per-row overhead)"
TOTAL_ROW = "total"


def footprint_frame(fp: Footprint) -> pd.DataFrame:
    """One row per field, indexed by field name; totals and assumptions in ``df.attrs``.

    ``share`` is the field's part of ``selected_bytes`` (0 for unselected fields). ``df.attrs``:
    collection, rows, replica_number, selected_bytes, all_bytes, overhead_bytes, total_selected,
    total_all, peak_bytes, disk_bytes, assumptions (a list).
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
    )
    return frame


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
        "share": f.bytes / total if f.selected and total else 0.0,
        "is_primary": f.is_primary,
        "is_vector": f.is_vector,
        "selected": f.selected,
        "mmap": f.mmap,
        "peak_bytes": f.peak_bytes,
        "disk_bytes": f.disk_bytes,
        "basis": f.basis,
    }
