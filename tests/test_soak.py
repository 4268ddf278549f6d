"""A bounded soak: 1,000 random cancellations on one client, then nothing is left behind."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import asyncload

from ._data import make_collection

pytestmark = pytest.mark.anyio

CANCELLATIONS = 1_000
NAMES = ("s0", "s1", "s2")


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[str]:
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "soak.db")
    uri = server_manager_instance.start_and_get_uri(path)
    for name in NAMES:
        make_collection(uri, None, name, rows=200, dim=8)
    yield path
    server_manager_instance.release_server(path)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def running_tasks() -> int:
    """Tasks alive in this event loop (the test's own included)."""
    import sniffio

    if sniffio.current_async_library() == "asyncio":
        import asyncio

        return len(asyncio.all_tasks())
    import trio

    def count(task: trio.lowlevel.Task) -> int:
        return 1 + sum(count(child) for nursery in task.child_nurseries for child in nursery.child_tasks)

    return count(trio.lowlevel.current_root_task())


async def settled(measure: object, expected: int) -> int:
    """``measure()`` once it is back to ``expected`` (gRPC closes its sockets a moment after a channel
    closes; idle worker threads of the event loop's thread cache exit after 10 s), or its value after
    15 s of trying."""
    assert callable(measure)
    value = measure()
    for _ in range(300):
        gc.collect()
        value = measure()
        if value <= expected:
            return int(value)
        await anyio.sleep(0.05)
    return int(value)


async def test_a_thousand_random_cancellations_leave_nothing_behind(lite: str) -> None:
    rng = random.Random(12)
    async with asyncload.connect(lite) as warmup:  # gRPC's process-wide threads and fds start here
        await warmup.list_collections()
    baseline = (await settled(open_fds, 0), await settled(threading.active_count, 0), running_tasks())
    cancelled = {"submit": 0, "wait": 0, "stream": 0, "release": 0}
    async with asyncload.connect(lite) as client:
        tasks = {name: await client.load_collection(name) for name in NAMES}

        async def one(kind: str, name: str, after: float) -> None:
            with anyio.move_on_after(after) as scope, contextlib.suppress(asyncload.LoadReleasedError):
                # (a release racing a submission ends that task released: a legitimate outcome)
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
            if scope.cancelled_caught:
                cancelled[kind] += 1

        while sum(cancelled.values()) < CANCELLATIONS:
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    kind = rng.choice(("submit", "wait", "stream", "release"))
                    tg.start_soon(one, kind, rng.choice(NAMES), rng.uniform(0.0, 0.02))

        stats = client.statistics()
        assert (stats.waiters, stats.streams, stats.polling) == (0, 0, 0), "no wait or stream left"
        for name in NAMES:  # the client still loads
            task = await client.load_collection(name)
            assert (await task.wait(timeout=60)).loaded
    assert all(count > 0 for count in cancelled.values()), cancelled
    fds, threads, alive = (
        await settled(open_fds, baseline[0]),
        await settled(threading.active_count, baseline[1]),
        running_tasks(),
    )
    assert alive == baseline[2], "no task left"
    assert threads <= baseline[1], f"no thread left: {[t.name for t in threading.enumerate()]}"
    assert fds <= baseline[0], "no file descriptor left"
