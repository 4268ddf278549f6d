"""The notebook renderer of :class:`.model.ProgressModel`, and the live LoadTask display.

:class:`ProgressBar` is an ipywidgets ``HBox`` (bar, percentage, state label, elapsed / ETA) that
follows a :class:`~asyncload.LoadTask` through its progress stream, or a load started elsewhere by
polling ``loading_progress``. Renders are throttled (``interval``, default 0.2 s) and a ticker
refreshes the elapsed time and ETA between snapshots; the final state always renders at once. Every
cell has a fixed width and never wraps, so a bar in a row of a table never shifts the row.

This module imports ipywidgets (the widget classes subclass its boxes): ``asyncload.widgets`` imports
it only when one of its classes is first used.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from .._format import target_label
from .._progress import LoadState, Progress
from ..errors import AsyncLoadError, LoadReleasedError, NotLoadedError
from .model import ProgressModel, ProgressView, Throttle, state_label
from .runtime import INSTALL_HINT, Background, in_kernel, logger, missing_ipywidgets, require_asyncio, widgets_available

try:
    import ipywidgets as _w
except ImportError as exc:  # the classes below subclass its boxes: say how to install it
    raise missing_ipywidgets() from exc

if TYPE_CHECKING:
    from .._client import AsyncClient
    from .._tasks import LoadTask

__all__ = ["ProgressBar", "TaskProgress", "describe_error", "task_mimebundle"]


_PERCENT_STYLE = "font-variant-numeric: tabular-nums; white-space: nowrap"
#: One line, cut with an ellipsis when too long (the full text is in the tooltip).
_NOWRAP = "white-space: nowrap; overflow: hidden; text-overflow: ellipsis; display: block"


def nowrap(width: str | None = None) -> str:
    """The inline style of one line of text cut with an ellipsis (at ``width``, else its cell's)."""
    return _NOWRAP + (f"; width: {width}" if width else "; max-width: 100%")


#: Fixed widths of the bar's cells ("Loading elsewhere" fits the state label); the detail line, last,
#: takes the room left and cuts what does not fit, so no text moves another cell.
BAR_WIDTH, PERCENT_WIDTH, STATE_WIDTH = "200px", "3.5em", "11em"


def describe_error(exc: BaseException) -> str:
    """``LoadFailedError: load: deny to load, insufficient memory (Milvus code 52)``."""
    return f"{type(exc).__name__}: {exc}"


def _cell(width: str, **layout: str) -> Any:
    return _w.Layout(width=width, min_width=width, max_width=width, overflow="hidden", **layout)


def _rest(**layout: str) -> Any:
    """The last cell of a row: the room left, never wider (its text is cut, not wrapped)."""
    return _w.Layout(flex="1 1 auto", min_width="0", overflow="hidden", **layout)


class ProgressBar(_w.HBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Bar, percentage, state label and detail line for one load: an ipywidgets ``HBox``.

    Its children, on one line, each of a fixed width but the last (which takes the room left and
    cuts what does not fit):

    - ``bar``: the ``IntProgress`` (0-100; ``bar_style`` ``'info'`` while loading, ``'success'``
      once loaded, ``'danger'`` when failed);
    - ``percent_label``: ``HTML``, ``"40 %"``;
    - ``state_label``: ``HTML``, the state in bold (``Loading``, ``Loaded``, ``Failed``,
      ``Loading elsewhere``...; :attr:`state_text` has it as plain text);
    - ``detail_label``: ``HTML``, ``elapsed 2.0 s, ETA 3.0 s``, the time a load took, or the error.

    ``model`` is the :class:`~asyncload.widgets.ProgressModel` it renders; ``renders`` counts renders.
    """

    def __init__(self, *, interval: float = 0.2, tick: float = 1.0, idle_label: str = "Not loaded") -> None:
        self.model = ProgressModel(idle_label)
        self.throttle = Throttle(interval)
        self.tick = tick
        self.renders = 0
        self._dirty = False
        self.bar = _w.IntProgress(value=0, min=0, max=100, bar_style="", layout=_cell(BAR_WIDTH))
        self.percent_label = _w.HTML(layout=_cell(PERCENT_WIDTH, justify_content="flex-end"))
        self.state_label = _w.HTML(layout=_cell(STATE_WIDTH))
        self.detail_label = _w.HTML(layout=_rest())
        super().__init__(
            [self.bar, self.percent_label, self.state_label, self.detail_label],
            layout=_rest(align_items="center", grid_gap="0.6em", flex_flow="row nowrap"),
        )
        self.render(final=True)

    # -- rendering ------------------------------------------------------------------------------

    @property
    def view(self) -> ProgressView:
        """What the bar shows now (the model's view at the current time)."""
        return self.model.view(time.monotonic())

    @property
    def state_text(self) -> str:
        """The state label as plain text (``'Loaded'``, ``'Loading'``, ``'Failed'``...)."""
        return self.view.label

    def render(self, *, final: bool = False) -> bool:
        """Push the model to the widgets unless throttled (then a later tick does). Returns whether it did."""
        now = time.monotonic()
        if not self.throttle.due(now, final=final):
            self._dirty = True
            return False
        self._dirty = False
        view = self.model.view(now)
        self.bar.value = view.percent
        self.bar.bar_style = view.style
        self.percent_label.value = f"<span style='{_PERCENT_STYLE}'>{view.percent} %</span>"
        color = "#c62828" if view.failed else "inherit"
        label = html.escape(view.label)
        self.state_label.value = f"<b style='color: {color}; {nowrap(STATE_WIDTH)}' title='{label}'>{label}</b>"
        detail_color = "#c62828" if view.failed else "#666"
        detail = html.escape(view.detail)
        self.detail_label.value = f"<span style='color: {detail_color}; {nowrap()}' title='{detail}'>{detail}</span>"
        self.renders += 1
        return True

    def show_state(self, state: LoadState, percent: int = 0, label: str | None = None) -> None:
        """Show a state read from the server (no load followed), clearing any failure."""
        shown = 100 if state is LoadState.LOADED else 0 if state is LoadState.NOT_LOAD else percent
        self.model.reset(label or state_label(state), percent=shown, state=state)
        self.render(final=True)

    def fail(self, exc: BaseException) -> None:
        """Show ``exc`` in red (it stays red until the next load or state)."""
        self.model.fail(describe_error(exc))
        self.render(final=True)

    # -- following ------------------------------------------------------------------------------

    async def follow(
        self, task: LoadTask, *, label: str = "Loading", released: Callable[[], bool] = lambda: False
    ) -> Progress | BaseException:
        """Drive the bar from ``task.progress()`` until the load ends; returns the final snapshot, or
        the error the load ended with (shown in red, not raised). Cancelling it stops following only.

        ``released()`` says whether the caller released the target: then the load ending without
        loading is shown as "Released", not as a failure (a poll may see "not loaded" before this
        client's release call has returned)."""
        self.model.reset(label, state=LoadState.LOADING)
        self.render(final=True)
        outcome: Progress | BaseException | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.ticker)
            try:
                async for snapshot in task.progress():
                    self.model.update(snapshot, time.monotonic(), label=None if snapshot.loaded else label)
                    self.render()
                    outcome = snapshot
            except AsyncLoadError as exc:
                outcome = exc
                if not (isinstance(exc, LoadReleasedError) or released()):
                    self.model.fail(describe_error(exc))
            finally:
                tg.cancel_scope.cancel()
        if isinstance(outcome, LoadReleasedError) or (isinstance(outcome, AsyncLoadError) and released()):
            self.show_state(LoadState.NOT_LOAD, label="Released")
        self.render(final=True)
        return outcome if outcome is not None else task.latest

    async def follow_server(
        self, client: AsyncClient, collection: str, *, label: str = "Loading elsewhere"
    ) -> Progress:
        """Follow a load this client did not start (``client.follow_load``: the client's shared polls,
        an ETA once one can be estimated); returns the final snapshot (NOT_LOAD when it was released
        or failed, or when nothing was loading any more).

        Cancelling it stops following; the load goes on on the server.
        """
        self.model.reset(label, state=LoadState.LOADING)
        try:
            task = await client.follow_load(collection)
        except NotLoadedError as exc:
            self.show_state(exc.state)
            return Progress(collection, (), 0, exc.state)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.ticker)
            try:
                async for snapshot in task.progress():
                    if not snapshot.loaded:
                        self.model.update(snapshot, time.monotonic(), label=label)
                        self.render()
            except AsyncLoadError:
                pass  # released or failed elsewhere: shown as the state it left behind
            finally:
                tg.cancel_scope.cancel()
        final = task.latest
        self.show_state(final.state, final.percent)
        return final

    def show_progress(self, snapshot: Progress, *, label: str | None = None) -> None:
        """Show one snapshot of a load being followed (throttled; a loaded one renders at once)."""
        self.model.update(snapshot, time.monotonic(), label=None if snapshot.loaded else label)
        self.render(final=snapshot.loaded)

    async def ticker(self) -> None:
        """Refresh the elapsed time and ETA between snapshots (and throttled renders) until cancelled."""
        while True:
            await anyio.sleep(self.throttle.wait_time(time.monotonic()) if self._dirty else self.tick)
            self.render()

    def __repr__(self) -> str:
        return f"<ProgressBar {self.view.text()}>"


class TaskProgress(_w.HBox):  # type: ignore[misc]  # ipywidgets is untyped
    """The live display of a :class:`~asyncload.LoadTask` (what a cell ending in a task shows): an
    ipywidgets ``HBox`` of ``title`` (``HTML``, the target) and ``bar`` (a :class:`ProgressBar`).

    Follows the task on the kernel loop in the background; the cell that displayed it has returned.
    A failed load turns the bar red with the server's reason. In a frontend without widgets, and in
    ``repr``, the task's text repr stands. ``outcome`` is the final snapshot or error once it ended.
    """

    def __init__(self, task: LoadTask, *, interval: float = 0.2) -> None:
        loop = require_asyncio("TaskProgress")
        self.task = task
        self.bar = ProgressBar(interval=interval)
        target = target_label(task.collection, task.partitions)
        self.title = _w.HTML(f"<b>{html.escape(target)}</b>", layout=_w.Layout(min_width="8em"))
        self.outcome: Progress | BaseException | None = None
        self.background = Background(loop, self._crashed)
        super().__init__([self.title, self.bar], layout=_w.Layout(align_items="center", grid_gap="0.6em"))
        self.background.spawn(self._run, name=f"asyncload progress {task.collection}")

    async def _run(self) -> None:
        self.outcome = await self.bar.follow(self.task)  # a failure (or the client closing) shows in red

    def _crashed(self, exc: BaseException) -> None:
        self.outcome = exc
        self.bar.fail(exc)

    async def settled(self) -> None:
        """Wait until the display stopped following (the load ended, or the client closed).
        Cancelling it only stops the wait."""
        await self.background.settled()

    def close(self) -> None:
        """Stop following (the load goes on) and close the widget."""
        background = getattr(self, "background", None)
        if background is not None:
            background.cancel()
        super().close()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self.task)
        return bundle

    def __repr__(self) -> str:
        return f"<TaskProgress {self.bar.view.text()}>"


def task_mimebundle(task: LoadTask, include: Any = None, exclude: Any = None) -> dict[str, Any] | None:
    """``LoadTask._repr_mimebundle_``: a live widget in a Jupyter kernel, else None (the text repr).

    Without ipywidgets in a kernel: the text repr plus how to get the widget.
    """
    if not in_kernel():
        return None
    if not widgets_available():
        return {"text/plain": f"{task!r}\n(a live progress bar needs ipywidgets: {INSTALL_HINT})"}
    try:
        return TaskProgress(task)._repr_mimebundle_(include=include, exclude=exclude)
    except RuntimeError as exc:  # no running asyncio loop here: the text repr will do
        logger.debug("no live LoadTask display: %s", exc)
        return None
