"""LoadPanel: choose the fields of one collection by what they cost, load, watch, release."""

from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING, Any

from .._events import LoadEvent, LoadEventKind
from .._footprint.fit import ClusterMemory, Fit, FitVerdict
from .._format import human_bytes
from .._progress import LoadState, Progress
from ..errors import AsyncLoadError, LoadReleasedError, ServerError
from .model import state_label
from .progress import ProgressBar, describe_error
from .runtime import Background, missing_ipywidgets, require_asyncio

try:
    import ipywidgets as _w
except ImportError as exc:  # the classes below subclass its boxes: say how to install it
    raise missing_ipywidgets() from exc
from .selection import Selection

if TYPE_CHECKING:
    from .._client import AsyncClient
    from .._tasks import LoadTask

__all__ = ["LoadPanel"]


_RED = "#c62828"
_AMBER = "#b26a00"
_GREEN = "#2e7d32"
_VERDICT_COLORS = {FitVerdict.FITS: _GREEN, FitVerdict.TIGHT: _AMBER, FitVerdict.DOES_NOT_FIT: _RED}
_RANGE_NOTE = (
    "schema range: not sampled (sampling needs a loaded collection, or pass your own sample); "
    "the figure may be anywhere between these ends"
)
_CHANGE_CODE = 1100  # "can't change the load field list / replica number for loaded collection"


