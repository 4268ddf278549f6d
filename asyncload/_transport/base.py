"""The interface every transport offers to the layer above: one unary call, and close."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Transport"]


class Transport(Protocol):
    """Sends one Milvus RPC and returns its response message.

    Raises ``grpc.RpcError`` on a gRPC failure (the caller maps it with
    :func:`asyncload._transport.errors.map_rpc_error`). Cancelling the awaiting task cancels the
    in-flight RPC.
    """

    async def unary(self, method: str, request: Any, *, timeout: float | None) -> Any: ...

    async def aclose(self) -> None: ...
