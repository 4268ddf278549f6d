"""Fuzzed arguments: never a raw exception, never a secret in a message, repr or error chain.

Two hypothesis tests, each on both anyio backends:

- ``connect()`` with random and structured URIs (credentials, hosts, ports, paths), tokens,
  database names, timeouts, polling and retry settings (built from random fields) and TLS files;
  a client that parses is also opened and closed.
- every public coroutine of ``AsyncClient`` and ``LoadTask.wait`` on a real Milvus Lite client,
  with random str / int / float / None / bytes / list / dict values (lone surrogates, huge ints,
  NaN...) for each argument.

Only asyncload's typed errors (or success, or the builtin ``TimeoutError`` of a wait) may come out.
The budget is fixed (derandomized, a bounded number of examples) so each runs in well under a minute.
"""

from __future__ import annotations

import inspect
import math
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asyncload

from ._data import make_collection

#: A marker every drawn secret (token, URI password) starts with: it must appear in no message.
MARK = "S3cr3t"

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
CONNECT_EXAMPLES = 1500
METHOD_EXAMPLES = 3000

# ------------------------------------------------------------------------------------ values
SURROGATE = st.sampled_from(["\ud800", "\udbff", "\udc80", "\udfff"])
ODD_TEXT = st.sampled_from(["", " ", "\n", "\x00", "dbé", "db\nx", "é", "\u202e", "x" * 300, "$meta", "_default"])
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=10),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=4), SURROGATE, st.text(max_size=4)),
    ODD_TEXT,
)
INT = st.one_of(
    st.integers(-3, 5),
    st.integers(),
    st.sampled_from([2**31 - 1, 2**31, 2**32, 2**63, 2**64, -(2**31) - 1, 10**400, -(10**400)]),
)
FLOAT = st.one_of(st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, 1e-300, 1e300, 0.0, -0.0, 1e12]))
ANY = st.one_of(
    st.none(),
    st.booleans(),
    TEXT,
    INT,
    FLOAT,
    st.binary(max_size=6),
    st.lists(st.one_of(TEXT, INT, st.none()), max_size=4),
    st.tuples(TEXT),
    st.frozensets(st.text(max_size=4), max_size=3),
    st.dictionaries(TEXT, st.one_of(TEXT, INT), max_size=2),
    st.builds(object),
)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each ``weight`` times as likely (``one_of`` weighs its branches alike)."""
    picks = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(picks) - 1).flatmap(lambda i: picks[i])


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` three times in four, else anything."""
    return weighted((3, valid), (1, ANY))


def secrets() -> st.SearchStrategy[str]:
    """A distinctive secret, sometimes with characters that break a URI ('@', '/', '#', '%'...)."""
    tail = st.text(string.ascii_letters + string.digits + "!$&'()*+,;=:@/?#[]% ~-é", min_size=1, max_size=8)
    return st.builds(lambda t: MARK + t, tail)


# ---------------------------------------------------------------------------- secret checks
def _texts(value: BaseException) -> Iterator[str]:
    """str and repr of an exception and of everything in its chain (causes and contexts)."""
    seen: set[int] = set()
    stack: list[BaseException] = [value]
    while stack:
        exc = stack.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield str(exc)
        yield repr(exc)
        yield from (repr(arg) for arg in exc.args)
        stack.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)


def assert_no_secret(texts: Iterator[str] | list[str], secret_values: list[str]) -> None:
    for text in texts:
        assert MARK not in text, f"a secret leaked: {text!r}"
        for secret in secret_values:
            assert secret not in text and quote(secret, safe="") not in text, f"a secret leaked: {text!r}"


# ------------------------------------------------------------------------------------ connect
@dataclass(frozen=True)
class Files:
    ca: str
    not_pem: str
    directory: str
    key: str


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    trustme = pytest.importorskip("trustme")
    where = tmp_path_factory.mktemp("fuzz-files")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(where / "ca.pem"))
    ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(where / "client.key"))
    (where / "notes.txt").write_text("not a certificate\n")
    return Files(str(where / "ca.pem"), str(where / "notes.txt"), str(where), str(where / "client.key"))


