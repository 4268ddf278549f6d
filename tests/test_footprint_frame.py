"""The pandas layer over the footprint estimator: frames, comparisons and notebook views."""

from __future__ import annotations

import importlib.util
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from asyncload._footprint.estimate import RAW_COLUMN_FACTOR, VALUE_OVERHEAD_BYTES
from asyncload._schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema, IndexInfo
from asyncload.footprint import (
    FRAME_COLUMNS,
    Footprint,
    compare_selections,
    estimate_footprint,
    footprint_frame,
    human_bytes,
    plot,
    styled,
)

N = 1000
SCHEMA = CollectionSchema(
    "docs",
    (
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("vec", DataType.FLOAT_VECTOR, dim=128),
        FieldSchema("title", DataType.VARCHAR, max_length=64),
        FieldSchema("n", DataType.INT32),
    ),
    enable_dynamic_field=True,
)
INDEXES = [IndexInfo("vec", "vec_idx", "FLAT")]


def resident(dtype: DataType, raw: int) -> int:
    """A raw column as the server holds it: x its measured factor + the per-value bookkeeping."""
    return math.ceil(raw * RAW_COLUMN_FACTOR.get(dtype, 1.0)) + N * VALUE_OVERHEAD_BYTES.get(dtype, 0)


TITLE = resident(DataType.VARCHAR, N * 32)  # VarChar(64) without a sample: typical 32 B a value


def all_fields(**kwargs: Any) -> Footprint:
    return estimate_footprint(SCHEMA, rows=N, indexes=INDEXES, **kwargs)


def selection() -> Footprint:
    return all_fields(load_fields=["id", "vec"], skip_load_dynamic_field=True)


def test_columns_index_and_dtypes() -> None:
    df = footprint_frame(all_fields())
    brief = [
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
    ]
    assert list(df.columns) == list(FRAME_COLUMNS)
    assert list(df.columns[: len(brief)]) == brief
    assert list(df.index) == ["id", "vec", "title", "n", DYNAMIC_FIELD_NAME]
    assert df.index.name == "field"
    assert str(df["dim"].dtype) == "Int64"
    assert df.loc["vec", "dim"] == 128
    assert df["dim"].isna().tolist() == [True, False, True, True, True]
    for col in ("rows", "raw_bytes", "index_bytes", "bytes", "low_bytes", "high_bytes", "peak_bytes", "disk_bytes"):
        assert df[col].dtype == "int64", col
    for col in ("is_primary", "is_vector", "selected", "mmap"):
        assert df[col].dtype == bool, col
    assert df["share"].dtype == "float64"
    assert df["dtype"].tolist() == ["Int64", "FloatVector", "VarChar", "Int32", "JSON"]
    assert df.loc["vec", "index_type"] == "FLAT"
    assert df["index_type"].isna().tolist() == [True, False, True, True, True]


def test_values_match_the_footprint() -> None:
    fp = all_fields()
    df = footprint_frame(fp)
    for f in fp.fields:
        assert df.loc[f.name, "bytes"] == f.bytes
        assert df.loc[f.name, "basis"] == f.basis
        assert (df.loc[f.name, "low_bytes"], df.loc[f.name, "high_bytes"]) == (f.low_bytes, f.high_bytes)
    assert df.loc["vec", "bytes"] == N * 128 * 4
    assert df.loc["title", "bytes"] == TITLE
    # not sampled: a range, from empty titles to titles of max_length 64
    assert (df.loc["title", "low_bytes"], df.loc["title", "high_bytes"]) == (
        resident(DataType.VARCHAR, 0),
        resident(DataType.VARCHAR, N * 64),
    )
    assert df.loc["title", "basis"] == "schema range"
    assert len(set(df.loc["vec", ["low_bytes", "bytes", "high_bytes"]].tolist())) == 1


