"""A per-client cap on progress polls per second, shared first come, first served.

Each poll takes a token; tokens refill at ``rate`` per second up to ``burst``. Waiters queue on a
fair (FIFO) lock, so with many watched loads each gets its turn and none can starve the others.
"""

from __future__ import annotations

import anyio

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token bucket on anyio's clock. ``acquire()`` waits for a token; cancelling it takes none."""

    def __init__(self, rate: float, burst: int | None = None) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        self.rate = float(rate)
        self.burst = max(1, burst if burst is not None else int(rate // 10) or 1)
        self._tokens = float(self.burst)
        self._stamp: float | None = None
        self._lock = anyio.Lock()

    def _refill(self, now: float) -> None:
        if self._stamp is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        async with self._lock:
            self._refill(anyio.current_time())
            if self._tokens < 1.0:
                delay = (1.0 - self._tokens) / self.rate
                await anyio.sleep(delay)
                self._refill(anyio.current_time())
            self._tokens -= 1.0
