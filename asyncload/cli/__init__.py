"""The ``asyncload`` command line: ``demo``, ``status``, ``footprint``, ``load``, ``wait``, ``release``.

Run ``asyncload --help`` (or ``python -m asyncload --help``); docs/cli.md has the details.
Exit codes: 0 success, 1 the operation failed (one line on stderr; ``--debug`` adds the traceback),
2 usage errors (bad options or ``--uri``), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio

from .._client import AsyncClient, connect
from .._concurrency import first_error
from ..errors import (
    AsyncLoadError,
    AuthenticationError,
    CollectionNotFoundError,
    ConnectionFailedError,
    DeadlineExceededError,
    InvalidArgumentError,
    InvalidLoadFieldsError,
    LoadFailedError,
    LoadReleasedError,
    NotFoundError,
    PartitionNotFoundError,
    PermissionDeniedError,
    ServerUnavailableError,
    UnsupportedOperationError,
)
from . import commands
from .commands import EXIT_INTERRUPTED, Context, Interrupts
from .output import Output

__all__ = ["build_parser", "main"]

DEFAULT_URI = "http://localhost:19530"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

Command = Callable[[AsyncClient, argparse.Namespace, Context], Awaitable[int]]
_COMMANDS: dict[str, Command] = {
    "status": commands.status,
    "footprint": commands.footprint,
    "load": commands.load,
    "wait": commands.wait,
    "release": commands.release,
}


# -- arguments ------------------------------------------------------------------------------------


def _names(text: str) -> list[str]:
    """``a,b`` -> ``['a', 'b']``; empty or repeated names are usage errors."""
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated names like a,b; got {text!r}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"{', '.join(repeated)} named more than once")
    return names


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    # Global options are accepted before and after the command; SUPPRESS keeps a subcommand's
    # unset option from overwriting the value given before it. Defaults are resolved in main().
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output (also before the command)")
    S = argparse.SUPPRESS
    group.add_argument(
        "--uri",
        default=S,
        help=f"Milvus URI (default $MILVUS_URI, else {DEFAULT_URI}); a path ending in .db "
        "opens an embedded Milvus Lite",
    )
    group.add_argument(
        "--token",
        default=S,
        help="user:password or an API key (default $MILVUS_TOKEN; prefer the variable: "
        "command lines are visible to other users)",
    )
    group.add_argument("--db", default=S, metavar="NAME", help="database name (default: the server's default)")
    group.add_argument("--json", action="store_true", default=S, help="print one JSON document instead of text")
    group.add_argument("--debug", action="store_true", default=S, help="show the traceback when a command fails")
    group.add_argument(
        "--backend",
        choices=("asyncio", "trio"),
        default=S,
        help="async backend (default asyncio; trio needs the extra trio)",
    )

    parser = argparse.ArgumentParser(
        prog="asyncload",
        parents=[common],
        description="Watch, cost and manage Milvus collection loads. Start with: asyncload demo",
        epilog="exit codes: 0 success, 1 the operation failed, 2 usage error, 130 interrupted",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"asyncload {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", parents=[common], help="the whole library on sample data, nothing to set up")
    demo.add_argument("--dir", metavar="D", help="keep the demo's Milvus Lite database in D (default: a temp dir)")
    demo.add_argument(
        "--standalone", action="store_true", help="run on a local Milvus 2.3.5 standalone (pip install milvus==2.3.5)"
    )
    demo.add_argument("--rows", type=_positive_int, default=None, help=argparse.SUPPRESS)

    sub.add_parser("status", parents=[common], help="every collection: load state, progress, estimated memory")

    def target(name: str, help_text: str, *, fields: bool, partitions: bool) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.add_argument("collection", metavar="COLLECTION")
        if fields:
            p.add_argument("--fields", type=_names, metavar="a,b", help="only these fields (primary key + a vector)")
            p.add_argument("--skip-dynamic", action="store_true", help="leave out the dynamic field ($meta)")
        if partitions:
            p.add_argument("--partitions", type=_names, metavar="p,q", help="only these partitions")
        return p

    fp = target("footprint", "estimated memory per field, and the totals", fields=True, partitions=True)
    fp.add_argument("--replicas", type=_positive_int, metavar="N", help="count N replicas (default 1)")

    ld = target("load", "load a collection (or partitions) and show its progress", fields=True, partitions=True)
    ld.add_argument("--replicas", type=_positive_int, metavar="N", help="replica number (default: the server's)")
    ld.add_argument("--no-wait", action="store_true", help="submit the load and return at once")
    ld.add_argument("--timeout", type=_seconds, metavar="S", help="stop waiting after S seconds (exit 1)")
    ld.add_argument(
        "--release-on-interrupt", action="store_true", help="on Ctrl-C, release (stop the load) instead of leaving it"
    )

    wt = target(
        "wait",
        "follow a load started elsewhere (another process, pymilvus, Attu) until loaded",
        fields=False,
        partitions=True,
    )
    wt.add_argument("--timeout", type=_seconds, metavar="S", help="stop waiting after S seconds (exit 1)")

    target("release", "release a collection (or partitions); this also stops a load", fields=False, partitions=True)
    parser.set_defaults(_subparsers=sub.choices)
    return parser


# -- errors -----------------------------------------------------------------------------------------


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups: not a cancellation, if there is one."""
    return first_error(exc)