@st.composite
def uris(draw: st.DrawFn, password: str) -> str:
    kind = draw(weighted((8, st.just("structured")), (1, st.just("text")), (1, st.just("db"))))
    if kind == "text":
        return draw(TEXT)
    if kind == "db":
        paths = ["x.db", "/no/such/dir/x.db", "~/x.db", "a\x00b.db", "\ud800.db", ".db", f"root:{password}@h/x.db"]
        return draw(st.sampled_from(paths))
    scheme = draw(
        weighted(
            (4, st.sampled_from(["http://", "https://", "tcp://", "grpc://", ""])),
            (1, st.sampled_from(["ftp://", "HTTPS://", "http:/", "://"])),
        )
    )
    user = draw(st.sampled_from(["root", "u", "", "r%40t"]))
    userinfo = draw(
        weighted(
            (2, st.just("")),
            (2, st.sampled_from([f"{user}:{password}@", f"{user}:{quote(password, safe='')}@"])),
            (1, st.sampled_from([f"{password}@", "@"])),
        )
    )
    valid_host = st.sampled_from(["127.0.0.1", "localhost", "[::1]", "milvus.example.com", "milvus-0.db_1"])
    odd_host = st.sampled_from(["[::1", "::1", "[zz]", "", "ho st", "é.com", "a..b", "-a", "[::1]x"])
    host = draw(weighted((6, valid_host), (1, odd_host), (1, TEXT)))
    valid_port = st.sampled_from(["", ":1", ":19530", ":65535"])
    odd_port = st.sampled_from([":", ":0", ":65536", ":-1", ":abc", ":+80", ":\uff11", ":1:2"])
    port = draw(weighted((6, valid_port), (1, odd_port), (1, st.integers(-10, 10**6).map(lambda p: f":{p}"))))
    tail = draw(weighted((6, st.sampled_from(["", "/"])), (1, st.sampled_from(["/db", "?a=b", "#f", "/x@y", " "]))))
    return f"{scheme}{userinfo}{host}{port}{tail}"


@st.composite
def built(draw: st.DrawFn, cls: type[Any]) -> Any:
    """``cls`` (PollingConfig, RetryPolicy) from random values of some of its fields, or the error."""
    names = draw(st.lists(st.sampled_from([f.name for f in fields(cls)]), max_size=3, unique=True))
    kwargs = {name: draw(st.one_of(FLOAT, INT, st.booleans(), st.none(), TEXT)) for name in names}
    try:
        return cls(**kwargs)
    except asyncload.InvalidArgumentError:
        return None


@st.composite
def connect_arguments(draw: st.DrawFn, files: Files | None) -> tuple[dict[str, Any], list[str]]:
    """Keyword arguments for ``connect()`` and the secrets among them (``files`` None: no TLS ones)."""
    password, token = draw(secrets()), draw(secrets())
    kwargs: dict[str, Any] = {"uri": draw(uris(password))}
    kwargs["token"] = draw(mostly(st.sampled_from([None, token, ""])))
    kwargs["db_name"] = draw(mostly(st.sampled_from([None, "default", "db_1"])))
    kwargs["timeout"] = draw(mostly(st.one_of(st.none(), st.floats(0.001, 1e6), st.integers(1, 10**9))))
    kwargs["polling"] = draw(mostly(st.one_of(st.none(), built(asyncload.PollingConfig))))
    kwargs["retry"] = draw(mostly(st.one_of(st.none(), built(asyncload.RetryPolicy))))
    if files is not None:
        tls_file = st.one_of(
            st.none(), st.sampled_from([files.ca, files.not_pem, files.directory, files.key, "/no/such.pem"]), ANY
        )
        for name in ("ca_file", "client_cert_file", "client_key_file"):
            kwargs[name] = draw(weighted((2, st.none()), (1, tls_file)))
        kwargs["server_name"] = draw(weighted((4, st.sampled_from([None, "milvus.test"])), (1, TEXT)))
    return {k: v for k, v in kwargs.items() if v is not None or draw(st.booleans())}, [password, token]


@given(data=st.data())
@settings(FUZZ, max_examples=CONNECT_EXAMPLES)
def test_connect_arguments_never_raise_raw_or_leak(data: st.DataObject, files: Files, anyio_backend: str) -> None:
    kwargs, secret_values = data.draw(connect_arguments(files))
    try:
        client = asyncload.connect(**kwargs)
    except asyncload.InvalidArgumentError as exc:
        assert_no_secret(_texts(exc), secret_values)
        return
    assert_no_secret([repr(client), client.uri, repr(client._endpoint)], secret_values)
    if not client.embedded:  # opening makes the channel (no RPC yet); Milvus Lite is left out: slow
        anyio.run(_open_and_close, client, backend=anyio_backend)


