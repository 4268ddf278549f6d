"""The commands behind ``asyncload status | footprint | load | release``, and what ``demo`` shares with them.

Each command takes an open client, its parsed arguments and a :class:`Context`; it prints through
``ctx.out`` (prose, tables, live progress, or one JSON document) and returns the exit code. Errors
are raised, and :mod:`asyncload.cli` turns them into one line and exit code 1.
"""

from __future__ import annotations

import argparse
import functools
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.abc import TaskStatus

from .._calls import close_names, with_suggestions
from .._client import AsyncClient
from .._concurrency import gather
from .._footprint.fit import fit_verdict
from .._format import target_label
from .._options import LoadOptions
from .._progress import LoadState, Progress
from .._tasks import LoadTask
from ..errors import (
    CollectionNotFoundError,
    ConnectionFailedError,
    PartitionNotFoundError,
    ServerError,
    TransportError,
)
from .output import Output
from .views import estimated_from, footprint_document, show_footprint, show_status

__all__ = [
    "EXIT_INTERRUPTED",
    "Context",
    "Interrupts",
    "collect_status",
    "follow",
    "footprint",
    "load",
    "release",
    "status",
    "wait",
]

EXIT_INTERRUPTED = 130  # the shell's convention for a command stopped by SIGINT


class Interrupts:
    """Ctrl-C while a command runs: cancels the innermost :meth:`catch` scope, else the whole command.

    Nothing is killed mid-RPC: cancellation goes through anyio, so clients close cleanly.
    """

    def __init__(self) -> None:
        self.count = 0
        self.root = anyio.CancelScope()
        self._scopes: list[anyio.CancelScope] = []

    @contextmanager
    def catch(self) -> Iterator[anyio.CancelScope]:
        """A scope that the next Ctrl-C cancels (check ``scope.cancelled_caught`` afterwards)."""
        with anyio.CancelScope() as scope:
            self._scopes.append(scope)
            try:
                yield scope
            finally:
                self._scopes.remove(scope)

    def signal(self) -> None:
        self.count += 1
        (self._scopes[-1] if self._scopes else self.root).cancel()

    async def watch(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Route SIGINT to :meth:`signal` until cancelled (only waits where signals cannot be received)."""
        started = False
        try:
            with anyio.open_signal_receiver(signal.SIGINT) as signals:
                task_status.started()
                started = True
                async for _ in signals:
                    self.signal()
        except (NotImplementedError, ValueError, RuntimeError):  # no signal handlers here (Windows, not main thread)
            if started:
                raise
            task_status.started()
            await anyio.sleep_forever()


@dataclass(frozen=True)
class Context:
    """What every command gets besides its client: the output, Ctrl-C handling, the server's description."""

    out: Output
    interrupts: Interrupts
    where: str


# -- checks that give a clear message before anything is sent ------------------------------------


async def require_collection(client: AsyncClient, name: str) -> None:
    """Raise CollectionNotFoundError naming the collections that do exist."""
    existing = await client.list_collections()
    if name not in existing:
        known = ", ".join(sorted(existing)) or "none"
        reason = f"collection {name!r} does not exist at {client.uri} (collections there: {known})"
        raise with_suggestions(CollectionNotFoundError(name, reason=reason), close_names(name, existing))


async def require_partitions(client: AsyncClient, name: str, partitions: Sequence[str]) -> None:
    """Raise PartitionNotFoundError naming the partitions that do exist (Milvus Lite does not check)."""
    existing = await client.list_partitions(name)
    missing = [p for p in partitions if p not in existing]
    if missing:
        reason = (
            f"collection {name!r} has no partition {', '.join(map(repr, missing))} "
            f"(its partitions: {', '.join(existing)})"
        )
        error = PartitionNotFoundError(name, missing[0], reason=reason)
        raise with_suggestions(error, close_names(missing[0], existing))


# -- status ---------------------------------------------------------------------------------------


async def collect_status(client: AsyncClient) -> list[dict[str, Any]]:
    """Every collection: name, state, percent, rows, estimated_bytes (a load of every field) and
    estimated_from (``sampled``, ``schema range`` or ``types``), the range and the fit verdict, or error."""
    names = sorted(await client.list_collections())
    memory = await client.query_node_memory()
    rows: dict[str, dict[str, Any]] = {}
    limiter = anyio.CapacityLimiter(4)

    async def one(name: str) -> None:
        async with limiter:
            row: dict[str, Any] = {"name": name}
            try:
                progress = await client.loading_progress(name)
                row.update(state=str(progress.state), percent=progress.percent)
                estimate = await client.footprint_estimate(name)
                row.update(
                    rows=estimate.rows, estimated_bytes=estimate.total_all, estimated_from=estimated_from(estimate)
                )
                if not estimate.exact:
                    row.update(estimated_low=estimate.total_low, estimated_high=estimate.total_high)
                # a loaded collection's memory is already in what the nodes use: no verdict for it
                loaded = progress.state is LoadState.LOADED
                row["fit"] = "loaded" if loaded else fit_verdict(estimate, memory).verdict.value
            except CollectionNotFoundError:
                return  # dropped meanwhile
            except (ServerError, TransportError) as exc:
                row.setdefault("state", "?")
                row["error"] = str(exc)
            rows[name] = row

    await gather(*(functools.partial(one, n) for n in names))
    return [rows[n] for n in names if n in rows]


async def status(client: AsyncClient, args: argparse.Namespace, ctx: Context) -> int:
    del args
    listed = await collect_status(client)
    ctx.out.emit({"uri": ctx.where, "collections": listed})
    show_status(ctx.out, ctx.where, listed)
    return 0


# -- footprint ------------------------------------------------------------------------------------


async def footprint(client: AsyncClient, args: argparse.Namespace, ctx: Context) -> int:
    await require_collection(client, args.collection)
    if args.partitions:
        await require_partitions(client, args.collection, args.partitions)
    fp = await client.footprint_estimate(
        args.collection,
        load_fields=args.fields,
        skip_load_dynamic_field=args.skip_dynamic,
        replica_number=args.replicas or 1,
        partition_names=args.partitions,
    )
    fit = await client.footprint_fit(fp)
    ctx.out.emit(footprint_document(fp, fit))
    show_footprint(ctx.out, fp, fit=fit)
    return 0


# -- load -----------------------------------------------------------------------------------------


async def follow(task: LoadTask, out: Output, label: str, *, timeout: float | None) -> Progress | None:
    """Show the task's progress live until it is loaded (its final snapshot) or ``timeout`` passes (None).

    A failed load marks the bar failed and raises its error. Cancelling stops only the watching.
    """
    view = out.progress(label)
    started = anyio.current_time()
    try:
        with anyio.move_on_after(timeout):
            async for snapshot in task.progress():
                view.update(snapshot)
            final = task.latest
            view.finish(f"loaded in {anyio.current_time() - started:.1f} s", ok=True)
            return final
        view.finish(f"still loading after {timeout:g} s", ok=False)
        return None
    except BaseException as exc:
        view.finish("interrupted" if isinstance(exc, anyio.get_cancelled_exc_class()) else "failed", ok=False)
        raise


async def _snapshot(client: AsyncClient, name: str, partitions: Sequence[str]) -> Progress | None:
    """The current progress, or None if it cannot be had within a few seconds."""
    with anyio.move_on_after(5):
        try:
            return await client.loading_progress(name, partitions or None)
        except (ServerError, ConnectionFailedError):
            return None
    return None


async def _existing_target(client: AsyncClient, args: argparse.Namespace) -> tuple[str, tuple[str, ...], str]:
    """The collection and partitions a command names, checked to exist, and their label."""
    name, parts = args.collection, tuple(args.partitions or ())
    await require_collection(client, name)
    if parts:
        await require_partitions(client, name, parts)
    return name, parts, target_label(name, parts)


async def load(client: AsyncClient, args: argparse.Namespace, ctx: Context) -> int:
    name, parts, label = await _existing_target(client, args)
    out = ctx.out
    options = LoadOptions(
        load_fields=args.fields, skip_load_dynamic_field=args.skip_dynamic, replica_number=args.replicas
    )
    document: dict[str, Any] = {
        "collection": name,
        "partitions": list(parts),
        "load_fields": args.fields,
        "skip_dynamic_field": args.skip_dynamic,
    }
    began = anyio.current_time()
    task: LoadTask | None = None
    final: Progress | None = None
    with ctx.interrupts.catch() as scope:
        if parts:
            task = await client.load_partitions(name, parts, options=options)
        else:
            task = await client.load_collection(name, options=options)
        if args.no_wait:
            latest = task.latest
            document.update(submitted=True, waited=False, state=str(latest.state), percent=latest.percent)
            out.emit(document)
            out.line(f"load of {label} submitted ({latest.state} {latest.percent}%); it goes on on the server.")
            out.line(f"follow it with: asyncload status   (stop it with: asyncload release {name})", style="dim")
            return 0
        final = await follow(task, out, label, timeout=args.timeout)
    if scope.cancelled_caught:
        return await _interrupted(client, args, ctx, label, submitted=task is not None, document=document)
    if final is None:
        now = await _snapshot(client, name, parts)
        percent = now.percent if now else (task.percent if task else 0)
        raise TimeoutError(
            f"{label} is still loading after {args.timeout:g} s ({percent}%); the load continues on the "
            f"server (asyncload release {name} stops it)"
        )
    seconds = anyio.current_time() - began
    document.update(
        submitted=True, waited=True, state=str(final.state), percent=final.percent, seconds=round(seconds, 3)
    )
    if client.embedded:
        document["note"] = _LITE_LOAD_NOTE
    out.emit(document)
    what = f" (fields {', '.join(args.fields)})" if args.fields else ""
    skipped = " without the dynamic field" if args.skip_dynamic else ""
    out.line(f"{label} is loaded{what}{skipped}: {final.percent}% after {seconds:.1f} s")
    if "note" in document:
        out.line(f"note: {_LITE_LOAD_NOTE}", style="dim")
    return 0


_LITE_LOAD_NOTE = "Milvus Lite runs inside this asyncload process: what it loaded is released when the command exits"


async def _interrupted(
    client: AsyncClient,
    args: argparse.Namespace,
    ctx: Context,
    label: str,
    *,
    submitted: bool,
    document: dict[str, Any],
) -> int:
    name, parts = args.collection, tuple(args.partitions or ())
    released = False
    if args.release_on_interrupt:
        if parts:
            await client.release_partitions(name, parts)
        else:
            await client.release_collection(name)
        released = True
        ctx.out.warn(f"interrupted: released {label}, which stops its load on the server")
    elif submitted:
        ctx.out.warn(
            f"interrupted: stopped waiting; the load of {label} continues on the server "
            f"(asyncload release {name} stops it)"
        )
    else:
        ctx.out.warn(
            f"interrupted while submitting the load of {label}: it may or may not have reached the server "
            f"(check with asyncload status)"
        )
    latest = await _snapshot(client, name, parts)
    document.update(
        submitted=submitted,
        waited=True,
        interrupted=True,
        released=released,
        state=str(latest.state) if latest else None,
        percent=latest.percent if latest else None,
    )
    ctx.out.emit(document)
    return EXIT_INTERRUPTED


# -- wait -----------------------------------------------------------------------------------------


async def wait(client: AsyncClient, args: argparse.Namespace, ctx: Context) -> int:
    """Follow a load started elsewhere (another process, pymilvus, Attu) until loaded: ``follow_load``."""
    name, parts, label = await _existing_target(client, args)
    out = ctx.out
    document: dict[str, Any] = {"collection": name, "partitions": list(parts), "followed": True}
    began = anyio.current_time()
    final: Progress | None = None
    with ctx.interrupts.catch() as scope:
        task = await client.follow_load(name, parts or None)
        final = await follow(task, out, label, timeout=args.timeout)
    if scope.cancelled_caught:
        ctx.out.warn(f"interrupted: stopped waiting; the load of {label} goes on on the server")
        latest = await _snapshot(client, name, parts)
        document.update(
            waited=True,
            interrupted=True,
            state=str(latest.state) if latest else None,
            percent=latest.percent if latest else None,
        )
        ctx.out.emit(document)
        return EXIT_INTERRUPTED
    if final is None:
        now = await _snapshot(client, name, parts)
        percent = now.percent if now else task.percent
        raise TimeoutError(
            f"{label} is still loading after {args.timeout:g} s ({percent}%); the load goes on on the "
            f"server (asyncload release {name} stops it)"
        )
    seconds = anyio.current_time() - began
    document.update(waited=True, state=str(final.state), percent=final.percent, seconds=round(seconds, 3))
    out.emit(document)
    out.line(f"{label} is loaded: {final.percent}% (followed for {seconds:.1f} s)")
    return 0


# -- release --------------------------------------------------------------------------------------


async def release(client: AsyncClient, args: argparse.Namespace, ctx: Context) -> int:
    name, parts = args.collection, tuple(args.partitions or ())
    await require_collection(client, name)
    if parts:
        await require_partitions(client, name, parts)
        await client.release_partitions(name, parts)
        states = {p: await client.get_load_state(name, p) for p in parts}
    else:
        await client.release_collection(name)
        states = {name: await client.get_load_state(name)}
    ctx.out.emit(
        {
            "collection": name,
            "partitions": list(parts),
            "released": True,
            "state": {k: str(v) for k, v in states.items()},
        }
    )
    now = ", ".join(f"{k} {v}" for k, v in states.items())
    ctx.out.line(f"released {target_label(name, parts)} (now: {now})")
    return 0
