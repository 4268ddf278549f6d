"""A scripted in-process Milvus for faults no real server here can produce.

Only the RPCs a test scripts are answered; each scripted answer is used once, the last repeats.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc

from asyncload._transport.proto import common_pb2, milvus_pb2, milvus_pb2_grpc

Answer = Callable[[Any, grpc.ServicerContext], Any]


def ok() -> Any:
    return common_pb2.Status()


def error_status(code: int, reason: str, *, retriable: bool = False) -> Any:
    return common_pb2.Status(error_code=1, code=code, reason=reason, retriable=retriable)


def progress(percent: int, *, status: Any = None) -> Answer:
    return lambda request, context: milvus_pb2.GetLoadingProgressResponse(status=status or ok(), progress=percent)


def progress_error(code: int, reason: str) -> Answer:
    return lambda request, context: milvus_pb2.GetLoadingProgressResponse(status=error_status(code, reason))


def grpc_abort(code: grpc.StatusCode, details: str) -> Answer:
    def answer(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, details)

    return answer


class FakeMilvus(milvus_pb2_grpc.MilvusServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.scripts: dict[str, list[Answer]] = defaultdict(list)
        self.calls: dict[str, int] = defaultdict(int)
        self.requests: dict[str, list[Any]] = defaultdict(list)
        self.metadata: list[tuple[tuple[str, str | bytes], ...]] = []
        self._lock = threading.Lock()
        self.script("LoadCollection", lambda r, c: ok())
        self.script("ReleaseCollection", lambda r, c: ok())

    def script(self, method: str, *answers: Answer) -> None:
        with self._lock:
            self.scripts[method] = list(answers)

    def _answer(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        with self._lock:
            self.calls[method] += 1
            self.requests[method].append(request)
            self.metadata.append(tuple(context.invocation_metadata()))
            script = self.scripts.get(method)
            if not script:
                context.abort(grpc.StatusCode.UNIMPLEMENTED, f"fake: {method} not scripted")
            answer = script.pop(0) if len(script) > 1 else script[0]
        return answer(request, context)

    def LoadCollection(self, request: Any, context: Any) -> Any:
        return self._answer("LoadCollection", request, context)

    def ReleaseCollection(self, request: Any, context: Any) -> Any:
        return self._answer("ReleaseCollection", request, context)

    def GetLoadingProgress(self, request: Any, context: Any) -> Any:
        return self._answer("GetLoadingProgress", request, context)

    def GetLoadState(self, request: Any, context: Any) -> Any:
        return self._answer("GetLoadState", request, context)

    def DescribeCollection(self, request: Any, context: Any) -> Any:
        return self._answer("DescribeCollection", request, context)

    def ShowCollections(self, request: Any, context: Any) -> Any:
        return self._answer("ShowCollections", request, context)


@contextmanager
def fake_milvus() -> Iterator[tuple[FakeMilvus, str]]:
    """Run a FakeMilvus on a free loopback port; yields it and its URI."""
    fake = FakeMilvus()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        server.stop(grace=None)
