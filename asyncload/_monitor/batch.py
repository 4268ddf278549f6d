"""Batched progress polls: whole-collection polls that fall due together share one RPC.

Milvus 2.3 answers ShowCollections(type=InMemory, collection_names=[...]) with the loading percentage
of several collections at once. It is deprecated on newer servers and one unloaded or unknown name
fails the whole call, so a batch that cannot answer for a collection says so, and that collection
is polled on its own (GetLoadingProgress, which also carries a failed load's reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from ..errors import AsyncLoadError, UnsupportedOperationError

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from .._transport.milvus import MilvusAPI
    from .ratelimit import RateLimiter

__all__ = ["BatchAnswer", "ProgressBatcher"]


@dataclass(frozen=True)
class BatchAnswer:
    sent_at: float
    received_at: float
    percent: int


@dataclass
class _Batch:
    names: set[str] = field(default_factory=set)
    waiting: int = 0
    done: anyio.Event = field(default_factory=anyio.Event)
    sent_at: float = 0.0
    received_at: float = 0.0
    percentages: dict[str, int] = field(default_factory=dict)


class ProgressBatcher:
    """Gathers the polls asked for within ``delay`` seconds into one ShowCollections call.

    The call runs in the client's task group, so a caller leaving (cancelled) abandons only its own
    wait. ``enabled`` turns off for good when the server does not implement the call.
    """

    def __init__(self, api: MilvusAPI, task_group: TaskGroup, limiter: RateLimiter, delay: float) -> None:
        self._api = api
        self._task_group = task_group
        self._limiter = limiter
        self._delay = delay
        self._pending: _Batch | None = None
        self.enabled = True
        #: Batched RPCs sent (answered or not): each counts as one progress poll.
        self.sent = 0

    async def percent(self, collection: str) -> BatchAnswer | None:
        """This collection's percentage from the next batch, or None when the batch could not tell
        (then poll it on its own)."""
        batch = self._pending
        if batch is None:
            batch = self._pending = _Batch()
            self._task_group.start_soon(self._run, batch)
        batch.names.add(collection)
        batch.waiting += 1
        try:
            await batch.done.wait()
        finally:
            batch.waiting -= 1
        found = batch.percentages.get(collection)
        return None if found is None else BatchAnswer(batch.sent_at, batch.received_at, found)

    async def _run(self, batch: _Batch) -> None:
        try:
            await anyio.sleep(self._delay)
            self._pending = None
            if len(batch.names) < 2 or batch.waiting == 0:
                return  # nothing to share (the caller's own GetLoadingProgress says more), or nobody left
            await self._limiter.acquire()
            batch.sent_at = anyio.current_time()
            self.sent += 1
            try:
                answers = await self._api.in_memory_percentages(sorted(batch.names))
            except UnsupportedOperationError:
                self.enabled = False
                return
            except AsyncLoadError:
                return  # one of them is not loading (failed, released, dropped): each asks on its own
            batch.received_at = anyio.current_time()
            batch.percentages = {name: pct for name, (pct, serving) in answers.items() if serving or pct > 0}
        finally:
            if self._pending is batch:
                self._pending = None
            batch.done.set()
