"""The load monitor: one per client, it polls each watched load on behalf of all its waiters.

A *watch* covers one target (a collection, or a set of its partitions). However many tasks, waiters
and progress streams follow a target, it is polled by one loop, at most once per tick, on the
schedule of :mod:`asyncload._monitor.policy`. The loop runs in the client's task group only while somebody
is waiting; when the last waiter leaves (returns, raises or is cancelled) the loop is cancelled.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from ..errors import AsyncLoadError, ClientClosedError, LoadFailedError, LoadReleasedError, ServerError
from .batch import ProgressBatcher
from .outcome import Kind, LoadOutcome, Phase, classify
from .policy import PollingConfig, PollSchedule, TickPhase
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from .._tasks import LoadTask
    from .._transport.milvus import MilvusAPI

__all__ = ["LoadMonitor", "Observation", "Watch", "WatchKey"]

WatchKey = tuple[str, tuple[str, ...]]
#: Longest pause between polls while the server cannot be asked (polls back off up to this).
_OUTAGE_POLL_CAP = 2.0
#: A progress poll gets no answer within this (or the client's shorter timeout): it could not ask,
#: and the next poll goes out. A defensive bound: a server holding polls (overloaded, half-hung)
#: delays a waiter by at most this, not by the client's whole timeout (30 s by default).
_POLL_TIMEOUT = 5.0


@dataclass(frozen=True)
class Observation:
    """One answer to a poll. ``poll`` numbers the polls of a watch in the order they were sent."""

    poll: int
    sent_at: float
    received_at: float
    percent: int
    refresh_percent: int


@dataclass(frozen=True)
class Refusal:
    """The server refused this client's poll (or the client closed): ``number`` counts refusals."""

    number: int
    error: AsyncLoadError


class Watch:
    """What the monitor knows about one target, and the waiters following it.

    The load's outcome is :attr:`outcome` (the pure machine of :mod:`asyncload._monitor.outcome`);
    this object adds what only I/O knows: the error objects, the events waiters sleep on, and the
    tasks still waiting for a verdict, which :meth:`settle` decides as soon as the machine does.
    """

    def __init__(self, key: WatchKey, config: PollingConfig, now: float, phase: TickPhase | None) -> None:
        self.key = key
        self.config = config
        self.phase = phase
        self.schedule = PollSchedule(config, now, phase)
        self.outcome = LoadOutcome()
        self.observation: Observation | None = None
        #: The error a failed (or released) load ends with, once the outcome says it ended.
        self.ending: LoadFailedError | None = None
        #: The newest refusal (unauthenticated, not permitted, client closed): waits raise it.
        self.refusal: Refusal | None = None
        #: The last poll error that left the server unreachable (the cause of ServerUnavailableError).
        self.unreachable_error: AsyncLoadError | None = None
        self.polls_sent = 0
        self.refresh = False
        #: Set while this client's release of the target is in flight: the error its loads end with.
        self.releasing: LoadReleasedError | None = None
        #: The poll number at this client's last release of the target (tasks from before it were released).
        self.released_poll: int | None = None
        self.waiters = 0
        self.streams = 0
        self.pending: weakref.WeakSet[LoadTask] = weakref.WeakSet()
        self._changed = anyio.Event()
        self._decided = anyio.Event()
        self._loop_scope: anyio.CancelScope | None = None

    @property
    def collection(self) -> str:
        return self.key[0]

    @property
    def partitions(self) -> tuple[str, ...]:
        return self.key[1]

    def restart(self, now: float, *, refresh: bool = False, followed: bool = False) -> int:
        """A load was (re)submitted, or is ``followed`` (started elsewhere): start a fresh schedule.
        Returns the first poll number that counts.

        A refresh load is scheduled on the slower of the load and refresh percentages.
        """
        self.schedule = PollSchedule(self.config, now, self.phase, followed=followed)
        self.refresh = refresh
        self.outcome.submitted(seen=followed)
        self.ending = None
        self.notify()
        return self.polls_sent

    def add_task(self, task: LoadTask) -> None:
        """Follow ``task`` until the outcome decides it."""
        self.pending.add(task)
        self.settle()

    def settle(self) -> None:
        """Give every pending task whose outcome is decided its verdict."""
        for task in list(self.pending):
            verdict = self.outcome.verdict(track_refresh=task._track_refresh)
            if verdict.phase is Phase.LOADED:
                task._settle(task._progress(task._observation()))
            elif verdict.ended and self.ending is not None:
                task._settle(self.ending)
            else:
                continue
            self.pending.discard(task)

    def end(self, error: LoadFailedError) -> None:
        """The outcome just ended (failed or released) with ``error``: settle and wake everyone."""
        if self.ending is None and self.outcome.verdict().ended:
            self.ending = error
        self.settle()
        self.notify()

    def refuse(self, error: AsyncLoadError) -> None:
        """Every waiter raises ``error`` (no verdict on the load)."""
        self.outcome.refused()
        self.refusal = Refusal(self.outcome.refusals, error)
        self.notify()

    def notify(self, *, decisive: bool = True) -> None:
        """Wake the streams (every change) and, when ``decisive`` (loaded, failed, a refusal, a
        restart), the plain waiters too: they re-check what they wait for."""
        self._changed.set()
        self._changed = anyio.Event()
        if decisive:
            self._decided.set()
            self._decided = anyio.Event()

    async def changed(self) -> None:
        """Return at the next change of any kind."""
        await self._changed.wait()

    async def decided(self) -> None:
        """Return at the next change that may end a wait (an intermediate percentage does not)."""
        await self._decided.wait()


