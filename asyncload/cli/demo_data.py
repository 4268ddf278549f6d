"""Sample collections for ``asyncload demo``, written with raw gRPC (asyncload itself never inserts).

Blocking calls on a sync stub: run :func:`create_samples` in a worker thread. Two collections:

``demo_books``
    ``id`` INT64 primary key, ``embedding`` FLOAT_VECTOR(dim) with an index, ``title`` VARCHAR(256),
    ``year`` INT16, ``pages`` INT32, ``rating`` FLOAT, ``price`` DOUBLE, ``in_stock`` BOOL, and the
    dynamic field (``{"genre": ..., "tags": [...]}``); rows split over partitions ``fiction`` and
    ``science``, flushed in several segments.
``demo_authors``
    a small one (``id``, ``name`` VARCHAR, ``vec`` FLOAT_VECTOR(16), FLAT index).

Both are flushed, indexed and left released (Milvus Lite loads new collections by itself).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np

from .._transport.proto import common_pb2, milvus_pb2, milvus_pb2_grpc, schema_pb2

__all__ = ["AUTHORS", "BOOKS", "PARTITIONS", "SampleError", "SampleSpec", "create_samples"]

BOOKS = "demo_books"
AUTHORS = "demo_authors"
PARTITIONS = ("fiction", "science")
_AUTHOR_ROWS = 2_000
_AUTHOR_DIM = 16
_RPC_TIMEOUT = 120.0
_BATCH_BYTES = 16 * 1024 * 1024
_GENRES = ("novel", "poetry", "essay", "physics", "biology", "history", "maths")
_DT = schema_pb2.DataType


class SampleError(RuntimeError):
    """A call made while creating the sample data failed."""


@dataclass(frozen=True)
class SampleSpec:
    """How big ``demo_books`` is, and its vector index (``index_params`` as Milvus takes them)."""

    rows: int
    dim: int
    segments: int
    index_type: str
    index_params: dict[str, Any]


def _check(status: Any, what: str) -> None:
    if status.error_code != 0 or status.code != 0:
        raise SampleError(f"{what} failed: {status.reason or status.code or status.error_code}")


def _field(name: str, dtype: int, *, primary: bool = False, **params: Any) -> Any:
    type_params = [common_pb2.KeyValuePair(key=k, value=str(v)) for k, v in params.items()]
    return schema_pb2.FieldSchema(name=name, data_type=dtype, is_primary_key=primary, type_params=type_params)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _floats(values: np.ndarray[Any, Any]) -> Any:
    """A schema.FloatArray straight from packed little-endian float32 bytes (no per-value loop)."""
    raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
    return schema_pb2.FloatArray.FromString(b"\x0a" + _varint(len(raw)) + raw)


def _vectors(name: str, values: np.ndarray[Any, Any]) -> Any:
    vector = schema_pb2.VectorField(dim=values.shape[1], float_vector=_floats(values))
    return schema_pb2.FieldData(type=_DT.FloatVector, field_name=name, vectors=vector)


def _scalars(name: str, dtype: int, **column: Any) -> Any:
    return schema_pb2.FieldData(type=dtype, field_name=name, scalars=schema_pb2.ScalarField(**column))


def _book_columns(ids: np.ndarray[Any, Any], dim: int, rng: np.random.Generator) -> list[Any]:
    n, id_list = len(ids), ids.tolist()
    meta = [
        json.dumps({"genre": _GENRES[i % len(_GENRES)], "tags": [f"t{i % 13}", f"t{i % 7}"]}).encode() for i in id_list
    ]
    return [
        _scalars("id", _DT.Int64, long_data=schema_pb2.LongArray(data=id_list)),
        _vectors("embedding", rng.random((n, dim), dtype=np.float32)),
        _scalars("title", _DT.VarChar, string_data=schema_pb2.StringArray(data=[f"Book number {i}" for i in id_list])),
        _scalars("year", _DT.Int16, int_data=schema_pb2.IntArray(data=(1900 + ids % 125).tolist())),
        _scalars("pages", _DT.Int32, int_data=schema_pb2.IntArray(data=(50 + ids % 900).tolist())),
        _scalars("rating", _DT.Float, float_data=_floats(rng.random(n, dtype=np.float32) * 5)),
        _scalars("price", _DT.Double, double_data=schema_pb2.DoubleArray(data=(rng.random(n) * 40).tolist())),
        _scalars("in_stock", _DT.Bool, bool_data=schema_pb2.BoolArray(data=(ids % 3 != 0).tolist())),
        schema_pb2.FieldData(
            type=_DT.JSON,
            field_name="$meta",
            is_dynamic=True,
            scalars=schema_pb2.ScalarField(json_data=schema_pb2.JSONArray(data=meta)),
        ),
    ]


def _author_columns(ids: np.ndarray[Any, Any], rng: np.random.Generator) -> list[Any]:
    id_list = ids.tolist()
    return [
        _scalars("id", _DT.Int64, long_data=schema_pb2.LongArray(data=id_list)),
        _scalars("name", _DT.VarChar, string_data=schema_pb2.StringArray(data=[f"Author {i}" for i in id_list])),
        _vectors("vec", rng.random((len(ids), _AUTHOR_DIM), dtype=np.float32)),
    ]


class _Session:
    """A sync MilvusService stub with its call metadata; every call first checks ``stop``."""

    def __init__(self, uri: str, token: str | None, stop: threading.Event) -> None:
        self.stop = stop
        target = uri.split("://", 1)[-1].rstrip("/")
        options = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
        self.channel = grpc.insecure_channel(target, options=options)
        self.stub = milvus_pb2_grpc.MilvusServiceStub(self.channel)
        self.md = [("authorization", base64.b64encode(token.encode()).decode())] if token else []

    def call(self, method: str, request: Any) -> Any:
        if self.stop.is_set():
            raise SampleError("stopped")
        try:
            reply = getattr(self.stub, method)(request, metadata=self.md, timeout=_RPC_TIMEOUT)
        except grpc.RpcError as exc:  # details only: never the metadata
            details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
            raise SampleError(f"{method} failed: {details}") from None
        _check(reply if isinstance(reply, common_pb2.Status) else reply.status, method)
        return reply

    def recreate(self, name: str, fields: list[Any], *, dynamic: bool, partitions: tuple[str, ...]) -> None:
        if self.call("HasCollection", milvus_pb2.HasCollectionRequest(collection_name=name)).value:
            self.call("DropCollection", milvus_pb2.DropCollectionRequest(collection_name=name))
        schema = schema_pb2.CollectionSchema(name=name, fields=fields, enable_dynamic_field=dynamic)
        request = milvus_pb2.CreateCollectionRequest(
            collection_name=name, schema=schema.SerializeToString(), shards_num=1
        )
        self.call("CreateCollection", request)
        for partition in partitions:
            self.call(
                "CreatePartition", milvus_pb2.CreatePartitionRequest(collection_name=name, partition_name=partition)
            )

    def insert(self, name: str, partition: str, columns: list[Any], rows: int) -> None:
        request = milvus_pb2.InsertRequest(
            collection_name=name, partition_name=partition, fields_data=columns, num_rows=rows
        )
        self.call("Insert", request)

    def flush(self, names: list[str]) -> None:
        """Seal the growing segments of ``names`` together and wait until they are flushed."""
        reply = self.call("Flush", milvus_pb2.FlushRequest(collection_names=names))
        deadline = time.monotonic() + _RPC_TIMEOUT
        for name in names:
            segments = list(reply.coll_segIDs[name].data) if name in reply.coll_segIDs else []
            flush_ts = int(reply.coll_flush_ts.get(name, 0))
            while segments:  # Milvus Lite returns no segments: nothing to wait for
                request = milvus_pb2.GetFlushStateRequest(segmentIDs=segments, flush_ts=flush_ts, collection_name=name)
                if self.call("GetFlushState", request).flushed:
                    break
                if time.monotonic() > deadline:
                    raise SampleError(f"flushing {name} did not finish in {_RPC_TIMEOUT:.0f} s")
                self.stop.wait(0.05)  # wakes at once when stopped; the next call raises

    def index(self, name: str, field: str, index_type: str, params: dict[str, Any]) -> None:
        extra = {"index_type": index_type, "metric_type": "L2", "params": json.dumps(params)}
        request = milvus_pb2.CreateIndexRequest(
            collection_name=name,
            field_name=field,
            index_name=field,
            extra_params=[common_pb2.KeyValuePair(key=k, value=v) for k, v in extra.items()],
        )
        self.call("CreateIndex", request)
        deadline = time.monotonic() + 10 * _RPC_TIMEOUT
        describe = milvus_pb2.DescribeIndexRequest(collection_name=name, field_name=field)
        while True:
            desc = self.call("DescribeIndex", describe).index_descriptions[0]
            if desc.state == common_pb2.IndexState.Failed:
                raise SampleError(f"building the index of {name} failed: {desc.index_state_fail_reason}")
            if desc.state == common_pb2.IndexState.Finished and desc.pending_index_rows == 0:
                return
            if time.monotonic() > deadline:
                raise SampleError(f"building the index of {name} did not finish in time")
            self.stop.wait(0.1)

    def release(self, name: str) -> None:
        state = self.call("GetLoadState", milvus_pb2.GetLoadStateRequest(collection_name=name)).state
        if state != common_pb2.LoadState.LoadStateNotLoad:
            self.call("ReleaseCollection", milvus_pb2.ReleaseCollectionRequest(collection_name=name))


def _books_fields(dim: int) -> list[Any]:
    return [
        _field("id", _DT.Int64, primary=True),
        _field("embedding", _DT.FloatVector, dim=dim),
        _field("title", _DT.VarChar, max_length=256),
        _field("year", _DT.Int16),
        _field("pages", _DT.Int32),
        _field("rating", _DT.Float),
        _field("price", _DT.Double),
        _field("in_stock", _DT.Bool),
    ]


def create_samples(
    uri: str,
    token: str | None,
    spec: SampleSpec,
    *,
    step: Callable[[str], None] = lambda _: None,
    stop: threading.Event | None = None,
) -> None:
    """(Re)create ``demo_books`` and ``demo_authors`` on the server at ``uri``; ``step`` hears each stage.

    Existing collections of those names are dropped first. Blocking: call it from a worker thread;
    setting ``stop`` makes it raise SampleError before its next RPC.
    """
    session = _Session(uri, token, stop or threading.Event())
    rng = np.random.default_rng(7)
    try:
        step(f"creating {BOOKS} and {AUTHORS}")
        session.recreate(BOOKS, _books_fields(spec.dim), dynamic=True, partitions=PARTITIONS)
        session.recreate(AUTHORS, _author_fields(), dynamic=False, partitions=())
        ids = np.arange(_AUTHOR_ROWS, dtype=np.int64)
        session.insert(AUTHORS, "_default", _author_columns(ids, rng), _AUTHOR_ROWS)
        batch = max(1, _BATCH_BYTES // (spec.dim * 4 + 96))
        rounds = max(1, spec.segments)
        per_round = -(-spec.rows // (len(PARTITIONS) * rounds))
        next_id = 0
        for segment in range(rounds):
            step(f"inserting {spec.rows:,} rows into {BOOKS}" + (f" ({segment + 1}/{rounds})" if rounds > 1 else ""))
            for partition in PARTITIONS:
                todo = min(per_round, spec.rows - next_id)
                while todo > 0:
                    n = min(batch, todo)
                    ids = np.arange(next_id, next_id + n, dtype=np.int64)
                    session.insert(BOOKS, partition, _book_columns(ids, spec.dim, rng), n)
                    next_id, todo = next_id + n, todo - n
            step("flushing (sealing segments)")
            session.flush([BOOKS, AUTHORS] if segment == 0 else [BOOKS])
        step(f"building the {spec.index_type} index on {BOOKS}.embedding")
        session.index(AUTHORS, "vec", "FLAT", {})
        session.index(BOOKS, "embedding", spec.index_type, spec.index_params)
        for name in (BOOKS, AUTHORS):
            session.release(name)
    finally:
        session.channel.close()


def _author_fields() -> list[Any]:
    return [
        _field("id", _DT.Int64, primary=True),
        _field("name", _DT.VarChar, max_length=128),
        _field("vec", _DT.FloatVector, dim=_AUTHOR_DIM),
    ]
