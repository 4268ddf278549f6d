"""How close client.footprint_estimate() comes to what a real Milvus 2.3.5 load costs.

For each schema of the matrix (float vectors under FLAT / IVF_FLAT / IVF_SQ8 / IVF_PQ / HNSW with two
M values, binary vectors under BIN_IVF_FLAT, Int64/Double/Bool scalars, VarChar short and long under
max_length=65535, a JSON dynamic field, an Array field, a tiny collection, and FLAT split over 4
segments) and each repeat, on a FRESH Milvus 2.3.5 standalone (``asyncload._standalone``):

1. create the collection, insert the rows (raw gRPC, numpy-packed columns), flush, build the index;
2. wait until the server's resident anonymous memory has settled (``RssAnon`` of /proc/PID/status,
   summed over the server's process group; settled = the last readings span less than a tolerance);
3. estimate with ``client.footprint_estimate(name)`` (not loaded: schema only, no sample);
4. load, sampling RssAnon every few ms in a thread for the peak; wait until loaded;
5. wait until memory settles again; estimate again (loaded: the variable-length fields are sampled).

measured steady = settled after - settled before; measured peak = max sampled during the load -
settled before. Medians over the repeats. The noise floor is stated twice: the spread of settled idle
readings, and what loading a tiny collection (1000 rows) costs (the fixed per-load cost).

Prints, per schema: measured steady / peak (MB = 10^6 B), the estimates, and estimate/measured ratios
for steady and peak, before the load (schema only) and after it (sampled). ``--json PATH`` writes every
raw figure (the source of tests/fixtures/footprint_measured.json and of docs/footprint.md's table).

Run:   python benchmarks/bench_footprint_accuracy.py [--quick] [--repeats N] [--only flat,hnsw_m8]
       [--json results.json]
A full run (3 repeats, 14 schemas, 2 servers at a time) took 55 minutes on 2 shared cores on
2026-12-01 (the IVF index builds dominate); --quick (1 repeat, a fifth of the rows) about 10.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.pop("MILVUS_URI", None)  # pymilvus parses it at import time
from pymilvus.grpc_gen import common_pb2, milvus_pb2, milvus_pb2_grpc, schema_pb2

import asyncload
from asyncload._servers import standalone as _standalone

MILVUS_VERSION = _standalone.MILVUS_VERSION
MilvusStandalone = _standalone.MilvusStandalone
standalone_available = _standalone.standalone_available

MB = 1_000_000
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
_BATCH_BYTES = 24 * 1024 * 1024
_RPC_TIMEOUT = 120.0
DT = schema_pb2.DataType


# ------------------------------------------------------------------------------------ the matrix
@dataclass(frozen=True)
class Field:
    name: str
    dtype: str  # a schema_pb2.DataType name: Int64, Double, Bool, VarChar, JSON, Array, FloatVector...
    gen: str  # how the values are made: see _column()
    dim: int | None = None
    max_length: int | None = None
    element_type: str | None = None
    max_capacity: int | None = None


@dataclass(frozen=True)
class Case:
    name: str
    rows: int
    fields: tuple[Field, ...]
    index_type: str
    index_params: dict[str, Any] = field(default_factory=dict)
    metric: str = "L2"
    dynamic: bool = False
    segments: int = 1
    note: str = ""


_ID = Field("id", "Int64", "id")
_VEC128 = Field("vec", "FloatVector", "float_vec", dim=128)
_VEC4 = Field("vec", "FloatVector", "float_vec", dim=4)


def _vector_case(name: str, index: str, params: dict[str, Any], rows: int = 500_000, **kw: Any) -> Case:
    return Case(name, rows, (_ID, _VEC128), index, params, **kw)


CASES: tuple[Case, ...] = (
    Case("tiny", 1_000, (_ID, _VEC4), "FLAT", note="fixed per-load cost"),
    _vector_case("flat", "FLAT", {}),
    _vector_case("flat_4seg", "FLAT", {}, segments=4, note="per-segment cost"),
    _vector_case("ivf_flat", "IVF_FLAT", {"nlist": 1024}),
    _vector_case("ivf_sq8", "IVF_SQ8", {"nlist": 1024}),
    _vector_case("ivf_pq", "IVF_PQ", {"nlist": 1024, "m": 16, "nbits": 8}),
    _vector_case("hnsw_m8", "HNSW", {"M": 8, "efConstruction": 40}, rows=200_000),
    _vector_case("hnsw_m32", "HNSW", {"M": 32, "efConstruction": 40}, rows=200_000),
    Case(
        "bin_ivf_flat",
        1_000_000,
        (_ID, Field("bvec", "BinaryVector", "binary_vec", dim=512)),
        "BIN_IVF_FLAT",
        {"nlist": 1024},
        metric="HAMMING",
    ),
    Case(
        "scalars",
        2_000_000,
        (_ID, _VEC4, Field("i64", "Int64", "int64"), Field("dbl", "Double", "double"), Field("flag", "Bool", "bool")),
        "FLAT",
    ),
    Case(
        "varchar_short",
        2_000_000,
        (_ID, _VEC4, Field("title", "VarChar", "title", max_length=65535)),
        "FLAT",
        note="~23 B titles",
    ),
    Case(
        "varchar_long",
        200_000,
        (_ID, _VEC4, Field("body", "VarChar", "text", max_length=65535)),
        "FLAT",
        note="~1.5 KB texts",
    ),
    Case("json_dynamic", 1_000_000, (_ID, _VEC4), "FLAT", dynamic=True, note="$meta ~45 B"),
    Case(
        "array",
        1_000_000,
        (_ID, _VEC4, Field("tags", "Array", "array", element_type="Int64", max_capacity=32)),
        "FLAT",
        note="8-24 Int64 a row",
    ),
)


# ------------------------------------------------------------------------------------- memory
def rss_anon(pgid: int) -> int:
    """RssAnon (bytes) summed over the processes of process group ``pgid``."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            if int(stat.rsplit(b")", 1)[1].split()[2]) != pgid:
                continue
            with open(f"/proc/{entry.name}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"RssAnon:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total


def settled(
    pgid: int, *, window: int = 8, interval: float = 0.5, tolerance: int = MB, limit: float = 90.0
) -> list[int]:
    """Readings every ``interval`` s until the last ``window`` span less than ``tolerance`` bytes
    (or ``limit`` s pass); returns those last readings."""
    readings: list[int] = []
    end = time.monotonic() + limit
    while True:
        readings.append(rss_anon(pgid))
        last = readings[-window:]
        if len(last) == window and max(last) - min(last) < tolerance:
            return last
        if time.monotonic() > end:
            if VERBOSE:
                print(f"    not settled after {limit:.0f} s: last {[round(v / MB, 1) for v in last]}", flush=True)
            return last
        time.sleep(interval)


class PeakSampler:
    """Samples rss_anon(pgid) in a thread while a load runs; ``peak`` is the highest reading."""

    def __init__(self, pgid: int, interval: float = 0.005) -> None:
        self.pgid, self.interval = pgid, interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_anon(self.pgid))
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ------------------------------------------------------------------------------------- data
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _packed(message: Any, values: np.ndarray[Any, Any], dtype: str) -> Any:
    """A packed repeated-number message (field 1) from numpy, without a per-element Python loop."""
    raw = np.ascontiguousarray(values, dtype=dtype).tobytes()
    return message.FromString(b"\x0a" + _varint(len(raw)) + raw)


