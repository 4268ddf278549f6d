"""grpc.aio transport: the native path on asyncio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
import grpc
import grpc.aio

from .proto import milvus_pb2_grpc

__all__ = ["AioTransport"]


class AioTransport:
    """Calls Milvus through a ``grpc.aio`` channel; must be created inside the running asyncio loop.

    Cancelling the awaiting task cancels the RPC (grpc.aio propagates asyncio cancellation).
    """

    def __init__(
        self,
        target: str,
        *,
        secure: bool,
        metadata: Sequence[tuple[str, str]],
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        if secure:
            self._channel = grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(), options=options)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=options)
        self._stub = milvus_pb2_grpc.MilvusServiceStub(self._channel)
        self._metadata = tuple(metadata)

    async def unary(self, method: str, request: Any, *, timeout: float | None) -> Any:
        """Start the RPC and wait for it; on cancellation the gRPC call is cancelled too.

        The wait is an anyio event, not the grpc.aio call itself: grpc.aio replaces a cancellation
        with a fresh CancelledError that anyio's cancel scopes would not recognise as theirs.
        """
        call = getattr(self._stub, method)(request, timeout=timeout, metadata=self._metadata)
        done = anyio.Event()
        call.add_done_callback(lambda _call: done.set())
        try:
            await done.wait()
        except BaseException:
            call.cancel()
            # Let the cancelled call finish on this loop: its completion must not reach a loop that
            # has ended by the time gRPC reports it.
            with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                await done.wait()
            raise
        return await call

    async def aclose(self) -> None:
        """Close the channel, then give gRPC's poller a moment to hand this loop the last completions
        (cancellations, the connection's shutdown): reported after the loop ended, they would be
        delivered to a closed loop."""
        await self._channel.close(grace=None)
        await anyio.sleep(0.05)
