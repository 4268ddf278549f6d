"""How a load ended, as far as the server said: the load's outcome as one pure state machine.

Sans-IO like :mod:`asyncload._monitor.policy`: no RPC, no clock. The monitor feeds it what each poll
learned, classified by :func:`classify` (the one place that decides what an error says about a
load), and it answers where the load stands: :attr:`Phase.RUNNING`, ``LOADED``, ``FAILED`` (with the
server's reason), ``RELEASED``, and, while running, since when the server could not be asked.

The rules:

- Only what the server says about *the load* ends it: a load-failure status from
  GetLoadingProgress (insufficient memory, segment resource failure, collection dropped...), "not
  loaded" (101/201) once the load was seen since its submission, or a release. While a release sent
  by this client is in flight, any of those means the release.
- What says nothing about the load, namely every wire-level gRPC failure (INTERNAL, UNKNOWN,
  CANCELLED, ABORTED, RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED, ...), Milvus's catch-all
  65535 and statuses the server flags retriable, is *unknown*: the load goes on being followed, the
  server counts as unreachable from the first such poll until the next answer, and polls back off
  (:meth:`LoadOutcome.retry_delay`).
- A *refusal* (the server rejects this client: bad token, missing privilege, an operation it does not
  implement; or the client closing) ends every wait with that error but is no verdict on the load.
- The first ending (failed, released) stays until the next submission; percentages after it are
  ignored. A waiter that saw LOADED keeps LOADED, whatever comes later.

A wait gives up on an unreachable server only past its bound (:func:`unreachable_expired`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import (
    AsyncLoadError,
    AuthenticationError,
    ConnectionFailedError,
    PermissionDeniedError,
    ServerError,
    TLSError,
    UnsupportedOperationError,
)

__all__ = ["NOT_LOADED_CODES", "Kind", "LoadOutcome", "Phase", "Verdict", "classify", "unreachable_expired"]

#: Milvus codes for "not loaded" (collection, partition): a state, not in itself a failure.
NOT_LOADED_CODES = frozenset({101, 201})
#: Milvus's catch-all "unexpected error": it says nothing about the load.
UNEXPECTED_CODE = 65535


class Kind(enum.Enum):
    """What one failed poll says about the load."""

    UNKNOWN = "unknown"  # nothing: the server could not be asked, or did not say
    NOT_LOADED = "not loaded"  # the server says the target is not loaded
    FAILED = "failed"  # the server says the load failed
    REFUSED = "refused"  # the server refuses this client: no verdict on the load, but waits end


def classify(error: AsyncLoadError) -> Kind:
    """What a progress poll's error says about the load (see the module docstring)."""
    if isinstance(error, (AuthenticationError, TLSError)):
        return Kind.REFUSED  # will not heal by asking again
    if isinstance(error, ConnectionFailedError):  # unavailable, deadline, any wire-level gRPC failure
        return Kind.UNKNOWN
    if isinstance(error, (PermissionDeniedError, UnsupportedOperationError)):
        return Kind.REFUSED
    if isinstance(error, ServerError):
        if error.retriable or error.code == UNEXPECTED_CODE:
            return Kind.UNKNOWN
        if error.code in NOT_LOADED_CODES:
            return Kind.NOT_LOADED
        return Kind.FAILED
    return Kind.REFUSED


class Phase(enum.Enum):
    RUNNING = "running"
    LOADED = "loaded"
    FAILED = "failed"
    RELEASED = "released"


@dataclass(frozen=True)
class Verdict:
    """The machine's answer: the phase; for FAILED the server's ``reason`` and ``code``; for a
    running load the time since which the server could not be asked (None: it answers)."""

    phase: Phase
    reason: str = ""
    code: int = 0
    unreachable_since: float | None = None

    @property
    def ended(self) -> bool:
        return self.phase is not Phase.RUNNING


