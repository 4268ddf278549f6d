"""Following a task: the step-by-step follower behind ``wait()`` and progress streams."""

from __future__ import annotations

import dataclasses
import math
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import anyio

from ._monitor.outcome import unreachable_expired
from ._progress import Progress
from .errors import AsyncLoadError, LoadStalledError, ServerUnavailableError

if TYPE_CHECKING:
    from ._tasks import LoadTask

__all__ = ["Follower", "ProgressStream", "fresh"]

_E = TypeVar("_E", bound=BaseException)


def fresh(error: _E) -> _E:
    """A copy of ``error`` to raise: same class, message, attributes and ``__cause__``, but no
    traceback or context of its own yet. Raising one stored instance again and again (a failed task
    awaited by many waiters) would grow its traceback by every raise, and share it between tasks."""
    clone = type(error).__new__(type(error), *error.args)
    clone.args = error.args
    clone.__dict__.update(error.__dict__)
    clone.__traceback__ = None
    clone.__context__ = None
    clone.__cause__ = error.__cause__
    clone.__suppress_context__ = error.__suppress_context__
    return clone


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
        self._refusals_seen = task._watch.outcome.refusals

    async def next(self) -> Progress | None:
        """The next snapshot, waiting for it if needed; None once the final one was given.

        Raises the load's error when it failed, the refusal when the server refuses this client,
        and :class:`~asyncload.ServerUnavailableError` once the server has been unreachable for the
        client's ``unreachable_timeout``. Cancelling it only stops this wait.
        """
        task = self._task
        watch = task._watch
        monitor = task._monitor
        bound = monitor.config.unreachable_timeout
        while not self._finished:
            verdict = task._verdict()
            if isinstance(verdict, AsyncLoadError):
                self._finished = True
                raise fresh(verdict)
            if verdict is not None:
                self._finished = True
                return self._emit(verdict)
            refusal = watch.refusal
            if refusal is not None and refusal.number > self._refusals_seen:
                self._refusals_seen = refusal.number
                raise fresh(refusal.error)
            now = anyio.current_time()
            snapshot = task.latest
            since = snapshot.unreachable_since
            if since is not None:
                snapshot = dataclasses.replace(snapshot, unreachable_for=max(now - since, 0.0))
            if unreachable_expired(since, now, bound):
                assert since is not None
                assert bound is not None
                self._finished = True
                error = ServerUnavailableError(
                    f"Milvus has been unreachable for {now - since:.1f} s (longer than unreachable_timeout="
                    f"{bound:g} s) while following the load of {task.collection!r}; the load may go on "
                    "on the server",
                    since=since,
                    unreachable_for=now - since,
                )
                raise error from watch.unreachable_error
            if (task._observation() is not None or since is not None) and self._changed(snapshot):
                return self._emit(snapshot)
            stalled_for = watch.schedule.stalled_for(now)
            stall_timeout = monitor.config.stall_timeout
            if watch.schedule.stalled(now) and not self._stall_reported:
                self._stall_reported = True
                if self._raise_on_stall:
                    raise LoadStalledError(task.collection, snapshot.percent, stalled_for)
                if self._report_stalls:
                    return dataclasses.replace(self._emit(snapshot), stalled_for=stalled_for)
            sleep = math.inf if self._stall_reported else stall_timeout - stalled_for
            if since is not None and bound is not None:
                sleep = min(sleep, since + bound - now)
            monitor.enter(watch, stream=self._report_stalls)
            try:
                with anyio.move_on_after(sleep):
                    # Streams show every percentage; a plain wait only cares what can end it.
                    await (watch.changed() if self._report_stalls else watch.decided())
            finally:
                monitor.leave(watch, stream=self._report_stalls)
            if not watch.schedule.stalled(anyio.current_time()):
                self._stall_reported = False
        return None

    def _changed(self, snapshot: Progress) -> bool:
        last = self._last
        return last is None or (snapshot.percent, snapshot.refresh_percent, snapshot.state, snapshot.reachable) != (
            last.percent,
            last.refresh_percent,
            last.state,
            last.reachable,
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
