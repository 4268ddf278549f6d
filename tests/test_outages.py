"""Outages on a real Milvus 2.3.5: a fault proxy in front of it, and the server killed, stopped, restarted.

These tests use a standalone of their own (not the session's): they kill it. Every test leaves it
running with its collections, and the proxy forwarding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import anyio
import pytest

import asyncload
from asyncload.testing import MilvusStandalone, _in_ci, standalone_available

from ._data import make_collection
from ._proxy import FaultProxy

pytestmark = [pytest.mark.anyio, pytest.mark.standalone]

RUNS = 10  # outages per backend
# Polls through every tick: an outage lands inside a load, not after it.
POLLING = asyncload.PollingConfig()


@pytest.fixture(scope="module")
def server() -> Iterator[MilvusStandalone]:
    reason = standalone_available()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"Milvus standalone unavailable in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    with MilvusStandalone() as milvus:
        # 1,000 rows in one segment: loads in 2-5 s on 2.3.5; 20,000 rows in 16 segments: longer.
        make_collection(milvus.uri, None, "small", rows=1_000, dim=16)
        make_collection(milvus.uri, None, "long", rows=20_000, dim=16, segments=16)
        yield milvus


@pytest.fixture
def proxy(server: MilvusStandalone) -> Iterator[FaultProxy]:
    if not server.running:
        server.restart()
    with FaultProxy(server.port) as fault_proxy:
        yield fault_proxy


async def released(client: asyncload.AsyncClient, name: str) -> None:
    with anyio.fail_after(120):  # a safety net, not a measurement
        while True:
            try:
                await client.release_collection(name)
                return
            except asyncload.ConnectionFailedError:
                await anyio.sleep(0.5)
            except asyncload.ServerError as exc:
                if exc.code != 65535:
                    raise
                await anyio.sleep(0.5)


async def test_a_half_second_outage_mid_load_ends_loaded_in_every_run(proxy: FaultProxy) -> None:
    """Every connection reset and new ones refused for 0.5 s, while a load runs: 10 of 10 LOADED.

    The outage starts 0.9 to 1.8 s into the load (where its first progress polls go out, past the
    quiet period), so polls do meet it."""
    outcomes: list[asyncload.Progress] = []
    noticed = 0
    async with asyncload.connect(proxy.uri, polling=POLLING) as client:
        for run in range(RUNS):
            await released(client, "small")
            task = await client.load_collection("small")
            reachability: list[bool] = []
            async with anyio.create_task_group() as tg:

                async def stream(task: asyncload.LoadTask = task, seen: list[bool] = reachability) -> None:
                    async for p in task.progress():
                        seen.append(p.reachable)

                tg.start_soon(stream)
                await anyio.sleep(0.9 + 0.1 * run)
                proxy.mode = "refuse"
                proxy.drop_all()
                await anyio.sleep(0.5)
                proxy.mode = "forward"
                outcomes.append(await task.wait(timeout=120))
            noticed += False in reachability
        assert client.statistics().rpcs["LoadCollection"] == RUNS, "a failed poll never resends the load"
    assert [p.loaded for p in outcomes] == [True] * RUNS
    assert noticed > 0, "polls met the outage"


async def test_the_answer_of_one_poll_lost_mid_response_still_ends_loaded(proxy: FaultProxy) -> None:
    """The proxy resets the connection carrying the next answer from the server (a reset stream)."""
    async with asyncload.connect(proxy.uri, polling=POLLING, retry=asyncload.RetryPolicy(max_retries=0)) as client:
        await released(client, "small")
        task = await client.load_collection("small")
        proxy.drop_next_answer()
        final = await task.wait(timeout=120)
    assert final.loaded
    assert proxy.answers_dropped == 1


async def test_a_blackholed_server_is_detected_by_keepalive_even_without_a_timeout(proxy: FaultProxy) -> None:
    """The proxy swallows every byte and never closes (a stopped server, a dead route): with
    ``timeout=None`` only keepalive can end the call, as a typed error."""
    async with asyncload.connect(proxy.uri, timeout=None, keepalive=5) as client:
        assert await client.list_collections()
        proxy.mode = "blackhole"
        proxy.blackhole_all()
        with anyio.fail_after(120):  # a safety net: without keepalive this call never ends
            with pytest.raises(asyncload.ServerUnavailableError):
                await client.get_load_state("small")
        proxy.mode = "forward"
        proxy.drop_all()
        with anyio.fail_after(60):
            while True:  # the same client recovers
                try:
                    assert await client.get_load_state("small") in set(asyncload.LoadState)
                    break
                except asyncload.ConnectionFailedError:
                    await anyio.sleep(0.5)


async def test_a_blackholed_server_ends_a_wait_after_its_unreachable_bound(proxy: FaultProxy) -> None:
    polling = dataclasses.replace(POLLING, unreachable_timeout=1.0)
    async with asyncload.connect(proxy.uri, timeout=None, keepalive=5, polling=polling) as client:
        await released(client, "long")
        task = await client.load_collection("long")
        proxy.mode = "blackhole"
        proxy.blackhole_all()
        with anyio.fail_after(120), pytest.raises(asyncload.ServerUnavailableError) as info:
            await task
        assert info.value.since is not None
        assert (info.value.unreachable_for or 0) >= 1.0
        assert not task.done()
        proxy.mode = "forward"
        proxy.drop_all()


async def test_sigkill_and_restart_mid_load_the_waiter_ends_loaded(server: MilvusStandalone) -> None:
    """SIGKILL the server 0.5 s into a load, restart it on the same ports and data: the waiter (its
    timeout longer than the restart) ends LOADED on the same client; a one-shot call made while the
    server is down fails at once with a typed error."""
    async with asyncload.connect(server.uri, polling=POLLING) as client:
        await released(client, "long")
        task = await client.load_collection("long")
        snapshots: list[asyncload.Progress] = []
        async with anyio.create_task_group() as tg:

            async def stream() -> None:
                async for p in task.progress():
                    snapshots.append(p)

            tg.start_soon(stream)
            await anyio.sleep(0.5)
            server.kill()
            with pytest.raises(asyncload.ServerUnavailableError):
                await client.get_load_state("long")
            await anyio.to_thread.run_sync(server.restart)
            final = await task.wait(timeout=300)
        assert final.loaded
        assert client.statistics().rpcs["LoadCollection"] == 1, "the restart does not resend the load"
    assert any(not p.reachable for p in snapshots), "the stream reported the outage"
    assert snapshots[-1].loaded
    assert snapshots[-1].reachable


async def test_a_short_sigstop_is_ridden_out(server: MilvusStandalone) -> None:
    """SIGSTOP for 2 s (well inside the etcd session TTL), then SIGCONT: the wait ends LOADED."""
    async with asyncload.connect(server.uri, polling=POLLING, keepalive=5) as client:
        await released(client, "small")
        task = await client.load_collection("small")
        server.pause()
        try:
            await anyio.sleep(2.0)
        finally:
            server.resume()
        final = await task.wait(timeout=120)
    assert final.loaded
