"""Every error asyncload raises, in one hierarchy::

    AsyncLoadError
    ├── InvalidArgumentError            (also a ValueError; raised before any RPC)
    │   └── InvalidLoadFieldsError      load_fields without the primary key / a vector field, or unknown names
    ├── ClientClosedError               the client was used after it closed
    ├── ConnectionFailedError           the server could not be asked: nothing was learned about the request
    │   ├── ServerUnavailableError      the server cannot be reached (after retries; for a wait: for longer
    │   │   │                           than ``unreachable_timeout``): .since, .unreachable_for
    │   │   └── DatabaseLockedError     a Milvus Lite ``.db`` is held by another process (``.pid`` when known)
    │   ├── AuthenticationError         wrong or missing token (never retried)
    │   ├── TLSError                    the TLS handshake failed: certificate not trusted, name mismatch,
    │   │                               client certificate refused (never retried)
    │   ├── DeadlineExceededError       one call got no answer within the client's timeout (also a TimeoutError)
    │   └── TransportError              any other wire-level gRPC failure (INTERNAL, UNKNOWN, CANCELLED,
    │                                   ABORTED, RESOURCE_EXHAUSTED, DATA_LOSS, ...): .grpc_code
    ├── ServerError                     Milvus answered with an error status: .code, .reason, .retriable
    │   ├── PermissionDeniedError       the user lacks a privilege
    │   ├── UnsupportedOperationError   this server does not implement the operation (e.g. Milvus Lite partitions)
    │   ├── NotFoundError               ``.suggestions``: close names that do exist
    │   │   ├── CollectionNotFoundError
    │   │   └── PartitionNotFoundError
    │   └── LoadFailedError             the server gave up on a load (insufficient memory, ...)
    │       └── LoadReleasedError       the load was released (here or elsewhere) before it finished
    ├── NotLoadedError                  follow_load(): the target is neither loading nor loaded
    └── LoadStalledError                no progress for the stall timeout (only when asked for)

Waiting with a deadline raises the builtin :class:`TimeoutError`: the load goes on on the server.
gRPC errors never escape: they are chained as ``__cause__`` of the public error.

Only a :class:`ServerError` is something the server *said*; a :class:`ConnectionFailedError` says
that the server could not be asked. That is why a progress poll failing with a
``ConnectionFailedError`` (or with a retriable status, or Milvus's catch-all 65535) never decides a
load: waiters keep following it (see ``PollingConfig.unreachable_timeout``). A task's
:class:`LoadFailedError` always comes from the server's own word about the load.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._progress import LoadState
from ._public import publish as _publish

__all__ = [
    "AsyncLoadError",
    "AuthenticationError",
    "ClientClosedError",
    "CollectionNotFoundError",
    "ConnectionFailedError",
    "DatabaseLockedError",
    "DeadlineExceededError",
    "InvalidArgumentError",
    "InvalidLoadFieldsError",
    "LoadFailedError",
    "LoadReleasedError",
    "LoadStalledError",
    "NotFoundError",
    "NotLoadedError",
    "PartitionNotFoundError",
    "PermissionDeniedError",
    "ServerError",
    "ServerUnavailableError",
    "TLSError",
    "TransportError",
    "UnsupportedOperationError",
]


class AsyncLoadError(Exception):
    """Base class of every error asyncload raises."""


class InvalidArgumentError(AsyncLoadError, ValueError):
    """An argument is wrong in a way that is known before talking to the server."""


class InvalidLoadFieldsError(InvalidArgumentError):
    """``load_fields`` cannot be loaded: it names unknown fields, or lacks the primary key or a vector field.

    ``missing`` holds required fields left out, ``unknown`` names that are not in the collection,
    ``valid`` every field name the collection has.
    """

    def __init__(
        self,
        message: str,
        *,
        collection: str,
        missing: Sequence[str] = (),
        unknown: Sequence[str] = (),
        valid: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.collection = collection
        self.missing = tuple(missing)
        self.unknown = tuple(unknown)
        self.valid = tuple(valid)


class ClientClosedError(AsyncLoadError, RuntimeError):
    """The client (or a task of it) was used after ``close()`` or after its ``async with`` block."""


class ConnectionFailedError(AsyncLoadError):
    """The transport failed: the server could not be reached or refused the connection."""


class ServerUnavailableError(ConnectionFailedError):
    """The server could not be reached, or stayed unavailable through every retry.

    Raised by a wait when the server has been unreachable for longer than the client's
    ``PollingConfig.unreachable_timeout``: then ``since`` is when it stopped answering (anyio's
    clock, like ``anyio.current_time()``) and ``unreachable_for`` how many seconds that was; both
    are None on a single call that ran out of retries.
    """

    def __init__(self, message: str, *, since: float | None = None, unreachable_for: float | None = None) -> None:
        super().__init__(message)
        self.since = since
        self.unreachable_for = unreachable_for


class DatabaseLockedError(ServerUnavailableError):
    """Milvus Lite cannot open the ``.db`` at ``path``: another process holds its LOCK file.

    ``pid`` is that process's id when the system tells (Linux's ``/proc/locks``), else None.
    Close the other process (a notebook kernel, a script) or use another path.
    """

    def __init__(self, path: str, pid: int | None = None) -> None:
        self.path = path
        self.pid = pid
        holder = f"another process (PID {pid})" if pid is not None else "another process"
        super().__init__(
            f"the Milvus Lite database {path!r} is in use by {holder}: a .db can be open in one process "
            "at a time; close that process (a notebook kernel, a script) or use another path"
        )


class AuthenticationError(ConnectionFailedError):
    """The server refused the credentials (wrong or missing token). Never retried."""


class TLSError(ConnectionFailedError):
    """The TLS handshake with the server failed: its certificate is not trusted by the CA bundle
    (``ca_file``), does not match the server name (``server_name``), or the server refused the
    client certificate (``client_cert_file``). Never retried: it does not go away by itself."""


class DeadlineExceededError(ConnectionFailedError, TimeoutError):
    """One RPC got no answer within the client's ``timeout``; what it asked for may still happen."""