def test_attrs_hold_totals_and_assumptions() -> None:
    fp = all_fields(replica_number=2)
    attrs = footprint_frame(fp).attrs
    assert attrs["selected_bytes"] == fp.selected_bytes
    assert attrs["all_bytes"] == fp.all_bytes
    assert attrs["overhead_bytes"] == fp.overhead_bytes
    assert attrs["total_selected"] == fp.total_selected
    assert attrs["total_all"] == fp.total_all
    assert attrs["peak_bytes"] == fp.peak_bytes
    assert attrs["disk_bytes"] == fp.disk_bytes
    assert attrs["replica_number"] == 2
    assert attrs["rows"] == N
    assert attrs["collection"] == "docs"
    assert attrs["assumptions"] == list(fp.assumptions)
    assert any("no sample" in a for a in attrs["assumptions"])
    assert (attrs["fixed_bytes"], attrs["segments"]) == (fp.fixed_bytes, 1)
    assert attrs["total_low"] < attrs["total_selected"] < attrs["total_high"]
    assert attrs["peak_low_bytes"] < attrs["peak_bytes"] < attrs["peak_high_bytes"]
    assert attrs["exact"] is False
    assert attrs["range_fields"] == ["title", DYNAMIC_FIELD_NAME]
    assert attrs["sampled_fields"] == []
    assert attrs["basis"].startswith("schema range (not sampled): title, $meta; total ")
    sampled = footprint_frame(all_fields(samples={"title": [10], DYNAMIC_FIELD_NAME: [20]})).attrs
    assert sampled["exact"] is True and sampled["total_low"] == sampled["total_selected"] == sampled["total_high"]
    assert sampled["basis"] == "sampled: title, $meta"
    assert footprint_frame(all_fields(load_fields=["id", "vec"], skip_load_dynamic_field=True)).attrs["basis"] == (
        "fixed-width fields only: no sample needed"
    )


def test_share_sums_to_one_over_selected_fields() -> None:
    df = footprint_frame(selection())
    assert math.isclose(df["share"].sum(), 1.0)
    assert (df.loc[~df["selected"], "share"] == 0).all()
    assert (df.loc[~df["selected"], "bytes"] > 0).all()  # still reported


def test_share_is_zero_when_nothing_costs_memory() -> None:
    fp = estimate_footprint(SCHEMA, rows=0)
    df = footprint_frame(fp)
    assert (df["share"] == 0).all()


def test_compare_selections_savings() -> None:
    a, b = all_fields(), selection()
    df = compare_selections(a, b)
    assert list(df.columns) == ["all fields", "selection", "saving_bytes", "saving_pct"]
    assert list(df.index) == [
        "id",
        "vec",
        "title",
        "n",
        DYNAMIC_FIELD_NAME,
        "(per-row overhead)",
        "(fixed per load)",
        "total",
    ]
    assert df.loc["title", "selection"] == 0
    assert df.loc["title", "saving_bytes"] == TITLE
    assert df.loc["title", "saving_pct"] == 100.0
    assert df.loc["vec", "saving_bytes"] == 0
    assert df.loc["(per-row overhead)", "saving_bytes"] == 0
    assert df.loc["(fixed per load)", "saving_bytes"] == 0
    assert df.drop(index="total").sum()["all fields"] == a.total_selected
    # title (typical 32 B) + n 4 B + $meta (typical 512 B) a row, as the server holds them, are saved
    saving = TITLE + resident(DataType.INT32, N * 4) + resident(DataType.JSON, N * 512)
    assert df.loc["total", "all fields"] == a.total_selected
    assert df.loc["total", "selection"] == b.total_selected
    assert df.loc["total", "saving_bytes"] == saving
    assert df.loc["total", "saving_pct"] == pytest.approx(saving / a.total_selected * 100)
    assert df.attrs["saving_bytes"] == saving
    body = df.drop(index="total")
    assert (body[["all fields", "selection"]].sum() == df.loc["total", ["all fields", "selection"]]).all()


