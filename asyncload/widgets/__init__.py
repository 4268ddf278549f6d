"""Jupyter widgets for asyncload: a load panel, a board of collections, live LoadTask displays.

Needs ipywidgets (``pip install 'asyncload-milvus[jupyter]'``); it is imported only when a widget is made,
and a missing install says how to get it. Everything runs on the kernel's asyncio loop and never
blocks it: buttons start background tasks, and a cell that starts a load returns at once while its
bar keeps moving.

>>> client = await open_client("./demo.db")                   # doctest: +SKIP
>>> await LoadPanel.create(client, "books")                     # doctest: +SKIP
>>> CollectionsBoard(client)                                    # doctest: +SKIP
>>> await client.load_collection("books")   # a cell ending in a LoadTask shows a live bar  # doctest: +SKIP
>>> await close_client(client)                                  # doctest: +SKIP

Widgets work on asyncio only (Jupyter kernels' loop), not on trio.

``LoadPanel``, ``CollectionsBoard`` (with its ``BoardRow`` rows), ``TaskProgress`` and ``ProgressBar``
are ipywidgets widgets themselves (``VBox`` / ``HBox`` subclasses): they compose with other widgets,
as in ``ipywidgets.VBox([panel, board])``, a ``Tab`` of panels or an ``AppLayout``.

Modules: ``model`` and ``selection`` are pure (no ipywidgets, no I/O); ``runtime`` imports ipywidgets
lazily and runs background work on the kernel's asyncio loop; ``progress``, ``panel`` and ``board``
hold the widget classes and import ipywidgets when imported. This package imports them (and so
ipywidgets) only when one of their names is first used, through the module ``__getattr__`` below:
``import asyncload.widgets`` works without ipywidgets, and ``asyncload.widgets.LoadPanel`` then raises
ImportError saying how to install it.

Importing this package registers the live display of a :class:`~asyncload.LoadTask` with the engine
(which never imports widget code itself; in a kernel, a task shown before that imports this package).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .. import _tasks
from .._public import publish as _publish
from . import runtime as _runtime
from .model import ProgressModel as ProgressModel
from .model import ProgressView as ProgressView
from .model import Throttle as Throttle
from .runtime import INSTALL_HINT as INSTALL_HINT
from .selection import FieldRow as FieldRow
from .selection import Selection as Selection
from .session import close_client as close_client
from .session import open_client as open_client

if TYPE_CHECKING:
    from .board import BoardRow as BoardRow
    from .board import CollectionsBoard as CollectionsBoard
    from .panel import LoadPanel as LoadPanel
    from .progress import ProgressBar as ProgressBar
    from .progress import TaskProgress as TaskProgress

__all__ = [
    "INSTALL_HINT",
    "BoardRow",
    "CollectionsBoard",
    "FieldRow",
    "LoadPanel",
    "ProgressBar",
    "ProgressModel",
    "ProgressView",
    "Selection",
    "TaskProgress",
    "Throttle",
    "close_client",
    "open_client",
]

#: The widget classes, by the module (importing ipywidgets) that holds them.
_WIDGETS = {
    "BoardRow": "board",
    "CollectionsBoard": "board",
    "LoadPanel": "panel",
    "ProgressBar": "progress",
    "TaskProgress": "progress",
}


def __getattr__(name: str) -> Any:
    module = _WIDGETS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    _publish({name: value}, [name], __name__)
    globals()[name] = value  # next time, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WIDGETS))


def _display_task(task: _tasks.LoadTask, include: Any, exclude: Any) -> dict[str, Any] | None:
    """The engine's LoadTask display hook: a live widget in a Jupyter kernel, else None (text repr)."""
    if not _runtime.in_kernel():
        return None
    try:
        from . import progress
    except ImportError:
        return {"text/plain": f"{task!r}\n(a live progress bar needs ipywidgets: {INSTALL_HINT})"}
    return progress.task_mimebundle(task, include, exclude)


_publish(globals(), [n for n in __all__ if n not in _WIDGETS], __name__)
_tasks.set_display_hook(_display_task)
