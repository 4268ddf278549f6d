"""Notebook widgets, headless: the pure models, then LoadPanel / CollectionsBoard / the LoadTask display
clicked through the ipywidgets API on real servers (Milvus Lite; Milvus 2.3.5 standalone for real
progress, loads started elsewhere and a failing load).

Widgets run on asyncio only (ipywidgets and Jupyter kernels live on asyncio), so every async test here
runs on the asyncio backend alone, unlike the rest of the suite.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import anyio
import pytest

import asyncload
from asyncload import DataType, FieldSchema, LoadState, Progress
from asyncload._schema import CollectionSchema, IndexInfo
from asyncload.footprint import ClusterMemory, FitVerdict, NodeMemory, estimate_footprint, fit_verdict
from asyncload.testing import MilvusStandalone

from ._data import drop_collection, make_collection

pytest.importorskip(
    "ipywidgets", reason="the notebook widgets need ipywidgets: pip install 'asyncload-milvus[jupyter]'"
)

from asyncload import widgets
from asyncload._format import format_seconds
from asyncload.widgets import runtime
from asyncload.widgets.model import ProgressModel, Throttle

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Widgets live on the kernel's asyncio loop: asyncio only (overrides the suite's asyncio+trio)."""
    return "asyncio"


# --------------------------------------------------------------------------------- pure models


def _schema(dynamic: bool = True) -> CollectionSchema:
    return CollectionSchema(
        name="books",
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, dim=128),
            FieldSchema("title", DataType.VARCHAR, max_length=256),
            FieldSchema("score", DataType.FLOAT),
        ),
        enable_dynamic_field=dynamic,
    )


def _selection(rows: int = 10_000, dynamic: bool = True) -> widgets.Selection:
    index = IndexInfo("vec", "vec", "FLAT", "L2")
    return widgets.Selection(estimate_footprint(_schema(dynamic), rows=rows, indexes=[index]))


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (None, 0, 3.21, 75, 4000)] == ["?", "0.0 s", "3.2 s", "1 min 15 s", "1 h 06 min"]


def test_progress_model_is_monotone_and_a_failure_stays_red() -> None:
    model = ProgressModel()
    assert (model.view(0).percent, model.view(0).label) == (0, "Not loaded")
    model.update(Progress("c", percent=40, state=LoadState.LOADING, elapsed=2.0, eta=3.0), now=10.0)
    view = model.view(11.0)
    assert (view.percent, view.style, view.label) == (40, "info", "Loading")
    assert view.detail == "elapsed 3.0 s, ETA 2.0 s", "elapsed counts on, the ETA counts down between snapshots"
    model.update(Progress("c", percent=30, state=LoadState.LOADING, elapsed=2.5), now=10.5)
    assert model.view(11.0).percent == 40, "never backwards"
    model.fail("LoadFailedError: deny to load, insufficient memory")
    model.update(Progress("c", percent=100, state=LoadState.LOADED), now=12.0)
    failed = model.view(12.0)
    assert (failed.style, failed.label, failed.failed) == ("danger", "Failed", True)
    assert "insufficient memory" in failed.detail and "Failed" in failed.text()
    model.reset("Loading")
    model.update(Progress("c", percent=100, state=LoadState.LOADED, elapsed=4.0), now=13.0)
    done = model.view(14.0)
    assert (done.percent, done.style, done.label, done.finished) == (100, "success", "Loaded", True)
    assert done.text().startswith("[##########] 100%  Loaded")


def test_throttle_with_a_fake_clock() -> None:
    throttle = Throttle(0.2)
    renders = [t for t in (x / 100 for x in range(100)) if throttle.due(t)]
    assert len(renders) == 5 and renders[0] == 0.0, "one render per 0.2 s over one second"
    assert throttle.wait_time(renders[-1] + 0.05) == pytest.approx(0.15)
    assert throttle.due(0.85, final=True), "the final render always goes through"
    with pytest.raises(ValueError, match="interval"):
        Throttle(-1)


def test_selection_rules_and_totals() -> None:
    sel = _selection()
    assert [f.name for f in sel.declared] == ["id", "vec", "title", "score"] and sel.has_dynamic
    assert sel.locked("id") and not sel.locked("vec")
    assert sel.select("id", False) is True, "the primary key stays selected"
    everything = sel.total_bytes()
    assert everything == sel.all_bytes()
    assert sel.load_options() == asyncload.LoadOptions(
        load_fields=None, skip_load_dynamic_field=False, replica_number=1
    )

    sel.select("title", False)
    assert sel.total_bytes() == everything - sel.field_bytes("title")
    sel.skip_dynamic = True
    assert not sel.selected("$meta")
    assert sel.total_bytes() == everything - sel.field_bytes("title") - sel.field_bytes("$meta")
    assert sel.load_options() == asyncload.LoadOptions(
        load_fields=["id", "vec", "score"], skip_load_dynamic_field=True, replica_number=1
    )
    sel.replicas = 3
    assert sel.all_bytes() == 3 * everything
    assert sel.field_bytes("vec") == 3 * 10_000 * 128 * 4

    sel.select("vec", False)
    problem = sel.problem()
    assert problem is not None and "vector field" in problem and "vec" in problem
    sel.set_fields(["vec"])
    assert sel.problem() is None and sel.load_options().load_fields == ("id", "vec")
    with pytest.raises(ValueError, match="skip_dynamic"):
        sel.select("$meta")


