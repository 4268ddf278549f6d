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

Modules: ``model`` and ``selection`` are pure (no ipywidgets, no I/O); ``runtime`` imports ipywidgets
lazily and runs background work on the kernel's asyncio loop; ``progress``, ``panel`` and ``board`` render.
"""

from __future__ import annotations

from .._public import publish as _publish
from .board import BoardRow as BoardRow
from .board import CollectionsBoard as CollectionsBoard
from .model import ProgressModel as ProgressModel
from .model import ProgressView as ProgressView
from .model import Throttle as Throttle
from .panel import LoadPanel as LoadPanel
from .progress import ProgressBar as ProgressBar
from .progress import TaskProgress as TaskProgress
from .runtime import INSTALL_HINT as INSTALL_HINT
from .selection import FieldRow as FieldRow
from .selection import Selection as Selection
from .session import close_client as close_client
from .session import open_client as open_client

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

_publish(globals(), __all__, __name__)