def describe_error(exc: BaseException, *, where: str, token_given: bool) -> str:
    """One line saying what went wrong and what to do about it."""
    if isinstance(exc, InvalidLoadFieldsError):
        valid = ", ".join(exc.valid)
        if "$meta" in exc.unknown:
            return f"--fields cannot name the dynamic field $meta (it is loaded unless --skip-dynamic); fields: {valid}"
        if exc.unknown:
            names = ", ".join(map(repr, exc.unknown))
            return f"collection {exc.collection!r} has no field {names}; its fields: {valid}"
        return f"--fields must include the primary key and a vector field (missing {', '.join(exc.missing)}); " + (
            f"fields of {exc.collection!r}: {valid}"
        )
    if isinstance(exc, CollectionNotFoundError):
        return exc.reason if where in exc.reason else f"{exc.reason} at {where}"
    if isinstance(exc, PartitionNotFoundError):
        return exc.reason
    if isinstance(exc, AuthenticationError):
        if not token_given:
            return f"Milvus at {where} requires authentication: pass --token user:password (or set MILVUS_TOKEN)"
        return f"Milvus at {where} refused the token: check --token / MILVUS_TOKEN (user:password or an API key)"
    if isinstance(exc, NotFoundError) and "database" in exc.reason.lower():
        return f"{exc.reason} at {where} (check --db)"
    if isinstance(exc, PermissionDeniedError):
        return f"permission denied at {where}: {exc.reason}"
    if isinstance(exc, DeadlineExceededError):
        return f"no answer from Milvus at {where} in time: {exc}"
    if isinstance(exc, ServerUnavailableError):
        if where.startswith("embedded"):
            return str(exc)
        return f"cannot reach Milvus at {where} (is it running? set --uri or MILVUS_URI): {exc}"
    if isinstance(exc, UnsupportedOperationError):
        if where.startswith("embedded"):
            return f"embedded Milvus Lite: {exc.reason}"
        return f"Milvus at {where} does not support {exc.operation or 'this'}: {exc.reason}"
    if isinstance(exc, LoadReleasedError):
        return exc.reason
    if isinstance(exc, LoadFailedError):
        return f"the load failed on the server: {exc}"
    if isinstance(exc, ConnectionFailedError | AsyncLoadError | TimeoutError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"


def _report(exc: BaseException, out: Output, *, where: str, token_given: bool, debug: bool) -> int:
    exc = _leaf(exc)
    message = describe_error(exc, where=where, token_given=token_given)
    usage = isinstance(exc, InvalidArgumentError) and not isinstance(exc, InvalidLoadFieldsError)
    if debug:
        sys.stderr.write(out.redact("".join(traceback.format_exception(exc))))
    out.error(message)
    out.emit({"error": {"type": type(exc).__name__, "message": message, "code": getattr(exc, "code", None)}})
    return EXIT_USAGE if usage else EXIT_FAILED


# -- running --------------------------------------------------------------------------------------


def _secrets(token: str | None, uri: str) -> list[str]:
    """Every form of a secret that could end up in a message: the token, its base64, a URI's user:password.

    (Not a password alone: it may be a common word, like the default ``Milvus``.)
    """
    found: list[str] = []
    if token:
        found += [token, base64.b64encode(token.encode()).decode()]
    try:
        parts = urlsplit(uri if "://" in uri else f"http://{uri}")
        if parts.password:
            found.append(f"{parts.username}:{parts.password}")
    except ValueError:
        pass
    return found


async def _run(args: argparse.Namespace, out: Output, client: AsyncClient | None) -> int:
    interrupts = Interrupts()
    where = client.uri if client is not None else "the demo server"
    ctx = Context(out=out, interrupts=interrupts, where=where)
    code = EXIT_INTERRUPTED
    async with anyio.create_task_group() as tg:
        await tg.start(interrupts.watch)
        with interrupts.root:
            try:
                if client is None:
                    from .demo import run_demo

                    code = await run_demo(args, ctx)
                else:
                    async with client:
                        code = await _COMMANDS[args.command](client, args, ctx)
            except Exception as exc:
                leaf = _leaf(exc)
                if isinstance(leaf, BrokenPipeError):  # stdout closed early (| head): stop quietly
                    _silence_stdout()
                    code = EXIT_FAILED
                elif not isinstance(leaf, anyio.get_cancelled_exc_class()):
                    code = _report(exc, out, where=where, token_given=bool(args.token), debug=args.debug)
        tg.cancel_scope.cancel()
    if interrupts.root.cancelled_caught:
        out.warn("interrupted" + (" (again)" if interrupts.count > 1 else ""))
        return EXIT_INTERRUPTED
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _trio_installed() -> bool:
    """Whether trio imports (the extra ``trio``); anyio's trio backend would fail with a traceback."""
    try:
        import trio  # noqa: F401
    except ImportError:
        return False
    return True


def _quiet_grpc(*, debug: bool) -> None:
    """Keep gRPC's C-core log lines (a GOAWAY from a server going away, ...) out of the CLI's output:
    asyncload reports what matters as one line. Read once, when grpc is first imported, which the
    engine does lazily when a client opens; ``--debug`` or a GRPC_VERBOSITY of the user's own keep them."""
    if not debug and "grpc" not in sys.modules:
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``asyncload`` console script; returns the exit code."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)  # exits 2 on usage errors
    if unknown:  # a bad flag of a subcommand: that subcommand's usage, not the top-level one
        (args._subparsers.get(args.command) or parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    del args._subparsers
    defaults: dict[str, Any] = {
        "uri": os.environ.get("MILVUS_URI") or DEFAULT_URI,
        "token": os.environ.get("MILVUS_TOKEN") or None,
        "db": None,
        "json": False,
        "debug": False,
        "backend": "asyncio",
    }
    for key, value in defaults.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    _quiet_grpc(debug=args.debug)
    out = Output(json_mode=args.json, secrets=_secrets(args.token, args.uri))
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.backend == "trio" and not _trio_installed():
        message = "--backend trio needs trio, which is not installed: pip install 'asyncload-milvus[trio]'"
        out.error(message)
        out.emit({"error": {"type": "ImportError", "message": message, "code": None}})
        return EXIT_USAGE
    client: AsyncClient | None = None
    if args.command != "demo":
        try:
            client = connect(args.uri, token=args.token, db_name=args.db)
        except InvalidArgumentError as exc:
            out.error(f"bad --uri or --db: {exc}")
            out.emit({"error": {"type": type(exc).__name__, "message": f"bad --uri or --db: {exc}", "code": None}})
            return EXIT_USAGE
    try:
        code: int = anyio.run(_run, args, out, client, backend=args.backend)
    except KeyboardInterrupt:
        out.warn("interrupted")
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
