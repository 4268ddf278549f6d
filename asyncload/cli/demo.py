"""``asyncload demo``: the whole library on sample data, on Milvus Lite or a local Milvus 2.3.5 standalone.

Six steps, each a thing asyncload does: create sample collections (raw gRPC, asyncload has no
insert API), show every collection's state and estimated memory, cost a partial load per field,
load it with a live progress bar, follow partitions, release. Then a few lines on what happened.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import anyio

from .._client import AsyncClient, connect
from .._format import human_bytes
from .._servers import embedded as _embedded
from ..errors import AsyncLoadError, UnsupportedOperationError
from .commands import Context, collect_status, follow
from .demo_data import AUTHORS, BOOKS, PARTITIONS, SampleError, SampleSpec, create_samples
from .output import Column, Output
from .views import footprint_document, show_footprint, show_status

__all__ = ["DemoError", "run_demo"]

LITE_SPEC = SampleSpec(rows=20_000, dim=64, segments=1, index_type="IVF_FLAT", index_params={"nlist": 64})
STANDALONE_SPEC = SampleSpec(rows=60_000, dim=128, segments=1, index_type="IVF_FLAT", index_params={"nlist": 128})
SELECTION = ["id", "embedding", "title"]
_STEPS = 6


class DemoError(AsyncLoadError):
    """The demo could not run (no standalone server, sample data failed)."""


def _step(out: Output, n: int, text: str) -> None:
    out.heading(f"[{n}/{_STEPS}] {text}")


async def run_demo(args: argparse.Namespace, ctx: Context) -> int:
    if args.standalone:
        return await _on_standalone(args, ctx)
    return await _on_lite(args, ctx)


async def _on_lite(args: argparse.Namespace, ctx: Context) -> int:
    own_dir = args.dir is None
    directory = await anyio.to_thread.run_sync(_prepare_directory, args.dir)
    try:
        path = str(directory / "demo.db")
        ctx.out.heading("asyncload demo on an embedded Milvus Lite (nothing to install, nothing to run)")
        ctx.out.line(f"database: {path}" + (" (a temporary directory, removed at the end)" if own_dir else ""))
        spec = LITE_SPEC if args.rows is None else _resized(LITE_SPEC, args.rows)
        uri = await _embedded.acquire(path)  # shared with the client below, so the data goes to the same server
        try:
            await _create(ctx, uri, None, spec)
            async with connect(path) as client:
                document = await _tour(client, ctx, spec, lite=True)
        finally:
            await _embedded.release(path)
        document.update(server="milvus-lite", database=path)
        ctx.out.emit(document)
        if not own_dir:
            ctx.out.line()
            ctx.out.line(f"the data stays in {path}; try:  asyncload --uri {path} status", style="dim")
        return 0
    finally:
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)


async def _on_standalone(args: argparse.Namespace, ctx: Context) -> int:
    from .._servers.standalone import MilvusStandalone, standalone_available

    reason = standalone_available()
    if reason is not None:
        raise DemoError(f"--standalone needs a local Milvus 2.3.5 (Linux x86_64, pip install milvus==2.3.5): {reason}")
    server = MilvusStandalone(base_dir=args.dir)
    out = ctx.out
    out.heading("asyncload demo on a local Milvus 2.3.5 standalone (real background loading)")
    try:
        with out.spinner("starting Milvus 2.3.5 standalone (the first run unpacks ~250 MB)"):
            await anyio.to_thread.run_sync(server.start)
        out.line(f"server: {server.uri} (up in {server.startup_seconds or 0:.1f} s, data in {server.data_dir})")
        spec = STANDALONE_SPEC if args.rows is None else _resized(STANDALONE_SPEC, args.rows)
        await _create(ctx, server.uri, server.token, spec)
        async with connect(server.uri, token=server.token) as client:
            document = await _tour(client, ctx, spec, lite=False)
        document.update(server="milvus-standalone-2.3.5", uri=server.uri)
        out.emit(document)
        return 0
    except Exception as exc:
        if type(exc).__name__ == "MilvusStandaloneError":  # its message ends with the server log: keep line 1
            raise DemoError(f"Milvus 2.3.5 standalone did not start: {str(exc).splitlines()[0]}") from exc
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(server.stop)


def _prepare_directory(wanted: str | None) -> Path:
    directory = Path(tempfile.mkdtemp(prefix="asyncload-demo-") if wanted is None else wanted).absolute()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _resized(spec: SampleSpec, rows: int) -> SampleSpec:
    """The spec with ``rows`` rows, and an nlist small enough that each segment can train it (39 x nlist)."""
    per_segment = rows // (len(PARTITIONS) * max(1, spec.segments))
    nlist = max(1, min(int(spec.index_params.get("nlist", 1)), per_segment // 39))
    params = {**spec.index_params, "nlist": nlist} if "nlist" in spec.index_params else spec.index_params
    return SampleSpec(rows, spec.dim, spec.segments, spec.index_type, params)


async def _create(ctx: Context, uri: str, token: str | None, spec: SampleSpec) -> None:
    out = ctx.out
    _step(out, 1, "sample data")
    began = anyio.current_time()
    stop = threading.Event()
    with out.spinner("creating sample collections") as update:
        try:  # on Ctrl-C, stop waiting at once; the worker gives up before its next RPC
            await anyio.to_thread.run_sync(
                lambda: create_samples(uri, token, spec, step=update, stop=stop), abandon_on_cancel=True
            )
        except SampleError as exc:
            raise DemoError(f"creating the sample data failed: {exc}") from None
        finally:
            stop.set()
    out.line(
        f"{BOOKS}: {spec.rows:,} rows over partitions {' and '.join(PARTITIONS)}; id (Int64), embedding "
        f"(FloatVector {spec.dim}, {spec.index_type} index), title (VarChar), year (Int16), pages (Int32), "
        "rating (Float), price (Double), in_stock (Bool), and the dynamic field"
    )
    out.line(f"{AUTHORS}: 2,000 rows; created in {anyio.current_time() - began:.1f} s")


async def _tour(client: AsyncClient, ctx: Context, spec: SampleSpec, *, lite: bool) -> dict[str, Any]:
    out, server = ctx.out, "Milvus Lite" if lite else "Milvus 2.3.5"
    document: dict[str, Any] = {}

    _step(out, 2, "what is on the server: asyncload status")
    document["collections"] = listed = await collect_status(client)
    show_status(out, client.uri, listed)

    _step(out, 3, f"what loading {', '.join(SELECTION)} would cost: asyncload footprint {BOOKS} --fields ...")
    fp = await client.footprint_estimate(BOOKS, load_fields=SELECTION, skip_load_dynamic_field=True)
    document["footprint"] = footprint_document(fp)
    show_footprint(out, fp, assumptions=False)
    guessed = [f.name for f in fp.fields if f.is_range]
    if guessed:
        out.line(
            f"{' and '.join(guessed)}: a schema range, not sampled; once the collection is loaded "
            "(or with footprint(..., sample=your_rows)), asyncload measures real values.",
            style="dim",
        )

    _step(out, 4, f"load those fields, watching progress: asyncload load {BOOKS} --fields ... --skip-dynamic")
    began = anyio.current_time()
    task = await client.load_collection(BOOKS, load_fields=SELECTION, skip_load_dynamic_field=True)
    final = await follow(task, out, BOOKS, timeout=None)
    assert final is not None
    seconds = anyio.current_time() - began
    document["load"] = {"state": str(final.state), "percent": final.percent, "seconds": round(seconds, 3)}
    if lite:
        for text in (
            "Milvus Lite loads inside the load call itself, so the bar jumps to 100%; a real server",
            "loads in the background and the bar fills as segments load (asyncload demo --standalone).",
        ):
            out.line(text, style="dim")
    out.line(f"{server} accepts load_fields but loads every field; Milvus 2.4+ loads only the selection.", style="dim")

    _step(out, 5, "partitions")
    document["partitions"] = await (_lite_partitions(client, ctx) if lite else _standalone_partitions(client, ctx))

    _step(out, 6, f"release: asyncload release {BOOKS}")
    await client.release_collection(BOOKS)
    state = await client.get_load_state(BOOKS)
    document["released"] = str(state)
    out.line(f"{BOOKS} is now {state}: its memory is free again (release is also the only way to stop a load)")

    rpcs = dict(client.statistics().rpcs)
    document["rpcs"] = rpcs
    out.heading("what happened")
    for text in (
        f"- asyncload estimated per field what a load costs before loading: {human_bytes(fp.total_selected)} for "
        f"{len(SELECTION)} fields instead of {human_bytes(fp.total_all)} for all of them;",
        f"- load_collection() returned a LoadTask as soon as {server} accepted the load; the bar followed its",
        "  progress stream, and 'await task' gave the final snapshot (Ctrl-C stops waiting, not the load);",
        "- partitions have their own state and progress; release_collection() freed the memory;",
        f"- {sum(rpcs.values())} RPCs in all, {rpcs.get('GetLoadingProgress', 0)} of them progress polls, "
        "shared by every waiter of a client.",
    ):
        out.line(text)
    return document


async def _partition_rows(client: AsyncClient) -> list[dict[str, Any]]:
    rows = []
    for partition in PARTITIONS:
        progress = await client.loading_progress(BOOKS, [partition])
        rows.append({"name": partition, "state": str(progress.state), "percent": progress.percent})
    return rows


def _show_partitions(out: Output, rows: list[dict[str, Any]]) -> None:
    out.table(
        [Column("partition"), Column("state"), Column("progress", True)],
        [[r["name"], r["state"], f"{r['percent']}%"] for r in rows],
        title=f"{BOOKS} partitions",
    )


async def _lite_partitions(client: AsyncClient, ctx: Context) -> list[dict[str, Any]]:
    out = ctx.out
    rows = await _partition_rows(client)
    _show_partitions(out, rows)
    try:
        await client.load_partitions(BOOKS, [PARTITIONS[0]])
    except UnsupportedOperationError as exc:
        out.line(f"load_partitions() on Milvus Lite raises UnsupportedOperationError: {exc.reason}", style="dim")
    out.line("so here every partition is loaded with the collection; --standalone loads one partition alone.")
    return rows


async def _standalone_partitions(client: AsyncClient, ctx: Context) -> list[dict[str, Any]]:
    out, first = ctx.out, PARTITIONS[0]
    await client.release_collection(BOOKS)
    out.line(f"released {BOOKS}, now loading partition {first!r} alone: asyncload load {BOOKS} --partitions {first}")
    task = await client.load_partitions(BOOKS, [first])
    await follow(task, out, f"{BOOKS} [{first}]", timeout=None)
    rows = await _partition_rows(client)
    _show_partitions(out, rows)
    out.line(f"only {first!r} takes memory; the collection can be searched in that partition only.", style="dim")
    return rows
