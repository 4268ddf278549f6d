"""The embedded default: Milvus Lite started in this process for a local ``.db`` path.

Several clients on one path share one server; it stops when the last of them closes.
Starting and stopping run in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator

import anyio

from ..errors import DatabaseLockedError, ServerUnavailableError

__all__ = ["acquire", "release"]

_lock = threading.Lock()
_users: dict[str, int] = {}


@contextlib.contextmanager
def _without_milvus_uri() -> Iterator[None]:
    """Milvus Lite's server imports pymilvus, whose __init__ parses $MILVUS_URI at import time and
    raises for forms asyncload accepts (a Milvus Lite path like ./x.db, host:port without a scheme):
    hide the variable meanwhile."""
    saved = os.environ.pop("MILVUS_URI", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MILVUS_URI"] = saved


def _start(path: str) -> str:
    with _lock, _without_milvus_uri():
        try:
            from milvus_lite.server_manager import server_manager_instance
        except ImportError as exc:  # pragma: no cover - milvus-lite is a dependency
            raise ServerUnavailableError(
                f"cannot start an embedded Milvus Lite for {path!r}: the 'milvus-lite' package is not installed "
                "(pip install milvus-lite), or connect to a server with an http:// URI"
            ) from exc
        captured = _Capture()
        logger = logging.getLogger("milvus_lite.server_manager")
        logger.addFilter(captured)  # its traceback of a failed start becomes our one-line error
        try:
            uri = server_manager_instance.start_and_get_uri(path)
        finally:
            logger.removeFilter(captured)
        if uri is None:
            cause = captured.error
            if cause is not None and type(cause).__name__ == "DataDirLockedError":
                raise DatabaseLockedError(path, _lock_holder(os.path.join(path, "LOCK"))) from None
            why = f": {type(cause).__name__}: {cause}" if cause is not None else " (is the path writable?)"
            raise ServerUnavailableError(f"Milvus Lite could not start for {path!r}{why}") from cause
        _users[path] = _users.get(path, 0) + 1
        return str(uri)


class _Capture(logging.Filter):
    """Keeps the exception of milvus_lite's "Failed to start" record and drops the record."""

    def __init__(self) -> None:
        super().__init__()
        self.error: BaseException | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            self.error = record.exc_info[1]
            return False
        return True


def _lock_holder(lock_path: str) -> int | None:
    """The PID holding an flock on ``lock_path``, from Linux's ``/proc/locks``; None if it cannot tell."""
    try:
        inode = os.stat(lock_path).st_ino
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            for line in locks:
                # "1: FLOCK  ADVISORY  WRITE 12345 08:01:1234567 0 EOF" (a "->" marks a waiter)
                parts = line.split()
                if "->" in parts or len(parts) < 6 or parts[1] != "FLOCK":
                    continue
                if parts[5].rsplit(":", 1)[-1] == str(inode) and parts[4].isdigit():
                    pid = int(parts[4])
                    return pid if pid != os.getpid() else None
    except (OSError, ValueError):
        return None
    return None


def _stop(path: str) -> None:
    from milvus_lite.server_manager import server_manager_instance

    with _lock:
        _users[path] -= 1
        if _users[path] > 0:
            return
        del _users[path]
        server_manager_instance.release_server(path)


async def acquire(path: str) -> str:
    """Start (or share) the Milvus Lite server for ``path``; returns its ``http://`` URI.

    The start runs in a worker thread and is shielded from cancellation: the server is up when this
    returns, and the caller must :func:`release` it even if it is cancelled right after.
    """
    with anyio.CancelScope(shield=True):
        uri = await anyio.to_thread.run_sync(_start, path)
    return uri


async def release(path: str) -> None:
    """Stop the server for ``path`` unless another client still uses it. Shielded from cancellation."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_stop, path)
