"""Fault benchmark on a real Milvus 2.3.5 standalone (started by this script), behind a fault proxy.

Measures, on both anyio backends:

1. outages ridden out: a load is submitted and 0.9-1.8 s later every connection is reset and new
   ones refused for 0.5 s / 2 s / 10 s; how many waits end LOADED, and how long after the outage
   the wait's stream saw the server again;
2. one-shot calls across a 0.5 s outage: ``get_load_state`` sent just after the connections were
   reset, with asyncload's channel options and with gRPC's default reconnect backoff;
3. time to a typed error after a SIGKILL of the server (a one-shot call), and how long after the
   restart the waiter of a load in flight ended LOADED on the same client;
4. hang detection: time to ``ServerUnavailableError`` for a call to a black-holed server with
   ``timeout=None`` (keepalive 5 s and 10 s);
5. cancellations survived: 1,000 random cancellations (submissions, waits, streams, releases) on one
   Milvus Lite client; what was left afterwards.

Run: python benchmarks/bench_faults.py [--runs 10] [--skip-kill | --only-outages | --only-hangs | --only-kill]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncload
from asyncload.testing import MilvusStandalone
from tests._data import make_collection
from tests._proxy import FaultProxy

BACKENDS = ("asyncio", "trio")
GRPC_DEFAULT_BACKOFF: dict[str, int | str] = {
    "grpc.initial_reconnect_backoff_ms": 1000,
    "grpc.min_reconnect_backoff_ms": 20000,
    "grpc.max_reconnect_backoff_ms": 120000,
}


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})"


async def released(client: asyncload.AsyncClient, name: str) -> None:
    while True:
        try:
            await client.release_collection(name)
            return
        except (asyncload.ConnectionFailedError, asyncload.ServerError):
            await anyio.sleep(0.5)


async def outages(proxy: FaultProxy, seconds: float, runs: int) -> tuple[int, list[float]]:
    loaded, lags = 0, []
    async with asyncload.connect(proxy.uri) as client:
        for run in range(runs):
            await released(client, "small")
            task = await client.load_collection("small")
            back: list[float] = []
            async with anyio.create_task_group() as tg:

                async def watch(task: asyncload.LoadTask = task, back: list[float] = back) -> None:
                    down = False
                    async for p in task.progress():
                        if not p.reachable:
                            down = True
                        elif down and not back:
                            back.append(anyio.current_time())

                tg.start_soon(watch)
                await anyio.sleep(0.9 + 0.1 * (run % 10))  # where the load's polls go out
                proxy.mode = "refuse"
                proxy.drop_all()
                await anyio.sleep(seconds)
                proxy.mode = "forward"
                ended = anyio.current_time()
                try:
                    final = await task.wait(timeout=300)
                    loaded += final.loaded
                except asyncload.AsyncLoadError as exc:
                    print(f"    wait failed: {exc!r}")
            if back:
                lags.append(back[0] - ended)
    return loaded, lags


async def one_shot(proxy: FaultProxy, runs: int, options: dict[str, int | str] | None) -> int:
    survived = 0
    async with asyncload.connect(proxy.uri, channel_options=options) as client:
        for _ in range(runs):
            await client.list_collections()
            proxy.mode = "refuse"
            proxy.drop_all()
            async with anyio.create_task_group() as tg:

                async def heal() -> None:
                    await anyio.sleep(0.5)
                    proxy.mode = "forward"

                tg.start_soon(heal)
                try:
                    await client.get_load_state("small")
                    survived += 1
                except asyncload.ConnectionFailedError:
                    pass
            await anyio.sleep(1.5)
    return survived


async def kill_and_restart(server: MilvusStandalone) -> tuple[float, float, bool]:
    async with asyncload.connect(server.uri) as client:
        await released(client, "long")
        task = await client.load_collection("long")
        await anyio.sleep(0.5)
        server.kill()
        started = anyio.current_time()
        try:
            await client.get_load_state("long")
            to_error = float("nan")
        except asyncload.ServerUnavailableError:
            to_error = anyio.current_time() - started
        await anyio.to_thread.run_sync(server.restart)
        restarted = anyio.current_time()
        final = await task.wait(timeout=300)
        return to_error, anyio.current_time() - restarted, final.loaded


async def blackhole(proxy: FaultProxy, keepalive: float) -> float:
    async with asyncload.connect(proxy.uri, timeout=None, keepalive=keepalive) as client:
        await client.list_collections()
        proxy.mode = "blackhole"
        proxy.blackhole_all()
        started = anyio.current_time()
        try:
            await client.get_load_state("small")
            return float("nan")
        except asyncload.ServerUnavailableError:
            return anyio.current_time() - started
        finally:
            proxy.mode = "forward"
            proxy.drop_all()


async def soak(path: str) -> tuple[int, float, tuple[int, int, int]]:
    rng = random.Random(7)
    done = 0
    started = time.perf_counter()
    async with asyncload.connect(path) as client:
        tasks = {n: await client.load_collection(n) for n in ("s0", "s1", "s2")}

        async def one(kind: str, name: str, after: float) -> None:
            nonlocal done
            with anyio.move_on_after(after) as scope, contextlib.suppress(asyncload.LoadReleasedError):
                if kind == "submit":
                    tasks[name] = await client.load_collection(name)
                elif kind == "wait":
                    await tasks[name].wait()
                    await anyio.sleep_forever()
                elif kind == "stream":
                    async for _ in tasks[name].progress():
                        pass
                    await anyio.sleep_forever()
                else:
                    await client.release_collection(name)
                    await anyio.sleep_forever()
            done += scope.cancelled_caught

        while done < 1000:
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(
                        one,
                        rng.choice(("submit", "wait", "stream", "release")),
                        rng.choice(list(tasks)),
                        rng.uniform(0, 0.02),
                    )
        stats = client.statistics()
        for name in tasks:
            assert (await (await client.load_collection(name)).wait(timeout=60)).loaded
    return done, time.perf_counter() - started, (stats.waiters, stats.streams, stats.polling)


def main(runs: int, skip_kill: bool, only_outages: bool, only_hangs: bool = False, only_kill: bool = False) -> None:
    with MilvusStandalone() as server:
        make_collection(server.uri, None, "small", rows=1_000, dim=16)
        make_collection(server.uri, None, "long", rows=20_000, dim=16, segments=16)
        for backend in BACKENDS:
            print(f"== {backend}")
            if only_kill:
                to_error, recovered, ok = anyio.run(kill_and_restart, server, backend=backend)
                print(
                    f"  SIGKILL: one-shot call's typed error after {to_error:.2f} s; "
                    f"waiter ended {'LOADED' if ok else 'not loaded'} {recovered:.1f} s after the restart returned"
                )
                continue
            with FaultProxy(server.port) as proxy:
                for seconds in () if only_hangs else (0.5, 2.0, 10.0):
                    n = runs if seconds < 5 else max(2, runs // 5)
                    loaded, lags = anyio.run(outages, proxy, seconds, n, backend=backend)
                    print(f"  {seconds:>4} s outage mid-load: {loaded}/{n} LOADED; server seen again {fmt(lags)} after")
                if only_outages:
                    continue
                if not only_hangs:
                    ours = anyio.run(one_shot, proxy, runs, None, backend=backend)
                    default = anyio.run(one_shot, proxy, runs, GRPC_DEFAULT_BACKOFF, backend=backend)
                    print(
                        f"  one-shot call across a 0.5 s outage: {ours}/{runs} succeeded "
                        f"(gRPC's default reconnect backoff: {default}/{runs})"
                    )
                for keepalive in (5.0, 10.0):
                    took = anyio.run(blackhole, proxy, keepalive, backend=backend)
                    print(f"  black-holed call, timeout=None, keepalive={keepalive:g}: typed error after {took:.1f} s")
            if not skip_kill and not only_outages and not only_hangs:
                to_error, recovered, ok = anyio.run(kill_and_restart, server, backend=backend)
                print(
                    f"  SIGKILL: one-shot call's typed error after {to_error:.2f} s; "
                    f"waiter ended {'LOADED' if ok else 'not loaded'} {recovered:.1f} s after the restart returned"
                )
    if only_outages or only_hangs or only_kill:
        return
    from milvus_lite.server_manager import server_manager_instance

    for backend in BACKENDS:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "soak.db")
            uri = server_manager_instance.start_and_get_uri(path)
            for name in ("s0", "s1", "s2"):
                make_collection(uri, None, name, rows=200, dim=8)
            threads = threading.active_count()
            done, took, left = anyio.run(soak, path, backend=backend)
            server_manager_instance.release_server(path)
            print(
                f"== {backend} soak: {done} cancellations in {took:.1f} s; waiters/streams/polling left {left}; "
                f"threads {threads} -> {threading.active_count()}; every collection loaded afterwards"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument("--only-outages", action="store_true")
    parser.add_argument("--only-hangs", action="store_true")
    parser.add_argument("--only-kill", action="store_true")
    args = parser.parse_args()
    main(args.runs, args.skip_kill, args.only_outages, args.only_hangs, args.only_kill)
