"""How asyncload writes sizes, durations and load targets: one pandas-free home for every renderer
(the CLI, the widgets, the footprint tables, reprs and error messages)."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["format_seconds", "human_bytes", "target_label"]


def human_bytes(n: float | None) -> str:
    """``1536`` -> ``'1.5 KiB'``; binary units, three significant digits; NaN/None -> ``''``."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    sign = "-" if n < 0 else ""
    value = float(abs(n))
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            if unit == "B":
                return f"{sign}{int(value)} B"
            return f"{sign}{value:.3g} {unit}" if value < 100 else f"{sign}{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_seconds(seconds: float | None) -> str:
    """``3.21`` -> ``'3.2 s'``, ``75`` -> ``'1 min 15 s'``, ``4000`` -> ``'1 h 06 min'``; None -> ``'?'``."""
    if seconds is None or math.isnan(seconds):
        return "?"
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def target_label(collection: str, partitions: Sequence[str] = ()) -> str:
    """``books`` for a whole collection, ``books [p1, p2]`` for some of its partitions."""
    return collection + (f" [{', '.join(partitions)}]" if partitions else "")