async def _open_and_close(client: asyncload.AsyncClient) -> None:
    async with client:
        pass


# ------------------------------------------------------------------------------------ methods
TOKEN = MARK + "-lite-token"


@dataclass
class Lite:
    portal: anyio.from_thread.BlockingPortal
    client: asyncload.AsyncClient
    task: asyncload.LoadTask
    backend: str


@pytest.fixture
def lite(tmp_path: Path, anyio_backend: str) -> Iterator[Lite]:
    """A Milvus Lite client (on a portal running ``anyio_backend``) with collection ``c`` and one
    load task of it. Lite ignores the token: it is there to be looked for in messages."""
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "fuzz.db")
    make_collection(server_manager_instance.start_and_get_uri(path), None, "c", rows=100, dim=8)
    with anyio.from_thread.start_blocking_portal(anyio_backend) as portal:
        client = asyncload.connect(path, token=TOKEN)
        with portal.wrap_async_context_manager(client):
            task = portal.call(client.load_collection, "c")
            yield Lite(portal, client, task, anyio_backend)
    server_manager_instance.release_server(path)


def _methods() -> list[str]:
    public = inspect.getmembers(asyncload.AsyncClient, inspect.iscoroutinefunction)
    # aclose() takes no arguments and would end the client for the examples after it.
    return [*sorted(name for name, _ in public if not name.startswith("_") and name != "aclose"), "LoadTask.wait"]


METHODS = _methods()
VALID: dict[str, st.SearchStrategy[Any]] = {
    "collection": st.sampled_from(["c", "missing"]),
    "partition_names": st.sampled_from([["_default"], ["p"], None]),
    "partition_name": st.sampled_from(["_default", None]),
    "load_fields": st.sampled_from([["id", "vec"], ["id"], None]),
    "replica_number": st.sampled_from([1, None]),
    "sample_rows": st.sampled_from([1, 16]),
    "timeout": st.sampled_from([30, 0.001, None]),
    "skip_load_dynamic_field": st.booleans(),
    "refresh": st.booleans(),
    "raise_on_stall": st.booleans(),
    "resource_groups": st.sampled_from([None, []]),
    "load_params": st.sampled_from([None, {}]),
}


def _target(lite: Lite, method: str) -> Callable[..., Any]:
    return lite.task.wait if method == "LoadTask.wait" else getattr(lite.client, method)


@st.composite
def method_calls(draw: st.DrawFn, lite: Lite) -> tuple[str, Callable[..., Any], dict[str, Any]]:
    """A public coroutine (its name and bound function) and keyword arguments for it."""
    # Widgets run on asyncio only (Jupyter's loop): panel() on trio refuses with a RuntimeError.
    method = draw(st.sampled_from([m for m in METHODS if lite.backend == "asyncio" or m != "panel"]))
    function = _target(lite, method)
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(function).parameters.items():
        optional = param.default is not inspect.Parameter.empty
        choice = draw(weighted((2 if optional else 0, st.just("omit")), (2, st.just("valid")), (1, st.just("any"))))
        if choice == "valid" and name in VALID:
            kwargs[name] = draw(VALID[name])
        elif choice != "omit":
            kwargs[name] = draw(ANY)
    return method, function, kwargs


@given(data=st.data())
@settings(FUZZ, max_examples=METHOD_EXAMPLES)
def test_public_methods_never_raise_raw_or_leak(data: st.DataObject, lite: Lite) -> None:
    method, function, kwargs = data.draw(method_calls(lite))
    outcome = lite.portal.call(_call, function, kwargs)
    if isinstance(outcome, BaseException):
        assert isinstance(outcome, asyncload.AsyncLoadError) or (
            method == "LoadTask.wait" and type(outcome) is TimeoutError
        ), f"{method}({kwargs!r}) raised {outcome!r}"
        assert_no_secret(_texts(outcome), [TOKEN])
    else:
        assert_no_secret([repr(outcome), repr(lite.client), repr(lite.task)], [TOKEN])


async def _call(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call it with a hang guard; return the result or the exception (raw ones included)."""
    with anyio.move_on_after(60):
        try:
            return await function(**kwargs)
        except Exception as exc:
            return exc
    return AssertionError(f"no answer within 60 s: {function.__qualname__}({kwargs!r})")