class LoadOutcome:
    """The outcome of one target's load (the latest submission of it); see the module docstring.

    Every input says when it happened (any clock, the same throughout). ``track_refresh`` in
    :meth:`verdict` makes a refresh load count as loaded only once its refresh percentage is 100 too.
    """

    def __init__(self) -> None:
        self.percent = 0
        self.refresh_percent = 0
        #: The server answered about this load since its submission.
        self.seen = False
        self._ending: Verdict | None = None
        self._releasing = False
        #: When the first poll of the current outage was sent (None: the server answers).
        self.unreachable_since: float | None = None
        #: Polls in a row that could not ask.
        self.unknowns = 0
        #: Refusals so far (a wait raises each one newer than its start).
        self.refusals = 0

    # -- inputs ---------------------------------------------------------------------------------

    def submitted(self, *, seen: bool = False) -> None:
        """The load was (re)submitted: it runs again, and nothing about it was seen yet (``seen``:
        it is a load started elsewhere that the server just said is loading or loaded)."""
        self.percent = self.refresh_percent = 0
        self.seen = seen
        self._ending = None

    def answered(self, percent: int, refresh_percent: int = 100) -> None:
        """A poll answered with percentages."""
        self._reachable()
        if self._ending is None:
            self.seen = True
            self.percent = max(0, min(100, percent))
            self.refresh_percent = max(0, min(100, refresh_percent))

    def could_not_ask(self, asked_at: float) -> None:
        """A poll sent at ``asked_at`` learned nothing (:attr:`Kind.UNKNOWN`)."""
        if self.unreachable_since is None:
            self.unreachable_since = asked_at
        self.unknowns += 1

    def not_loaded(self, reason: str = "", code: int = 0) -> None:
        """The server says the target is not loaded: the end of a load that was seen (or a release)."""
        self._reachable()
        if self._releasing:
            self._end(Verdict(Phase.RELEASED, reason, code))
        elif self.seen:
            self._end(Verdict(Phase.FAILED, reason or "the target is not loaded any more", code))

    def load_failed(self, reason: str, code: int) -> None:
        """The server says the load failed (a load-failure status from GetLoadingProgress)."""
        self._reachable()
        self._end(Verdict(Phase.RELEASED if self._releasing else Phase.FAILED, reason, code))

    def refused(self) -> None:
        """The server refused this client's poll (:attr:`Kind.REFUSED`), or the client closed."""
        self.refusals += 1

    def releasing(self, in_flight: bool) -> None:
        """A release of the target is in flight (True), or failed (False)."""
        self._releasing = in_flight

    def released(self, reason: str = "released") -> None:
        """The target was released: a load not yet loaded ends as released."""
        self._releasing = False
        self._end(Verdict(Phase.RELEASED, reason))

    def observe(self, kind: Kind, *, asked_at: float, reason: str = "", code: int = 0) -> None:
        """Feed a classified failed poll."""
        if kind is Kind.UNKNOWN:
            self.could_not_ask(asked_at)
        elif kind is Kind.NOT_LOADED:
            self.not_loaded(reason, code)
        elif kind is Kind.FAILED:
            self.load_failed(reason, code)
        else:
            self._reachable()
            self.refused()

    # -- answers --------------------------------------------------------------------------------

    def loaded(self, *, track_refresh: bool = False) -> bool:
        return self.seen and self.percent >= 100 and (not track_refresh or self.refresh_percent >= 100)

    def verdict(self, *, track_refresh: bool = False) -> Verdict:
        """Where the load stands now."""
        if self._ending is not None:
            return self._ending
        if self.loaded(track_refresh=track_refresh):
            return Verdict(Phase.LOADED)
        return Verdict(Phase.RUNNING, unreachable_since=self.unreachable_since)

    def retry_delay(self, base: float, cap: float, backoff: float) -> float:
        """How long to wait before polling again after :attr:`unknowns` polls in a row learned nothing."""
        if self.unknowns == 0:
            return 0.0
        steps = min(self.unknowns - 1, 64)  # past the cap long before: no overflow
        return float(min(cap, base * backoff**steps))

    # -- internals ------------------------------------------------------------------------------

    def _reachable(self) -> None:
        self.unreachable_since = None
        self.unknowns = 0

    def _end(self, ending: Verdict) -> None:
        if self._ending is None:  # the first ending stays (a waiter that saw LOADED keeps LOADED)
            self._ending = ending


def unreachable_expired(since: float | None, now: float, bound: float | None) -> bool:
    """Whether a wait gives up: the server has been unreachable since ``since`` for ``bound`` seconds."""
    return since is not None and bound is not None and now - since >= bound
