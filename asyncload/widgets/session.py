"""A client opened in one notebook cell and closed in another.

ipykernel runs every cell as its own asyncio task, and an AsyncClient's task group (entered by
``__aenter__``) must be exited by the task that entered it: ``await client.__aenter__()`` in one cell
and ``await client.aclose()`` in a later one fails with "Attempted to exit cancel scope in a
different task than it was entered in". :func:`open_client` runs the client's ``async with`` in a
background task of the kernel loop instead, and :func:`close_client` ends it there.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from .._client import AsyncClient, connect
from .runtime import require_asyncio

__all__ = ["close_client", "open_client"]


class _Host:
    def __init__(self, task: asyncio.Task[None], stop: asyncio.Event) -> None:
        self.task = task
        self.stop = stop


_hosts: weakref.WeakKeyDictionary[AsyncClient, _Host] = weakref.WeakKeyDictionary()


async def open_client(uri: str = "./milvus.db", **options: Any) -> AsyncClient:
    """``asyncload.connect(uri, **options)``, opened for a notebook: returns the open client.

    Its lifetime runs in a background task of the kernel's asyncio loop, so any later cell may use
    it and :func:`close_client` closes it (an embedded Milvus Lite stops with it). Connection errors
    raise here. Cancelling this call (interrupting the cell) closes the half-open client.
    """
    loop = require_asyncio("open_client")
    client = connect(uri, **options)
    opened: asyncio.Future[None] = loop.create_future()
    stop = asyncio.Event()

    async def host() -> None:
        try:
            async with client:
                opened.set_result(None)
                await stop.wait()
        except BaseException as exc:
            if not opened.done():
                opened.set_exception(exc)
                return
            raise

    task = loop.create_task(host(), name=f"asyncload client {client.uri}")
    try:
        await asyncio.shield(opened)
    except asyncio.CancelledError:
        stop.set()
        task.cancel()
        raise
    _hosts[client] = _Host(task, stop)
    return client


async def close_client(client: AsyncClient) -> None:
    """Close a client from :func:`open_client` (idempotent); any other client is ``aclose``d."""
    host = _hosts.pop(client, None)
    if host is None:
        await client.aclose()
        return
    host.stop.set()
    await host.task
