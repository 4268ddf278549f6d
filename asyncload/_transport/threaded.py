"""Thread-bridged transport: sync gRPC futures, awaited without blocking the event loop.

grpc has no trio support, so on trio each RPC is started with the sync stub's ``.future()``;
grpc's own completion thread wakes the event loop through a thread-safe callback. No worker
thread is held per call, and cancelling the awaiting task cancels the gRPC call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import grpc
import sniffio

from .base import CallAbandoned, channel_credentials, completion_bound, tls_options
from .proto import milvus_pb2_grpc

if TYPE_CHECKING:
    from .._tls import TLSConfig

__all__ = ["ThreadedTransport", "threadsafe_caller"]


def threadsafe_caller() -> Callable[[Callable[[], object]], None]:
    """A function that schedules a callback on the current event loop from any thread.

    Calls arriving after the loop has ended are dropped (there is nobody left to wake).
    """
    library = sniffio.current_async_library()
    if library == "trio":
        import trio

        token = trio.lowlevel.current_trio_token()

        def call_trio(fn: Callable[[], object]) -> None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(fn)

        return call_trio

    import asyncio

    loop = asyncio.get_running_loop()

    def call_asyncio(fn: Callable[[], object]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(fn)

    return call_asyncio


class ThreadedTransport:
    """Calls Milvus through a sync gRPC channel; works on every anyio backend (used on trio).

    ``tls`` None is a plaintext channel.
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
            self._channel = grpc.secure_channel(target, channel_credentials(tls), options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = milvus_pb2_grpc.MilvusServiceStub(self._channel)
        self._metadata = tuple(metadata)

    async def unary(self, method: str, request: Any, *, timeout: float | None) -> Any:
        """Start the RPC and wait for it; on cancellation the gRPC call is cancelled too.

        Like the asyncio transport, the wait ends by the deadline plus a grace whatever gRPC does
        (:class:`CallAbandoned`).
        """
        call_soon = threadsafe_caller()
        done = anyio.Event()
        future = getattr(self._stub, method).future(request, timeout=timeout, metadata=self._metadata)
        future.add_done_callback(lambda _future: call_soon(done.set))
        try:
            with anyio.move_on_after(completion_bound(timeout)):
                await done.wait()
        except BaseException:
            future.cancel()
            raise
        if not done.is_set():
            future.cancel()
            assert timeout is not None  # only a deadline bounds the wait
            raise CallAbandoned(method, timeout)
        return future.result()

    async def aclose(self) -> None:
        self._channel.close()
