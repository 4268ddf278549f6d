"""The embedded default: Milvus Lite started in this process for a local ``.db`` path.

Several clients on one path share one server; it stops when the last of them closes.
Starting and stopping run in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import anyio

from ..errors import ServerUnavailableError

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
        uri = server_manager_instance.start_and_get_uri(path)
        if uri is None:
            raise ServerUnavailableError(
                f"Milvus Lite could not start for {path!r} (is the path writable, and not used by another "
                "process?); see the 'milvus_lite' log for details"
            )
        _users[path] = _users.get(path, 0) + 1
        return str(uri)


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
