"""grpc.aio transport: the native path on asyncio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio
import grpc
import grpc.aio

from .base import CallAbandoned, channel_credentials, completion_bound, tls_options
from .proto import milvus_pb2_grpc

if TYPE_CHECKING:
    from .._tls import TLSConfig

__all__ = ["AioTransport"]


class AioTransport:
    """Calls Milvus through a ``grpc.aio`` channel; must be created inside the running asyncio loop.

    ``tls`` None is a plaintext channel. Cancelling the awaiting task cancels the RPC.
    """

    def __init__(
        self,
        target: str,
        *,
        tls: TLSConfig | None,
        metadata: Sequence[tuple[str, str]],
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        if tls is not None:
            options = [*options, *tls_options(tls)]
            self._channel = grpc.aio.secure_channel(target, channel_credentials(tls), options=options)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=options)
        self._stub = milvus_pb2_grpc.MilvusServiceStub(self._channel)
        self._metadata = tuple(metadata)

    async def unary(self, method: str, request: Any, *, timeout: float | None) -> Any:
        """Start the RPC and wait for it; on cancellation the gRPC call is cancelled too.

        The wait is an anyio event, not the grpc.aio call itself: grpc.aio replaces a cancellation
        with a fresh CancelledError that anyio's cancel scopes would not recognise as theirs. It
        is bounded by the deadline (plus a grace): grpc.aio never reports some calls (one whose
        metadata it refuses); such a call is cancelled and raises :class:`CallAbandoned`.
        """
        call = getattr(self._stub, method)(request, timeout=timeout, metadata=self._metadata)
        done = anyio.Event()
        call.add_done_callback(lambda _call: done.set())
        try:
            with anyio.move_on_after(completion_bound(timeout)):
                await done.wait()
        except BaseException:
            call.cancel()
            # Let the cancelled call finish on this loop: its completion must not reach a loop that
            # has ended by the time gRPC reports it.
            with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                await done.wait()
            raise
        if not done.is_set():
            call.cancel()
            assert timeout is not None  # only a deadline bounds the wait
            raise CallAbandoned(method, timeout)
        return await call

    async def aclose(self) -> None:
        """Close the channel, then give gRPC's poller a moment to hand this loop the last completions
        (cancellations, the connection's shutdown): reported after the loop ended, they would be
        delivered to a closed loop."""
        await self._channel.close(grace=None)
        await anyio.sleep(0.05)
