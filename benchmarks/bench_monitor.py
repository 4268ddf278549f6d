"""Load-monitor benchmark on a real Milvus 2.3.5 standalone (started by this script).

Part 1 - K concurrent collection loads (K = 1 and K = 6; 100,000 rows x 128-d each, 8 sealed
segments), each repetition loading every collection with one strategy:

- pymilvus   ``AsyncMilvusClient.load_collection`` (the reference: polls at once, then every 0.2 s)
- go-style   a fixed poller like the Go SDK's LoadTask.Await (first poll after 200 ms, then 200 ms)
- asyncload  a fresh client per repetition ("cold": nothing learned yet)
- asyncload  one client kept across repetitions ("warm": it has learned the server's tick phase)

For each we count the RPCs sent while waiting (GetLoadingProgress/GetLoadState/ShowCollections, by a
counting gRPC interceptor on every channel the strategies open) and the detection lag: the time from
the server reaching 100 % (seen by an independent observer polling every 20 ms on its own sync
channel, in a thread) to the strategy's wait returning. Ratios are against pymilvus in the same run.

Part 2 - scale: 500 waiters (10 each) over 50 small collections on one client: progress RPCs per
second against the client's cap, and the event loop's lag (p99 overshoot of a 10 ms ticker).

Run: python benchmarks/bench_monitor.py [--reps 5] [--single-reps 10] [--skip-scale | --only-scale]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import grpc.aio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncload
from asyncload._transport.proto import milvus_pb2, milvus_pb2_grpc
from asyncload.testing import MilvusStandalone
from tests._data import make_collection

WAIT_METHODS = {"GetLoadingProgress", "GetLoadState", "ShowCollections"}
RPCS: Counter[str] = Counter()


class _Counting(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        RPCS[method.rsplit("/", 1)[-1]] += 1
        return await continuation(details, request)


def _count_every_aio_channel() -> None:
    """Every grpc.aio channel opened from now on (pymilvus's, asyncload's, ours) counts its RPCs."""
    original = grpc.aio.insecure_channel

    def counting_channel(target: str, options: Any = None, compression: Any = None, interceptors: Any = None) -> Any:
        chain = [*(interceptors or []), _Counting()]
        return original(target, options=options, compression=compression, interceptors=chain)

    grpc.aio.insecure_channel = counting_channel


class Observer:
    """Polls one collection every 20 ms on its own sync channel; notes when it first sees 100 %."""

    def __init__(self, target: str, name: str) -> None:
        self.name = name
        self.reached: float | None = None
        self._stop = threading.Event()
        self._channel = grpc.insecure_channel(target)
        self._stub = milvus_pb2_grpc.MilvusServiceStub(self._channel)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        previous_sent = time.monotonic()
        while not self._stop.is_set():
            sent = time.monotonic()
            reply = self._stub.GetLoadingProgress(milvus_pb2.GetLoadingProgressRequest(collection_name=self.name))
            received = time.monotonic()
            if reply.status.code == 0 and reply.progress >= 100:
                self.reached = (previous_sent + received) / 2  # reached 100 % between these two
                return
            previous_sent = sent
            self._stop.wait(0.02)

    def join(self) -> None:
        self._thread.join(timeout=60)
        self._stop.set()
        self._channel.close()


@dataclass
class Run:
    strategy: str
    k: int
    rpcs: int
    lags: list[float] = field(default_factory=list)


async def pymilvus_strategy(uri: str, names: list[str], done: dict[str, float]) -> None:
    from pymilvus import AsyncMilvusClient

    client = AsyncMilvusClient(uri=uri)
    await client.list_collections()  # connect before counting

    async def one(name: str) -> None:
        await client.load_collection(name)
        done[name] = time.monotonic()

    RPCS.clear()
    await asyncio.gather(*(one(n) for n in names))
    await client.close()


async def go_style_strategy(uri: str, names: list[str], done: dict[str, float]) -> None:
    channel = grpc.aio.insecure_channel(uri.removeprefix("http://"))
    stub = milvus_pb2_grpc.MilvusServiceStub(channel)
    RPCS.clear()

    async def one(name: str) -> None:
        await stub.LoadCollection(milvus_pb2.LoadCollectionRequest(collection_name=name))
        while True:
            await asyncio.sleep(0.2)
            reply = await stub.GetLoadingProgress(milvus_pb2.GetLoadingProgressRequest(collection_name=name))
            if reply.progress >= 100:
                done[name] = time.monotonic()
                return

    await asyncio.gather(*(one(n) for n in names))
    await channel.close(None)


async def asyncload_strategy(client: asyncload.AsyncClient, names: list[str], done: dict[str, float]) -> None:
    RPCS.clear()

    async def one(name: str) -> None:
        task = await client.load_collection(name)
        await task
        done[name] = time.monotonic()

    await asyncio.gather(*(one(n) for n in names))


def release_all(stub: Any, names: list[str]) -> None:
    for name in names:
        stub.ReleaseCollection(milvus_pb2.ReleaseCollectionRequest(collection_name=name))
    time.sleep(1.5)


async def measure(strategy: str, uri: str, names: list[str], run: Callable[[dict[str, float]], Awaitable[None]]) -> Run:
    target = uri.removeprefix("http://")
    observers = [Observer(target, n) for n in names]
    for observer in observers:
        observer.start()
    done: dict[str, float] = {}
    await run(done)
    rpcs = sum(count for method, count in RPCS.items() if method in WAIT_METHODS)
    for observer in observers:
        await asyncio.to_thread(observer.join)
    lags = [done[o.name] - o.reached for o in observers if o.reached is not None]
    return Run(strategy, len(names), rpcs, lags)


async def part_one(server: MilvusStandalone, reps: int, single_reps: int) -> None:
    names = [f"bench{i}" for i in range(6)]
    sync_channel = grpc.insecure_channel(server.uri.removeprefix("http://"))
    stub = milvus_pb2_grpc.MilvusServiceStub(sync_channel)
    warm: asyncload.AsyncClient | None = None
    results: list[Run] = []
    try:
        warm = await asyncload.connect(server.uri).__aenter__()
        for k in (1, 6):
            subset = names[:k]
            k_reps = single_reps if k == 1 else reps  # one load per rep: more reps for a steady median
            for rep in range(k_reps):
                strategies: list[tuple[str, Callable[[dict[str, float]], Awaitable[None]]]] = [
                    ("pymilvus", functools.partial(pymilvus_strategy, server.uri, subset)),
                    ("go-style 200 ms", functools.partial(go_style_strategy, server.uri, subset)),
                    ("asyncload warm", functools.partial(asyncload_strategy, warm, subset)),
                ]
                for name, run in strategies:
                    results.append(await measure(name, server.uri, subset, run))
                    release_all(stub, subset)
                async with asyncload.connect(server.uri) as cold:
                    run_cold = functools.partial(asyncload_strategy, cold, subset)
                    results.append(await measure("asyncload cold", server.uri, subset, run_cold))
                release_all(stub, subset)
                print(f"  K={k} rep {rep + 1}/{k_reps} done", flush=True)
    finally:
        if warm is not None:
            await warm.__aexit__(None, None, None)
        sync_channel.close()

    print("\nK concurrent loads (100k x 128-d, 8 segments each); ratios against pymilvus in this run")
    print(f"{'K':>2} {'strategy':<17} {'RPCs/load':>10} {'x pymilvus':>10} {'median lag ms':>14} {'x pymilvus':>10}")
    for k in (1, 6):
        rows = {}
        for strategy in ("pymilvus", "go-style 200 ms", "asyncload cold", "asyncload warm"):
            runs = [r for r in results if r.k == k and r.strategy == strategy]
            rpcs_per_load = statistics.mean(r.rpcs / k for r in runs)
            lags = [lag for r in runs for lag in r.lags]
            rows[strategy] = (rpcs_per_load, statistics.median(lags))
        base_rpcs, base_lag = rows["pymilvus"]
        for strategy, (rpcs_per_load, lag) in rows.items():
            print(
                f"{k:>2} {strategy:<17} {rpcs_per_load:>10.1f} {rpcs_per_load / base_rpcs:>10.2f} "
                f"{lag * 1000:>14.1f} {lag / base_lag:>10.2f}"
            )


async def part_two(server: MilvusStandalone) -> None:
    names = [f"scale{i}" for i in range(50)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: make_collection(server.uri, None, n, rows=1_000, dim=16), names))
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - before - 0.01)

    async with asyncload.connect(server.uri) as client:
        cap = client._polling.max_polls_per_second
        tick = asyncio.create_task(ticker())
        started = time.monotonic()
        tasks = [await client.load_collection(n) for n in names]
        polls_before = client.statistics().progress_polls
        await asyncio.gather(*(t.wait() for t in tasks for _ in range(10)))
        elapsed = time.monotonic() - started
        polls = client.statistics().progress_polls - polls_before
        stop.set()
        await tick
    lags.sort()
    p99 = lags[int(len(lags) * 0.99)]
    print("\nScale: 500 waiters (10 each) on 50 collections, one client")
    print(f"  all loaded in {elapsed:.1f} s; progress RPCs {polls} = {polls / elapsed:.1f}/s (cap {cap:.0f}/s)")
    print(f"  event-loop lag p50 {statistics.median(lags) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms (target < 5 ms)")


async def main(reps: int, single_reps: int, skip_scale: bool, only_scale: bool) -> None:
    _count_every_aio_channel()
    with MilvusStandalone() as server:
        if only_scale:
            await part_two(server)
            return
        print(f"Milvus 2.3.5 standalone at {server.uri}; creating 6 x 100k x 128-d collections...", flush=True)
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(
                pool.map(
                    lambda i: make_collection(server.uri, None, f"bench{i}", rows=100_000, dim=128, segments=8),
                    range(6),
                )
            )
        await part_one(server, reps, single_reps)
        if not skip_scale:
            await part_two(server)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5, help="repetitions of the K=6 loads")
    parser.add_argument("--single-reps", type=int, default=10, help="repetitions of the K=1 load")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--only-scale", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.reps, args.single_reps, args.skip_scale, args.only_scale))
