"""What a load will cost, as pandas tables and notebook views.

``estimate_footprint`` (pure, in :mod:`asyncload._footprint.estimate`) does the arithmetic; this
module turns a :class:`Footprint` into a DataFrame (:func:`footprint_frame`), compares two
selections (:func:`compare_selections`) and renders them in a notebook (:func:`styled`,
:func:`plot`). jinja2 (``asyncload-milvus[jupyter]``) and matplotlib (``asyncload-milvus[plot]``) are imported
only when a view needs them.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._footprint import frame as _frame
from ._footprint.estimate import FieldFootprint, Footprint, estimate_footprint
from ._footprint.fit import ClusterMemory, Fit, FitVerdict, NodeMemory, fit_verdict, judge_fit
from ._footprint.frame import FRAME_COLUMNS, footprint_frame
from ._format import human_bytes
from ._public import publish as _publish

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from pandas.io.formats.style import Styler

__all__ = [
    "FRAME_COLUMNS",
    "STYLED_COLUMNS",
    "ClusterMemory",
    "FieldFootprint",
    "Fit",
    "FitVerdict",
    "Footprint",
    "NodeMemory",
    "compare_selections",
    "estimate_footprint",
    "fit_verdict",
    "footprint_frame",
    "human_bytes",
    "judge_fit",
    "plot",
    "styled",
]


def compare_selections(
    a: Footprint, b: Footprint, labels: tuple[str, str] = ("all fields", "selection")
) -> pd.DataFrame:
    """Two estimates side by side: resident bytes per field, the per-row overhead, the fixed cost
    of a load, and a ``total`` row.

    A field counts in a column only if that estimate selects it. ``saving_bytes`` = a - b,
    ``saving_pct`` = the saving as a percentage of a (NaN where a is 0). Typical use: ``a`` with
    ``load_fields=None``, ``b`` with the fields you mean to load.
    """
    label_a, label_b = labels
    if label_a == label_b:
        raise ValueError("the two labels must differ")
    names = [f.name for f in a.fields]
    names += [f.name for f in b.fields if f.name not in set(names)]
    cost_a = {f.name: f.bytes for f in a.fields if f.selected}
    cost_b = {f.name: f.bytes for f in b.fields if f.selected}
    index = [*names, _frame.OVERHEAD_ROW, _frame.FIXED_ROW, _frame.TOTAL_ROW]
    col_a = [cost_a.get(n, 0) for n in names] + [a.overhead_bytes - a.fixed_bytes, a.fixed_bytes, a.total_selected]
    col_b = [cost_b.get(n, 0) for n in names] + [b.overhead_bytes - b.fixed_bytes, b.fixed_bytes, b.total_selected]
    df: pd.DataFrame = pd.DataFrame(
        {label_a: col_a, label_b: col_b}, index=pd.Index(index, name="field"), dtype="int64"
    )
    df["saving_bytes"] = df[label_a] - df[label_b]
    denominator = df[label_a].astype("float64").where(df[label_a] != 0)
    df["saving_pct"] = df["saving_bytes"] / denominator * 100.0
    df.attrs.update(
        labels=[label_a, label_b],
        saving_bytes=a.total_selected - b.total_selected,
        saving_pct=(a.total_selected - b.total_selected) / a.total_selected * 100.0 if a.total_selected else math.nan,
        peak_bytes=[a.peak_bytes, b.peak_bytes],
        byte_columns=[label_a, label_b, "saving_bytes"],
        assumptions=list(dict.fromkeys([*a.assumptions, *b.assumptions])),
    )
    return df


# --- notebook views ----------------------------------------------------------------------------


def _require(module: str, extra: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"{what} needs {module}: pip install 'asyncload-milvus[{extra}]'")


def _byte_columns(df: pd.DataFrame) -> list[str]:
    listed = df.attrs.get("byte_columns")
    candidates = listed if isinstance(listed, list) else [c for c in df.columns if str(c).endswith("bytes")]
    return [c for c in candidates if c in df.columns]


#: The columns :func:`styled` shows of a :func:`footprint_frame` by default (the rest: ``columns=``).
STYLED_COLUMNS = ("dtype", "dim", "index_type", "bytes", "share", "selected", "basis")
#: Readable headers for the frame's snake_case columns, in :func:`styled`.
_HEADERS = {
    "dtype": "type",
    "raw_bytes": "raw",
    "index_type": "index",
    "index_bytes": "index memory",
    "bytes": "resident",
    "is_primary": "primary key",
    "is_vector": "vector",
    "selected": "loaded",
    "peak_bytes": "peak while loading",
    "disk_bytes": "on disk",
    "basis": "size from",
    "saving_bytes": "saving",
    "saving_pct": "saving %",
}


def styled(df: pd.DataFrame, columns: Sequence[str] | None = None) -> Styler:
    """A Styler for a :func:`footprint_frame` or :func:`compare_selections` table: byte columns in
    human units, bars on the resident bytes, percentages formatted, readable headers, no wrapped
    values. Needs jinja2 (``asyncload-milvus[jupyter]``).

    ``columns`` chooses the columns shown, in the frame's order; by default a footprint frame shows
    :data:`STYLED_COLUMNS` (``columns=FRAME_COLUMNS`` shows every one) and a comparison shows all.
    """
    _require("jinja2", "jupyter", "styled()")
    if columns is None:
        shown = [c for c in STYLED_COLUMNS if c in df.columns] if "bytes" in df.columns else list(df.columns)
    else:
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise ValueError(
                f"no column {', '.join(map(repr, unknown))} in this table; its columns: {list(df.columns)}"
            )
        shown = list(columns)
    byte_cols = _byte_columns(df)
    formatters: dict[str, Callable[[Any], str]] = dict.fromkeys(byte_cols, human_bytes)
    if "share" in df.columns:
        formatters["share"] = "{:.1%}".format
    if "saving_pct" in df.columns:
        formatters["saving_pct"] = _pct
    styler: Styler = df.style.format(formatters, na_rep="")  # type: ignore[arg-type]
    bar_cols = ["bytes"] if "bytes" in df.columns else [c for c in byte_cols if c != "saving_bytes"]
    rows = [r for r in df.index if r not in (_frame.TOTAL_ROW, _frame.OVERHEAD_ROW, _frame.FIXED_ROW)]
    if bar_cols and rows:
        styler = styler.bar(subset=pd.IndexSlice[rows, bar_cols], color="#7aa6da", vmin=0)
    hidden: list[Hashable] = [c for c in df.columns if c not in shown]
    if hidden:
        styler = styler.hide(subset=hidden, axis="columns")
    styler = styler.format_index(lambda c: _HEADERS.get(str(c), str(c)), axis="columns")
    styler = styler.set_table_styles([{"selector": "td, th", "props": [("white-space", "nowrap")]}], overwrite=False)
    caption = df.attrs.get("total_selected")
    if isinstance(caption, int):
        text = (
            f"{df.attrs.get('collection', '')}: {human_bytes(caption)} selected (incl. overhead), "
            f"peak {human_bytes(df.attrs.get('peak_bytes'))}"
        )
        if df.attrs.get("exact") is False:
            text += f"; {df.attrs.get('basis', '')}"
        fit = df.attrs.get("fit")
        if isinstance(fit, dict):
            text += f"; {fit.get('verdict')}: {fit.get('reason')}"
        styler = styler.set_caption(text)
    return styler


def _pct(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.1f} %"


def plot(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """A horizontal bar chart of the resident bytes per field (unselected fields greyed) for a
    :func:`footprint_frame`, or of both columns for a :func:`compare_selections` table. Needs
    matplotlib (``asyncload-milvus[plot]``); returns the Axes."""
    _require("matplotlib", "plot", "plot()")
    if "bytes" in df.columns:
        data = df["bytes"] / 2**20
        colors: list[Any] = ["#4c72b0" if s else "#c8c8c8" for s in df.get("selected", [True] * len(df))]
        axes = data.plot.barh(ax=ax, color=colors)
        axes.set_title(f"{df.attrs.get('collection', '')} - resident memory by field".strip(" -"))
    else:
        labels = df.attrs.get("labels") or [c for c in df.columns if c not in ("saving_bytes", "saving_pct")]
        body = df.drop(index=[_frame.TOTAL_ROW], errors="ignore")
        axes = (body[list(labels)] / 2**20).plot.barh(ax=ax)
        axes.set_title("resident memory by field")
    axes.set_xlabel("MiB")
    axes.invert_yaxis()
    return axes


_publish(globals(), __all__, __name__)
