"""Load events: what a client tells its listeners about the loads and releases made through it.

``client.subscribe(listener)`` registers a plain function called with a :class:`LoadEvent` each
time a load is submitted, shows a new percentage, ends (loaded, failed or released), or a release
is done. Listeners run synchronously on the client's event loop, in the task that caused the event
(the one submitting, polling or releasing), so they must not block; one that raises is logged
(logger ``asyncload``) and the others still run. Nothing here knows about any front-end: the
notebook board is one listener among others.

Only what goes through this client is reported: a load started by another client or process is not
seen (read it with ``get_load_state`` / ``loading_progress``). Progress is reported when the load
monitor polls, that is while somebody waits on the task or iterates its progress.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._progress import Progress
from .errors import AsyncLoadError

if TYPE_CHECKING:
    from ._monitor.monitor import Watch, WatchKey
    from ._tasks import LoadTask

__all__ = ["EventHub", "LoadEvent", "LoadEventKind", "LoadListener"]

logger = logging.getLogger("asyncload")


class LoadEventKind(enum.Enum):
    """What happened: see :class:`LoadEvent`."""

    SUBMITTED = "submitted"
    PROGRESS = "progress"
    ENDED = "ended"
    RELEASED = "released"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class LoadEvent:
    """One thing that happened to a load or a release made through a client.

    ``kind`` is one of :class:`LoadEventKind`:

    - ``SUBMITTED``: the server accepted a load of ``collection`` (``partitions``, empty for the
      whole collection); ``task`` is its :class:`~asyncload.LoadTask`, ``progress`` its first snapshot.
    - ``PROGRESS``: the load monitor saw a new percentage (or refresh percentage) for that load;
      ``progress`` is the snapshot, as ``task.latest`` has it.
    - ``ENDED``: the load ended, once per load: ``progress.loaded`` is True when it loaded, else
      ``error`` is the :class:`~asyncload.LoadFailedError` (or :class:`~asyncload.LoadReleasedError`)
      its waiters raise.
    - ``RELEASED``: this client released ``collection`` (or ``partitions`` of it); loads of it still
      running got their ``ENDED`` event just before. ``progress`` and ``task`` are None.
    """

    kind: LoadEventKind
    collection: str
    partitions: tuple[str, ...] = ()
    progress: Progress | None = None
    error: AsyncLoadError | None = None
    task: LoadTask | None = field(default=None, compare=False, repr=False)

    @property
    def loaded(self) -> bool:
        """Whether this event is the end of a load that loaded."""
        return self.kind is LoadEventKind.ENDED and self.progress is not None and self.progress.loaded


#: A listener: a plain function taking a :class:`LoadEvent` (its return value is ignored).
LoadListener = Callable[[LoadEvent], object]


@dataclass
class _Running:
    task: LoadTask
    last: tuple[int, int]


class EventHub:
    """One client's listeners, and the loads it reports on (one running load per watched target)."""

    def __init__(self) -> None:
        self._listeners: list[LoadListener] = []
        self._running: dict[WatchKey, _Running] = {}

    def subscribe(self, listener: LoadListener) -> Callable[[], None]:
        if not callable(listener):
            from .errors import InvalidArgumentError

            raise InvalidArgumentError(f"listener must be a function taking a LoadEvent, got {listener!r}")
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):  # already unsubscribed: harmless
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def emit(self, event: LoadEvent) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("asyncload: a load event listener raised on %s; the client goes on", event)

    # -- what the client and the monitor report -------------------------------------------------

    def submitted(self, task: LoadTask, key: WatchKey) -> None:
        """The server accepted the load ``task`` follows (before its first poll)."""
        snapshot = task.latest
        self._running[key] = _Running(task, (snapshot.percent, snapshot.refresh_percent))
        self._emit_for(LoadEventKind.SUBMITTED, task, snapshot)

    def watch_changed(self, watch: Watch) -> None:
        """The monitor recorded an answer (or a failed poll) for ``watch``: report what is new."""
        running = self._running.get(watch.key)
        if running is None:
            return
        task = running.task
        snapshot = task.latest
        if task.done():
            del self._running[watch.key]
            self._emit_for(LoadEventKind.ENDED, task, snapshot, task.exception())
            return
        seen = (snapshot.percent, snapshot.refresh_percent)
        if seen != running.last:
            running.last = seen
            self._emit_for(LoadEventKind.PROGRESS, task, snapshot)

    def released(self, collection: str, partitions: tuple[str, ...] | None) -> None:
        """This client released the target: end the loads it stopped, then report the release."""
        for key, running in list(self._running.items()):
            name, watched = key
            if name == collection and (partitions is None or set(partitions) & set(watched)):
                del self._running[key]
                task = running.task
                self._emit_for(LoadEventKind.ENDED, task, task.latest, task.exception())
        self.emit(LoadEvent(LoadEventKind.RELEASED, collection, partitions or ()))

    def _emit_for(
        self, kind: LoadEventKind, task: LoadTask, snapshot: Progress, error: AsyncLoadError | None = None
    ) -> None:
        self.emit(LoadEvent(kind, task.collection, task.partitions, snapshot, error, task))
