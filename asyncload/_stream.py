"""Following a task: the step-by-step follower behind ``wait()`` and progress streams."""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import TYPE_CHECKING

import anyio

from ._progress import Progress
from .errors import AsyncLoadError, LoadStalledError

if TYPE_CHECKING:
    from ._tasks import LoadTask

__all__ = ["Follower", "ProgressStream"]


class Follower:
    """Produces a task's snapshots one ``next()`` at a time: whenever the percentage or state
    changes, once on a stall (when asked), and the final snapshot; ``None`` after that.

    It registers as a waiter with the client's monitor only while suspended in ``next()``, so a
    follower that is dropped or left mid-way keeps nothing polling and holds no background task.
    Percentages are clamped so they never go backwards.
    """

    def __init__(self, task: LoadTask, *, raise_on_stall: bool, report_stalls: bool) -> None:
        self._task = task
        self._raise_on_stall = raise_on_stall
        self._report_stalls = report_stalls
        self._last: Progress | None = None
        self._finished = False
        self._stall_reported = False
        self._start_poll = task._watch.polls_sent

    async def next(self) -> Progress | None:
        """The next snapshot, waiting for it if needed; None once the final one was given.

        Raises the load's error when it failed. Cancelling it only stops this wait.
        """
        task = self._task
        watch = task._watch
        monitor = task._monitor
        while not self._finished:
            verdict = task._verdict()
            if isinstance(verdict, AsyncLoadError):
                self._finished = True
                raise verdict
            snapshot = verdict if verdict is not None else task.latest
            if verdict is not None:
                self._finished = True
                return self._emit(snapshot)
            if task._observation() is not None and self._changed(snapshot):
                return self._emit(snapshot)
            failure = watch.transport_failure
            if failure is not None and failure.poll >= self._start_poll:
                self._start_poll = watch.polls_sent
                raise failure.error
            now = anyio.current_time()
            stalled_for = watch.schedule.stalled_for(now)
            stall_timeout = monitor.config.stall_timeout
            if watch.schedule.stalled(now) and not self._stall_reported:
                self._stall_reported = True
                if self._raise_on_stall:
                    raise LoadStalledError(task.collection, snapshot.percent, stalled_for)
                if self._report_stalls:
                    return dataclasses.replace(self._emit(snapshot), stalled_for=stalled_for)
            monitor.enter(watch, stream=self._report_stalls)
            try:
                with anyio.move_on_after(None if self._stall_reported else stall_timeout - stalled_for):
                    # Streams show every percentage; a plain wait only cares what can end it.
                    await (watch.changed() if self._report_stalls else watch.decided())
            finally:
                monitor.leave(watch, stream=self._report_stalls)
            if not watch.schedule.stalled(anyio.current_time()):
                self._stall_reported = False
        return None

    def _changed(self, snapshot: Progress) -> bool:
        last = self._last
        return last is None or (snapshot.percent, snapshot.refresh_percent, snapshot.state) != (
            last.percent,
            last.refresh_percent,
            last.state,
        )

    def _emit(self, snapshot: Progress) -> Progress:
        if self._last is not None and snapshot.percent < self._last.percent:
            snapshot = dataclasses.replace(snapshot, percent=self._last.percent)
        self._last = snapshot
        return snapshot


class ProgressStream:
    """An async iterator of :class:`Progress` snapshots for one caller (see ``LoadTask.progress``).

    Use ``async for p in task.progress():`` or, to scope it explicitly,
    ``async with task.progress() as stream: async for p in stream: ...``. Breaking out, cancelling
    or closing it stops only this stream: the load and other streams go on.
    """

    def __init__(self, follower: Follower) -> None:
        self._follower = follower
        self._closed = False

    def __aiter__(self) -> ProgressStream:
        return self

    async def __anext__(self) -> Progress:
        if self._closed:
            raise StopAsyncIteration
        snapshot = await self._follower.next()
        if snapshot is None:
            self._closed = True
            raise StopAsyncIteration
        return snapshot

    async def aclose(self) -> None:
        """Stop the stream; later iterations end at once. It does not wait, so cancelling it has no effect."""
        self._closed = True

    async def __aenter__(self) -> ProgressStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<ProgressStream of {self._follower._task!r}{' closed' if self._closed else ''}>"