def _zigzag_free_longs(values: np.ndarray[Any, Any]) -> Any:
    """LongArray is varint-packed (int64): build it through protobuf for correctness."""
    return schema_pb2.LongArray(data=values.tolist())


_TEXT = np.random.default_rng(7).integers(ord("a"), ord("z") + 1, size=4_000_000, dtype=np.uint8).tobytes().decode()


def _column(f: Field, ids: np.ndarray[Any, Any], rng: np.random.Generator) -> Any:
    n = len(ids)
    kind = getattr(DT, f.dtype)
    if f.gen == "id" or f.gen == "int64":
        values = ids if f.gen == "id" else rng.integers(-(2**40), 2**40, size=n)
        return schema_pb2.FieldData(
            type=kind, field_name=f.name, scalars=schema_pb2.ScalarField(long_data=_zigzag_free_longs(values))
        )
    if f.gen == "float_vec":
        assert f.dim is not None
        vectors = rng.random((n, f.dim), dtype=np.float32)
        return schema_pb2.FieldData(
            type=kind,
            field_name=f.name,
            vectors=schema_pb2.VectorField(dim=f.dim, float_vector=_packed(schema_pb2.FloatArray, vectors, "<f4")),
        )
    if f.gen == "binary_vec":
        assert f.dim is not None
        raw = rng.integers(0, 256, size=n * f.dim // 8, dtype=np.uint8).tobytes()
        return schema_pb2.FieldData(
            type=kind, field_name=f.name, vectors=schema_pb2.VectorField(dim=f.dim, binary_vector=raw)
        )
    if f.gen == "double":
        return schema_pb2.FieldData(
            type=kind,
            field_name=f.name,
            scalars=schema_pb2.ScalarField(double_data=_packed(schema_pb2.DoubleArray, rng.random(n), "<f8")),
        )
    if f.gen == "bool":
        flags = rng.integers(0, 2, size=n, dtype=np.uint8)
        return schema_pb2.FieldData(
            type=kind,
            field_name=f.name,
            scalars=schema_pb2.ScalarField(bool_data=_packed(schema_pb2.BoolArray, flags, "u1")),
        )
    if f.gen == "title":
        strings = [f"The book number {i:07d}" for i in ids.tolist()]
        return schema_pb2.FieldData(
            type=kind,
            field_name=f.name,
            scalars=schema_pb2.ScalarField(string_data=schema_pb2.StringArray(data=strings)),
        )
    if f.gen == "text":
        starts = rng.integers(0, len(_TEXT) - 2000, size=n).tolist()
        lengths = rng.integers(1000, 2001, size=n).tolist()
        strings = [_TEXT[s : s + k] for s, k in zip(starts, lengths, strict=True)]
        return schema_pb2.FieldData(
            type=kind,
            field_name=f.name,
            scalars=schema_pb2.ScalarField(string_data=schema_pb2.StringArray(data=strings)),
        )
    if f.gen == "array":
        lengths = rng.integers(8, 25, size=n).tolist()
        values = rng.integers(0, 1_000_000, size=sum(lengths)).tolist()
        arrays, pos = [], 0
        for k in lengths:
            arrays.append(schema_pb2.ScalarField(long_data=schema_pb2.LongArray(data=values[pos : pos + k])))
            pos += k
        return schema_pb2.FieldData(
            type=kind,
            field_name=f.name,
            scalars=schema_pb2.ScalarField(
                array_data=schema_pb2.ArrayArray(data=arrays, element_type=getattr(DT, f.element_type or "Int64"))
            ),
        )
    raise ValueError(f"unknown generator {f.gen}")


def _meta_column(ids: np.ndarray[Any, Any]) -> Any:
    docs = [json.dumps({"tag": f"t{i % 10}", "n": i, "lang": "en"}).encode() for i in ids.tolist()]
    return schema_pb2.FieldData(
        type=DT.JSON,
        field_name="$meta",
        is_dynamic=True,
        scalars=schema_pb2.ScalarField(json_data=schema_pb2.JSONArray(data=docs)),
    )


def _schema(case: Case) -> Any:
    fields = []
    for f in case.fields:
        params = []
        if f.dim is not None:
            params.append(common_pb2.KeyValuePair(key="dim", value=str(f.dim)))
        if f.max_length is not None:
            params.append(common_pb2.KeyValuePair(key="max_length", value=str(f.max_length)))
        if f.max_capacity is not None:
            params.append(common_pb2.KeyValuePair(key="max_capacity", value=str(f.max_capacity)))
        fields.append(
            schema_pb2.FieldSchema(
                name=f.name,
                data_type=getattr(DT, f.dtype),
                is_primary_key=f.gen == "id",
                type_params=params,
                element_type=getattr(DT, f.element_type) if f.element_type else 0,
            )
        )
    return schema_pb2.CollectionSchema(name=case.name, fields=fields, enable_dynamic_field=case.dynamic)


def _row_bytes(case: Case) -> int:
    size = 64 if case.dynamic else 0
    for f in case.fields:
        size += {"float_vec": 4 * (f.dim or 0), "binary_vec": (f.dim or 0) // 8, "text": 2100, "array": 260}.get(
            f.gen, 40
        )
    return size


def _check(status: Any, what: str) -> None:
    if status.error_code != 0 or status.code != 0:
        raise RuntimeError(f"{what}: code={status.code} reason={status.reason!r}")


def create(uri: str, case: Case, rows: int, seed: int) -> float:
    """Create, insert, flush, index ``case`` on the server at ``uri``; return the seconds it took."""
    began = time.monotonic()
    channel = grpc.insecure_channel(
        uri.split("://", 1)[-1],
        options=[("grpc.max_send_message_length", 128 << 20), ("grpc.max_receive_message_length", 128 << 20)],
    )
    stub = milvus_pb2_grpc.MilvusServiceStub(channel)
    try:
        _check(
            stub.CreateCollection(
                milvus_pb2.CreateCollectionRequest(
                    collection_name=case.name,
                    schema=_schema(case).SerializeToString(),
                    shards_num=1,
                    consistency_level=common_pb2.ConsistencyLevel.Bounded,
                ),
                timeout=_RPC_TIMEOUT,
            ),
            "CreateCollection",
        )
        rng = np.random.default_rng(seed)
        batch = max(1, _BATCH_BYTES // _row_bytes(case))
        per_segment = [rows // case.segments + (1 if i < rows % case.segments else 0) for i in range(case.segments)]
        next_id = 0
        segment_ids: list[int] = []
        flush_ts = 0
        for count in per_segment:
            left = count
            while left > 0:
                n = min(batch, left)
                ids = np.arange(next_id, next_id + n, dtype=np.int64)
                columns = [_column(f, ids, rng) for f in case.fields]
                if case.dynamic:
                    columns.append(_meta_column(ids))
                reply = stub.Insert(
                    milvus_pb2.InsertRequest(collection_name=case.name, fields_data=columns, num_rows=n),
                    timeout=_RPC_TIMEOUT,
                )
                _check(reply.status, "Insert")
                next_id += n
                left -= n
            flushed = stub.Flush(milvus_pb2.FlushRequest(collection_names=[case.name]), timeout=_RPC_TIMEOUT)
            _check(flushed.status, "Flush")
            segment_ids.extend(flushed.coll_segIDs[case.name].data)
            flush_ts = int(flushed.coll_flush_ts[case.name])
        while not stub.GetFlushState(
            milvus_pb2.GetFlushStateRequest(
                segmentIDs=sorted(set(segment_ids)), flush_ts=flush_ts, collection_name=case.name
            ),
            timeout=_RPC_TIMEOUT,
        ).flushed:
            time.sleep(0.2)
        vector = next(f for f in case.fields if f.dtype.endswith("Vector"))
        params = {
            "index_type": case.index_type,
            "metric_type": case.metric,
            "params": json.dumps(case.index_params),
        }
        _check(
            stub.CreateIndex(
                milvus_pb2.CreateIndexRequest(
                    collection_name=case.name,
                    field_name=vector.name,
                    index_name=vector.name,
                    extra_params=[common_pb2.KeyValuePair(key=k, value=v) for k, v in params.items()],
                ),
                timeout=_RPC_TIMEOUT,
            ),
            "CreateIndex",
        )
        while True:
            reply = stub.DescribeIndex(
                milvus_pb2.DescribeIndexRequest(collection_name=case.name, field_name=vector.name),
                timeout=_RPC_TIMEOUT,
            )
            _check(reply.status, "DescribeIndex")
            desc = reply.index_descriptions[0]
            if desc.state == common_pb2.IndexState.Failed:
                raise RuntimeError(f"index build failed: {desc.index_state_fail_reason}")
            if desc.state == common_pb2.IndexState.Finished and desc.indexed_rows >= rows:
                break
            time.sleep(0.5)
    finally:
        channel.close()
    return time.monotonic() - began


# ------------------------------------------------------------------------------------ one run
@dataclass
class Run:
    case: str
    repeat: int
    rows: int
    idle_spread: int  # max - min of the settled readings before the load
    before: int
    after: int
    peak: int
    peak_samples: int
    create_seconds: float
    load_seconds: float
    estimate_before: dict[str, Any]
    estimate_after: dict[str, Any]

    @property
    def steady(self) -> int:
        return self.after - self.before

    @property
    def peak_delta(self) -> int:
        return self.peak - self.before


def _estimate_summary(fp: Any) -> dict[str, Any]:
    """The figures of a Footprint the table uses (and what the fixture replays)."""
    out: dict[str, Any] = {
        "total_selected": fp.total_selected,
        "peak_bytes": fp.peak_bytes,
        "overhead_bytes": fp.overhead_bytes,
        "fields": {
            f.name: {
                "bytes": f.bytes,
                "raw_bytes": f.raw_bytes,
                "peak_bytes": f.peak_bytes,
                "basis": f.basis,
                # the mean value size the estimate used (older asyncload: the raw column per row)
                "value_bytes": getattr(f, "value_bytes", f.raw_bytes / f.rows if f.rows else None),
            }
            for f in fp.fields
        },
    }
    for name in ("total_low", "total_high", "peak_low_bytes", "peak_high_bytes", "fixed_bytes", "segments"):
        if hasattr(fp, name):
            out[name] = getattr(fp, name)
    return out


async def _submit_load(client: asyncload.AsyncClient, name: str) -> Any:
    """LoadCollection, retried while a restarted server still refuses it (its old session lingers)."""
    for _ in range(60):
        try:
            return await client.load_collection(name)
        except asyncload.errors.ServerError as exc:
            print(f"    load refused ({exc}); retrying", flush=True)
            await anyio.sleep(2.0)
    raise RuntimeError("the server kept refusing the load")


async def _load_and_estimate(
    uri: str, case: Case, pgid: int
) -> tuple[dict[str, Any], dict[str, Any], int, int, float, list[int]]:
    async with asyncload.connect(uri, timeout=60) as client:
        before_fp = await client.footprint_estimate(case.name)
        idle = await anyio.to_thread.run_sync(settled, pgid)
        began = time.monotonic()
        with PeakSampler(pgid) as sampler:
            task = await _submit_load(client, case.name)
            await task.wait(timeout=600)
            # the load is "loaded" once queryable; let the sampler see the last allocations settle
            await anyio.sleep(2.0)
        load_seconds = time.monotonic() - began
        await anyio.to_thread.run_sync(settled, pgid)
        after_fp = await client.footprint_estimate(case.name)
        after = statistics.median(await anyio.to_thread.run_sync(settled, pgid))
    return (
        _estimate_summary(before_fp),
        _estimate_summary(after_fp),
        int(after),
        max(sampler.peak, int(after)),
        load_seconds,
        [*idle, sampler.samples],
    )


class _Restarted(MilvusStandalone):
    """A server started again on the data dir of a stopped one (on new free ports).

    Creating the data (inserts, flushes, the index build) leaves the process with hundreds of MB of
    freed-but-resident memory that a later load would reuse, so every load is measured on a server
    that has done nothing but start since the data was written.
    """

    def __init__(self, data_dir: Path, **kwargs: Any) -> None:
        super().__init__(keep_data_dir=True, **kwargs)
        self._reuse = str(data_dir)

    def _launch(self, bin_dir: Path) -> None:
        mkdtemp = tempfile.mkdtemp  # the launcher names its data dir with it: hand it the old one
        tempfile.mkdtemp = lambda *a, **k: self._reuse  # type: ignore[assignment]
        try:
            super()._launch(bin_dir)
        finally:
            tempfile.mkdtemp = mkdtemp


def _restarted(data_dir: Path) -> MilvusStandalone:
    """Start a server on ``data_dir``; when the stopped server's etcd session has not expired yet
    ("CompareAndSwap error ... for key: rootcoord", the new server panics), wait and try again."""
    for attempt in range(4):
        server = _Restarted(data_dir, startup_timeout=180, stop_grace=10)
        try:
            return server.start()
        except _standalone.MilvusStandaloneError as exc:
            if attempt == 3:
                raise
            print(f"    restart failed ({str(exc)[:120]}...); again in 30 s", flush=True)
            time.sleep(30)
    raise AssertionError("unreachable")


def measure(case: Case, rows: int, repeat: int, base_dir: str | None) -> Run:
    writer = MilvusStandalone(base_dir=base_dir, startup_timeout=180, stop_grace=60, keep_data_dir=True)
    writer.start()
    try:
        create_seconds = create(writer.uri, case, rows, seed=repeat)
        data_dir = writer.data_dir
    except BaseException:
        writer.stop()
        shutil.rmtree(writer.data_dir, ignore_errors=True)
        raise
    writer.stop()
    try:
        server = _restarted(data_dir)  # started already (a `with` would start it a second time)
        try:
            pgid = server.pid
            assert pgid is not None
            before_fp, after_fp, after, peak, load_seconds, extra = anyio.run(
                _load_and_estimate, server.uri, case, pgid
            )
            idle, samples = extra[:-1], extra[-1]
        finally:
            server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return Run(
        case=case.name,
        repeat=repeat,
        rows=rows,
        idle_spread=max(idle) - min(idle),
        before=int(statistics.median(idle)),
        after=after,
        peak=peak,
        peak_samples=samples,
        create_seconds=create_seconds,
        load_seconds=load_seconds,
        estimate_before=before_fp,
        estimate_after=after_fp,
    )


# ------------------------------------------------------------------------------------ report
def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def summarize(case: Case, runs: Sequence[Run]) -> dict[str, Any]:
    if not runs:
        return {"case": case.name, "failed": True}
    steady = _median([r.steady for r in runs])
    peak = _median([r.peak_delta for r in runs])
    eb, ea = runs[-1].estimate_before, runs[-1].estimate_after
    return {
        "case": case.name,
        "rows": runs[0].rows,
        "index": case.index_type,
        "index_params": case.index_params,
        "segments": case.segments,
        "note": case.note,
        "measured_steady": steady,
        "measured_steady_all": [r.steady for r in runs],
        "measured_peak": peak,
        "measured_peak_all": [r.peak_delta for r in runs],
        "idle_spread_max": max(r.idle_spread for r in runs),
        "estimate_before": eb,
        "estimate_after": ea,
        "ratio_steady_before": eb["total_selected"] / steady if steady > 0 else None,
        "ratio_steady_after": ea["total_selected"] / steady if steady > 0 else None,
        "ratio_peak_before": eb["peak_bytes"] / peak if peak > 0 else None,
        "ratio_peak_after": ea["peak_bytes"] / peak if peak > 0 else None,
        "create_seconds": _median([r.create_seconds for r in runs]),
        "load_seconds": _median([r.load_seconds for r in runs]),
    }


def _fmt_ratio(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.2f}"


def print_table(rows: Sequence[dict[str, Any]], out: Callable[[str], None] = print) -> None:
    out(
        f"{'schema':<14} {'rows':>9} {'steady MB':>10} {'peak MB':>9} {'est MB':>8} {'est pk':>8} "
        f"{'st/bef':>6} {'st/aft':>6} {'pk/bef':>6} {'pk/aft':>6}  spread  repeats(steady MB)"
    )
    for r in rows:
        if r.get("failed"):
            out(f"{r['case']:<14} every measurement failed")
            continue
        ea = r["estimate_after"]
        out(
            f"{r['case']:<14} {r['rows']:>9} {r['measured_steady'] / MB:>10.1f} {r['measured_peak'] / MB:>9.1f} "
            f"{ea['total_selected'] / MB:>8.1f} {ea['peak_bytes'] / MB:>8.1f} "
            f"{_fmt_ratio(r['ratio_steady_before'])} {_fmt_ratio(r['ratio_steady_after'])} "
            f"{_fmt_ratio(r['ratio_peak_before'])} {_fmt_ratio(r['ratio_peak_after'])}  "
            f"{r['idle_spread_max'] / MB:5.1f}  {', '.join(f'{v / MB:.1f}' for v in r['measured_steady_all'])}"
        )


# ------------------------------------------------------------------------- fixture and replay
def _fixture_case(case: Case, result: dict[str, Any]) -> dict[str, Any]:
    """One measured schema as tests/fixtures/footprint_measured.json holds it: enough to rebuild the
    schema, the index and the sample the estimator saw, and the measured medians and repeats."""
    vector = next(f for f in case.fields if f.dtype.endswith("Vector"))
    after = result["estimate_after"]["fields"]
    rows = result["rows"]
    values = {  # a run of an older asyncload has no value_bytes: its raw column per row is the mean
        name: entry.get("value_bytes") or entry["raw_bytes"] / rows
        for name, entry in after.items()
        if str(entry["basis"]).startswith("sampled")
    }
    return {
        "case": case.name,
        "note": case.note,
        "rows": result["rows"],
        "segments": case.segments,
        "dynamic": case.dynamic,
        "fields": [
            {
                "name": f.name,
                "dtype": asyncload.DataType.from_wire(getattr(DT, f.dtype)).name,
                "is_primary": f.gen == "id",
                "dim": f.dim,
                "max_length": f.max_length,
                "element_type": None
                if f.element_type is None
                else asyncload.DataType.from_wire(getattr(DT, f.element_type)).name,
                "max_capacity": f.max_capacity,
            }
            for f in case.fields
        ],
        "index": {
            "field": vector.name,
            "index_type": case.index_type,
            "params": {k: str(v) for k, v in case.index_params.items()},
            "metric_type": case.metric,
        },
        "sampled_value_bytes": values,
        "measured_steady_bytes": result["measured_steady"],
        "measured_peak_bytes": result["measured_peak"],
        "measured_steady_repeats": result["measured_steady_all"],
        "measured_peak_repeats": result["measured_peak_all"],
        "idle_spread_bytes": result["idle_spread_max"],
    }


def replay(entry: dict[str, Any]) -> tuple[Any, Any]:
    """The pure estimator on a fixture case: (schema only, with the sample the loaded run saw)."""
    from asyncload._footprint.estimate import estimate_footprint

    fields = tuple(
        asyncload.FieldSchema(
            f["name"],
            asyncload.DataType[f["dtype"]],
            is_primary=f["is_primary"],
            dim=f["dim"],
            max_length=f["max_length"],
            element_type=None if f["element_type"] is None else asyncload.DataType[f["element_type"]],
            max_capacity=f["max_capacity"],
        )
        for f in entry["fields"]
    )
    schema = asyncload.CollectionSchema(entry["case"], fields, enable_dynamic_field=entry["dynamic"])
    idx = entry["index"]
    params = {"index_type": idx["index_type"], "metric_type": idx["metric_type"], **idx["params"]}
    indexes = [asyncload.IndexInfo(idx["field"], idx["field"], idx["index_type"], idx["metric_type"], params)]
    # a sample of one value of the mean size: the estimator uses only the mean
    samples = {name: [round(v)] for name, v in entry["sampled_value_bytes"].items()}
    common: dict[str, Any] = {"rows": entry["rows"], "indexes": indexes, "segments": entry["segments"]}
    return estimate_footprint(schema, **common), estimate_footprint(schema, samples=samples, **common)


def print_markdown(fixture: dict[str, Any]) -> None:
    """The docs/footprint.md table: measured figures and the current estimator's ratios."""
    print(
        "| schema | rows | index | measured steady MB (repeats) | measured peak MB (repeats) "
        "| steady before | steady after | peak before | peak after | range before (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for entry in fixture["cases"]:
        before, after = replay(entry)
        steady, peak = entry["measured_steady_bytes"], entry["measured_peak_bytes"]
        idx = entry["index"]
        params = ",".join(f"{k}={v}" for k, v in idx["params"].items())
        label = idx["index_type"] + (f"({params})" if params else "")
        if entry["segments"] > 1:
            label += f", {entry['segments']} segments"
        reps = ", ".join(f"{v / MB:.0f}" for v in entry["measured_steady_repeats"])
        peaks = ", ".join(f"{v / MB:.0f}" for v in entry["measured_peak_repeats"])
        span = "point" if before.exact else f"{before.total_low / MB:.0f} .. {before.total_high / MB:,.0f}"
        print(
            f"| {entry['case']} | {entry['rows']:,} | {label} | {steady / MB:.1f} ({reps}) | {peak / MB:.1f} ({peaks}) "
            f"| {before.total_selected / steady:.2f} | {after.total_selected / steady:.2f} "
            f"| {before.peak_bytes / peak:.2f} | {after.peak_bytes / peak:.2f} | {span} |"
        )


def print_replay(fixture: dict[str, Any]) -> None:
    """Ratios of the current estimator against a stored measurement (no server needed)."""
    print(f"measured on Milvus {fixture['milvus_version']}, {fixture['date']}; estimate = this checkout's estimator")
    print(
        f"{'schema':<14} {'rows':>9} {'steady MB':>10} {'peak MB':>9} {'st/bef':>7} {'st/aft':>7} "
        f"{'pk/bef':>7} {'pk/aft':>7} {'low..high (MB, before)':>24}"
    )
    for entry in fixture["cases"]:
        before, after = replay(entry)
        steady, peak = entry["measured_steady_bytes"], entry["measured_peak_bytes"]
        print(
            f"{entry['case']:<14} {entry['rows']:>9} {steady / MB:>10.1f} {peak / MB:>9.1f} "
            f"{before.total_selected / steady:>7.2f} {after.total_selected / steady:>7.2f} "
            f"{before.peak_bytes / peak:>7.2f} {after.peak_bytes / peak:>7.2f} "
            f"{before.total_low / MB:>11.1f}..{before.total_high / MB:<11.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=None, help="fresh servers per schema (default 3, quick 1)")
    parser.add_argument("--quick", action="store_true", help="a fifth of the rows, 1 repeat")
    parser.add_argument("--only", default="", help="comma-separated schema names")
    parser.add_argument("--json", default="", help="write every raw figure to this file")
    parser.add_argument("--jobs", type=int, default=2, help="measurements at a time (each its own server)")
    parser.add_argument("--base-dir", default=None, help="where the servers' data dirs go")
    parser.add_argument("--fixture", default="", help="with --from-json: write the test fixture here")
    parser.add_argument("--from-json", default="", help="no servers: use this --json file of an earlier run")
    parser.add_argument("--replay", default="", help="no servers: the current estimator against this fixture")
    parser.add_argument("--markdown", action="store_true", help="with --replay: the docs table")
    args = parser.parse_args(argv)
    if args.replay:
        stored = json.loads(Path(args.replay).read_text())
        print_markdown(stored) if args.markdown else print_replay(stored)
        return 0
    if args.from_json:
        run = json.loads(Path(args.from_json).read_text())
        by_name = {c.name: c for c in CASES}
        fixture = {
            "provenance": f"benchmarks/bench_footprint_accuracy.py, {run['repeats']} repeat(s), "
            f"{'quick' if run['quick'] else 'full'} run of {run['run_seconds'] // 60} min; {run['method']}",
            "milvus_version": run["milvus_version"],
            "date": run["date"],
            "cases": [_fixture_case(by_name[r["case"]], r) for r in run["cases"] if not r.get("failed")],
        }
        Path(args.fixture or "footprint_measured.json").write_text(json.dumps(fixture, indent=1) + "\n")
        print_replay(fixture)
        return 0
    reason = standalone_available()
    if reason is not None:
        print(f"skipped: {reason}")
        return 0
    repeats = args.repeats or (1 if args.quick else 3)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    cases = [c for c in CASES if not wanted or c.name in wanted]
    began = time.monotonic()
    print(
        f"Milvus {MILVUS_VERSION} standalone, {repeats} repeat(s), {args.jobs} at a time, fresh server per measurement",
        flush=True,
    )
    rows_of = {c.name: c.rows if not args.quick or c.name == "tiny" else max(1000, c.rows // 5) for c in cases}
    jobs = [(c, r) for r in range(repeats) for c in cases]
    done: dict[str, list[Run]] = {c.name: [] for c in cases}
    failed: dict[str, int] = dict.fromkeys(done, 0)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one(case: Case, repeat: int) -> None:
        try:
            run = measure(case, rows_of[case.name], repeat, args.base_dir)
        except Exception as exc:  # one failed measurement must not lose the others
            print(f"  {case.name} #{repeat}: FAILED {str(exc)[:300]!r}", flush=True)
            with lock:
                failed[case.name] += 1
            return
        print(
            f"  {case.name} #{repeat}: steady {run.steady / MB:.1f} MB, peak {run.peak_delta / MB:.1f} MB "
            f"(before {run.before / MB:.0f} MB, spread {run.idle_spread / MB:.1f} MB, {run.peak_samples} samples; "
            f"create {run.create_seconds:.0f} s, load {run.load_seconds:.1f} s)",
            flush=True,
        )
        with lock:
            done[case.name].append(run)
            if len(done[case.name]) + failed[case.name] == repeats:
                results.append(summarize(case, sorted(done[case.name], key=lambda r: r.repeat)))
                results.sort(key=lambda r: [c.name for c in cases].index(r["case"]))
                if args.json:  # after every case, so an interrupted run keeps what it measured
                    _write(args.json, results, repeats, time.monotonic() - began, args.quick)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for future in [pool.submit(one, c, r) for c, r in jobs]:
            future.result()
    print()
    print_table(results)
    elapsed = time.monotonic() - began
    print(f"\nrun time {elapsed / 60:.1f} min")
    if args.json:
        _write(args.json, results, repeats, elapsed, args.quick)
    return 0


def _write(path: str, results: list[dict[str, Any]], repeats: int, elapsed: float, quick: bool) -> None:
    doc = {
        "milvus_version": MILVUS_VERSION,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "method": "RssAnon of the server's process group, settled before/after, peak sampled every 5 ms; "
        "fresh server per measurement; medians over repeats",
        "repeats": repeats,
        "quick": quick,
        "run_seconds": round(elapsed),
        "cases": results,
    }
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
