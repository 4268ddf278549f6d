"""Where the widgets meet Jupyter: the lazy ipywidgets import and background work on the kernel loop.

Widgets run on asyncio, the loop of Jupyter kernels (ipykernel runs top-level ``await`` on it). A
button callback is a plain function called on that loop's thread: it must not block, so it hands a
coroutine to :class:`Background`, which runs it as an asyncio task and returns at once.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import sniffio

__all__ = ["INSTALL_HINT", "Background", "in_kernel", "ipywidgets", "require_asyncio"]

logger = logging.getLogger("asyncload.widgets")

INSTALL_HINT = "pip install 'asyncload-milvus[jupyter]'"


def missing_ipywidgets() -> ImportError:
    """The error for a missing ipywidgets: it says how to install it."""
    return ImportError(f"asyncload's notebook widgets need ipywidgets: {INSTALL_HINT}")


def ipywidgets() -> Any:
    """The ipywidgets module, or ImportError saying how to install it."""
    try:
        return importlib.import_module("ipywidgets")
    except ImportError as exc:
        raise missing_ipywidgets() from exc


def widgets_available() -> bool:
    try:
        ipywidgets()
    except ImportError:
        return False
    return True


def in_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (not plain Python, not terminal IPython)."""
    ipython = sys.modules.get("IPython")  # a kernel has imported it; nobody else needs it imported here
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def require_asyncio(what: str) -> asyncio.AbstractEventLoop:
    """The running asyncio loop; a clear error under trio or outside a loop."""
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        library = None
    if library != "asyncio":
        raise RuntimeError(
            f"{what} runs on asyncio, the event loop of Jupyter kernels"
            + (f", not on {library}" if library else ": call it from async code (a notebook cell's top-level await)")
        )
    return asyncio.get_running_loop()


class Background:
    """Runs a widget's coroutines as tasks on one asyncio loop, keeping references until they end.

    ``spawn`` may be called from the loop's thread (a widget callback) or another thread. An
    exception escaping a coroutine is passed to ``on_error`` (the widget shows it) and logged: never
    swallowed. :meth:`settled` waits until nothing is running (tests, and ``await panel.settled()``).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, on_error: Callable[[BaseException], None]) -> None:
        self.loop = loop
        self._on_error = on_error
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.get_ident()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def spawn(self, factory: Callable[[], Coroutine[Any, Any, object]], *, name: str = "asyncload widget") -> None:
        if threading.get_ident() == self._thread and not self.loop.is_closed():
            self._start(factory, name)
        else:
            self.loop.call_soon_threadsafe(self._start, factory, name)

    def _start(self, factory: Callable[[], Coroutine[Any, Any, object]], name: str) -> None:
        task = self.loop.create_task(self._guard(factory), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, factory: Callable[[], Coroutine[Any, Any, object]]) -> None:
        try:
            await factory()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.error("asyncload widget task failed", exc_info=exc)
            self._on_error(exc)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def settled(self) -> None:
        """Wait until every task spawned so far, and any they spawn, has ended."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
