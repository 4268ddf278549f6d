"""Typed Milvus RPCs over a transport: requests in plain Python, answers as asyncload values.

This is the transport's upper edge. It owns per-call deadlines (the sooner of the client's timeout
and the caller's cancel scope), retries of transient failures, and error mapping. Nothing it
returns or raises is a protobuf or gRPC type.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import grpc

from .._calls import current_call
from .._options import LoadOptions
from .._progress import LoadState
from .._retry import RetryPolicy
from .._schema import CollectionSchema, IndexInfo
from .._validation import MAX_SECONDS
from ..errors import (
    AsyncLoadError,
    CollectionNotFoundError,
    DeadlineExceededError,
    ServerError,
    ServerUnavailableError,
)
from .base import Transport
from .convert import collection_schema, index_info, value_sizes
from .errors import map_rpc_error, status_error
from .proto import common_pb2, milvus_pb2

__all__ = ["LoadingProgress", "MilvusAPI"]

_SHOW_IN_MEMORY = 1  # ShowType.InMemory
_INDEX_NOT_FOUND = 700
_LEGACY_INDEX_NOT_EXIST = 25


@dataclass(frozen=True)
class LoadingProgress:
    """One GetLoadingProgress answer."""

    percent: int
    refresh_percent: int


class MilvusAPI:
    """The Milvus RPCs asyncload uses.

    ``timeout`` bounds each call, retries included (None: only the caller's cancel scope bounds it).
    Transient failures (UNAVAILABLE, statuses Milvus flags retriable) are retried per ``retry``
    inside that deadline; nothing else is retried. Cancelling a call cancels the RPC in flight.
    """

    def __init__(self, transport: Transport, *, timeout: float | None, retry: RetryPolicy) -> None:
        self._transport = transport
        self.timeout = timeout
        self.retry = retry
        self.calls: Counter[str] = Counter()
        self._rng = random.Random()

    # -- plumbing -----------------------------------------------------------------------------

    def _call_deadline(self, unbounded: bool, limit: float | None = None) -> float:
        """When the whole call (every attempt and every pause between them) must be over: the
        sooner of the client's ``timeout`` (or the call's own shorter ``limit``) from now and the
        caller's cancel scope."""
        deadline = anyio.current_effective_deadline()
        if not unbounded and self.timeout is not None:
            deadline = min(deadline, anyio.current_time() + self.timeout)
        if limit is not None:
            deadline = min(deadline, anyio.current_time() + limit)
        return deadline

    async def _call(
        self,
        method: str,
        request: Any,
        *,
        operation: str,
        collection: str | None = None,
        partitions: Sequence[str] = (),
        unbounded: bool = False,
        retry: bool = True,
        limit: float | None = None,
    ) -> Any:
        """Send ``request``; return the response once its status says success, or raise.

        Errors name the user's public call when one is running (see :mod:`asyncload._calls`), else
        ``operation``. ``timeout`` bounds the whole call, retries included: each attempt gets what
        is left of it, and a retry whose pause would not end before the deadline is not made.
        """
        operation = current_call() or operation
        scope_deadline = anyio.current_effective_deadline()
        deadline = self._call_deadline(unbounded, limit)
        attempt = 0
        first_failure: float | None = None
        while True:
            self.calls[method] += 1
            remaining = deadline - anyio.current_time()
            # Beyond MAX_SECONDS (decades) gRPC would wrap the deadline into one that has passed: unbounded.
            rpc_timeout = None if remaining > MAX_SECONDS else max(remaining, 0.001)
            error: AsyncLoadError | None
            try:
                response = await self._transport.unary(method, request, timeout=rpc_timeout)
            except grpc.RpcError as exc:
                error = map_rpc_error(exc, operation=operation)
                cause: BaseException | None = exc
            else:
                status = response if isinstance(response, common_pb2.Status) else response.status
                error = status_error(status, operation=operation, collection=collection, partitions=partitions)
                cause = None
                if error is None:
                    return response
            if (
                isinstance(error, DeadlineExceededError)
                and scope_deadline <= deadline
                and scope_deadline - anyio.current_time() <= MAX_SECONDS
            ):
                # The caller's own cancel scope set this deadline: its cancellation ends the call
                # (gRPC may report the expiry a moment before anyio does).
                await anyio.sleep_until(scope_deadline + 0.001)
            retriable = isinstance(error, ServerUnavailableError) or (
                isinstance(error, ServerError) and error.retriable
            )
            delay = self.retry.delay(attempt, self._rng)
            now = anyio.current_time()
            first_failure = now if first_failure is None else first_failure
            if (
                not retriable
                or not retry
                or attempt >= self.retry.max_retries
                or now + delay >= deadline
                or now + delay > first_failure + self.retry.window()
            ):
                raise error from cause
            attempt += 1
            await anyio.sleep(delay)

    # -- loads ----------------------------------------------------------------------------------

    async def load_collection(self, collection: str, options: LoadOptions, *, blocking: bool) -> None:
        """Submit a collection load. ``blocking`` servers (Milvus Lite) answer only when loaded, so
        the client's per-RPC timeout does not bound them; the caller's cancel scope does."""
        request = milvus_pb2.LoadCollectionRequest(collection_name=collection, **_load_request_fields(options))
        await self._call(
            "LoadCollection", request, operation="load_collection", collection=collection, unbounded=blocking
        )

    async def load_partitions(
        self, collection: str, partitions: Sequence[str], options: LoadOptions, *, blocking: bool
    ) -> None:
        """Submit a load of some partitions; same options as :meth:`load_collection`."""
        request = milvus_pb2.LoadPartitionsRequest(
            collection_name=collection, partition_names=list(partitions), **_load_request_fields(options)
        )
        await self._call(
            "LoadPartitions",
            request,
            operation="load_partitions",
            collection=collection,
            partitions=partitions,
            unbounded=blocking,
        )

    async def release_collection(self, collection: str) -> None:
        request = milvus_pb2.ReleaseCollectionRequest(collection_name=collection)
        await self._call("ReleaseCollection", request, operation="release_collection", collection=collection)

    async def release_partitions(self, collection: str, partitions: Sequence[str]) -> None:
        request = milvus_pb2.ReleasePartitionsRequest(collection_name=collection, partition_names=list(partitions))
        await self._call(
            "ReleasePartitions",
            request,
            operation="release_partitions",
            collection=collection,
            partitions=partitions,
        )

    async def get_load_state(self, collection: str, partitions: Sequence[str] = ()) -> LoadState:
        request = milvus_pb2.GetLoadStateRequest(collection_name=collection, partition_names=list(partitions))
        response = await self._call(
            "GetLoadState", request, operation="get_load_state", collection=collection, partitions=partitions
        )
        return LoadState(int(response.state)) if int(response.state) in (0, 1, 2, 3) else LoadState.NOT_EXIST

    async def get_loading_progress(
        self, collection: str, partitions: Sequence[str] = (), *, retry: bool = True, limit: float | None = None
    ) -> LoadingProgress:
        """Raises the server's error when the load failed or was released (e.g. 101 not loaded).

        ``retry=False`` sends one attempt (the load monitor backs off and polls again itself);
        ``limit`` bounds the call below the client's timeout."""
        request = milvus_pb2.GetLoadingProgressRequest(collection_name=collection, partition_names=list(partitions))
        response = await self._call(
            "GetLoadingProgress",
            request,
            operation="loading_progress",
            collection=collection,
            partitions=partitions,
            retry=retry,
            limit=limit,
        )
        return LoadingProgress(int(response.progress), int(getattr(response, "refresh_progress", 0)))

    async def in_memory_percentages(self, collections: Sequence[str]) -> dict[str, tuple[int, bool]]:
        """Loading percentage and "query service available" of many collections in one
        ShowCollections(InMemory) call. Deprecated by newer Milvus; one unloaded or unknown name
        fails the whole call on Milvus 2.3 (Milvus Lite answers 0 and not available instead)."""
        request = milvus_pb2.ShowCollectionsRequest(type=_SHOW_IN_MEMORY, collection_names=list(collections))
        response = await self._call("ShowCollections", request, operation="show_collections")
        serving = list(response.query_service_available) or [True] * len(response.collection_names)
        return {
            str(name): (int(pct), bool(up))
            for name, pct, up in zip(response.collection_names, response.inMemory_percentages, serving, strict=False)
        }

    # -- descriptions ---------------------------------------------------------------------------

    async def list_collections(self) -> list[str]:
        response = await self._call(
            "ShowCollections", milvus_pb2.ShowCollectionsRequest(), operation="list_collections"
        )
        return [str(name) for name in response.collection_names]

    async def describe_collection(self, collection: str) -> CollectionSchema:
        request = milvus_pb2.DescribeCollectionRequest(collection_name=collection)
        response = await self._call(
            "DescribeCollection", request, operation="describe_collection", collection=collection
        )
        return collection_schema(response)

    async def list_partitions(self, collection: str) -> list[str]:
        request = milvus_pb2.ShowPartitionsRequest(collection_name=collection)
        response = await self._call("ShowPartitions", request, operation="list_partitions", collection=collection)
        return [str(name) for name in response.partition_names]

    async def row_count(self, collection: str) -> int:
        request = milvus_pb2.GetCollectionStatisticsRequest(collection_name=collection)
        response = await self._call(
            "GetCollectionStatistics", request, operation="collection_statistics", collection=collection
        )
        stats = {str(p.key): str(p.value) for p in response.stats}
        return int(stats.get("row_count", "0") or 0)

    async def describe_indexes(self, collection: str) -> list[IndexInfo]:
        """Every index of the collection; an empty list when it has none."""
        request = milvus_pb2.DescribeIndexRequest(collection_name=collection)
        try:
            response = await self._call("DescribeIndex", request, operation="describe_index", collection=collection)
        except CollectionNotFoundError:
            raise
        except ServerError as exc:
            if exc.code in (_INDEX_NOT_FOUND, _LEGACY_INDEX_NOT_EXIST) or "index not found" in exc.reason.lower():
                return []
            raise
        return [index_info(d) for d in response.index_descriptions]

    async def system_info(self) -> str:
        """GetMetrics ``{"metric_type": "system_info"}``: the JSON answer, as the server sent it.

        Raises UnsupportedOperationError where the server does not implement it (Milvus Lite).
        """
        request = milvus_pb2.GetMetricsRequest(request=json.dumps({"metric_type": "system_info"}))
        response = await self._call("GetMetrics", request, operation="get_metrics")
        return str(response.response)

    async def sealed_segment_count(self, collection: str) -> int:
        """How many flushed (sealed) segments the collection has (GetPersistentSegmentInfo)."""
        request = milvus_pb2.GetPersistentSegmentInfoRequest(collectionName=collection)
        response = await self._call(
            "GetPersistentSegmentInfo", request, operation="segment_info", collection=collection
        )
        flushed = (common_pb2.SegmentState.Flushed, common_pb2.SegmentState.Sealed)
        return sum(1 for info in response.infos if info.state in flushed and info.num_rows > 0)

    async def partition_row_count(self, collection: str, partition: str) -> int:
        request = milvus_pb2.GetPartitionStatisticsRequest(collection_name=collection, partition_name=partition)
        response = await self._call(
            "GetPartitionStatistics",
            request,
            operation="partition_statistics",
            collection=collection,
            partitions=(partition,),
        )
        stats = {str(p.key): str(p.value) for p in response.stats}
        return int(stats.get("row_count", "0") or 0)

    async def sample_value_sizes(
        self, collection: str, fields: Sequence[str], *, limit: int, partitions: Sequence[str] = ()
    ) -> dict[str, list[int]]:
        """Byte sizes of up to ``limit`` values of each variable-length field, from one Query.

        The collection must be loaded (Milvus queries only loaded data).
        """
        request = milvus_pb2.QueryRequest(
            collection_name=collection,
            expr="",
            output_fields=list(fields),
            partition_names=list(partitions),
            query_params=[common_pb2.KeyValuePair(key="limit", value=str(limit))],
            # A size sample needs no fresh data: do not wait for the newest writes to be visible.
            consistency_level=common_pb2.ConsistencyLevel.Eventually,
            use_default_consistency=False,
        )
        response = await self._call("Query", request, operation="sample_rows", collection=collection)
        sizes: dict[str, list[int]] = {}
        for column in response.fields_data:
            name = "$meta" if column.is_dynamic else str(column.field_name)
            if name in fields:
                sizes[name] = value_sizes(column)
        return sizes

    async def query_segment_memory(self, collection: str) -> list[int]:
        """The loaded segments' memory as the query nodes report it (GetQuerySegmentInfo
        ``mem_size``, bytes, one entry a loaded segment and replica). Milvus 2.3.5 answers 0 for
        every segment; Milvus Lite raises UnsupportedOperationError (UNIMPLEMENTED).
        """
        request = milvus_pb2.GetQuerySegmentInfoRequest(collectionName=collection)
        response = await self._call(
            "GetQuerySegmentInfo", request, operation="query_segment_info", collection=collection
        )
        return [int(info.mem_size) for info in response.infos]


def _load_request_fields(options: LoadOptions) -> dict[str, Any]:
    """The request fields LoadCollectionRequest and LoadPartitionsRequest share."""
    return {
        "replica_number": options.replica_number or 0,
        "resource_groups": list(options.resource_groups),
        "refresh": options.refresh,
        "load_fields": list(options.load_fields or ()),
        "skip_load_dynamic_field": options.skip_load_dynamic_field,
        "load_params": dict(options.load_params),
    }
