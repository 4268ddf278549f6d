"""What the CLI prints fits a terminal of 80 columns without cutting names, and ETAs read honestly.

Rendered through rich's Console at a fixed width; the ETA parts are pure functions fed a fake clock.
"""

from __future__ import annotations

import io
import re

import pytest

from asyncload import LoadState, Progress
from asyncload._footprint.estimate import estimate_footprint
from asyncload._monitor.policy import PollingConfig, PollSchedule, TickPhase
from asyncload._schema import CollectionSchema, DataType, FieldSchema, IndexInfo
from asyncload.cli.output import Column, Output, describe_progress, eta_note, fit_columns
from asyncload.cli.views import show_footprint, show_status
from asyncload.widgets.model import ProgressModel

pytest.importorskip("rich")

FIELDS = (
    FieldSchema("document_identifier", DataType.INT64, is_primary=True),
    FieldSchema("embedding", DataType.FLOAT_VECTOR, dim=768),
    FieldSchema("sparse_embedding", DataType.SPARSE_FLOAT_VECTOR),
    FieldSchema("title", DataType.VARCHAR, max_length=512),
    FieldSchema("published_year", DataType.INT16),
    FieldSchema("in_stock", DataType.BOOL),
    FieldSchema("categories", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=16, max_length=64),
)
SCHEMA = CollectionSchema("library_books_2024", FIELDS, enable_dynamic_field=True)
INDEXES = [
    IndexInfo("embedding", "embedding_idx", "IVF_FLAT", params={"nlist": "1024"}),
    IndexInfo("sparse_embedding", "sparse_idx", "SPARSE_INVERTED_INDEX"),
]


def render(width: int, draw: object) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, markup=False, highlight=False, emoji=False)
    out = Output(console=console, stdout=buffer, stderr=io.StringIO())
    draw(out)  # type: ignore[operator]
    return buffer.getvalue()


def test_the_footprint_table_fits_80_columns_without_cutting_names_or_types() -> None:
    fp = estimate_footprint(SCHEMA, rows=1_234_567, indexes=INDEXES, samples={"title": [40, 60]})
    screen = render(80, lambda out: show_footprint(out, fp))
    table = [line for line in screen.splitlines() if line.split() and line.split()[0] in {f.name for f in FIELDS}]
    assert len(table) == len(FIELDS), screen
    assert "…" not in screen
    for field in fp.fields:
        name_and_type = f"{field.name}"
        assert any(line.startswith(name_and_type + " ") for line in screen.splitlines()), field.name
        assert field.dtype.milvus_name in screen, field.dtype.milvus_name
    assert all(len(line.rstrip()) <= 80 for line in screen.splitlines())
    header = next(line for line in screen.splitlines() if line.startswith("field"))
    assert "resident" in header and "type" in header, "essential columns stay; lesser ones go"
    prose = " ".join(screen.split())
    assert "sampled sizes: title" in prose, "the totals say which sizes were sampled"
    assert re.search(
        r"schema range \S+ \w?i?B\.\.\S+ \w?i?B not sampled: sparse_embedding, categories, \$meta", prose
    ), "and which are schema ranges, with the interval they make"


def test_the_status_table_fits_80_columns_and_marks_schema_ranges() -> None:
    listed = [
        {
            "name": "a_rather_long_collection_name_for_tests",
            "state": "NOT_LOAD",
            "percent": 0,
            "rows": 12_345_678,
            "estimated_bytes": 40_000_000,
            "estimated_from": "schema range",
        },
        {
            "name": "books",
            "state": "LOADED",
            "percent": 100,
            "rows": 20_000,
            "estimated_bytes": 11_000_000,
            "estimated_from": "sampled",
        },
    ]
    screen = render(80, lambda out: show_status(out, "http://localhost:19530", listed))
    assert "…" not in screen
    assert "a_rather_long_collection_name_for_tests" in screen and "NOT_LOAD" in screen
    assert "38.1 MiB *" in screen and "10.5 MiB *" not in screen
    assert "* text/JSON not sampled" in screen


def test_lesser_columns_are_dropped_first() -> None:
    columns = [Column("name"), Column("a", drop=1), Column("b", drop=2), Column("size", True)]
    rows = [["x" * 30, "y" * 20, "z" * 20, "1.0 MiB"]]
    assert fit_columns(columns, rows, 200) == [0, 1, 2, 3]
    assert fit_columns(columns, rows, 70) == [0, 1, 3], "the highest drop number goes first"
    assert fit_columns(columns, rows, 40) == [0, 3]
    assert fit_columns(columns, rows, 10) == [0, 3], "essential columns are never dropped"


# -- ETA ----------------------------------------------------------------------------------------


def test_eta_is_unknown_until_the_rate_is_known_then_counts_down() -> None:
    schedule = PollSchedule(PollingConfig(), started_at=0.0)
    schedule.observe(0.0, 0)
    assert schedule.eta(0.5) is None
    schedule.observe(2.0, 20)  # 10 %/s: done at 10 s
    assert schedule.eta(2.0) == pytest.approx(8.0)
    assert schedule.eta(5.0) == pytest.approx(5.0), "counts down between polls"
    assert schedule.eta(11.0) is None, "a passed prediction is unknown, not 0 s"
    schedule.observe(12.0, 100)
    assert schedule.eta(12.0) == 0.0


def test_a_followed_load_has_no_quiet_period_and_no_rate_from_its_first_answer() -> None:
    config = PollingConfig()
    followed = PollSchedule(config, started_at=100.0, followed=True)
    followed.observe(100.0, 33)  # re-attached to a load already at 33 %
    assert followed.eta(100.0) is None, "nothing says how long it took to reach 33 %"
    resubmitted = PollSchedule(config, started_at=100.0)
    resubmitted.observe(100.01, 33)  # a load re-submitted while it ran: the first answer is at once
    assert resubmitted.eta(100.01) is None, "not 'eta 0.0 s'"
    zero = PollSchedule(config, started_at=100.0, phase=TickPhase(1.0), followed=True)
    zero.observe(100.0, 0)
    assert zero.next_poll_at() < 100.0 + config.quiet_period, "a followed load may move at any tick"
    own = PollSchedule(config, started_at=100.0, phase=TickPhase(1.0))
    own.observe(100.0, 0)
    assert own.next_poll_at() >= 100.0 + config.quiet_period


def test_every_renderer_says_unknown_and_counts_down() -> None:
    unknown = Progress("books", percent=33, state=LoadState.LOADING, elapsed=1.0, eta=None)
    assert str(unknown).endswith("eta unknown")
    assert describe_progress(unknown).endswith("eta unknown")
    known = Progress("books", percent=50, state=LoadState.LOADING, elapsed=2.0, eta=4.0)
    assert str(known).endswith("eta 4.0s")
    assert eta_note(10.0 + 4.0, now=10.0) == "eta 4 s"
    assert eta_note(10.0 + 4.0, now=12.5) == "eta 2 s", "the bar counts down on its own clock"
    assert eta_note(14.0, now=15.0) == "eta unknown"
    model = ProgressModel()
    model.update(known, now=10.0)
    assert model.view(10.0).detail.endswith("ETA 4.0 s")
    assert model.view(12.0).detail.endswith("ETA 2.0 s")
    assert model.view(15.0).detail.endswith("ETA unknown"), "passed: unknown, not 0.0 s"
    model.update(unknown, now=16.0)
    assert model.view(16.0).detail.endswith("ETA unknown")
