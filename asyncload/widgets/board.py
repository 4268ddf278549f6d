"""CollectionsBoard: every collection of a Milvus with its load state, progress and estimated memory."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import anyio

from .._format import human_bytes
from .._progress import LoadState, Progress
from ..errors import AsyncLoadError, LoadReleasedError
from .progress import ProgressBar, describe_error
from .runtime import Background, ipywidgets, require_asyncio

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["BoardRow", "CollectionsBoard"]

_RED = "#c62828"
_NAME_WIDTH, _MEMORY_WIDTH = "14em", "7em"


class BoardRow:
    """One collection's row: name, progress bar and state, estimated memory, Load and Release."""

    def __init__(self, board: CollectionsBoard, name: str) -> None:
        w = ipywidgets()
        self.name = name
        self.state = LoadState.NOT_LOAD
        self.busy = False
        self.released = False  # Release pressed since the last Load
        self.progress = ProgressBar(interval=board.interval)
        self.name_label = w.HTML(f"<b>{html.escape(name)}</b>", layout=w.Layout(width=_NAME_WIDTH))
        self.memory_label = w.HTML(layout=w.Layout(width=_MEMORY_WIDTH))
        self.load_button = w.Button(description="Load", button_style="primary", layout=w.Layout(width="6em"))
        self.release_button = w.Button(description="Release", button_style="warning", layout=w.Layout(width="6em"))
        self.load_button.on_click(lambda _b: board.background.spawn(lambda: board.load(name), name=f"load {name}"))
        self.release_button.on_click(
            lambda _b: board.background.spawn(lambda: board.release(name), name=f"release {name}")
        )
        self.watcher = Background(board.background.loop, board._crashed)
        self.widget = w.HBox(
            [self.name_label, self.memory_label, self.load_button, self.release_button, self.progress.widget],
            layout=w.Layout(align_items="center", grid_gap="0.6em"),
        )

    def show(self, state: LoadState, percent: int) -> None:
        """Show ``state`` and ``percent`` in the row (bar, label) and update its buttons."""
        self.state = state
        if not self.busy:
            self.progress.show_state(state, percent, label="Loading elsewhere" if state is LoadState.LOADING else None)
        self.update_buttons()

    def update_buttons(self) -> None:
        """Enable Load and Release as the row's state allows (disabled while an action runs)."""
        self.load_button.disabled = self.busy or self.state is LoadState.LOADED
        self.release_button.disabled = self.state is LoadState.NOT_LOAD and not self.busy


