"""How the command line shows results: the status table, the footprint table and totals, JSON shapes.

Pure rendering through an :class:`~asyncload.cli.output.Output`; no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from .._footprint.estimate import Footprint
from .._footprint.fit import Fit
from .._format import human_bytes
from .output import Column, Output

__all__ = ["estimated_from", "footprint_document", "show_footprint", "show_status"]


def show_status(out: Output, where: str, listed: Sequence[dict[str, Any]]) -> None:
    if not listed:
        out.line(f"no collections at {where}")
        return
    columns = [
        Column("collection"),
        Column("state"),
        Column("progress", True, drop=1),
        Column("rows", True, drop=2),
        Column("memory", True),
    ]
    out.table(
        [*columns, Column("fits", drop=3)],
        [
            [
                r["name"],
                r["state"],
                f"{r['percent']}%" if "percent" in r else "?",
                f"{r['rows']:,}" if "rows" in r else "?",
                human_bytes(r["estimated_bytes"]) + _BASIS_MARKS.get(r.get("estimated_from", ""), "")
                if "estimated_bytes" in r
                else "?",
                r.get("fit", "?"),
            ]
            for r in listed
        ],
        title=f"{where}: {len(listed)} collection(s)",
    )
    out.line("memory: estimated for a load of every field (asyncload footprint COLLECTION for details)", style="dim")
    if any(r.get("estimated_from") == "schema range" for r in listed):
        out.line(
            "  * text/JSON not sampled (not loaded: nothing to sample): a typical value inside a schema range "
            "(--json: estimated_low..estimated_high); pass a sample or load to get a point estimate",
            style="dim",
        )
    for r in listed:
        if "error" in r:
            out.warn(f"{r['name']}: {r['error']}")


_BASIS_MARKS = {"schema range": " *"}


def estimated_from(fp: Footprint) -> str:
    """What the variable-length sizes of an estimate rest on: ``sampled``, ``schema range`` (a
    field without a sample), or ``types`` (every field fixed width: exact)."""
    if any(f.is_range for f in fp.fields):
        return "schema range"
    if any(f.basis.startswith(("sampled", "your sample")) for f in fp.fields):
        return "sampled"
    return "types"


def _basis_lines(fp: Footprint) -> list[tuple[str, str]]:
    """Which selected fields' sizes were sampled (the totals' "schema range" line names those that
    are schema ranges; the rest are exact: fixed-width types)."""
    sampled = [f.name for f in fp.fields if f.selected and f.basis.startswith(("sampled", "your sample"))]
    return [("sampled sizes", ", ".join(sampled))] if sampled else []


def footprint_document(fp: Footprint, fit: Fit | None = None) -> dict[str, Any]:
    fields = []
    for f in fp.fields:
        entry = asdict(f)
        entry["dtype"] = f.dtype.milvus_name
        entry["share"] = f.bytes / fp.selected_bytes if f.selected and fp.selected_bytes else 0.0
        fields.append(entry)
    return {
        "collection": fp.collection,
        "rows": fp.rows,
        "replica_number": fp.replica_number,
        "fields": fields,
        "totals": {
            "selected_bytes": fp.selected_bytes,
            "overhead_bytes": fp.overhead_bytes,
            "total_selected": fp.total_selected,
            "all_bytes": fp.all_bytes,
            "total_all": fp.total_all,
            "peak_bytes": fp.peak_bytes,
            "disk_bytes": fp.disk_bytes,
            "fixed_bytes": fp.fixed_bytes,
            "segments": fp.segments,
            "total_low": fp.total_low,
            "total_high": fp.total_high,
            "peak_low_bytes": fp.peak_low_bytes,
            "peak_high_bytes": fp.peak_high_bytes,
            "exact": fp.exact,
            "range_fields": list(fp.range_fields),
            "sampled_fields": list(fp.sampled_fields),
        },
        "fit": None if fit is None else fit.as_dict(),
        "loaded": fp.loaded,
        "measured_bytes": fp.measured_bytes,
        "measured": fp.measured,
        "assumptions": list(fp.assumptions),
        "estimated_from": estimated_from(fp),
    }


def _size_from(basis: str) -> str:
    """The estimator's basis in a word: type (fixed width), schema (default), or the sample size."""
    head = basis.split(";")[0]
    if head.startswith("sampled "):
        return head.removeprefix("sampled ")
    if head.startswith("your sample, "):
        return "yours, " + head.removeprefix("your sample, ")
    return {"fixed width": "type", "schema range": "schema range"}.get(head, head)