def _memory(total: int, used: int = 0) -> ClusterMemory:
    return ClusterMemory((NodeMemory("querynode", 1, "127.0.0.1", total, used),), True)


def test_selection_interval_and_peak_totals_match_the_estimator() -> None:
    schema, index = _schema(), IndexInfo("vec", "vec", "FLAT", "L2")
    sel = _selection()
    assert sel.range_fields() == ("title", "$meta"), "not sampled: schema ranges"
    title = next(f for f in sel.fields if f.name == "title")
    assert title.is_range and title.basis == "schema range" and title.low_bytes < title.bytes < title.high_bytes
    for fields, skip, replicas in [(None, False, 1), (["id", "vec", "score"], True, 2), (["id", "vec"], False, 3)]:
        if fields is not None:
            sel.set_fields(fields)
        sel.skip_dynamic, sel.replicas = skip, replicas
        fp = estimate_footprint(
            schema,
            rows=10_000,
            indexes=[index],
            load_fields=fields,
            skip_load_dynamic_field=skip,
            replica_number=replicas,
        )
        assert sel.total_bytes() == fp.total_selected
        assert sel.total_range() == (fp.total_low, fp.total_high)
        # the estimator rounds the overhead's peak share up once for all replicas: a byte a replica
        assert 0 <= sel.peak_bytes() - fp.peak_bytes < replicas
        low, high = sel.peak_range()
        assert 0 <= low - fp.peak_low_bytes < replicas and 0 <= high - fp.peak_high_bytes < replicas
        assert sel.range_fields() == fp.range_fields
        for memory in (_memory(10**8), _memory(fp.peak_bytes * 2), _memory(10**12), ClusterMemory.unknown("Lite")):
            assert sel.fit(memory).verdict is fit_verdict(fp, memory).verdict, (fields, replicas, memory)
    sel.skip_dynamic = True
    assert sel.range_fields() == () and sel.total_range()[0] == sel.total_range()[1], "id, vec without $meta: exact"


def test_selection_fit_turns_as_the_selection_grows() -> None:
    sel = _selection()
    sel.set_fields(["id", "vec"])
    sel.skip_dynamic = True
    small = sel.peak_bytes()
    memory = _memory(int(small * 1.5 / 0.9))  # room for this selection, not for 2 replicas of it
    assert sel.fit(memory).verdict is FitVerdict.FITS
    sel.replicas = 2
    assert sel.fit(memory).verdict is FitVerdict.DOES_NOT_FIT, "2 replicas on one query node"
    assert sel.fit(ClusterMemory.unknown("GetMetrics unimplemented")).verdict is FitVerdict.UNKNOWN


def test_selection_needs_a_one_replica_estimate() -> None:
    with pytest.raises(ValueError, match="one-replica"):
        widgets.Selection(estimate_footprint(_schema(), rows=10, replica_number=2))


# ------------------------------------------------------------------- optional dependency, reprs


def test_importing_the_widgets_needs_no_ipywidgets_and_using_them_says_how_to_install() -> None:
    script = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "import asyncload.widgets as w\n"
        "try:\n"
        "    w.ProgressBar()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "pip install 'asyncload-milvus[jupyter]'" in out and "ipywidgets" in out


async def test_a_task_outside_a_notebook_stays_text(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        task = await client.load_collection("books")
        assert task._repr_mimebundle_() is None, "no kernel: IPython falls back to the text repr"
        assert repr(task).startswith("<LoadTask books LOADED 100%")


async def test_a_task_in_a_kernel_renders_a_live_widget(lite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "in_kernel", lambda: True)
    monkeypatch.setattr("asyncload.widgets.progress.in_kernel", lambda: True)
    async with asyncload.connect(lite) as client:
        task = await client.load_collection("books")
        bundle = task._repr_mimebundle_()
        assert bundle is not None and "application/vnd.jupyter.widget-view+json" in bundle
        assert bundle["text/plain"] == repr(task)

        display = widgets.TaskProgress(task)
        await display.settled()
        assert (display.bar.bar.value, display.bar.bar.bar_style, display.bar.state_text) == (100, "success", "Loaded")
        assert isinstance(display.outcome, Progress) and display.outcome.loaded
        assert "Loaded" in repr(display)

        monkeypatch.setattr("asyncload.widgets.progress.widgets_available", lambda: False)
        hint = task._repr_mimebundle_()
        assert hint is not None and "asyncload-milvus[jupyter]" in hint["text/plain"]


def test_widgets_refuse_to_run_without_an_asyncio_loop() -> None:
    with pytest.raises(RuntimeError, match="asyncio"):
        runtime.require_asyncio("LoadPanel")


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_widgets_refuse_trio_clearly(anyio_backend: str) -> None:
    with pytest.raises(RuntimeError, match="asyncio, the event loop of Jupyter kernels, not on trio"):
        runtime.require_asyncio("LoadPanel")


# -------------------------------------------------------------------------------- Milvus Lite


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[str]:
    """A Milvus Lite path holding 'books' (FLAT index, dynamic field) and 'papers' (no dynamic field), not loaded."""
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "lite.db")
    uri = server_manager_instance.start_and_get_uri(path)
    make_collection(uri, None, "books", rows=2_000, dim=32)
    make_collection(uri, None, "papers", rows=500, dim=8, dynamic=False)
    yield path
    server_manager_instance.release_server(path)


