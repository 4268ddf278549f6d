"""LoadTask: a submitted load you can await, watch and release."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

import anyio

from ._format import target_label
from ._progress import LoadState, Progress
from ._stream import Follower, ProgressStream
from ._validation import check_flag, check_timeout
from .errors import AsyncLoadError, LoadReleasedError

if TYPE_CHECKING:
    from ._monitor.monitor import LoadMonitor, Observation, Watch

__all__ = ["LoadTask", "set_display_hook"]

#: How a LoadTask shows itself in a notebook, ``hook(task, include, exclude)`` answering a mime
#: bundle or None (the text repr). The engine never imports a front-end: the notebook front-end
#: (``asyncload.widgets``) registers its live progress display here when it is imported.
DisplayHook = Callable[["LoadTask", Any, Any], "dict[str, Any] | None"]
_display_hook: DisplayHook | None = None


def set_display_hook(hook: DisplayHook | None) -> DisplayHook | None:
    """Register how LoadTasks render in a notebook (None: text only); returns the previous hook."""
    global _display_hook
    previous, _display_hook = _display_hook, hook
    return previous


def _kernel_display_hook() -> DisplayHook | None:
    """The registered hook; in a Jupyter kernel with none yet, the one the notebook front-end registers
    when imported (looked up by name at run time, only there: the engine does not depend on it)."""
    if _display_hook is None and "ipykernel" in sys.modules:
        try:
            importlib.import_module("asyncload.widgets")
        except ImportError:  # the front-end ships with the package; nothing to show without it
            return None
    return _display_hook


class LoadTask:
    """A load the server has accepted, like the Go SDK's ``LoadTask``.

    ``await task`` (or ``await task.wait()``) returns the final :class:`Progress` once the target is
    loaded, or raises :class:`~asyncload.LoadFailedError` with the server's reason. Any number of
    waiters and progress streams may follow one task; they share the client's polls.

    Cancelling a waiter (a cancel scope around ``await task``) only stops that wait: the server goes
    on loading. ``await task.release()`` is what stops the load (Milvus's only way).
    """

    def __init__(
        self,
        *,
        monitor: LoadMonitor,
        watch: Watch,
        refresh: bool,
        track_refresh: bool,
        submitted_at: float,
        first_poll: int,
        release: Callable[[], Awaitable[None]],
        followed: bool = False,
    ) -> None:
        # Registered with the watch (add_task) by the client once built: the watch settles it.
        self._monitor = monitor
        self._watch = watch
        self._refresh = refresh
        self._track_refresh = track_refresh
        self._submitted_at = submitted_at
        self._first_poll = first_poll
        self._release = release
        self._followed = followed
        self._outcome: Progress | AsyncLoadError | None = None

    # -- what it is -----------------------------------------------------------------------------

    @property
    def collection(self) -> str:
        """The collection this task loads."""
        return self._watch.collection

    @property
    def partitions(self) -> tuple[str, ...]:
        """The partitions this task loads; empty for a whole-collection load."""
        return self._watch.partitions

    @property
    def refresh(self) -> bool:
        """Whether this task is a refresh load (segments added since the load)."""
        return self._refresh

    @property
    def followed(self) -> bool:
        """Whether this task follows a load started elsewhere (:meth:`~asyncload.AsyncClient.follow_load`)
        rather than one this client submitted."""
        return self._followed

    @property
    def released(self) -> bool:
        """Whether this client released the target after this task began (before or after it loaded)."""
        released_poll = self._watch.released_poll
        if released_poll is not None and released_poll >= self._first_poll:
            return True
        return isinstance(self._verdict(), LoadReleasedError)

    def done(self) -> bool:
        """Whether the load has ended (loaded, failed or released) as far as this client has seen."""
        return self._verdict() is not None

    def exception(self) -> AsyncLoadError | None:
        """The error the load ended with, or None (still running, or loaded)."""
        verdict = self._verdict()
        return verdict if isinstance(verdict, AsyncLoadError) else None

    @property
    def latest(self) -> Progress:
        """The most recent snapshot this client has of the load (no RPC)."""
        verdict = self._verdict()
        if isinstance(verdict, Progress):
            return verdict
        observation = self._observation()
        if isinstance(verdict, AsyncLoadError):
            percent = observation.percent if observation else 0
            return self._progress(observation, percent=percent, state=LoadState.NOT_LOAD)
        return self._progress(observation)

    @property
    def state(self) -> LoadState:
        """The load state of :attr:`latest` (no RPC)."""
        return self.latest.state

    @property
    def percent(self) -> int:
        """The percentage of :attr:`latest` (no RPC)."""
        return self.latest.percent

    def __repr__(self) -> str:
        target = target_label(self.collection, self.partitions)
        kind = (" refresh" if self._refresh else "") + (" followed" if self._followed else "")
        latest = self.latest
        verdict = self._verdict()
        if self.released:
            if isinstance(verdict, Progress):
                return f"<LoadTask{kind} {target} released (after loading {latest.percent}%)>"
            return f"<LoadTask{kind} {target} released at {latest.percent}% (before it finished loading)>"
        if isinstance(verdict, LoadReleasedError):  # released elsewhere
            return f"<LoadTask{kind} {target} released at {latest.percent}% ({verdict})>"
        if isinstance(verdict, AsyncLoadError):
            status = f"failed: {verdict}"
        elif verdict is not None:
            status = "done"
        else:
            status = "running on the server; release() stops it"
        return f"<LoadTask{kind} {target} {latest.state} {latest.percent}% ({status})>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any] | None:
        """In a Jupyter kernel, a live progress widget (extra ``jupyter``); elsewhere None: the text repr."""
        hook = _kernel_display_hook()
        return None if hook is None else hook(self, include, exclude)

    # -- waiting --------------------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, Progress]:
        return self.wait().__await__()

    async def wait(self, timeout: float | None = None, *, raise_on_stall: bool = False) -> Progress:
        """Wait until loaded and return the final snapshot.

        The wait follows the load through outages: a poll that could not ask the server (connection
        refused or reset, UNAVAILABLE, any wire-level gRPC failure, a deadline, Milvus's 65535 or a
        retriable status) decides nothing, and polling backs off and goes on. It raises only:

        - :class:`~asyncload.LoadFailedError` when the server says the load failed (its ``code`` and
          ``reason``: insufficient memory, segment resource failure, not loaded any more, ...);
        - :class:`~asyncload.LoadReleasedError` when the target was released before it loaded;
        - the builtin :class:`TimeoutError` when ``timeout`` seconds pass first;
        - :class:`~asyncload.ServerUnavailableError` when the server has been unreachable for longer
          than the client's ``PollingConfig.unreachable_timeout`` (default 120 s; ``.since`` says
          since when); with ``unreachable_timeout=None`` only ``timeout`` bounds an outage;
        - :class:`~asyncload.AuthenticationError` / :class:`~asyncload.PermissionDeniedError` when the
          server refuses this client's polls (no verdict on the load: ``done()`` stays False);
        - :class:`~asyncload.ClientClosedError` when the client closes meanwhile;
        - :class:`~asyncload.LoadStalledError` when ``raise_on_stall`` is set and progress stops for
          the client's stall timeout;
        - :class:`~asyncload.InvalidArgumentError` for a bad ``timeout`` or ``raise_on_stall``.

        Each raise is a fresh copy of the task's error (same class, message, attributes and
        ``__cause__``), so awaiting a failed task many times holds no growing traceback. Neither the
        timeout, an outage, a stall nor cancelling this call stops the load on the server; only
        :meth:`release` does.
        """
        timeout = check_timeout(timeout)
        check_flag(raise_on_stall, what="raise_on_stall")
        follower = Follower(self, raise_on_stall=raise_on_stall, report_stalls=False)
        with anyio.move_on_after(timeout) as scope:
            while True:
                snapshot = await follower.next()
                if snapshot is None or snapshot.loaded:
                    return self.latest
        assert scope.cancelled_caught
        assert timeout is not None
        latest = self.latest
        target = f"{self.collection!r}" + (f" partitions {list(self.partitions)}" if self.partitions else "")
        raise TimeoutError(
            f"wait(timeout={timeout:g}): {target} is still {latest.state} at {latest.percent}% after {timeout:g} s; "
            "the load goes on on the server (await the task again to keep waiting; release() stops it)"
        )

    def progress(self) -> ProgressStream:
        """A new stream of snapshots for this caller only.

        Iterate it with ``async for`` (optionally inside ``async with task.progress() as stream:``).
        Percentages never go backwards; a successful load's stream ends with its 100% snapshot, a
        failed one raises the load's error (the same errors as :meth:`wait`, but no TimeoutError).
        When the server stops answering the stream yields a snapshot with ``unreachable_since`` set
        (``reachable`` False) and keeps following; once it answers again, one with
        ``reachable`` True. Leaving or cancelling the iteration affects neither the
        task nor other streams, and polling continues only while some waiter is waiting.
        """
        return ProgressStream(Follower(self, raise_on_stall=False, report_stalls=True))

    async def release(self) -> None:
        """Release the target on the server, which stops a load still in progress.

        Waiters and streams of an unfinished task then raise :class:`~asyncload.LoadReleasedError`.
        Cancelling this call may leave the release sent or not; releasing twice is harmless.
        """
        await self._release()

    # -- internals ------------------------------------------------------------------------------

    def _observation(self) -> Observation | None:
        observation = self._watch.observation
        return observation if observation is not None and observation.poll >= self._first_poll else None

    def _progress(
        self, observation: Observation | None, *, percent: int | None = None, state: LoadState | None = None
    ) -> Progress:
        schedule = self._watch.schedule
        since = None if self._outcome is not None else self._watch.outcome.unreachable_since
        if observation is None:
            return Progress(self.collection, self.partitions, 0, state or LoadState.LOADING, unreachable_since=since)
        shown = observation.percent if percent is None else percent
        loaded = shown >= 100 and (not self._track_refresh or observation.refresh_percent >= 100)
        # A running load's snapshot is taken now: the ETA counts down (and elapsed grows) between polls.
        at = observation.received_at if loaded or state is not None else _now(observation.received_at)
        return Progress(
            collection=self.collection,
            partitions=self.partitions,
            percent=shown,
            state=state or (LoadState.LOADED if loaded else LoadState.LOADING),
            refresh_percent=observation.refresh_percent,
            elapsed=max(at - self._submitted_at, 0.0),
            eta=0.0 if loaded else schedule.eta(at),
            unreachable_since=since,
        )

    def _settle(self, outcome: Progress | AsyncLoadError) -> None:
        """Called by the watch once the load's outcome decides this task (only the first counts)."""
        if self._outcome is None:
            self._outcome = outcome

    def _verdict(self) -> Progress | AsyncLoadError | None:
        """The settled outcome (see :mod:`asyncload._monitor.outcome`), or None while it runs."""
        return self._outcome


def _now(fallback: float) -> float:
    """anyio's clock, or ``fallback`` outside an event loop (a notebook's synchronous repr)."""
    try:
        return anyio.current_time()
    except RuntimeError:
        return fallback
