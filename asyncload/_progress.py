"""Load states and progress snapshots: the values that flow up from the server to users."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._format import target_label

__all__ = ["LoadState", "Progress"]


class LoadState(enum.Enum):
    """Where a collection (or a set of partitions) stands, as Milvus's ``GetLoadState`` reports it."""

    NOT_EXIST = 0
    NOT_LOAD = 1
    LOADING = 2
    LOADED = 3

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Progress:
    """One snapshot of a load.

    ``percent`` is the server's loading progress (0-100) for ``collection`` or, when ``partitions``
    is not empty, for those partitions together; ``refresh_percent`` the progress of a refresh load.
    ``elapsed`` counts seconds since the load was submitted through this client, or since this
    client began following it (:meth:`~asyncload.AsyncClient.follow_load`; 0 for a snapshot taken
    outside a task); ``eta`` estimates seconds to completion from the observed rate, or None while
    it is unknown (nothing to estimate from yet, or the estimate passed without the load finishing).
    A running task's ``latest`` is taken when read, so its ``eta`` counts down between polls.
    """

    collection: str
    partitions: tuple[str, ...] = ()
    percent: int = 0
    state: LoadState = LoadState.LOADING
    refresh_percent: int = 0
    elapsed: float = 0.0
    eta: float | None = None
    #: Set (seconds without progress) on the snapshot a stream yields when the load has stalled.
    stalled_for: float | None = None
    #: While the server cannot be asked: when that began (anyio's clock, like ``anyio.current_time()``);
    #: None while it answers. A stream yields a snapshot when this turns on ("unreachable since")
    #: and one when it turns off again ("reachable again"), and keeps following the load.
    unreachable_since: float | None = None
    #: With ``unreachable_since``: for how many seconds the server had been unreachable when a
    #: stream took this snapshot.
    unreachable_for: float | None = None

    @property
    def reachable(self) -> bool:
        """Whether the server answered the latest poll (False during an outage)."""
        return self.unreachable_since is None

    @property
    def loaded(self) -> bool:
        """Whether this snapshot says LOADED."""
        return self.state is LoadState.LOADED

    def __str__(self) -> str:
        target = target_label(self.collection, self.partitions)
        eta = ""
        if self.state is LoadState.LOADING:
            eta = ", eta unknown" if self.eta is None else f", eta {self.eta:.1f}s"
        if self.stalled_for is not None:
            eta += f", stalled for {self.stalled_for:.0f}s"
        if self.unreachable_since is not None:
            lasting = f" for {self.unreachable_for:.1f}s" if self.unreachable_for is not None else ""
            eta += f", server unreachable{lasting}"
        return f"{target}: {self.state} {self.percent}% after {self.elapsed:.1f}s{eta}"
