"""One progress model, several renderers (the tqdm idea), and the render throttle. Pure: no I/O.

A :class:`ProgressModel` is fed :class:`~asyncload.Progress` snapshots (or a failure) with the time
they arrived and answers a :class:`ProgressView` for any moment: percentage, bar style, state label
and an elapsed / ETA line. The notebook widget and the plain-text fallback both render that view.
A failed bar turns red and stays red until :meth:`ProgressModel.reset`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._format import format_seconds
from .._progress import LoadState, Progress

__all__ = ["ProgressModel", "ProgressView", "Throttle", "format_seconds", "state_label"]

_STATE_LABELS = {
    LoadState.NOT_EXIST: "Not found",
    LoadState.NOT_LOAD: "Not loaded",
    LoadState.LOADING: "Loading",
    LoadState.LOADED: "Loaded",
}


def state_label(state: LoadState) -> str:
    """``LoadState.NOT_LOAD`` -> ``'Not loaded'`` (what the widgets show)."""
    return _STATE_LABELS[state]


@dataclass(frozen=True)
class ProgressView:
    """What a renderer shows. ``style`` is a Bootstrap-ish bar style: '', 'info', 'success', 'danger'."""

    percent: int
    style: str
    label: str
    detail: str
    failed: bool = False
    finished: bool = False

    def text(self) -> str:
        """The plain-text rendering: ``[#####-----]  50%  Loading  elapsed 2.0 s, ETA 2.0 s``."""
        filled = self.percent // 10
        bar = "#" * filled + "-" * (10 - filled)
        detail = f"  {self.detail}" if self.detail else ""
        return f"[{bar}] {self.percent:3d}%  {self.label}{detail}"


class ProgressModel:
    """The state of one progress display; see the module docstring."""

    def __init__(self, idle_label: str = "Not loaded") -> None:
        self._idle_label = idle_label
        self.reset(idle_label)

    def reset(self, label: str | None = None, *, percent: int = 0, state: LoadState | None = None) -> None:
        """Start over (a new load, or a state read from the server), clearing a failure."""
        self._label = label if label is not None else self._idle_label
        self._percent = percent
        self._state = state
        self._snapshot: Progress | None = None
        self._origin: float | None = None  # when the load started, on the caller's clock
        self._error: str | None = None
        self._finished = state is LoadState.LOADED

    @property
    def failed(self) -> bool:
        """Whether the last snapshot was a failure (the bar stays red until reset)."""
        return self._error is not None

    @property
    def finished(self) -> bool:
        """Whether the load has ended (loaded or failed)."""
        return self._finished or self.failed

    def update(self, snapshot: Progress, now: float, *, label: str | None = None) -> None:
        """Record a snapshot that arrived at ``now``. Ignored once failed; never goes backwards."""
        if self.failed:
            return
        if self._snapshot is None or self._origin is None:
            self._origin = now - snapshot.elapsed
        self._snapshot = snapshot
        self._percent = max(self._percent, snapshot.percent) if snapshot.state is not LoadState.NOT_LOAD else 0
        self._state = snapshot.state
        self._finished = snapshot.loaded
        if snapshot.loaded:
            self._percent = 100
        self._label = label if label is not None else state_label(snapshot.state)

    def fail(self, message: str) -> None:
        """The load failed: the bar turns red and stays red until :meth:`reset`."""
        self._error = message

    def view(self, now: float) -> ProgressView:
        """What a renderer shows at time ``now``: the elapsed time and ETA move between snapshots."""
        if self._error is not None:
            return ProgressView(self._percent, "danger", "Failed", self._error, failed=True, finished=True)
        snapshot = self._snapshot
        if snapshot is None:
            style = "success" if self._state is LoadState.LOADED else ""
            return ProgressView(self._percent, style, self._label, "", finished=self._finished)
        if snapshot.loaded:
            return ProgressView(100, "success", self._label, f"in {format_seconds(snapshot.elapsed)}", finished=True)
        elapsed = now - self._origin if self._origin is not None else snapshot.elapsed
        eta = snapshot.eta
        if eta is not None:  # count the ETA down between snapshots; once passed, it was wrong: unknown
            eta = eta - (now - (self._origin or 0.0) - snapshot.elapsed)
            if eta <= 0:
                eta = None
        detail = f"elapsed {format_seconds(elapsed)}, ETA {format_seconds(eta) if eta is not None else 'unknown'}"
        if snapshot.stalled_for is not None:
            detail += f", no progress for {format_seconds(snapshot.stalled_for)}"
        return ProgressView(self._percent, "info", self._label, detail)


class Throttle:
    """At most one render per ``interval`` seconds; a final render always goes through."""

    def __init__(self, interval: float = 0.2) -> None:
        if interval < 0:
            raise ValueError(f"interval must be >= 0, got {interval}")
        self.interval = interval
        self._last: float | None = None

    def due(self, now: float, *, final: bool = False) -> bool:
        """Whether to render now; records the render when it answers True."""
        if final or self._last is None or now - self._last >= self.interval:
            self._last = now
            return True
        return False

    def wait_time(self, now: float) -> float:
        """Seconds until the next render may happen (0 when it may happen now)."""
        return 0.0 if self._last is None else max(self._last + self.interval - now, 0.0)
