"""CollectionsBoard: every collection of a Milvus with its load state, progress and estimated memory.

The board is live: it subscribes to its client's load events (``client.subscribe``), so every load
and release made through that client, from the board or from any cell, moves its row; a load
started by another client shows on Refresh (or when the board opens) and is then followed by polling
``loading_progress`` until it ends. Each row's state, its buttons and the summary line change
together, in the same callback, so they always agree.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
from typing import TYPE_CHECKING, Any

import anyio

from .._events import LoadEvent, LoadEventKind
from .._footprint.fit import ClusterMemory, Fit, FitVerdict, fit_verdict
from .._format import human_bytes
from .._progress import LoadState, Progress
from ..errors import AsyncLoadError, LoadReleasedError
from .progress import ProgressBar, describe_error, nowrap
from .runtime import Background, missing_ipywidgets, require_asyncio

try:
    import ipywidgets as _w
except ImportError as exc:  # the classes below subclass its boxes: say how to install it
    raise missing_ipywidgets() from exc

if TYPE_CHECKING:
    from .._client import AsyncClient
    from .._tasks import LoadTask

__all__ = ["BoardRow", "CollectionsBoard"]

_RED = "#c62828"
#: Fixed widths of a row's cells (the header uses the same); the progress bar, last, takes the room
#: left (its own cells fixed but the detail line): a row never wraps or shifts.
NAME_WIDTH, MEMORY_WIDTH, FIT_WIDTH, BUTTON_WIDTH = "12em", "6.5em", "6.5em", "5.5em"
_FIT_COLORS = {FitVerdict.FITS: "#2e7d32", FitVerdict.TIGHT: "#b26a00", FitVerdict.DOES_NOT_FIT: _RED}
_READING = "Reading..."


def _cell(width: str) -> Any:
    return _w.Layout(width=width, min_width=width, max_width=width, overflow="hidden")


class BoardRow(_w.HBox):  # type: ignore[misc]  # ipywidgets is untyped
    """One collection's row, an ipywidgets ``HBox`` of fixed-width cells on one line:
    ``name_label`` (``HTML``), ``memory_label`` (``HTML``, every field at one replica; ``*`` marks
    a schema-range figure, as in ``asyncload status``, its ``low..high`` in the tooltip),
    ``fit_label`` (``HTML``: fits / tight / does not fit / unknown against the query nodes' memory
    for a collection not loaded, ``loaded`` for a loaded one; the reason in the tooltip),
    ``load_button`` and ``release_button`` (``Button``), ``progress`` (a
    :class:`~asyncload.widgets.ProgressBar`: bar, percentage, state label, elapsed / ETA).

    ``state`` is the :class:`~asyncload.LoadState` shown (None until first read); ``task`` the load
    made through the board's client that the row follows, if any. Load is disabled while a load is
    submitted, loading or loaded; Release while the collection is neither loading nor loaded.
    """

    def __init__(self, board: CollectionsBoard, name: str) -> None:
        self.board = board
        self.name = name
        self.state: LoadState | None = None
        self.task: LoadTask | None = None
        self.submitting = False  # the board's Load was clicked and the load is not accepted yet
        self.releasing = False  # the board's Release was clicked and the release has not returned
        #: Counts what changed the row (events, follows): a state read that started before a change
        #: is out of date when it returns, and is not shown.
        self.changes = 0
        self.progress = ProgressBar(interval=board.interval, idle_label=_READING)
        self.name_label = _w.HTML(
            f"<b style='{nowrap(NAME_WIDTH)}' title='{html.escape(name)}'>{html.escape(name)}</b>",
            layout=_cell(NAME_WIDTH),
        )
        self.memory_label = _w.HTML(layout=_cell(MEMORY_WIDTH))
        self.fit_label = _w.HTML(layout=_cell(FIT_WIDTH))
        #: The verdict of a load of every field against the memory read at the last refresh (None
        #: until read); ``fit_label`` shows it while not loaded, and "loaded" while loaded.
        self.fit: Fit | None = None
        self.load_button = _w.Button(description="Load", button_style="primary", layout=_cell(BUTTON_WIDTH))
        self.release_button = _w.Button(description="Release", button_style="warning", layout=_cell(BUTTON_WIDTH))
        self.load_button.on_click(lambda _b: self._clicked(load=True))
        self.release_button.on_click(lambda _b: self._clicked(load=False))
        #: Keeps the row's load followed: a waiter on its task (so the client polls), or a poller
        #: of a load started elsewhere. One at a time.
        self.watcher = Background(board.background.loop, board._crashed)
        super().__init__(
            [self.name_label, self.memory_label, self.fit_label, self.load_button, self.release_button, self.progress],
            layout=_w.Layout(align_items="center", grid_gap="0.6em", flex_flow="row nowrap"),
        )
        self.update_buttons()

    def _clicked(self, *, load: bool) -> None:
        # The buttons follow at once, before the background task runs: no second click meanwhile.
        if load:
            self.submitting = True
            self.board.background.spawn(lambda: self.board.load(self.name), name=f"load {self.name}")
        else:
            self.releasing = True
            self.board.background.spawn(lambda: self.board.release(self.name), name=f"release {self.name}")
        self.changed()

    @property
    def fit_text(self) -> str:
        """The verdict as shown: ``'fits'``, ``'tight'``, ``'does not fit'``, ``'unknown'``,
        ``'loaded'`` (``''`` until read)."""
        if self.state is LoadState.LOADED:
            return FitVerdict.LOADED.value
        return "" if self.fit is None else self.fit.verdict.value

    def show_fit(self) -> None:
        """Render :attr:`fit_text` in ``fit_label`` (its reason in the tooltip)."""
        if self.state is LoadState.LOADED:
            verdict, reason = FitVerdict.LOADED, "loaded: its memory is in what the query nodes use"
        elif self.fit is not None:
            verdict, reason = self.fit.verdict, self.fit.reason
        else:
            return
        color = _FIT_COLORS.get(verdict, "#666")
        self.fit_label.value = (
            f"<span title='{html.escape(reason)}' style='{nowrap(FIT_WIDTH)}; color:{color}'>"
            f"{html.escape(verdict.value)}</span>"
        )

    @property
    def state_text(self) -> str:
        """The state label as shown (``'Loaded'``, ``'Loading'``, ``'Loading elsewhere'``, ``'Failed'``...)."""
        return self.progress.state_text

    def set_state(self, state: LoadState, percent: int = 0, *, label: str | None = None) -> None:
        """Show a state (read from the server, or ended), with its buttons and the board's summary."""
        self.state = state
        self.progress.show_state(state, percent, label=label)
        self.changed()

    def changed(self) -> None:
        """Something the row shows changed: update its buttons, its verdict and the board's summary."""
        self.update_buttons()
        self.show_fit()
        self.board.update_summary()

    def update_buttons(self) -> None:
        """Enable Load and Release as the row's state allows (see the class docstring)."""
        active = self.state in (LoadState.LOADING, LoadState.LOADED)
        self.load_button.disabled = self.submitting or self.releasing or active or self.state is None
        self.release_button.disabled = self.releasing or not (active or self.submitting)

    def __repr__(self) -> str:
        return f"<BoardRow {self.name} {self.state_text}>"