async def test_panel_checkbox_rules_and_live_totals(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        panel = await widgets.LoadPanel.create(client, "books")
        assert set(panel.checkboxes) == {"id", "vec", "title", "score"}
        assert all(box.value for box in panel.checkboxes.values())
        pk = panel.checkboxes["id"]
        assert pk.disabled and pk.value and "primary key" in pk.description
        pk.value = False
        assert pk.value, "the primary key snaps back: always selected"

        full = await client.footprint("books")
        everything = full.attrs["total_all"]
        assert panel.selection.total_bytes() == everything == panel.selection.all_bytes()
        assert asyncload.footprint.human_bytes(everything) in panel.total_label.value
        assert "$meta" in panel.cost_labels

        panel.checkboxes["title"].value = False
        partial = await client.footprint("books", load_fields=["id", "vec", "score"])
        assert panel.selection.total_bytes() == partial.attrs["total_selected"]
        panel.skip_dynamic.value = True
        skipped = await client.footprint("books", load_fields=["id", "vec", "score"], skip_load_dynamic_field=True)
        assert panel.selection.total_bytes() == skipped.attrs["total_selected"]
        selected = asyncload.footprint.human_bytes(skipped.attrs["total_selected"])
        assert f"<b>{selected}</b> of {asyncload.footprint.human_bytes(everything)}" in panel.total_label.value
        panel.replicas.value = 2
        assert panel.selection.total_bytes() == 2 * skipped.attrs["total_selected"]
        assert "x2 replicas" in panel.total_label.value
        panel.replicas.value = 1

        assert not panel.load_button.disabled and panel.message_label.value == ""
        panel.checkboxes["vec"].value = False
        assert panel.load_button.disabled, "no vector field: Load disabled"
        assert "at least one vector field" in panel.message_label.value
        assert await panel.load() is None, "and load() refuses too"
        assert client.statistics().rpcs.get("LoadCollection", 0) == 0
        panel.checkboxes["vec"].value = True
        assert not panel.load_button.disabled and panel.message_label.value == ""
        assert "Not loaded" in repr(panel)


async def test_panel_shows_schema_ranges_and_the_fit_verdict_unknown_on_lite(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        panel = await widgets.LoadPanel.create(client, "books")
        fp = await client.footprint_estimate("books")
        title = fp.field("title")
        assert title.is_range, "not loaded: nothing to sample"
        human = asyncload.footprint.human_bytes
        cost = panel.cost_labels["title"].value
        assert f"{human(title.low_bytes)} \u2013 {human(title.high_bytes)}" in cost
        assert "schema range" in cost and "sampling needs a loaded collection" in cost
        assert f"{human(fp.total_low)} \u2013 {human(fp.total_high)}" in panel.total_label.value
        assert "schema range: title, $meta not sampled" in panel.range_label.value
        vec = panel.cost_labels["vec"].value
        assert "\u2013" not in vec and human(fp.field("vec").bytes) in vec, "fixed width: one number"
        assert not panel.memory.known and panel.fit_text == "unknown"
        assert "fits? unknown" in panel.fit_label.value and "GetMetrics unimplemented" in panel.fit_label.value
        assert "#c62828" not in panel.fit_label.value

        # the verdict is computed locally from the memory read at create: no RPC a click
        metrics = client.statistics().rpcs.get("GetMetrics", 0)
        panel.checkboxes["title"].value = False
        panel.skip_dynamic.value = True
        assert "\u2013" not in panel.total_label.value, "no range field selected: one number"
        assert panel.range_label.value == ""
        assert human(panel.selection.total_bytes()) in panel.total_label.value
        # a fake small free memory: this selection fits one replica, not three
        peak = panel.selection.peak_bytes()
        panel.memory = ClusterMemory((NodeMemory("querynode", 1, "", int(peak * 1.5 / 0.9), 0),) * 2, True)
        panel.replicas.value = 2
        assert panel.fit_text == "fits" and "#c62828" not in panel.fit_label.value
        panel.replicas.value = 3
        assert panel.fit_text == "does not fit" and panel.fit.verdict is FitVerdict.DOES_NOT_FIT
        assert "#c62828" in panel.fit_label.value, "red when the selection will not fit"
        assert "free" in panel.fit_label.value
        panel.replicas.value = 1
        assert panel.fit_text == "fits"
        assert client.statistics().rpcs.get("GetMetrics", 0) == metrics
        panel.close()


async def test_board_marks_schema_ranges_and_shows_the_verdict(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        board = await widgets.CollectionsBoard.create(client)
        books = board.rows["books"]
        assert " *" in books.memory_label.value and "schema range" in books.memory_label.value
        assert books.fit_text == "unknown" and "unknown" in books.fit_label.value
        task = await client.load_collection("papers")
        await task
        await board.settled()
        assert board.rows["papers"].fit_text == "loaded" and "loaded" in board.rows["papers"].fit_label.value
        await board.refresh()
        assert board.rows["papers"].fit_text == "loaded"
        board.close()


async def test_panel_load_and_release_by_clicking(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        panel = await widgets.LoadPanel.create(client, "books")
        assert (panel.state, panel.state_text, panel.progress.bar.value) == (LoadState.NOT_LOAD, "Not loaded", 0)
        assert panel.release_button.disabled, "nothing to release"
        panel.checkboxes["title"].value = False
        panel.skip_dynamic.value = True

        panel.load_button.click()
        assert panel.background.busy, "the click returns at once; the load runs in the background"
        await panel.settled()
        assert panel.last_error is None, panel.error_label.value
        assert (panel.progress.bar.value, panel.progress.bar.bar_style) == (100, "success")
        assert panel.state_text == "Loaded" and panel.state is LoadState.LOADED
        assert "Loaded" in panel.progress.state_label.value
        assert await client.get_load_state("books") is LoadState.LOADED
        assert panel.task is not None and panel.task.done()
        assert client.statistics().rpcs["LoadCollection"] == 1
        assert not panel.release_button.disabled

        panel.release_button.click()
        await panel.settled()
        assert await client.get_load_state("books") is LoadState.NOT_LOAD
        assert (panel.state, panel.state_text, panel.progress.bar.value) == (LoadState.NOT_LOAD, "Released", 0)
        assert panel.release_button.disabled and not panel.load_button.disabled
        panel.close()


async def test_panel_shows_the_state_it_finds(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        await client.load_collection("papers")
        panel = await widgets.LoadPanel.create(client, "papers")
        assert (panel.state_text, panel.progress.bar.value, panel.progress.bar.bar_style) == ("Loaded", 100, "success")
        assert panel.skip_dynamic.disabled, "no dynamic field to skip"
        assert "$meta" not in panel.cost_labels
        with pytest.raises(asyncload.CollectionNotFoundError):
            await widgets.LoadPanel.create(client, "nope")


async def test_panel_shows_a_failed_load_in_red(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        from milvus_lite.server_manager import server_manager_instance

        panel = await widgets.LoadPanel.create(client, "books")
        uri = server_manager_instance.start_and_get_uri(lite)  # the running server for that path
        drop_collection(uri, None, "books")  # the collection goes away under the open panel
        panel.load_button.click()
        await panel.settled()
        assert isinstance(panel.last_error, asyncload.CollectionNotFoundError)
        assert "color:#c62828" in panel.error_label.value and "CollectionNotFoundError" in panel.error_label.value
        assert (panel.progress.bar.bar_style, panel.state_text) == ("danger", "Failed")
        assert not panel.load_button.disabled, "the panel stays usable"


async def test_an_unexpected_error_in_a_button_task_is_shown_not_swallowed(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        panel = await widgets.LoadPanel.create(client, "books")

        async def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("boom")

        cast(Any, panel).client = type("Broken", (), {"load_collection": broken})()
        panel.load_button.click()
        await panel.settled()
        assert isinstance(panel.last_error, RuntimeError) and "boom" in panel.error_label.value


async def test_board_lists_loads_and_releases(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        await client.load_collection("papers")
        board = await widgets.CollectionsBoard.create(client)
        assert list(board.rows) == ["books", "papers"]
        books, papers = board.rows["books"], board.rows["papers"]
        assert (books.state, papers.state) == (LoadState.NOT_LOAD, LoadState.LOADED)
        assert papers.progress.bar.value == 100 and papers.load_button.disabled
        estimate = await client.footprint_estimate("books")
        assert asyncload.footprint.human_bytes(estimate.total_all) in books.memory_label.value
        assert "2 collections, 1 loaded" in board.status_label.value

        books.load_button.click()
        await board.settled()
        assert (books.progress.bar.value, books.progress.state_text) == (100, "Loaded")
        assert await client.get_load_state("books") is LoadState.LOADED
        papers.release_button.click()
        await board.settled()
        assert await client.get_load_state("papers") is LoadState.NOT_LOAD
        assert papers.progress.state_text == "Not loaded"

        board.refresh_button.click()
        await board.settled()
        assert "2 collections, 1 loaded" in board.status_label.value and board.errors == []
        assert "books: Loaded" in repr(board)
        board.close()


# ------------------------------------------------- widgets that are widgets, and a live board


def summary_of_rows(board: Any) -> str:
    """What the summary line must say, counted from the rows."""
    states = [row.state for row in board.rows.values()]
    loaded, loading = states.count(LoadState.LOADED), states.count(LoadState.LOADING)
    return f"{len(states)} collections, {loaded} loaded" + (f", {loading} loading" if loading else "")


def check_board(board: Any) -> None:
    """The summary agrees with the rows, each row's label with its state, its buttons with both."""
    assert f">{summary_of_rows(board)}<" in board.status_label.value, (board.status_label.value, board.rows)
    for row in board.rows.values():
        active = row.state in (LoadState.LOADING, LoadState.LOADED)
        assert row.load_button.disabled == (active or row.submitting or row.releasing or row.state is None), row
        assert row.release_button.disabled == (row.releasing or not (active or row.submitting)), row
        if row.state is LoadState.LOADED:
            assert (row.state_text, row.progress.bar.value) == ("Loaded", 100), row
        elif row.state is LoadState.NOT_LOAD:
            assert row.state_text in ("Not loaded", "Released", "Failed"), row
        elif row.state is LoadState.LOADING:
            assert row.state_text.startswith("Loading"), row


def checked_at_every_event(client: asyncload.AsyncClient, board: Any) -> list[asyncload.LoadEvent]:
    """Subscribe after the board (listeners run in order): at every event the board has already
    followed it, and must agree with itself."""
    events: list[asyncload.LoadEvent] = []

    def check(event: asyncload.LoadEvent) -> None:
        events.append(event)
        check_board(board)
        row = board.rows[event.collection]
        if event.kind is asyncload.LoadEventKind.SUBMITTED:
            assert row.state is LoadState.LOADING and row.load_button.disabled and not row.release_button.disabled
        elif event.loaded:
            assert row.state is LoadState.LOADED and row.load_button.disabled and not row.release_button.disabled
        elif event.kind is asyncload.LoadEventKind.RELEASED and not event.partitions:
            assert row.state is LoadState.NOT_LOAD and row.release_button.disabled
            assert not row.load_button.disabled or row.releasing

    client.subscribe(check)
    return events


def model_ids(widget: Any) -> list[str]:
    return [child.removeprefix("IPY_MODEL_") for child in widget.get_state()["children"]]


async def test_panels_and_a_board_compose_in_vbox_tab_and_applayout(lite: str) -> None:
    import ipywidgets

    async with asyncload.connect(lite) as client:
        books = await widgets.LoadPanel.create(client, "books")
        papers = await widgets.LoadPanel.create(client, "papers")
        board = await widgets.CollectionsBoard.create(client)
        assert isinstance(books, ipywidgets.VBox) and isinstance(board, ipywidgets.VBox)
        assert isinstance(board.rows["books"], ipywidgets.HBox) and isinstance(books.progress, ipywidgets.HBox)

        column = ipywidgets.VBox([books, board])
        tab = ipywidgets.Tab(children=[books, papers])
        tab.set_title(0, "books")
        tab.set_title(1, "papers")
        layout = ipywidgets.AppLayout(header=ipywidgets.HTML("<b>asyncload</b>"), center=board, right_sidebar=papers)
        for container in (column, tab, layout):
            bundle = container._repr_mimebundle_()
            assert "application/vnd.jupyter.widget-view+json" in bundle, "renders as a widget"
        assert model_ids(column) == [books.model_id, board.model_id], "the panel and board are the children"
        assert model_ids(tab) == [books.model_id, papers.model_id] and tab.get_state()["titles"] == ("books", "papers")
        assert board.model_id in model_ids(layout) and papers.model_id in model_ids(layout)
        assert books.progress.model_id in model_ids(books), "the bar is one of the panel's children"
        assert books._repr_mimebundle_()["text/plain"] == repr(books), "the panel's own text repr stays"

        values: list[int] = []
        papers.progress.bar.observe(lambda change: values.append(change["new"]), names="value")
        tab.selected_index = 1
        tab.children[1].load_button.click()  # the Load button of the panel inside the Tab
        await papers.settled()
        assert papers.last_error is None, papers.error_label.value
        assert values and values[-1] == 100 and papers.progress.bar.value == 100
        assert (papers.state, papers.state_text, papers.progress.bar.bar_style) == (
            LoadState.LOADED,
            "Loaded",
            "success",
        )
        assert board.rows["papers"].state_text == "Loaded", "the board in the same page followed the panel's load"
        check_board(board)
        assert await client.get_load_state("papers") is LoadState.LOADED
        for widget in (column, tab, layout, books, papers, board):
            widget.close()


async def test_the_board_follows_loads_and_releases_made_through_the_client(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        board = await widgets.CollectionsBoard.create(client)
        events = checked_at_every_event(client, board)
        books, papers = board.rows["books"], board.rows["papers"]
        check_board(board)
        assert (books.state, papers.state) == (LoadState.NOT_LOAD, LoadState.NOT_LOAD)
        assert "2 collections, 0 loaded" in board.status_label.value

        task = await client.load_collection("books")  # another cell, not the board
        assert (books.state, books.state_text, books.progress.bar.value) == (LoadState.LOADED, "Loaded", 100)
        assert books.load_button.disabled and not books.release_button.disabled
        assert "2 collections, 1 loaded" in board.status_label.value
        await client.load_collection("papers", load_fields=["id", "vec"])
        assert "2 collections, 2 loaded" in board.status_label.value

        await task.release()
        assert (books.state, books.state_text, books.progress.bar.value) == (LoadState.NOT_LOAD, "Not loaded", 0)
        assert books.release_button.disabled and not books.load_button.disabled
        assert "2 collections, 1 loaded" in board.status_label.value
        await client.release_collection("papers")
        assert "2 collections, 0 loaded" in board.status_label.value

        papers.load_button.click()  # the board's own buttons go the same way
        await board.settled()
        assert papers.state is LoadState.LOADED and "2 collections, 1 loaded" in board.status_label.value
        papers.release_button.click()
        assert papers.release_button.disabled and papers.load_button.disabled, "no second click while releasing"
        await board.settled()
        assert papers.state is LoadState.NOT_LOAD and not papers.load_button.disabled
        assert len(events) == 9 and board.errors == [], "2 loads x 2 events, 1 x 2 by the board, 3 releases"
        check_board(board)

        from milvus_lite.server_manager import server_manager_instance

        make_collection(server_manager_instance.start_and_get_uri(lite), None, "late", rows=100, dim=8)
        await client.load_collection("late")  # created after the board read the collections
        assert list(board.rows) == ["books", "papers", "late"] and board.rows["late"].state is LoadState.LOADED
        assert [getattr(r, "name", None) for r in board.table.children[1:]] == ["books", "late", "papers"]
        assert "3 collections, 1 loaded" in board.status_label.value
        await board.settled()
        assert board.rows["late"].memory_label.value, "its memory was read too"
        check_board(board)

        board.close()
        await client.load_collection("books")
        assert books.state is LoadState.NOT_LOAD, "a closed board listens no more"


async def test_a_panel_follows_loads_and_releases_made_through_the_client(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        panel = await widgets.LoadPanel.create(client, "books")
        other = await widgets.LoadPanel.create(client, "papers")
        task = await client.load_collection("books")  # another cell
        assert panel.state is LoadState.LOADING and panel.task is task and not panel.release_button.disabled
        await panel.settled()
        assert (panel.state, panel.state_text, panel.progress.bar.value) == (LoadState.LOADED, "Loaded", 100)
        assert other.state is LoadState.NOT_LOAD, "another collection's load is not this panel's"
        await client.release_collection("books")
        assert (panel.state, panel.state_text, panel.progress.bar.value) == (LoadState.NOT_LOAD, "Not loaded", 0)
        assert panel.release_button.disabled and not panel.load_button.disabled
        panel.load_button.click()  # its own load is followed once, by its own action
        await panel.settled()
        assert panel.state is LoadState.LOADED and panel.last_error is None
        assert client.statistics().rpcs["LoadCollection"] == 2
        panel.close()
        await client.release_collection("books")
        assert panel.state is LoadState.LOADED, "a closed panel listens no more"


async def test_board_rows_have_fixed_widths_and_never_wrap(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        board = await widgets.CollectionsBoard.create(client)
        row = board.rows["books"]
        row.set_state(LoadState.LOADING, 40, label="Loading elsewhere")
        cells = [row.name_label, row.memory_label, row.load_button, row.release_button]
        cells += list(row.progress.children[:-1])
        for cell in cells:
            width = cell.layout.width
            assert width and cell.layout.min_width == width == cell.layout.max_width, (cell, width)
        for last in (row.progress, row.progress.detail_label):  # the room left, cut rather than wrapped
            assert (last.layout.flex, last.layout.min_width, last.layout.overflow) == ("1 1 auto", "0", "hidden")
        assert row.layout.flex_flow == "row nowrap" and row.progress.layout.flex_flow == "row nowrap"
        for label in (row.name_label, row.memory_label, row.progress.state_label, row.progress.detail_label):
            assert "white-space: nowrap" in label.value, label.value
        assert "Loading elsewhere" in row.progress.state_label.value
        head = board.table.children[0]
        assert [c.layout.width for c in head.children[:2]] == [
            row.name_label.layout.width,
            row.memory_label.layout.width,
        ]
        check_board(board)


def test_a_task_shown_in_a_kernel_brings_in_the_widgets_the_engine_does_not_import(tmp_path: Path) -> None:
    """The engine holds a display hook that asyncload.widgets fills when imported; shown in a kernel
    before that, a LoadTask imports the widgets package by name (still not ipywidgets outside a shell)."""
    script = (
        "import sys, types, anyio, asyncload, asyncload._tasks as tasks\n"
        "from milvus_lite.server_manager import server_manager_instance\n"
        "from tests._data import make_collection\n"
        "path = sys.argv[1]\n"
        "make_collection(server_manager_instance.start_and_get_uri(path), None, 'books', rows=100, dim=8)\n"
        "async def main():\n"
        "    async with asyncload.connect(path) as client:\n"
        "        task = await client.load_collection('books')\n"
        "        print(task._repr_mimebundle_(), 'asyncload.widgets' in sys.modules)\n"
        "        sys.modules['ipykernel'] = types.ModuleType('ipykernel')\n"
        "        print(task._repr_mimebundle_(), 'asyncload.widgets' in sys.modules, tasks._display_hook is not None)\n"
        "        print('ipywidgets' in sys.modules)\n"
        "anyio.run(main)\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "lite.db")], capture_output=True, text=True, check=True, cwd=root
    ).stdout.splitlines()
    assert out == ["None False", "None True True", "False"], out


async def test_a_client_opened_in_one_cell_closes_in_another(lite: str) -> None:
    """ipykernel runs each cell as its own asyncio task; the client's task group must still close."""
    loop = asyncio.get_running_loop()
    client = await loop.create_task(widgets.open_client(lite))
    opened = client.state
    task = await loop.create_task(client.load_collection("books"))
    assert (await loop.create_task(task.wait())).loaded
    await loop.create_task(widgets.close_client(client))
    assert (opened, client.state) == (asyncload.ClientState.OPEN, asyncload.ClientState.CLOSED)
    await widgets.close_client(client)  # idempotent

    with pytest.raises(asyncload.InvalidArgumentError):
        await widgets.open_client(lite, timeout=-1)
    with pytest.raises(asyncload.AsyncLoadError):  # a failure while opening reaches the caller
        await widgets.open_client("/proc/no-such-dir/lite.db")


# ------------------------------------------------------------------- Milvus 2.3.5 standalone


@pytest.fixture(scope="module")
def standalone(milvus_standalone: MilvusStandalone) -> Iterator[MilvusStandalone]:
    """'wslow': 60,000 x 128-d in 4 segments (loads through intermediate percentages in ~6 s), 'wsmall',
    'wparts' (partitions p1, p2)."""
    uri, token = milvus_standalone.uri, milvus_standalone.token
    make_collection(uri, token, "wslow", rows=60_000, dim=128, segments=4)
    make_collection(uri, token, "wsmall", rows=1_000, dim=16)
    make_collection(uri, token, "wparts", rows=2_000, dim=16, partitions=("p1", "p2"))
    yield milvus_standalone
    for name in ("wslow", "wsmall", "wparts"):
        drop_collection(uri, token, name)


@pytest.fixture
async def remote(standalone: MilvusStandalone) -> AsyncIterator[asyncload.AsyncClient]:
    async with asyncload.connect(standalone.uri, token=standalone.token) as client:
        yield client
        for name in ("wslow", "wsmall", "wparts"):
            await client.release_collection(name)


@pytest.mark.standalone
async def test_panel_bar_moves_through_the_load_to_100(remote: asyncload.AsyncClient) -> None:
    panel = await widgets.LoadPanel.create(remote, "wslow", interval=0.05)
    values: list[int] = []
    details: list[str] = []
    panel.progress.bar.observe(lambda change: values.append(change["new"]), names="value")
    panel.progress.detail_label.observe(lambda change: details.append(change["new"]), names="value")
    started = anyio.current_time()
    panel.load_button.click()
    await anyio.sleep(0.2)
    assert panel.load_button.disabled and panel.state_text == "Loading", "running in the background"
    await panel.settled()
    assert panel.last_error is None, panel.error_label.value
    assert values == sorted(values) and values[-1] == 100, values
    assert any(0 < v < 100 for v in values), f"no intermediate percentage: {values}"
    assert any("ETA" in d and "elapsed" in d for d in details)
    assert (panel.state_text, panel.progress.bar.bar_style) == ("Loaded", "success")
    assert await remote.get_load_state("wslow") is LoadState.LOADED
    assert panel.progress.renders <= 2 * (anyio.current_time() - started) / 0.05 + 10, "renders are throttled"


@pytest.mark.standalone
async def test_panel_reads_the_real_query_node_memory_and_judges_the_selection(remote: asyncload.AsyncClient) -> None:
    panel = await widgets.LoadPanel.create(remote, "wsmall")
    memory = await remote.query_node_memory()
    assert panel.memory.known and len(panel.memory.nodes) == len(memory.nodes) == 1
    assert panel.memory.total_bytes == memory.total_bytes > 0
    fit = await remote.footprint_fit(await remote.footprint_estimate("wsmall"))
    assert panel.fit_text == fit.verdict.value == "fits", fit.reason
    assert "fits? fits" in panel.fit_label.value and "free" in panel.fit_label.value
    panel.replicas.value = 2
    assert panel.fit_text == "does not fit" and "#c62828" in panel.fit_label.value, "2 replicas, 1 query node"
    panel.close()


@pytest.mark.standalone
async def test_panel_release_stops_a_load_in_progress(remote: asyncload.AsyncClient) -> None:
    panel = await widgets.LoadPanel.create(remote, "wslow")
    moving = anyio.Event()

    def on_value(change: dict[str, Any]) -> None:
        if change["new"] > 0:
            moving.set()

    panel.progress.bar.observe(on_value, names="value")
    panel.load_button.click()
    with anyio.fail_after(30):
        await moving.wait()
    panel.release_button.click()
    await panel.settled()
    assert panel.last_error is None, "a release asked for is not an error"
    assert (panel.state, panel.state_text) == (LoadState.NOT_LOAD, "Released")
    assert await remote.get_load_state("wslow") is LoadState.NOT_LOAD


@pytest.mark.standalone
async def test_panel_follows_a_load_started_elsewhere(
    remote: asyncload.AsyncClient, standalone: MilvusStandalone
) -> None:
    async with asyncload.connect(standalone.uri, token=standalone.token) as elsewhere:
        await elsewhere.load_collection("wslow")
        panel = await widgets.LoadPanel.create(remote, "wslow")
        assert panel.state is LoadState.LOADING
        assert panel.state_text == "Loading elsewhere"
        board = await widgets.CollectionsBoard.create(remote)
        assert board.rows["wslow"].progress.state_text in ("Loading elsewhere", "Loaded")
        await panel.settled()
        assert (panel.state, panel.state_text, panel.progress.bar.value) == (LoadState.LOADED, "Loaded", 100)
        await board.settled()
        assert board.rows["wslow"].progress.state_text == "Loaded"


@pytest.mark.standalone
async def test_panel_shows_a_refused_load_in_red(remote: asyncload.AsyncClient) -> None:
    panel = await widgets.LoadPanel.create(remote, "wsmall")
    panel.replicas.value = 2  # one query node: Milvus refuses two replicas
    panel.load_button.click()
    await panel.settled()
    error = panel.last_error
    assert isinstance(error, asyncload.ServerError), error
    assert "color:#c62828" in panel.error_label.value
    assert error.reason in panel.error_label.value.replace("&#x27;", "'")
    assert (panel.progress.bar.bar_style, panel.state_text) == ("danger", "Failed")
    assert panel.state is LoadState.NOT_LOAD and not panel.load_button.disabled


@pytest.mark.standalone
async def test_the_board_follows_a_progressive_load_made_through_the_client(remote: asyncload.AsyncClient) -> None:
    import ipywidgets

    panel = await widgets.LoadPanel.create(remote, "wslow", interval=0.05)
    board = await widgets.CollectionsBoard.create(remote, interval=0.05)
    page = ipywidgets.VBox([panel, board])
    assert model_ids(page) == [panel.model_id, board.model_id]
    events = checked_at_every_event(remote, board)
    row = board.rows["wslow"]
    values: list[int] = []
    row.progress.bar.observe(lambda change: values.append(change["new"]), names="value")

    task = await remote.load_collection("wslow")  # a cell, not the board
    assert (row.state, row.state_text) == (LoadState.LOADING, "Loading")
    assert row.load_button.disabled and not row.release_button.disabled
    check_board(board)  # the standalone is shared by the suite: count from the rows, not "2 collections"
    assert board.status_label.value.count(", 1 loading") == 1
    assert (await task.wait(timeout=120)).loaded
    assert (row.state, row.state_text, row.progress.bar.value) == (LoadState.LOADED, "Loaded", 100)
    assert values == sorted(values) and values[-1] == 100, values
    assert any(0 < v < 100 for v in values), f"the row's bar went through no intermediate percentage: {values}"
    kinds = [e.kind for e in events]
    assert kinds.count(asyncload.LoadEventKind.PROGRESS) >= 1, kinds
    check_board(board)
    assert "loading" not in board.status_label.value
    await remote.release_collection("wslow")
    assert (row.state, row.state_text) == (LoadState.NOT_LOAD, "Not loaded")

    # The panel beside it in the VBox loads; the client (not the panel, not the board) releases mid-load.
    moving = anyio.Event()
    row.progress.bar.observe(lambda change: moving.set() if 0 < change["new"] < 100 else None, names="value")
    panel.load_button.click()
    with anyio.fail_after(60):
        await moving.wait()
    assert row.state is LoadState.LOADING and "1 loading" in board.status_label.value
    await remote.release_collection("wslow")
    assert (row.state, row.state_text, row.progress.bar.value) == (LoadState.NOT_LOAD, "Not loaded", 0)
    await panel.settled()
    await board.settled()
    assert (panel.state, panel.state_text) == (LoadState.NOT_LOAD, "Released")
    assert board.errors == [] and "loading" not in board.status_label.value
    check_board(board)
    assert await remote.get_load_state("wslow") is LoadState.NOT_LOAD


@pytest.mark.standalone
async def test_the_board_shows_a_load_by_another_client_on_refresh_then_follows_it(
    remote: asyncload.AsyncClient, standalone: MilvusStandalone
) -> None:
    board = await widgets.CollectionsBoard.create(remote)
    row = board.rows["wslow"]
    assert row.state is LoadState.NOT_LOAD
    async with asyncload.connect(standalone.uri, token=standalone.token) as elsewhere:
        await elsewhere.load_collection("wslow")
        assert row.state is LoadState.NOT_LOAD, "another client's load tells this client nothing"
        board.refresh_button.click()
        await board.background.settled()
        assert (row.state, row.state_text) == (LoadState.LOADING, "Loading elsewhere")
        assert row.load_button.disabled and not row.release_button.disabled
        check_board(board)
        await board.settled()
        assert (row.state, row.state_text, row.progress.bar.value) == (LoadState.LOADED, "Loaded", 100)
        check_board(board)
        assert "loading" not in board.status_label.value


@pytest.mark.standalone
async def test_the_board_follows_a_partition_load_and_release(remote: asyncload.AsyncClient) -> None:
    board = await widgets.CollectionsBoard.create(remote)
    checked_at_every_event(remote, board)
    row = board.rows["wparts"]
    task = await remote.load_partitions("wparts", ["p1"])
    assert (row.state, row.state_text) == (LoadState.LOADING, "Loading p1")
    assert (await task.wait(timeout=60)).loaded
    assert (row.state, row.state_text) == (LoadState.LOADED, "Loaded")
    await remote.release_partitions("wparts", ["p1"])
    assert row.state is None and row.state_text == "Reading..." and row.load_button.disabled, "asks the server"
    check_board(board)
    await board.settled()
    assert row.state is await remote.get_load_state("wparts"), row
    check_board(board)
