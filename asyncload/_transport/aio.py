"""grpc.aio transport: the native path on asyncio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
        return await getattr(self._stub, method)(request, timeout=timeout, metadata=self._metadata)

    async def aclose(self) -> None:
        await self._channel.close(grace=None)