class LoadPanel(_w.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """A notebook panel for one collection: one row per field with a checkbox and its estimated
    memory, the skip-dynamic-field toggle, the replica number, live totals, Load and Release, and a
    progress bar with the state, elapsed time and ETA. Errors show in red (and in :attr:`last_error`).

    Create it with ``await LoadPanel.create(client, "books")`` and make it a cell's last expression,
    or put it in any ipywidgets container (it is a ``VBox``): ``ipywidgets.Tab([panel_a, panel_b])``.
    Load and Release run on the kernel loop in the background: the cell and the kernel stay free.
    Releasing stops a load in progress (Milvus's only way); closing the panel does not. Loads and
    releases of the collection made through the same client elsewhere (another cell, a board) show
    in the panel too (it subscribes to the client's load events; ``close()`` unsubscribes).

    Its parts, top to bottom (all public attributes):

    - ``header``: ``HTML``, the collection name and row count;
    - ``checkboxes``: ``{field name: Checkbox}`` for every declared field (the primary key's is
      disabled and always checked); ``cost_labels``: ``{field name: HTML}`` with each field's
      estimated memory (``$meta`` included); ``fields_grid``: the ``GridBox`` holding them;
    - ``skip_dynamic``: ``Checkbox``, skip the dynamic field; ``replicas``: ``BoundedIntText``;
      A field whose size is a schema range (a variable-length field not sampled: basis "schema
      range") shows its interval, ``low \u2013 high`` (an en dash), with a tooltip saying so;
    - ``total_label``: ``HTML``, the selection's total next to every field's (an interval when a
      selected field is a schema range); ``fit_label``: ``HTML``, beside it, the verdict against
      the query nodes' free memory (fits / tight / does not fit / unknown; "loaded" once loaded),
      red when the selection will not fit; ``range_label``: ``HTML``, below, which selected fields
      are schema ranges (empty when none); ``message_label``: ``HTML``, why the selection cannot be
      loaded (red), else empty;
    - ``load_button`` and ``release_button``: ``Button`` (Load is disabled while the selection
      cannot be loaded, a load is followed or a release runs; Release while nothing is loaded);
    - ``progress``: the :class:`~asyncload.widgets.ProgressBar`; ``error_label``: ``HTML``, errors.

    And: ``client``, ``collection``, ``selection`` (the :class:`~asyncload.widgets.Selection`),
    ``state`` (the :class:`~asyncload.LoadState` shown), ``task`` (the last load's LoadTask),
    ``last_error``, ``background`` (the button tasks), :attr:`state_text`; ``memory`` (the
    :class:`~asyncload.footprint.ClusterMemory` read at ``create`` and ``refresh``: no RPC a click)
    and ``fit`` (the :class:`~asyncload.footprint.Fit` shown in ``fit_label``, recomputed locally
    whenever the selection or the replica number changes).
    """

    def __init__(
        self,
        client: AsyncClient,
        selection: Selection,
        state: LoadState,
        *,
        interval: float,
        memory: ClusterMemory | None = None,
    ) -> None:
        loop = require_asyncio("LoadPanel")
        self.memory = memory if memory is not None else ClusterMemory.unknown("the query nodes' memory was not read")
        self.fit: Fit = selection.fit(self.memory)
        self.client = client
        self.collection = selection.collection
        self.selection = selection
        self.state = state
        self.task: LoadTask | None = None
        self.last_error: BaseException | None = None
        self._loading = False  # a load submitted by this panel is being followed
        self._releasing = False  # a release RPC is in flight
        self._released = False  # Release was pressed since the last Load: a "not loaded" ending is no error
        self.background = Background(loop, self._crashed)
        self._watcher = Background(loop, self._crashed)  # follows a load started elsewhere
        self.progress = ProgressBar(interval=interval)

        self.header = _w.HTML(
            f"<b>{html.escape(self.collection)}</b> &nbsp;<span style='color:#666'>"
            f"{selection.rows:,} rows, estimated memory per field</span>"
        )
        self.checkboxes: dict[str, Any] = {}
        self.cost_labels: dict[str, Any] = {}
        cells: list[Any] = []
        for row in selection.fields:
            if row.is_dynamic:
                name_widget = _w.HTML(f"<i>{html.escape(row.name)}</i> (dynamic field)")
            else:
                box = _w.Checkbox(
                    value=selection.selected(row.name),
                    description=row.name + (" (primary key)" if row.is_primary else ""),
                    disabled=selection.locked(row.name),
                    indent=False,
                    layout=_w.Layout(width="auto"),
                )
                box.observe(self._field_toggled(row.name), names="value")
                self.checkboxes[row.name] = box
                name_widget = box
            kind = row.dtype + (f"({row.dim})" if row.dim else "")
            cost = _w.HTML(layout=_w.Layout(justify_content="flex-end"))
            self.cost_labels[row.name] = cost
            cells += [name_widget, _w.HTML(f"<span style='color:#666'>{html.escape(kind)}</span>"), cost]
        self.fields_grid = _w.GridBox(
            cells,
            layout=_w.Layout(
                grid_template_columns="minmax(12em, max-content) 10em minmax(7em, max-content)", grid_gap="0 1em"
            ),
        )
        self.skip_dynamic = _w.Checkbox(
            value=False,
            description="skip the dynamic field ($meta)",
            disabled=not selection.has_dynamic,
            indent=False,
        )
        self.skip_dynamic.observe(self._skip_toggled, names="value")
        self.replicas = _w.BoundedIntText(
            value=1, min=1, max=64, description="replicas", layout=_w.Layout(width="10em")
        )
        self.replicas.observe(self._replicas_changed, names="value")
        self.total_label = _w.HTML()
        self.fit_label = _w.HTML()
        self.range_label = _w.HTML()
        self.message_label = _w.HTML()
        self.load_button = _w.Button(description="Load", button_style="primary", icon="play")
        self.release_button = _w.Button(description="Release", button_style="warning", icon="stop")
        self.load_button.on_click(lambda _button: self.background.spawn(self.load, name="asyncload panel load"))
        self.release_button.on_click(lambda _button: self.background.spawn(self.release, name="asyncload release"))
        self.error_label = _w.HTML()
        super().__init__(
            [
                self.header,
                self.fields_grid,
                _w.HBox([self.skip_dynamic, self.replicas], layout=_w.Layout(grid_gap="2em", align_items="center")),
                _w.HBox([self.total_label, self.fit_label], layout=_w.Layout(grid_gap="1.5em", align_items="center")),
                self.range_label,
                self.message_label,
                _w.HBox([self.load_button, self.release_button]),
                self.progress,
                self.error_label,
            ],
            layout=_w.Layout(grid_gap="0.4em"),
        )
        self._show_state(state)
        self._update()
        self._unsubscribe = client.subscribe(self._on_event)

    @classmethod
    async def create(cls, client: AsyncClient, collection: str, *, interval: float = 0.2) -> LoadPanel:
        """Estimate every field's memory, read the collection's load state and the query nodes'
        memory (once: the fit verdict is then computed locally on every click), and build the panel.

        A load already in progress (started elsewhere) is followed until it ends. Raises the client's
        errors (e.g. :class:`~asyncload.CollectionNotFoundError`) and ImportError without ipywidgets.
        Cancelling it builds no panel; nothing changes on the server.
        """
        require_asyncio("LoadPanel")
        footprint = await client.footprint_estimate(collection)
        state = await client.get_load_state(collection)
        memory = await client.query_node_memory()
        panel = cls(client, Selection(footprint), state, interval=interval, memory=memory)
        if state is LoadState.LOADING:
            panel._watcher.spawn(panel._follow_elsewhere, name="asyncload panel follow")
        return panel

    # -- actions (what the buttons run in the background) --------------------------------------

    async def load(self) -> Progress | BaseException | None:
        """Submit the load of the current selection and follow it to the end. Returns the final
        snapshot, or the error now shown in the panel; None when the selection cannot be loaded.

        Cancelling it stops following in the panel; a submitted load goes on on the server.
        """
        if self.selection.problem() is not None or self._loading or self._releasing:
            self._update()
            return None
        self._watcher.cancel()
        self._loading, self._released = True, False
        self.last_error = None
        self.error_label.value = ""
        self.progress.model.reset("Submitting", state=LoadState.LOADING)
        self.progress.render(final=True)
        self._update()
        try:
            try:
                self.task = await self.client.load_collection(self.collection, options=self.selection.load_options())
            except AsyncLoadError as exc:
                self._show_error(exc)
                await self._refresh_state()
                return exc
            self.state = LoadState.LOADING
            self._update()
            outcome = await self.progress.follow(self.task, released=lambda: self._released)
            if isinstance(outcome, Progress):
                self.state = LoadState.LOADED
            elif self._released or isinstance(outcome, LoadReleasedError):
                self.state = LoadState.NOT_LOAD  # what the Release button asked for: not an error
            else:
                self._show_error(outcome)
                self.state = await self.client.get_load_state(self.collection)
            return outcome
        finally:
            self._loading = False
            self._update()

    async def release(self) -> None:
        """Release the collection on the server, stopping a load in progress.

        Cancelling it may leave the release sent or not.
        """
        if self._releasing:
            return
        self._watcher.cancel()
        self._releasing, self._released = True, True
        self.error_label.value = ""
        self._update()
        try:
            await self.client.release_collection(self.collection)
        except AsyncLoadError as exc:
            self._released = False
            self._show_error(exc)
            return
        finally:
            self._releasing = False
            self._update()
        self.state = LoadState.NOT_LOAD
        self.progress.show_state(LoadState.NOT_LOAD, label="Released")
        self._update()

    async def refresh(self) -> LoadState:
        """Read the load state and the query nodes' memory again and show them (following a load in
        progress elsewhere).

        Cancelling it stops reading and following; nothing changes on the server.
        """
        self.memory = await self.client.query_node_memory()
        await self._refresh_state()
        if self.state is LoadState.LOADING and not self._loading:
            self._watcher.spawn(self._follow_elsewhere, name="asyncload panel follow")
            await self._watcher.settled()
        return self.state

    async def settled(self) -> None:
        """Wait until no button action or following runs (for tests and scripts). Cancelling it only
        stops the wait."""
        while self.background.busy or self._watcher.busy:
            await self.background.settled()
            await self._watcher.settled()

    def close(self) -> None:
        """Stop following and close the widgets (a load in progress goes on on the server)."""
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        for background in (getattr(self, "background", None), getattr(self, "_watcher", None)):
            if background is not None:
                background.cancel()
        super().close()

    # -- internals ------------------------------------------------------------------------------

    def _on_event(self, event: LoadEvent) -> None:
        """The client's load events: a load or release of this collection made in another cell (or
        widget) through the same client shows here too. Partition loads are left to Refresh."""
        if event.collection != self.collection or event.partitions or self._loading or self._releasing:
            return  # not ours, or this panel's own action, which follows itself
        if event.kind is LoadEventKind.SUBMITTED and event.task is not None:
            task = event.task
            self._watcher.cancel()
            self.task, self.state = task, LoadState.LOADING
            self.last_error = None
            self.error_label.value = ""
            self._watcher.spawn(lambda: self._follow_task(task), name="asyncload panel follow")
            self._update()
        elif event.kind is LoadEventKind.RELEASED and self.state is not LoadState.NOT_LOAD:
            # (Already not loaded, e.g. its load ended "Released" while the release RPC ran: keep that.)
            self._watcher.cancel()
            self.state = LoadState.NOT_LOAD
            self.progress.show_state(LoadState.NOT_LOAD)
            self._update()

    async def _follow_task(self, task: LoadTask) -> None:
        outcome = await self.progress.follow(task)
        if isinstance(outcome, Progress):
            self.state = LoadState.LOADED
        elif isinstance(outcome, LoadReleasedError):
            self.state = LoadState.NOT_LOAD
        else:
            self._show_error(outcome)
            self.state = await self.client.get_load_state(self.collection)
        self._update()

    async def _follow_elsewhere(self) -> None:
        final = await self.progress.follow_server(self.client, self.collection)
        self.state = final.state
        self._update()

    async def _refresh_state(self) -> None:
        self.state = await self.client.get_load_state(self.collection)
        if not self.progress.model.failed:
            self._show_state(self.state)
        self._update()

    def _show_state(self, state: LoadState) -> None:
        if state is LoadState.LOADING:
            self.progress.show_state(state, label="Loading elsewhere")
        else:
            self.progress.show_state(state)

    def _show_error(self, exc: BaseException) -> None:
        self.last_error = exc
        text = describe_error(exc)
        if isinstance(exc, ServerError) and exc.code == _CHANGE_CODE:
            text += " Release the collection first to load other fields or another replica number."
        self.error_label.value = f"<div style='color:{_RED}'>&#9888; {html.escape(text)}</div>"
        self.progress.fail(exc)

    def _crashed(self, exc: BaseException) -> None:
        self._loading = self._releasing = False
        self._show_error(exc)
        self._update()

    def _field_toggled(self, name: str) -> Any:
        def toggled(change: dict[str, Any]) -> None:
            kept = self.selection.select(name, bool(change["new"]))
            if kept != change["new"]:
                self.checkboxes[name].value = kept
            self._update()

        return toggled

    def _skip_toggled(self, change: dict[str, Any]) -> None:
        self.selection.skip_dynamic = bool(change["new"])
        self._update()

    def _replicas_changed(self, change: dict[str, Any]) -> None:
        self.selection.replicas = int(change["new"])
        self._update()

    def _update(self) -> None:
        """Totals, costs, the validation message and which buttons are enabled."""
        sel = self.selection
        for row in sel.fields:
            chosen = sel.selected(row.name)
            color = "inherit" if chosen else "#aaa"
            style = f"color:{color}; font-variant-numeric: tabular-nums; white-space: nowrap"
            if row.is_range:
                low, high = sel.field_range(row.name)
                title = f"{_RANGE_NOTE}; typical {human_bytes(sel.field_bytes(row.name))}"
                shown = f"{_interval(low, high)} <sup>*</sup>"
                self.cost_labels[row.name].value = f"<span style='{style}' title='{html.escape(title)}'>{shown}</span>"
            else:
                self.cost_labels[row.name].value = (
                    f"<span style='{style}' title='{html.escape(row.basis)}'>"
                    f"{human_bytes(sel.field_bytes(row.name))}</span>"
                )
        ranges = sel.range_fields()
        if ranges:
            low, high = sel.total_range()
            shown = f"<b>{_interval(low, high)}</b>"
            note = (
                f"<span style='color:#666'>* schema range: {html.escape(', '.join(ranges))} not sampled "
                f"(sampling needs a loaded collection, or pass your own sample); "
                f"{human_bytes(sel.total_bytes())} typical</span>"
            )
        else:
            shown, note = f"<b>{human_bytes(sel.total_bytes())}</b>", ""
        self.range_label.value = note
        self.total_label.value = (
            f"Selected: {shown} of {human_bytes(sel.all_bytes())} for all fields"
            f" <span style='color:#666'>(per-row overhead included, x{sel.replicas} replica"
            f"{'s' if sel.replicas != 1 else ''})</span>"
        )
        self.fit = self._verdict()
        self.fit_label.value = self._fit_html(self.fit)
        problem = sel.problem()
        self.message_label.value = (
            "" if problem is None else f"<span style='color:{_RED}'>{html.escape(problem)}</span>"
        )
        self.load_button.disabled = problem is not None or self._loading or self._releasing
        self.load_button.tooltip = problem or f"load {self.collection} with this selection"
        self.release_button.disabled = self._releasing or (
            self.state in (LoadState.NOT_LOAD, LoadState.NOT_EXIST) and not self._loading
        )

    def _verdict(self) -> Fit:
        fit = self.selection.fit(self.memory)
        if self.state is LoadState.LOADED:
            # its memory is in what the nodes use already: judging it again would count it twice
            return dataclasses.replace(
                fit,
                verdict=FitVerdict.LOADED,
                reason="loaded: its memory is in what the query nodes use (release it to judge another load)",
                headroom_bytes=None,
            )
        return fit

    def _fit_html(self, fit: Fit) -> str:
        color = _VERDICT_COLORS.get(fit.verdict, "#666")
        free = (
            f" <span style='color:#666'>({human_bytes(self.memory.free_bytes)} free, "
            f"{human_bytes(fit.capacity_bytes)} a load can take)</span>"
            if self.memory.known and fit.capacity_bytes is not None
            else ""
        )
        weight = "bold" if fit.verdict is FitVerdict.DOES_NOT_FIT else "normal"
        return (
            f"<span style='color:{color}; font-weight:{weight}; white-space: nowrap' "
            f"title='{html.escape(fit.reason)}'>fits? {html.escape(fit.verdict.value)}</span>{free}"
        )

    @property
    def fit_text(self) -> str:
        """The verdict as shown: ``'fits'``, ``'tight'``, ``'does not fit'``, ``'unknown'`` or ``'loaded'``."""
        return self.fit.verdict.value

    @property
    def state_text(self) -> str:
        """The state label as shown (``'Loaded'``, ``'Loading'``, ``'Not loaded'``, ``'Failed'``...)."""
        return self.progress.state_text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return (
            f"<LoadPanel {self.collection} {state_label(self.state)}: "
            f"{human_bytes(self.selection.total_bytes())} selected of {human_bytes(self.selection.all_bytes())}>"
        )


def _interval(low: int, high: int) -> str:
    """``'1.2 MiB \u2013 48 MiB'`` (en dash): a schema range's two ends."""
    return f"{human_bytes(low)} \u2013 {human_bytes(high)}"
