"""Retry schedule for transient failures: capped exponential backoff with jitter. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure.

    Attempt ``n`` (0-based) waits ``min(cap, base * 2**n)`` scaled by a random factor in
    ``[1 - jitter, 1]``. ``max_retries`` bounds the number of retries; the caller's deadline bounds
    their total time (a retry that could not start before the deadline is not made).
    """

    max_retries: int = 5
    base: float = 0.05
    cap: float = 2.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based): full jitter under the capped exponential."""
        ceiling = min(self.cap, self.base * 2.0**attempt)
        draw: float = (rng or random).random()
        return ceiling * (1.0 - self.jitter * draw)
