"""Retry schedule for transient failures: capped exponential backoff with jitter. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ._validation import check_int, check_number
from .errors import InvalidArgumentError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure.

    Attempt ``n`` (0-based) waits ``min(cap, base * 2**n)`` scaled by a random factor in
    ``[1 - jitter, 1]``. ``max_retries`` bounds the number of retries; the caller's deadline bounds
    their total time (a retry that could not start before the deadline is not made); retries also
    start only within :meth:`window` of the first failure. Checked when built: ``max_retries`` 0 to
    1000, ``0 < base <= cap <= 3600`` seconds, ``jitter`` 0 to 1.
    """

    max_retries: int = 5
    base: float = 0.05
    cap: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        check_int(self.max_retries, what="RetryPolicy.max_retries", minimum=0, maximum=1000)
        base = check_number(self.base, what="RetryPolicy.base", positive=True, maximum=3600, unit=" of seconds")
        cap = check_number(self.cap, what="RetryPolicy.cap", positive=True, maximum=3600, unit=" of seconds")
        check_number(self.jitter, what="RetryPolicy.jitter", maximum=1.0)
        if base > cap:
            raise InvalidArgumentError(f"RetryPolicy.base ({base:g} s) must not exceed RetryPolicy.cap ({cap:g} s)")

    def window(self) -> float:
        """How long after a call's first failure retries may still start: the sum of the longest
        pauses (1.55 s by default). A server that failed the call slowly (a hang that keepalive
        detected) gets one more attempt, not ``max_retries`` more slow ones."""
        return sum(min(self.cap, self.base * 2.0 ** min(attempt, 64)) for attempt in range(self.max_retries))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based): full jitter under the capped exponential."""
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 64))
        draw: float = (rng or random).random()
        return ceiling * (1.0 - self.jitter * draw)
