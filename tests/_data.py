"""Create and drop test collections, fast, on Milvus Lite and on the Milvus 2.3.5 standalone.

Raw gRPC through ``asyncload._transport.proto`` (no pymilvus client class): the column data is built
with numpy and handed to protobuf as packed bytes, so 100k rows x 128-d insert in about a second.

    make_collection(uri, token, "books", rows=10_000)                 # FLAT index, one segment
    make_collection(uri, token, "big", rows=200_000, segments=8)      # 8 sealed segments
    make_collection(uri, token, "parts", rows=3_000, partitions=("a", "b", "c"))
    drop_collection(uri, token, "books")

Schema: ``id`` INT64 primary key (``start_id`` .. ``start_id + rows - 1``), ``vec`` FLOAT_VECTOR(dim),
``title`` VARCHAR(256) (``"title <id>"``, only with ``varchar=True``), ``score`` FLOAT, and with
``dynamic=True`` the dynamic field ``$meta`` holding ``{"tag": "t<id % 10>", "n": <id>}``.
The rows are inserted, flushed (sealed segments), indexed (the call waits for the index build to
finish) and NOT loaded (Milvus Lite loads collections by itself: they are released at the end; a Lite
collection without an index stays Loaded).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np

from asyncload._transport.proto import common_pb2, milvus_pb2, milvus_pb2_grpc, schema_pb2

if TYPE_CHECKING:
    from asyncload._servers.standalone import StandaloneTLS

DataType = schema_pb2.DataType

INDEXES: dict[str, dict[str, Any]] = {
    "FLAT": {},
    "IVF_FLAT": {"nlist": 128},
    "IVF_SQ8": {"nlist": 128},
    "HNSW": {"M": 16, "efConstruction": 64},
    "AUTOINDEX": {},
}

_BATCH_BYTES = 24 * 1024 * 1024  # keep each Insert well under the server's 64 MB receive limit
_RPC_TIMEOUT = 60.0


class DataError(RuntimeError):
    """A Milvus call made while building test data failed."""


# ------------------------------------------------------------------------------------ connection
def connect(
    uri: str, token: str | None = None, *, tls: StandaloneTLS | None = None
) -> tuple[Any, list[tuple[str, str]], grpc.Channel]:
    """A sync MilvusService stub for ``uri`` (``http://host:port`` or ``host:port``) and its metadata.

    ``tls``: the TLS settings of a standalone started with them (its CA, client certificate, name).
    """
    target = uri.split("://", 1)[-1].rstrip("/")
    options: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", 128 << 20),
        ("grpc.max_receive_message_length", 128 << 20),
    ]
    if tls is None:
        channel = grpc.insecure_channel(target, options=options)
    else:
        if tls.server_name:
            options.append(("grpc.ssl_target_name_override", tls.server_name))
        channel = grpc.secure_channel(target, tls.credentials(), options=options)
    metadata = [("authorization", base64.b64encode(token.encode()).decode())] if token else []
    return milvus_pb2_grpc.MilvusServiceStub(channel), metadata, channel


def check(status: Any, what: str) -> None:
    """Raise :class:`DataError` unless ``status`` (a common.Status) is a success."""
    if status.error_code != 0 or status.code != 0:
        raise DataError(f"{what}: code={status.code} error_code={status.error_code} reason={status.reason!r}")


# ----------------------------------------------------------------------------------------- schema
def collection_schema(name: str, *, dim: int = 128, dynamic: bool = True, varchar: bool = True) -> Any:
    fields = [
        schema_pb2.FieldSchema(name="id", data_type=DataType.Int64, is_primary_key=True, autoID=False),
        schema_pb2.FieldSchema(
            name="vec",
            data_type=DataType.FloatVector,
            type_params=[common_pb2.KeyValuePair(key="dim", value=str(dim))],
        ),
    ]
    if varchar:
        fields.append(
            schema_pb2.FieldSchema(
                name="title",
                data_type=DataType.VarChar,
                type_params=[common_pb2.KeyValuePair(key="max_length", value="256")],
            )
        )
    fields.append(schema_pb2.FieldSchema(name="score", data_type=DataType.Float))
    return schema_pb2.CollectionSchema(name=name, fields=fields, enable_dynamic_field=dynamic)


# ------------------------------------------------------------------------------------------ columns
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _float_array(values: np.ndarray[Any, Any]) -> Any:
    """A schema.FloatArray from float32 values without a per-element Python loop (packed field 1)."""
    raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
    return schema_pb2.FloatArray.FromString(b"\x0a" + _varint(len(raw)) + raw)


def _field_data(
    ids: np.ndarray[Any, Any], rng: np.random.Generator, *, dim: int, dynamic: bool, varchar: bool
) -> list[Any]:
    n = len(ids)
    vectors = rng.random((n, dim), dtype=np.float32)
    scores = rng.random(n, dtype=np.float32)
    id_list = ids.tolist()
    out = [
        schema_pb2.FieldData(
            type=DataType.Int64,
            field_name="id",
            scalars=schema_pb2.ScalarField(long_data=schema_pb2.LongArray(data=id_list)),
        ),
        schema_pb2.FieldData(
            type=DataType.FloatVector,
            field_name="vec",
            vectors=schema_pb2.VectorField(dim=dim, float_vector=_float_array(vectors)),
        ),
        schema_pb2.FieldData(
            type=DataType.Float,
            field_name="score",
            scalars=schema_pb2.ScalarField(float_data=_float_array(scores)),
        ),
    ]
    if varchar:
        out.append(
            schema_pb2.FieldData(
                type=DataType.VarChar,
                field_name="title",
                scalars=schema_pb2.ScalarField(
                    string_data=schema_pb2.StringArray(data=[f"title {i}" for i in id_list])
                ),
            )
        )
    if dynamic:
        out.append(
            schema_pb2.FieldData(
                type=DataType.JSON,
                field_name="$meta",
                is_dynamic=True,
                scalars=schema_pb2.ScalarField(
                    json_data=schema_pb2.JSONArray(data=[f'{{"tag": "t{i % 10}", "n": {i}}}'.encode() for i in id_list])
                ),
            )
        )
    return out


# --------------------------------------------------------------------------------------- helpers
def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _seal(stub: Any, md: list[tuple[str, str]], name: str) -> tuple[list[int], int]:
    """Flush (seal the growing segments); return the sealed segment ids and the flush timestamp."""
    reply = stub.Flush(milvus_pb2.FlushRequest(collection_names=[name]), metadata=md, timeout=_RPC_TIMEOUT)
    check(reply.status, f"Flush {name}")
    seg_ids = list(reply.coll_segIDs[name].data) if name in reply.coll_segIDs else []
    return seg_ids, int(reply.coll_flush_ts.get(name, 0))


def _wait_flushed(
    stub: Any, md: list[tuple[str, str]], name: str, seg_ids: list[int], flush_ts: int, deadline: float
) -> None:
    if not seg_ids:
        return  # Milvus Lite: nothing to wait for
    while True:
        state = stub.GetFlushState(
            milvus_pb2.GetFlushStateRequest(segmentIDs=seg_ids, flush_ts=flush_ts, collection_name=name),
            metadata=md,
            timeout=_RPC_TIMEOUT,
        )
        check(state.status, f"GetFlushState {name}")
        if state.flushed:
            return
        if time.monotonic() > deadline:
            raise DataError(f"flush of {name} not done in time")
        time.sleep(0.05)


def _wait_index(stub: Any, md: list[tuple[str, str]], name: str, rows: int, deadline: float) -> None:
    while True:
        reply = stub.DescribeIndex(
            milvus_pb2.DescribeIndexRequest(collection_name=name, field_name="vec"),
            metadata=md,
            timeout=_RPC_TIMEOUT,
        )
        check(reply.status, f"DescribeIndex {name}")
        desc = reply.index_descriptions[0]
        if desc.state == common_pb2.IndexState.Failed:
            raise DataError(f"index build of {name} failed: {desc.index_state_fail_reason}")
        done = desc.state == common_pb2.IndexState.Finished and desc.pending_index_rows == 0
        if done and (desc.total_rows == 0 or desc.indexed_rows >= min(rows, desc.total_rows)):
            return
        if time.monotonic() > deadline:
            raise DataError(f"index build of {name} not done in time: {desc}")
        time.sleep(0.1)


# ------------------------------------------------------------------------------------------- API
def make_collection(
    uri: str,
    token: str | None,
    name: str,
    *,
    rows: int,
    dim: int = 128,
    partitions: Sequence[str] = (),
    dynamic: bool = True,
    index: str | None = "FLAT",
    metric: str = "L2",
    varchar: bool = True,
    segments: int = 1,
    shards: int = 1,
    start_id: int = 0,
    seed: int = 0,
    timeout: float = 300.0,
    tls: StandaloneTLS | None = None,
) -> None:
    """Create collection ``name`` with ``rows`` rows; flushed, indexed, not loaded.

    ``partitions``: created, and the rows split evenly over them (``_default`` stays empty); with none,
    the rows go to ``_default``. ``segments``: the rows of each partition are flushed in that many
    groups, giving that many sealed segments per partition (the server may compact small ones later).
    ``index``: a key of :data:`INDEXES`, or ``None`` for no index. Raises :class:`DataError` when the
    collection exists already or a call fails. ``tls``: see :func:`connect`.
    """
    if index is not None and index not in INDEXES:
        raise ValueError(f"index must be one of {sorted(INDEXES)} or None, not {index!r}")
    deadline = time.monotonic() + timeout
    stub, md, channel = connect(uri, token, tls=tls)
    try:
        schema = collection_schema(name, dim=dim, dynamic=dynamic, varchar=varchar)
        check(
            stub.CreateCollection(
                milvus_pb2.CreateCollectionRequest(
                    collection_name=name,
                    schema=schema.SerializeToString(),
                    shards_num=shards,
                    consistency_level=common_pb2.ConsistencyLevel.Bounded,
                ),
                metadata=md,
                timeout=_RPC_TIMEOUT,
            ),
            f"CreateCollection {name}",
        )
        for partition in partitions:
            check(
                stub.CreatePartition(
                    milvus_pb2.CreatePartitionRequest(collection_name=name, partition_name=partition),
                    metadata=md,
                    timeout=_RPC_TIMEOUT,
                ),
                f"CreatePartition {name}/{partition}",
            )

        rng = np.random.default_rng(seed)
        row_bytes = dim * 4 + 64
        batch_rows = max(1, _BATCH_BYTES // row_bytes)
        next_id = start_id
        sealed: list[int] = []
        flush_ts = 0
        targets = list(partitions) or ["_default"]
        per_partition = _split(rows, len(targets))
        for group in range(max(1, segments)):
            for partition, count in zip(targets, per_partition, strict=True):
                group_rows = _split(count, max(1, segments))[group]
                while group_rows > 0:
                    n = min(batch_rows, group_rows)
                    ids = np.arange(next_id, next_id + n, dtype=np.int64)
                    reply = stub.Insert(
                        milvus_pb2.InsertRequest(
                            collection_name=name,
                            partition_name=partition,
                            fields_data=_field_data(ids, rng, dim=dim, dynamic=dynamic, varchar=varchar),
                            num_rows=n,
                        ),
                        metadata=md,
                        timeout=_RPC_TIMEOUT,
                    )
                    check(reply.status, f"Insert {name}/{partition}")
                    next_id += n
                    group_rows -= n
            if rows:
                # Seal now (a new segment starts), wait for all the flushes once at the end.
                seg_ids, flush_ts = _seal(stub, md, name)
                sealed.extend(seg_ids)
        _wait_flushed(stub, md, name, sorted(set(sealed)), flush_ts, deadline)

        if index is not None:
            params = {"index_type": index, "metric_type": metric, "params": json.dumps(INDEXES[index])}
            check(
                stub.CreateIndex(
                    milvus_pb2.CreateIndexRequest(
                        collection_name=name,
                        field_name="vec",
                        index_name="vec",
                        extra_params=[common_pb2.KeyValuePair(key=k, value=v) for k, v in params.items()],
                    ),
                    metadata=md,
                    timeout=_RPC_TIMEOUT,
                ),
                f"CreateIndex {name}",
            )
            _wait_index(stub, md, name, rows, deadline)
        # Milvus Lite loads a collection by itself (state Loaded right after CreateCollection): release it.
        state = stub.GetLoadState(
            milvus_pb2.GetLoadStateRequest(collection_name=name), metadata=md, timeout=_RPC_TIMEOUT
        )
        check(state.status, f"GetLoadState {name}")
        if state.state != common_pb2.LoadState.LoadStateNotLoad:
            check(
                stub.ReleaseCollection(
                    milvus_pb2.ReleaseCollectionRequest(collection_name=name), metadata=md, timeout=_RPC_TIMEOUT
                ),
                f"ReleaseCollection {name}",
            )
    finally:
        channel.close()


def drop_collection(uri: str, token: str | None, name: str, *, missing_ok: bool = True) -> None:
    """Drop collection ``name`` (releasing it first is not needed)."""
    stub, md, channel = connect(uri, token)
    try:
        if missing_ok:
            has = stub.HasCollection(
                milvus_pb2.HasCollectionRequest(collection_name=name), metadata=md, timeout=_RPC_TIMEOUT
            )
            check(has.status, f"HasCollection {name}")
            if not has.value:
                return
        check(
            stub.DropCollection(
                milvus_pb2.DropCollectionRequest(collection_name=name), metadata=md, timeout=_RPC_TIMEOUT
            ),
            f"DropCollection {name}",
        )
    finally:
        channel.close()


def list_collections(uri: str, token: str | None) -> list[str]:
    stub, md, channel = connect(uri, token)
    try:
        reply = stub.ShowCollections(milvus_pb2.ShowCollectionsRequest(), metadata=md, timeout=_RPC_TIMEOUT)
        check(reply.status, "ShowCollections")
        return list(reply.collection_names)
    finally:
        channel.close()