class TransportError(ConnectionFailedError):
    """A wire-level gRPC failure that is not a Milvus status: the call broke on the way (a reset
    HTTP/2 stream, a proxy in between giving up, a server crashing mid-answer).

    ``grpc_code`` is the gRPC status name (``"INTERNAL"``, ``"CANCELLED"``, ...). It says nothing
    about what was asked: a load followed through such a failure goes on being followed.
    """

    def __init__(self, message: str, *, grpc_code: str, operation: str = "") -> None:
        super().__init__(message)
        self.grpc_code = grpc_code
        self.operation = operation


class ServerError(AsyncLoadError):
    """Milvus answered with an error status.

    ``code`` is Milvus's error code (``status.code``, or the legacy ``error_code`` on old servers),
    ``reason`` the server's message, ``retriable`` whether the server flagged it transient.
    """

    def __init__(self, reason: str, *, code: int = 0, retriable: bool = False, operation: str = "") -> None:
        self.reason = reason
        self.code = code
        self.retriable = retriable
        self.operation = operation
        prefix = f"{operation}: " if operation else ""
        suffix = f" (Milvus code {code})" if code else ""
        super().__init__(f"{prefix}{reason}{suffix}")


class PermissionDeniedError(ServerError):
    """The authenticated user lacks the privilege for this operation. Never retried."""


class UnsupportedOperationError(ServerError):
    """The server does not implement this operation (Milvus Lite has no partition loads)."""


class NotFoundError(ServerError):
    """A named collection or partition does not exist.

    ``suggestions`` holds existing names close to the one asked for (possibly none); the message
    ends with them ("did you mean ...?").
    """

    suggestions: tuple[str, ...] = ()


class CollectionNotFoundError(NotFoundError):
    """The collection does not exist (in this database). ``collection`` names it."""

    def __init__(self, collection: str, *, reason: str | None = None, code: int = 100, operation: str = "") -> None:
        self.collection = collection
        super().__init__(reason or f"collection {collection!r} does not exist", code=code, operation=operation)


class PartitionNotFoundError(NotFoundError):
    """A partition does not exist in the collection. ``partition`` names it when known."""

    def __init__(
        self,
        collection: str,
        partition: str | None = None,
        *,
        reason: str | None = None,
        code: int = 200,
        operation: str = "",
    ) -> None:
        self.collection = collection
        self.partition = partition
        default = f"partition {partition!r} does not exist in collection {collection!r}"
        super().__init__(reason or default, code=code, operation=operation)


class LoadFailedError(ServerError):
    """The load ended without loading: the server's ``reason`` and ``code`` say why
    (e.g. 52 insufficient memory, 605 segment resource failure, 101 not loaded any more)."""


class LoadReleasedError(LoadFailedError):
    """The load was released before it finished: through this client, or elsewhere (another client,
    another process, Attu), which the server reports as "not loaded" while the load was running."""


class NotLoadedError(AsyncLoadError):
    """:meth:`~asyncload.AsyncClient.follow_load` found nothing to follow: the target is neither
    loading nor loaded. ``collection``, ``partitions`` and ``state`` (a :class:`~asyncload.LoadState`)
    say what was asked and what the server answered."""

    def __init__(self, collection: str, partitions: Sequence[str], state: LoadState, *, operation: str = "") -> None:
        self.collection = collection
        self.partitions = tuple(partitions)
        self.state = state
        self.operation = operation
        target = f"{collection!r}" + (f" partitions {list(self.partitions)}" if self.partitions else "")
        prefix = f"{operation}: " if operation else ""
        super().__init__(
            f"{prefix}{target} is neither loading nor loaded ({state}): no load to follow "
            "(start one with load_collection / load_partitions)"
        )


class LoadStalledError(AsyncLoadError):
    """No load progress for ``stalled_for`` seconds; raised only when the waiter asked for it.

    The load may still finish on the server; release it to stop it.
    """

    def __init__(self, collection: str, percent: int, stalled_for: float) -> None:
        self.collection = collection
        self.percent = percent
        self.stalled_for = stalled_for
        super().__init__(f"loading {collection!r} made no progress for {stalled_for:.0f} s (stuck at {percent}%)")


_publish(globals(), __all__, __name__)