class CollectionsBoard:
    """Every collection with its load state, progress and estimated memory (every field, one
    replica), with Load / Release per row and a Refresh button.

    ``CollectionsBoard(client)`` in a notebook cell returns at once and fills itself in the
    background on the kernel loop; ``await CollectionsBoard.create(client)`` returns once filled.
    Loads started elsewhere are followed until they end. Errors show in red (and in :attr:`errors`).
    """

    def __init__(self, client: AsyncClient, *, interval: float = 0.2) -> None:
        w = ipywidgets()
        self.client = client
        self.interval = interval
        self.background = Background(require_asyncio("CollectionsBoard"), self._crashed)
        self.rows: dict[str, BoardRow] = {}
        self.errors: list[BaseException] = []
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.background.spawn(self.refresh, name="asyncload board refresh"))
        self.status_label = w.HTML("<span style='color:#666'>reading collections...</span>")
        self.error_label = w.HTML()
        head = w.HBox(
            [
                w.HTML("<b>collection</b>", layout=w.Layout(width=_NAME_WIDTH)),
                w.HTML("<b>memory</b>", layout=w.Layout(width=_MEMORY_WIDTH)),
                w.HTML("<b>load state</b>"),
            ],
            layout=w.Layout(grid_gap="0.4em"),
        )
        self.table = w.VBox([head])
        self.widget = w.VBox(
            [
                w.HBox([self.refresh_button, self.status_label], layout=w.Layout(grid_gap="0.4em")),
                self.table,
                self.error_label,
            ]
        )
        self.background.spawn(self.refresh, name="asyncload board refresh")

    @classmethod
    async def create(cls, client: AsyncClient, *, interval: float = 0.2) -> CollectionsBoard:
        board = cls(client, interval=interval)
        await board.settled()
        return board

    # -- actions --------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """List the collections and read each one's state, progress and estimated memory.

        Cancelling it stops reading; rows already read stay as shown.
        """
        self.refresh_button.disabled = True
        try:
            names = sorted(await self.client.list_collections())
            for gone in set(self.rows) - set(names):
                row = self.rows.pop(gone)
                row.watcher.cancel()
            for name in names:
                if name not in self.rows:
                    self.rows[name] = BoardRow(self, name)
            self.table.children = [self.table.children[0], *(self.rows[n].widget for n in names)]
            async with anyio.create_task_group() as tg:
                for name in names:
                    tg.start_soon(self._read, self.rows[name])
            loaded = sum(r.state is LoadState.LOADED for r in self.rows.values())
            self.status_label.value = f"<span style='color:#666'>{len(names)} collections, {loaded} loaded</span>"
        finally:
            self.refresh_button.disabled = False

    async def load(self, name: str) -> Progress | BaseException:
        """Load every field of ``name`` and follow it in its row; returns the outcome (errors are shown).

        Cancelling it stops following in the row; the load goes on on the server.
        """
        row = self.rows[name]
        row.watcher.cancel()
        row.busy, row.released = True, False
        row.update_buttons()
        try:
            try:
                task = await self.client.load_collection(name)
            except AsyncLoadError as exc:
                self._show_error(name, exc)
                row.progress.fail(exc)
                return exc
            outcome = await row.progress.follow(task, released=lambda: row.released)
            if isinstance(outcome, Progress):
                row.state = LoadState.LOADED
            elif not (row.released or isinstance(outcome, LoadReleasedError)):
                self._show_error(name, outcome)
            return outcome
        finally:
            row.busy = False
            row.update_buttons()

    async def release(self, name: str) -> None:
        """Release ``name`` (stopping a load in progress).

        Cancelling it may leave the release sent or not.
        """
        row = self.rows[name]
        row.watcher.cancel()
        row.released = True
        try:
            await self.client.release_collection(name)
        except AsyncLoadError as exc:
            row.released = False
            self._show_error(name, exc)
            return
        row.busy = False
        row.show(LoadState.NOT_LOAD, 0)

    async def settled(self) -> None:
        """Wait until no refresh, load, release or following runs. Cancelling it only stops the wait."""
        while self.background.busy or any(r.watcher.busy for r in self.rows.values()):
            await self.background.settled()
            for row in list(self.rows.values()):
                await row.watcher.settled()

    def close(self) -> None:
        """Stop following loads and close every row's widgets."""
        self.background.cancel()
        for row in self.rows.values():
            row.watcher.cancel()
        self.widget.close()

    # -- internals ------------------------------------------------------------------------------

    async def _read(self, row: BoardRow) -> None:
        try:
            snapshot = await self.client.loading_progress(row.name)
            estimate = await self.client.footprint_estimate(row.name, sample_rows=64)
        except AsyncLoadError as exc:
            self._show_error(row.name, exc)
            return
        row.memory_label.value = f"<span title='every field, one replica'>{human_bytes(estimate.total_all)}</span>"
        row.show(snapshot.state, snapshot.percent)
        if snapshot.state is LoadState.LOADING and not row.busy and not row.watcher.busy:
            row.watcher.spawn(lambda: self._follow_elsewhere(row), name=f"follow {row.name}")

    async def _follow_elsewhere(self, row: BoardRow) -> None:
        final = await row.progress.follow_server(self.client, row.name)
        row.show(final.state, final.percent)

    def _show_error(self, name: str | None, exc: BaseException) -> None:
        self.errors.append(exc)
        where = f"{name}: " if name else ""
        line = f"<div style='color:{_RED}'>&#9888; {html.escape(where + describe_error(exc))}</div>"
        self.error_label.value = line + self.error_label.value

    def _crashed(self, exc: BaseException) -> None:
        self._show_error(None, exc)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        states = ", ".join(f"{n}: {r.progress.state_text}" for n, r in self.rows.items())
        return f"<CollectionsBoard {self.client.uri} [{states}]>"