class LoadMonitor:
    """Shares polls between every waiter of a client; see the module docstring."""

    def __init__(
        self,
        api: MilvusAPI,
        task_group: TaskGroup,
        config: PollingConfig,
        on_change: Callable[[Watch], None] = lambda watch: None,
    ) -> None:
        self._api = api
        #: Called after each recorded answer or failed poll (the client's load events).
        self._on_change = on_change
        self._task_group = task_group
        self.config = config
        self._watches: dict[WatchKey, Watch] = {}
        self._limiter = RateLimiter(config.max_polls_per_second)
        self._batcher = ProgressBatcher(api, task_group, self._limiter, config.batch_delay)
        #: The server's load-checker phase, learned from every watched load of this client.
        self.phase = TickPhase(config.server_tick) if config.server_tick else None
        self.closed: AsyncLoadError | None = None

    def watch(self, collection: str, partitions: tuple[str, ...] = ()) -> Watch:
        key = (collection, tuple(sorted(partitions)))
        found = self._watches.get(key)
        if found is None:
            found = self._watches[key] = Watch(key, self.config, anyio.current_time(), self.phase)
        return found

    @property
    def batched_polls(self) -> int:
        """ShowCollections(InMemory) calls sent for batches of whole-collection polls."""
        return self._batcher.sent

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    @property
    def watches(self) -> tuple[Watch, ...]:
        return tuple(self._watches.values())

    async def poll(self, watch: Watch) -> None:
        """Ask the server once about ``watch`` and record the answer (or the failure).

        Whole-collection polls falling due together share one batched RPC when the server allows;
        otherwise (and for partitions, refreshes, or what a batch could not tell) one
        GetLoadingProgress. Every RPC goes through the client's rate limiter
        (``max_polls_per_second``). Cancelling it abandons the RPC; nothing is recorded.
        """
        number = watch.polls_sent
        watch.polls_sent += 1
        if self._batchable(watch):
            answer = await self._batcher.percent(watch.collection)
            if answer is not None:
                self._record(watch, number, answer.sent_at, answer.received_at, answer.percent, 100)
                return
        await self._limiter.acquire()
        await anyio.lowlevel.checkpoint_if_cancelled()  # nobody waits any more: do not send it
        sent_at = anyio.current_time()
        try:
            # One attempt: a poll that could not ask is recorded at once (the outage's start), and
            # this loop backs off and asks again (retries inside the call would hide the outage).
            progress = await self._api.get_loading_progress(
                watch.collection, watch.partitions, retry=False, limit=_POLL_TIMEOUT
            )
        except AsyncLoadError as exc:
            self._record_failure(watch, sent_at, exc)
        else:
            received_at = anyio.current_time()
            self._record(watch, number, sent_at, received_at, progress.percent, progress.refresh_percent)

    def _batchable(self, watch: Watch) -> bool:
        if not (self._batcher.enabled and self.config.batch_polls) or watch.partitions or watch.refresh:
            return False
        polling = sum(1 for w in self._watches.values() if w.waiters and not w.partitions and not w.refresh)
        return polling > 1

    def _record(
        self, watch: Watch, number: int, sent_at: float, received_at: float, percent: int, refresh: int
    ) -> None:
        was_unreachable = watch.outcome.unreachable_since is not None
        watch.observation = Observation(number, sent_at, received_at, percent, refresh)
        watch.outcome.answered(percent, refresh)
        watch.unreachable_error = None
        scheduled = min(percent, refresh) if watch.refresh else percent
        watch.schedule.observe(received_at, scheduled, sent_at=sent_at)
        watch.settle()
        watch.notify(decisive=percent >= 100 or was_unreachable)
        self._on_change(watch)

    def _record_failure(self, watch: Watch, sent_at: float, exc: AsyncLoadError) -> None:
        """Feed a failed poll to the outcome; only the server's word on the load can end it."""
        kind = classify(exc)
        reason, code = (exc.reason, exc.code) if isinstance(exc, ServerError) else (str(exc), 0)
        was_unreachable = watch.outcome.unreachable_since is not None
        if kind is Kind.REFUSED:
            watch.outcome.observe(kind, asked_at=sent_at)
            watch.refuse(exc)
            self._on_change(watch)
            return
        watch.outcome.observe(kind, asked_at=sent_at, reason=reason, code=code)
        if kind is Kind.UNKNOWN:
            watch.unreachable_error = exc
            # Streams report the outage; plain waits wake once, at its start, to time their bound.
            watch.notify(decisive=not was_unreachable)
            self._on_change(watch)
            return
        watch.unreachable_error = None
        verdict = watch.outcome.verdict()
        if verdict.phase is Phase.RELEASED and watch.releasing is not None:
            error: LoadFailedError = watch.releasing  # "not loaded" while this client releases it
        elif kind is Kind.NOT_LOADED:  # "not loaded" after the load was seen, without our release
            target = f"{watch.collection!r}" + (f" partitions {list(watch.partitions)}" if watch.partitions else "")
            error = LoadReleasedError(
                f"{target} stopped loading before it finished: released by another client or process "
                f"(or dropped by the server); the server says: {reason}",
                code=code,
                operation="load",
            )
            error.__cause__ = exc
        else:
            error = LoadFailedError(reason, code=code, operation="load")
            error.__cause__ = exc
        if verdict.ended:
            watch.end(error)
        else:
            watch.notify(decisive=was_unreachable)
        self._on_change(watch)

    def enter(self, watch: Watch, *, stream: bool = False) -> None:
        """Register a waiter (or a stream's pending ``__anext__``); starts polling when needed."""
        if self.closed is not None:
            raise ClientClosedError(str(self.closed))  # a new one each time: no shared traceback
        watch.waiters += 1
        watch.streams += stream
        if watch._loop_scope is None:
            watch._loop_scope = anyio.CancelScope()
            self._task_group.start_soon(self._poll_loop, watch, watch._loop_scope)

    def leave(self, watch: Watch, *, stream: bool = False) -> None:
        """Unregister; the last one out cancels the polling loop."""
        watch.waiters -= 1
        watch.streams -= stream
        if watch.waiters == 0 and watch._loop_scope is not None:
            watch._loop_scope.cancel()
            watch._loop_scope = None

    async def _poll_loop(self, watch: Watch, scope: anyio.CancelScope) -> None:
        with scope:
            try:
                while True:
                    pause = watch.outcome.retry_delay(
                        self.config.min_interval, min(self.config.max_interval, _OUTAGE_POLL_CAP), self.config.backoff
                    )
                    if pause > 0:
                        # The last poll could not ask the server: ask again after a back-off, whatever
                        # the schedule says (it knows nothing new), so the return is seen soon.
                        with anyio.move_on_after(pause):
                            await _until_restart(watch)
                    else:
                        due = watch.schedule.next_poll_at()
                        if math.isinf(due):
                            # Finished: one last poll is never needed; wait for a restart instead.
                            await watch.changed()
                            continue
                        delay = due - anyio.current_time()
                        if delay > 0:
                            with anyio.move_on_after(delay):
                                await _until_restart(watch)
                    if scope.cancel_called or watch.waiters == 0:
                        return  # the last waiter left while this loop slept: send nothing more
                    await self.poll(watch)
            finally:
                if watch._loop_scope is scope:
                    watch._loop_scope = None

    def close(self, error: AsyncLoadError) -> None:
        """Fail every waiter with ``error`` and stop every polling loop (the client is closing)."""
        self.closed = error
        for watch in self._watches.values():
            if watch._loop_scope is not None:
                watch._loop_scope.cancel()
                watch._loop_scope = None
            watch.refuse(error)

    def _released_watches(self, collection: str, partitions: tuple[str, ...] | None) -> list[Watch]:
        return [
            watch
            for (name, watched), watch in self._watches.items()
            if name == collection and (partitions is None or set(partitions) & set(watched))
        ]

    def releasing(self, collection: str, partitions: tuple[str, ...] | None, error: LoadReleasedError) -> None:
        """A release is about to be sent: polls failing meanwhile mean the release, not a failed load."""
        for watch in self._released_watches(collection, partitions):
            watch.releasing = error
            watch.outcome.releasing(True)

    def release_failed(self, collection: str, partitions: tuple[str, ...] | None) -> None:
        for watch in self._released_watches(collection, partitions):
            watch.releasing = None
            watch.outcome.releasing(False)

    def released(self, collection: str, partitions: tuple[str, ...] | None, error: LoadReleasedError) -> None:
        """End the unfinished loads of a released target (all of a collection's, or those sharing a
        released partition) with ``error``."""
        for watch in self._released_watches(collection, partitions):
            watch.releasing = None
            watch.released_poll = watch.polls_sent
            watch.polls_sent += 1  # the release counts as an event: a load submitted after it starts later
            watch.outcome.released(str(error))
            watch.end(error)


async def _until_restart(watch: Watch) -> None:
    """Sleep until cancelled, or until a fresh schedule (a resubmitted load) wants an early poll."""
    schedule = watch.schedule
    while watch.schedule is schedule:
        await watch.changed()