def test_compare_selections_labels_and_zero_rows() -> None:
    a, b = all_fields(), selection()
    df = compare_selections(a, b, labels=("before", "after"))
    assert list(df.columns[:2]) == ["before", "after"]
    with pytest.raises(ValueError, match="labels"):
        compare_selections(a, b, labels=("x", "x"))
    empty = compare_selections(estimate_footprint(SCHEMA, rows=0), estimate_footprint(SCHEMA, rows=0))
    assert empty["saving_pct"].isna().all()
    assert math.isnan(empty.attrs["saving_pct"])


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (10 * 2**20, "10 MiB"),
        (int(123.4 * 2**20), "123 MiB"),
        (3 * 2**30 + 2**29, "3.5 GiB"),
        (-2048, "-2 KiB"),
        (2**60, "1024 PiB"),
        (None, ""),
        (math.nan, ""),
    ],
)
def test_human_bytes(n: float | None, text: str) -> None:
    assert human_bytes(n) == text


# --- notebook views ---------------------------------------------------------------------------


@pytest.fixture
def hide_module(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    hidden: set[str] = set()
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name in hidden else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return hidden


def test_styled_returns_a_styler() -> None:
    pytest.importorskip("jinja2")
    from pandas.io.formats.style import Styler

    df = footprint_frame(all_fields())
    styler = styled(df)
    assert isinstance(styler, Styler)
    html = styler.to_html()
    assert "500 KiB" in html  # vec: 512_000 B
    assert "linear-gradient" in html  # the bars
    assert "docs" in html  # caption
    compared = styled(compare_selections(all_fields(), selection()))
    assert "100.0 %" in compared.to_html()


def test_styled_shows_a_readable_default_set_of_columns_and_the_rest_on_request() -> None:
    pytest.importorskip("jinja2")
    from asyncload.footprint import FRAME_COLUMNS, STYLED_COLUMNS

    df = footprint_frame(all_fields())
    html = styled(df).to_html()
    headers = re.findall(r'<th id="T_\w+_level0_col\d+" class="col_heading level0 col\d+" >([^<]*)</th>', html)
    assert headers == ["type", "dim", "index", "resident", "share", "loaded", "size from"]
    assert len(STYLED_COLUMNS) < len(FRAME_COLUMNS) / 2 + 1, "a readable default, not all 15 columns"
    assert "white-space: nowrap" in html
    everything = re.findall(r'class="col_heading level0 col\d+" >', styled(df, columns=FRAME_COLUMNS).to_html())
    assert len(everything) == len(FRAME_COLUMNS)
    assert len(re.findall(r'class="col_heading level0 col\d+" >', styled(df, columns=["bytes"]).to_html())) == 1
    with pytest.raises(ValueError, match="no column 'nope'"):
        styled(df, columns=["nope"])


def test_styled_without_jinja2_names_the_extra(hide_module: set[str]) -> None:
    hide_module.add("jinja2")
    with pytest.raises(ImportError, match=r"asyncload-milvus\[jupyter\]"):
        styled(footprint_frame(all_fields()))


@pytest.fixture
def pyplot() -> Iterator[Any]:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_draws_one_bar_per_field(pyplot: Any) -> None:
    df = footprint_frame(selection())
    ax = plot(df)
    assert len(ax.patches) == len(df)
    assert ax.get_xlabel() == "MiB"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(df.index)
    _, ax2 = pyplot.subplots()
    assert plot(df, ax=ax2) is ax2


def test_plot_of_a_comparison(pyplot: Any) -> None:
    df = compare_selections(all_fields(), selection())
    ax = plot(df)
    assert len(ax.patches) == 2 * (len(df) - 1)  # two bars per row, total row left out


def test_plot_without_matplotlib_names_the_extra(hide_module: set[str]) -> None:
    hide_module.add("matplotlib")
    with pytest.raises(ImportError, match=r"asyncload-milvus\[plot\]"):
        plot(footprint_frame(all_fields()))