class CollectionsBoard(_w.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Every collection with its load state, progress and estimated memory (every field, one
    replica), with Load / Release per row and a Refresh button: an ipywidgets ``VBox``.

    ``CollectionsBoard(client)`` in a notebook cell returns at once and fills itself in the
    background on the kernel loop; ``await CollectionsBoard.create(client)`` returns once filled.
    It follows every load and release made through ``client`` (from its buttons or any cell: it
    subscribes to the client's load events); a load started by another client shows on Refresh and is
    then followed until it ends. Errors show in red (and in :attr:`errors`). A collection created
    after the last Refresh shows on the next one (or as soon as this client loads it).

    Parts: ``refresh_button`` (``Button``), ``status_label`` (``HTML``, the summary: "5 collections,
    2 loaded, 1 loading", always counted from the rows), ``table`` (a ``VBox``: a header ``HBox``
    then one :class:`BoardRow` per collection), ``error_label`` (``HTML``); ``rows`` maps collection
    names to their :class:`BoardRow`. ``close()`` unsubscribes and stops following (loads go on).
    """

    def __init__(self, client: AsyncClient, *, interval: float = 0.2) -> None:
        self.client = client
        self.interval = interval
        self.background = Background(require_asyncio("CollectionsBoard"), self._crashed)
        self.rows: dict[str, BoardRow] = {}
        #: The query nodes' memory, read at every refresh (unknown on Milvus Lite).
        self.memory = ClusterMemory.unknown("not read yet")
        self.errors: list[BaseException] = []
        self.refresh_button = _w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.background.spawn(self.refresh, name="asyncload board refresh"))
        self.status_label = _w.HTML("<span style='color:#666'>reading collections...</span>")
        self.error_label = _w.HTML()
        head = _w.HBox(
            [
                _w.HTML("<b>collection</b>", layout=_cell(NAME_WIDTH)),
                _w.HTML("<b>memory</b>", layout=_cell(MEMORY_WIDTH)),
                _w.HTML("<b>fits?</b>", layout=_cell(FIT_WIDTH)),
                _w.HTML("<b>load state</b>"),
            ],
            layout=_w.Layout(grid_gap="0.6em", flex_flow="row nowrap"),
        )
        self.table = _w.VBox([head])
        super().__init__(
            [
                _w.HBox([self.refresh_button, self.status_label], layout=_w.Layout(grid_gap="0.4em")),
                self.table,
                self.error_label,
            ]
        )
        self._unsubscribe = client.subscribe(self._on_event)
        self.background.spawn(self.refresh, name="asyncload board refresh")

    @classmethod
    async def create(cls, client: AsyncClient, *, interval: float = 0.2) -> CollectionsBoard:
        """Build the board and return once every row was read (loads in progress are still followed).

        Cancelling it stops this wait only: the board goes on filling itself in the background.
        """
        board = cls(client, interval=interval)
        await board.background.settled()
        return board

    # -- actions --------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """List the collections and read each one's state, progress and estimated memory; follow
        the loads in progress that this client is not already following.

        Cancelling it stops reading; rows already read stay as shown.
        """
        self.refresh_button.disabled = True
        try:
            names = sorted(await self.client.list_collections())
            self.memory = await self.client.query_node_memory()
            for gone in set(self.rows) - set(names):
                row = self.rows.pop(gone)
                row.watcher.cancel()
            for name in names:
                if name not in self.rows:
                    self.rows[name] = BoardRow(self, name)
            self._show_rows()
            async with anyio.create_task_group() as tg:
                for name in names:
                    tg.start_soon(self._read, self.rows[name])
        finally:
            self.refresh_button.disabled = False

    async def load(self, name: str) -> Progress | BaseException:
        """Load every field of ``name`` and wait for its end; returns the outcome (errors are shown).

        The row follows the load through the client's events, like a load made in any other cell.
        Cancelling it only stops this wait (the row keeps following); a submitted load goes on.
        """
        row = self.rows[name]
        row.submitting = True
        row.changed()
        try:
            task = await self.client.load_collection(name)
        except AsyncLoadError as exc:
            self._show_error(name, exc)
            row.progress.fail(exc)
            return exc
        finally:
            row.submitting = False
            row.changed()
        try:
            return await task
        except AsyncLoadError as exc:
            return exc  # shown by the ENDED event

    async def release(self, name: str) -> None:
        """Release ``name`` (stopping a load in progress); the row follows the RELEASED event.

        Cancelling it may leave the release sent or not.
        """
        row = self.rows[name]
        row.releasing = True
        row.changed()
        try:
            await self.client.release_collection(name)
        except AsyncLoadError as exc:
            self._show_error(name, exc)
        finally:
            row.releasing = False
            row.changed()

    async def settled(self) -> None:
        """Wait until no refresh, load, release or following runs. Cancelling it only stops the wait."""
        while self.background.busy or any(r.watcher.busy for r in self.rows.values()):
            await self.background.settled()
            for row in list(self.rows.values()):
                await row.watcher.settled()

    def close(self) -> None:
        """Stop listening and following (loads go on on the server) and close the widgets."""
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        background = getattr(self, "background", None)
        if background is not None:
            background.cancel()
        for row in getattr(self, "rows", {}).values():
            row.watcher.cancel()
            row.close()
        super().close()

    def update_summary(self) -> None:
        """Recount the summary line from the rows."""
        states = [row.state for row in self.rows.values()]
        loaded = states.count(LoadState.LOADED)
        loading = states.count(LoadState.LOADING)
        text = f"{len(states)} collections, {loaded} loaded" + (f", {loading} loading" if loading else "")
        self.status_label.value = f"<span style='color:#666'>{text}</span>"

    # -- following the client's loads ------------------------------------------------------------

    def _on_event(self, event: LoadEvent) -> None:
        """The client's load events (synchronous, on the loop): the row follows, at once."""
        row = self.rows.get(event.collection)
        if row is None:
            if event.kind is not LoadEventKind.SUBMITTED:
                return
            # Not listed yet (a new collection, or the first refresh is still reading): add its row.
            row = self.rows[event.collection] = BoardRow(self, event.collection)
            self._show_rows()
            self.background.spawn(lambda: self._read(row), name=f"read {row.name}")
        row.changes += 1
        if event.kind is LoadEventKind.SUBMITTED and event.task is not None:
            row.watcher.cancel()  # a poller of a load elsewhere, or an older task's waiter
            row.task = event.task
            row.state = LoadState.LOADING
            row.progress.model.reset(self._loading_label(event), state=LoadState.LOADING)
            if event.progress is not None:
                row.progress.show_progress(event.progress, label=self._loading_label(event))
            row.progress.render(final=True)
            row.watcher.spawn(lambda: self._keep_polled(row, event.task), name=f"follow {row.name}")
            row.changed()
        elif event.kind is LoadEventKind.PROGRESS and event.task is row.task and event.progress is not None:
            row.progress.show_progress(event.progress, label=self._loading_label(event))
        elif event.kind is LoadEventKind.ENDED and event.task is row.task:
            row.task = None
            if event.loaded and event.progress is not None:
                row.progress.show_progress(event.progress)
                row.state = LoadState.LOADED
                row.changed()
            elif isinstance(event.error, LoadReleasedError):
                row.set_state(LoadState.NOT_LOAD, label="Released")
            else:
                row.state = LoadState.NOT_LOAD  # a load that fails leaves the target not loaded
                if event.error is not None:
                    self._show_error(row.name, event.error)
                    row.progress.fail(event.error)
                row.changed()
        elif event.kind is LoadEventKind.RELEASED:
            row.watcher.cancel()
            row.task = None
            if event.partitions:  # other partitions may stay loaded: ask the server
                row.state = None
                row.progress.show_state(LoadState.NOT_LOAD, label=_READING)
                row.changed()
                row.watcher.spawn(lambda: self._read(row), name=f"read {row.name}")
            else:
                row.set_state(LoadState.NOT_LOAD)

    def _show_rows(self) -> None:
        self.table.children = [self.table.children[0], *(self.rows[n] for n in sorted(self.rows))]
        self.update_summary()

    @staticmethod
    def _loading_label(event: LoadEvent) -> str:
        return "Loading " + ", ".join(event.partitions) if event.partitions else "Loading"

    async def _keep_polled(self, row: BoardRow, task: LoadTask | None) -> None:
        """Wait on ``task`` so the client keeps polling it (the events move the row), and tick the
        elapsed time and ETA meanwhile."""
        if task is None:
            return
        async with anyio.create_task_group() as tg:
            tg.start_soon(row.progress.ticker)
            with contextlib.suppress(AsyncLoadError):  # the ENDED event shows it; a closing client
                await task  # leaves the row as it was
            tg.cancel_scope.cancel()
        row.progress.render(final=True)

    async def _read(self, row: BoardRow) -> None:
        changes = row.changes
        try:
            snapshot = await self.client.loading_progress(row.name)
            estimate = await self.client.footprint_estimate(row.name, sample_rows=64)
        except AsyncLoadError as exc:
            self._show_error(row.name, exc)
            return
        memory = human_bytes(estimate.total_all)
        style = nowrap(MEMORY_WIDTH)
        if estimate.exact:
            title = "every field, one replica (" + ("sampled" if estimate.sampled_fields else "exact") + ")"
        else:
            memory += " *"
            title = (
                f"every field, one replica: * schema range {human_bytes(estimate.total_low)}.."
                f"{human_bytes(estimate.total_high)} ({', '.join(estimate.range_fields)} not sampled: "
                "sampling needs a loaded collection, or pass a sample)"
            )
        row.memory_label.value = f"<span title='{html.escape(title)}' style='{style}'>{memory}</span>"
        # judged as if not loaded; the row shows "loaded" instead while it is (no double count)
        row.fit = fit_verdict(dataclasses.replace(estimate, loaded=False), self.memory)
        row.show_fit()
        if row.changes != changes or row.task is not None:
            return  # an event moved the row meanwhile (or a load through this client is followed): it is newer
        if snapshot.state is LoadState.LOADING:
            row.set_state(LoadState.LOADING, snapshot.percent, label="Loading elsewhere")
            row.watcher.spawn(lambda: self._follow_elsewhere(row), name=f"follow {row.name}")
        else:
            row.set_state(snapshot.state, snapshot.percent)

    async def _follow_elsewhere(self, row: BoardRow) -> None:
        changes = row.changes
        final = await row.progress.follow_server(self.client, row.name)
        if row.changes == changes:
            row.set_state(final.state, final.percent)

    def _show_error(self, name: str | None, exc: BaseException) -> None:
        self.errors.append(exc)
        where = f"{name}: " if name else ""
        line = f"<div style='color:{_RED}'>&#9888; {html.escape(where + describe_error(exc))}</div>"
        self.error_label.value = line + self.error_label.value

    def _crashed(self, exc: BaseException) -> None:
        self._show_error(None, exc)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        states = ", ".join(f"{n}: {r.state_text}" for n, r in self.rows.items())
        return f"<CollectionsBoard {self.client.uri} [{states}]>"