def show_footprint(out: Output, fp: Footprint, *, assumptions: bool = True, fit: Fit | None = None) -> None:
    """The per-field table and the totals, with the schema ranges and the fit verdict (nothing in
    JSON mode)."""
    replicas = f", {fp.replica_number} replicas" if fp.replica_number > 1 else ""
    rows = []
    for f in fp.fields:
        share = f.bytes / fp.selected_bytes if f.selected and fp.selected_bytes else 0.0
        rows.append(
            [
                f.name,
                f.dtype.milvus_name + (f"({f.dim})" if f.dim else ""),
                f.index_type or "",
                human_bytes(f.raw_bytes),
                human_bytes(f.index_bytes) if f.index_type else "",
                human_bytes(f.bytes) if f.selected else "-",
                f"{human_bytes(f.low_bytes)}..{human_bytes(f.high_bytes)}" if f.is_range else "",
                f"{share:.0%}" if f.selected else "",
                "yes" if f.selected else "no",
                _size_from(f.basis),
            ]
        )
    # At 80 columns "load" goes first (resident says "-" for a field left out), then the lesser sizes.
    columns = [
        Column("field"),
        Column("type"),
        Column("index", drop=2),
        Column("raw", True, drop=4),
        Column("index mem", True, drop=5),
        Column("resident", True),
        Column("range", True, drop=7),
        Column("share", True, drop=3),
        Column("load", drop=6),
        Column("size from", drop=1),
    ]
    out.table(columns, rows, title=f"{fp.collection}: {fp.rows:,} rows{replicas}")
    saving = fp.total_all - fp.total_selected
    lines = [
        (
            "selected fields",
            human_bytes(fp.selected_bytes),
            "" if _basis_lines(fp) or fp.range_fields else "every size exact (fixed-width types)",
        ),
        (
            "per-row overhead",
            human_bytes(fp.overhead_bytes - fp.fixed_bytes),
            "timestamps, primary key map and bloom filter",
        ),
        ("fixed", human_bytes(fp.fixed_bytes), f"a load + {fp.segments} sealed segment(s)"),
        (
            "total",
            human_bytes(fp.total_selected),
            f"{human_bytes(saving)} less than every field ({human_bytes(fp.total_all)})"
            if saving > 0
            else "every field",
        ),
        ("peak while loading", human_bytes(fp.peak_bytes), "the data passes through twice while loading"),
    ]
    if fp.range_fields:
        lines.append(
            (
                "schema range",
                f"{human_bytes(fp.total_low)}..{human_bytes(fp.total_high)}",
                f"not sampled: {', '.join(fp.range_fields)} (load the collection, or pass a sample)",
            )
        )
    if fit is not None:
        lines.append(("fits?", fit.verdict.value, fit.reason))
    if fp.loaded:
        measured = human_bytes(fp.measured_bytes) if fp.measured_bytes is not None else "?"
        lines.append(("measured (loaded)", measured, fp.measured))
    if fp.disk_bytes:
        lines.append(("on disk", human_bytes(fp.disk_bytes), "mmap / DiskANN"))
    for label, value, note in lines:
        text = f"  {label:<19}{value:>10}" + (f"   {note}" if note else "")
        out.line(text, style="bold" if label == "total" else None)
    for label, names in _basis_lines(fp):
        out.line(f"  {label + ':':<19}{'':>10}   {names}", style="dim")
    if assumptions:
        for note in fp.assumptions:
            out.line(f"  note: {note}", style="dim")
