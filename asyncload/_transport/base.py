"""The interface every transport offers to the layer above: one unary call, and close; and what
both transports share (TLS credentials, the bound on waiting for gRPC to report a call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import grpc

if TYPE_CHECKING:
    from .._tls import TLSConfig

__all__ = ["COMPLETION_GRACE", "CallAbandoned", "Transport", "channel_credentials", "completion_bound", "tls_options"]

#: How long past an RPC's deadline a transport still waits for gRPC to report the call's end
#: before it cancels the call and gives up on it (grpc.aio never reports some calls, e.g. one
#: whose metadata it refuses).
COMPLETION_GRACE = 1.0


class Transport(Protocol):
    """Sends one Milvus RPC and returns its response message.

    Raises ``grpc.RpcError`` on a gRPC failure (the caller maps it with
    :func:`asyncload._transport.errors.map_rpc_error`). Cancelling the awaiting task cancels the
    in-flight RPC. A call with a ``timeout`` ends by ``timeout + COMPLETION_GRACE`` at the latest.
    """

    async def unary(self, method: str, request: Any, *, timeout: float | None) -> Any: ...

    async def aclose(self) -> None: ...


class CallAbandoned(grpc.RpcError):
    """gRPC did not report the end of a call within its deadline and the grace after it: the call
    was cancelled and is reported as DEADLINE_EXCEEDED (the shape of a sync ``grpc.RpcError``)."""

    def __init__(self, method: str, timeout: float) -> None:
        super().__init__(method, timeout)
        self._details = (
            f"gRPC did not complete {method} within its {timeout:g} s deadline (+{COMPLETION_GRACE:g} s): cancelled"
        )

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.DEADLINE_EXCEEDED

    def details(self) -> str:
        return self._details


def completion_bound(timeout: float | None) -> float | None:
    """How long a transport waits for gRPC to report a call with this deadline (None: unbounded)."""
    return None if timeout is None else timeout + COMPLETION_GRACE


def channel_credentials(tls: TLSConfig) -> grpc.ChannelCredentials:
    """Credentials of a secure channel: the CA bundle (else gRPC's default roots), the client
    certificate and key for mutual TLS."""
    return grpc.ssl_channel_credentials(
        root_certificates=tls.ca, private_key=tls.client_key, certificate_chain=tls.client_cert
    )


def tls_options(tls: TLSConfig | None) -> list[tuple[str, Any]]:
    """Channel options a TLS setting needs: the server name the certificate must carry."""
    if tls is None or tls.server_name is None:
        return []
    return [("grpc.ssl_target_name_override", tls.server_name)]
