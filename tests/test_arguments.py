"""Bad input gets a clear error before any RPC: URIs, names, types, load fields."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import grpc
import pytest

import asyncload
from asyncload._client import _make_transport
from asyncload._endpoint import Endpoint, parse_uri
from asyncload._monitor.policy import PollSchedule, TickPhase
from asyncload._schema import CollectionSchema, DataType, FieldSchema
from asyncload._servers import embedded as _embedded
from asyncload._transport.base import COMPLETION_GRACE, CallAbandoned
from asyncload._transport.errors import map_rpc_error
from asyncload._transport.proto import milvus_pb2
from asyncload._validation import validate_load_fields

from ._fake import FakeMilvus, fake_milvus

pytestmark = pytest.mark.anyio

SCHEMA = CollectionSchema(
    name="books",
    fields=(
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("title", DataType.VARCHAR, max_length=256),
        FieldSchema("vec", DataType.FLOAT_VECTOR, dim=8),
        FieldSchema("img", DataType.FLOAT16_VECTOR, dim=8),
        FieldSchema("$meta", DataType.JSON, is_dynamic=True),
    ),
    enable_dynamic_field=True,
)


@pytest.mark.parametrize(
    ("uri", "target", "secure"),
    [
        ("http://localhost:19530", "localhost:19530", False),
        ("https://milvus.example.com", "milvus.example.com:443", True),
        ("localhost", "localhost:19530", False),
        ("10.0.0.5:1234", "10.0.0.5:1234", False),
        ("http://[::1]:19530", "[::1]:19530", False),
        ("tcp://h:1", "h:1", False),
    ],
)
def test_server_uris(uri: str, target: str, secure: bool) -> None:
    endpoint = parse_uri(uri)
    assert (endpoint.target, endpoint.secure, endpoint.embedded) == (target, secure, False)


def test_a_db_path_is_embedded(tmp_path: Any) -> None:
    endpoint = parse_uri(str(tmp_path / "x.db"))
    assert endpoint.embedded and endpoint.embedded_path == str(tmp_path / "x.db")


def test_credentials_in_the_uri_become_the_token_and_leave_every_repr() -> None:
    endpoint = parse_uri("http://root:Hunter2@localhost:19530")
    assert endpoint.token == "root:Hunter2"
    assert "Hunter2" not in repr(endpoint) + endpoint.describe() + endpoint.uri
    client = asyncload.connect("http://root:Hunter2@localhost:19530")
    assert "Hunter2" not in repr(client) + client.uri


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("", "non-empty"),
        (42, "non-empty string"),
        ("ftp://host:1", "unsupported URI scheme 'ftp'"),
        ("http://host:notaport", "bad port"),
        ("http://host:1/some/path", "cannot parse"),
        ("/no/such/dir/x.db", "does not exist"),
    ],
)
def test_bad_uris_name_the_accepted_forms(uri: object, match: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match=match):
        asyncload.connect(uri)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"token": 123}, "token must be a string"),
        ({"db_name": ""}, "db_name"),
        ({"timeout": -1}, "timeout must be a positive number"),
        ({"timeout": "10"}, "timeout must be a positive number"),
        ({"polling": {"min_interval": 1}}, "PollingConfig"),
        ({"retry": 3}, "RetryPolicy"),
    ],
)
def test_bad_connect_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match=match):
        asyncload.connect("http://localhost:19530", **kwargs)


def test_load_fields_missing_primary_key_names_it_and_the_valid_fields() -> None:
    with pytest.raises(asyncload.InvalidLoadFieldsError) as info:
        validate_load_fields(SCHEMA, ["vec", "title"])
    error = info.value
    assert error.missing == ("id",)
    assert error.valid == ("id", "title", "vec", "img")
    assert "primary key 'id'" in str(error) and "id, title, vec, img" in str(error)


def test_load_fields_without_any_vector_lists_the_vector_fields() -> None:
    with pytest.raises(asyncload.InvalidLoadFieldsError) as info:
        validate_load_fields(SCHEMA, ["id", "title"])
    assert "a vector field ('vec', 'img')" in str(info.value)


def test_unknown_load_fields_are_named() -> None:
    with pytest.raises(asyncload.InvalidLoadFieldsError) as info:
        validate_load_fields(SCHEMA, ["id", "vec", "titel"])
    assert info.value.unknown == ("titel",)
    assert "'titel'" in str(info.value)


def test_the_dynamic_field_is_not_a_load_field() -> None:
    with pytest.raises(asyncload.InvalidLoadFieldsError, match="skip_load_dynamic_field"):
        validate_load_fields(SCHEMA, ["id", "vec", "$meta"])


def test_a_valid_selection_passes() -> None:
    validate_load_fields(SCHEMA, ["id", "img"])


@pytest.fixture
def fake() -> Iterator[tuple[FakeMilvus, str]]:
    with fake_milvus() as server:
        yield server


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.load_collection(""), "must not be empty"),
        (lambda c: c.load_collection(123), "collection name must be a str, not int"),
        (lambda c: c.load_collection("c", load_fields="id"), "list of names"),
        (lambda c: c.load_collection("c", load_fields=[]), "at least the primary key"),
        (lambda c: c.load_collection("c", load_fields=["id", "id"]), "more than once"),
        (lambda c: c.load_collection("c", load_fields=["id", 3]), "non-empty strings"),
        (lambda c: c.load_collection("c", replica_number=0), "replica_number must be a positive int"),
        (lambda c: c.load_collection("c", replica_number=True), "replica_number"),
        (lambda c: c.load_collection("c", skip_load_dynamic_field="yes"), "True or False"),
        (lambda c: c.load_collection("c", resource_groups="rg"), "resource_groups must be a list"),
        (lambda c: c.load_collection("c", load_params={"a": 1}), "load_params"),
        (lambda c: c.load_partitions("c", "p1"), "partition_names must be a list"),
        (lambda c: c.load_partitions("c", []), "at least one"),
        (lambda c: c.release_partitions("c", None), "not None"),
        (lambda c: c.loading_progress("c", partition_names=[""]), "non-empty strings"),
        (lambda c: c.get_load_state("c", partition_name=5), "non-empty strings"),
    ],
)
async def test_bad_arguments_raise_before_any_rpc(fake: tuple[FakeMilvus, str], call: Any, match: str) -> None:
    server, uri = fake
    async with asyncload.connect(uri) as client:
        with pytest.raises(asyncload.InvalidArgumentError, match=match):
            await call(client)
    assert sum(server.calls.values()) == 0


async def test_wait_arguments_are_checked(fake: tuple[FakeMilvus, str]) -> None:
    from ._fake import progress

    server, uri = fake
    server.script("GetLoadingProgress", progress(100))
    async with asyncload.connect(uri) as client:
        task = await client.load_collection("c")
        with pytest.raises(asyncload.InvalidArgumentError, match="timeout"):
            await task.wait(timeout=0)
        with pytest.raises(asyncload.InvalidArgumentError, match="raise_on_stall"):
            await task.wait(raise_on_stall=1)  # type: ignore[arg-type]


async def test_a_client_cannot_be_used_before_or_after_its_block() -> None:
    client = asyncload.connect("http://127.0.0.1:1")
    with pytest.raises(asyncload.ClientClosedError, match="async with"):
        await client.get_load_state("c")
    assert client.state is asyncload.ClientState.UNOPENED


# ------------------------------------------------------------------------------ hardening (issue 12)
PASSWORD = "Hunter2-secret"


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("http://[::1", "cannot parse"),
        ("http://[zz]:1", "cannot parse"),
        ("http://h:0", "bad port"),
        ("http://h:65536", "bad port"),
        ("http://h:", "bad port"),
        ("http://h:+80", "bad port"),
        ("http://h:1?x=y", "path, query or fragment"),
        ("http://h:1#f", "path, query or fragment"),
        ("http://ho st:1", "whitespace"),
        ("http://h\n:1", "whitespace"),
        ("http://é.com:1", "host"),
        ("http://a..b:1", "host"),
        ("http://\ud800:1", "lone surrogate"),
        ("a\x00b.db", "NUL"),
        ("\ud800.db", "lone surrogate"),
    ],
)
def test_malformed_uris_are_invalid_argument_errors(uri: str, match: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match=match) as info:
        asyncload.connect(uri)
    assert info.value.__cause__ is None and info.value.__context__ is None


@pytest.mark.parametrize(
    "uri",
    [
        f"http://root:{PASSWORD}@h:99999",
        f"ftp://root:{PASSWORD}@h:1",
        f"http://root:{PASSWORD}@h:1/a/path",
        f"http://root:{PASSWORD}@:1",
        f"http://root:{PASSWORD}@ho st:1",
        f"http://root:{PASSWORD}@[::1",
        f"http://root:{PASSWORD}@é:1",
        f"root:{PASSWORD}@h:0",
        f"http://root:{PASSWORD}/x@h:1",  # a '/' in the password: urllib sees a path
        f"http://root:{PASSWORD}#x@h:1",
        f"http://root:{PASSWORD}\ud800@h:1",
        f"root:{PASSWORD}@h:1/x.db",  # read as a path (it ends in .db) whose directory does not exist
    ],
)
def test_a_malformed_uri_never_quotes_its_credentials(uri: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError) as info:
        asyncload.connect(uri)
    error = info.value
    assert PASSWORD not in str(error) + repr(error)
    assert error.__cause__ is None and error.__context__ is None  # urllib's own message may quote it


def test_a_percent_encoded_password_is_decoded() -> None:
    assert parse_uri("http://root:p%40ss%3Aw%2Fd@h:1").token == "root:p@ss:w/d"
    assert parse_uri("http://us%65r:pw@h:1").token == "user:pw"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout": 10**400}, "timeout must be a positive number"),
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": -math.inf}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": 1e12}, "timeout"),  # gRPC would turn it into a deadline already past
        ({"db_name": "dbé"}, "db_name must be printable ASCII"),
        ({"db_name": "db\nx"}, "db_name must be printable ASCII"),
        ({"db_name": "db\ud800"}, "db_name .* lone surrogate"),
        ({"db_name": 5}, "db_name must be a str"),
        ({"token": "root:\ud800"}, "token is not valid text"),
        ({"ca_file": "/ca.pem"}, "ca_file needs a TLS connection"),
        ({"server_name": "milvus.test"}, "server_name needs a TLS connection"),
    ],
)
def test_bad_connect_values(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match=match):
        asyncload.connect("http://localhost:19530", **kwargs)


def test_a_token_is_never_quoted_even_when_invalid() -> None:
    with pytest.raises(asyncload.InvalidArgumentError) as info:
        asyncload.connect("http://localhost:19530", token=f"root:{PASSWORD}\ud800")
    assert PASSWORD not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"max_retries": 10**6}, "max_retries"),
        ({"base": 0}, "base"),
        ({"base": math.nan}, "base"),
        ({"cap": math.inf}, "cap"),
        ({"base": 3.0, "cap": 1.0}, "must not exceed"),
        ({"jitter": -0.1}, "jitter"),
        ({"jitter": 1.5}, "jitter"),
        ({"jitter": "0.5"}, "jitter"),
    ],
)
def test_retry_policies_are_checked_when_built(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match=match):
        asyncload.RetryPolicy(**kwargs)


def test_a_retry_delay_never_overflows() -> None:
    assert asyncload.RetryPolicy(max_retries=1000).delay(5000) <= 2.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"backoff": math.nan}, "backoff"),
        ({"backoff": 1e300}, "backoff"),
        ({"max_polls_per_second": math.inf}, "max_polls_per_second"),  # crashed the client's start
        ({"max_interval": 10**400}, "max_interval"),  # crashed the poll loop (OverflowError)
        ({"stall_timeout": math.nan}, "stall_timeout"),
        ({"tick_margin": math.nan}, "tick_margin"),
        ({"finish_window": math.inf}, "finish_window"),
        ({"min_interval": "1"}, "min_interval"),  # a TypeError before
        ({"batch_polls": "yes"}, "batch_polls"),
        ({"server_tick": 0.5, "tick_margin": 0.5}, "tick_margin .* shorter than server_tick"),
        ({"server_tick": 0.3, "window_step": 0.4}, "window_step .* shorter than server_tick"),
        ({"server_tick": 0.3, "fine_window": 0.3}, "fine_window .* shorter than server_tick"),
        ({"server_tick": math.inf}, "server_tick"),
    ],
)
def test_polling_configs_are_checked_when_built(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(asyncload.InvalidArgumentError, match=match):
        asyncload.PollingConfig(**kwargs)


@pytest.mark.parametrize("server_tick", [1.0, None])
def test_a_load_flat_for_hours_is_still_scheduled(server_tick: float | None) -> None:
    """The backoff of a flat load overflowed a float after ~1,500 polls (OverflowError in the poll loop)."""
    config = asyncload.PollingConfig(server_tick=server_tick)
    phase = TickPhase(server_tick) if server_tick else None
    schedule = PollSchedule(config, 0.0, phase)
    now = 0.0
    for _ in range(5000):
        schedule.observe(now, 0)
        due = schedule.next_poll_at()
        assert now < due <= now + config.max_interval
        now = due
    assert now > 3600


async def test_out_of_range_values_raise_before_any_rpc(fake: tuple[FakeMilvus, str]) -> None:
    server, uri = fake
    calls: list[Callable[[asyncload.AsyncClient], Awaitable[Any]]] = [
        lambda c: c.load_collection("c", replica_number=2**31),
        lambda c: c.load_collection("c", replica_number=10**400),
        lambda c: c.footprint_estimate("c", replica_number=2**31),
        lambda c: c.footprint_estimate("c", sample_rows=True),
        lambda c: c.footprint_estimate("c", sample_rows=2**64),
    ]
    async with asyncload.connect(uri) as client:
        for call in calls:
            with pytest.raises(asyncload.InvalidArgumentError, match=r"replica_number|sample_rows"):
                await call(client)
    assert sum(server.calls.values()) == 0


SURROGATE = "c\ud800"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.load_collection(SURROGATE),
        lambda c: c.load_collection("c", load_fields=["id", SURROGATE]),
        lambda c: c.load_collection("c", resource_groups=[SURROGATE]),
        lambda c: c.load_collection("c", load_params={"k": SURROGATE}),
        lambda c: c.load_collection("c", load_params={SURROGATE: "v"}),
        lambda c: c.load_partitions("c", [SURROGATE]),
        lambda c: c.refresh_load(SURROGATE),
        lambda c: c.release_collection(SURROGATE),
        lambda c: c.release_partitions("c", [SURROGATE]),
        lambda c: c.get_load_state("c", SURROGATE),
        lambda c: c.loading_progress(SURROGATE),
        lambda c: c.footprint_estimate("c", partition_names=[SURROGATE]),
        lambda c: c.describe_collection(SURROGATE),
        lambda c: c.list_partitions(SURROGATE),
        lambda c: c.describe_indexes(SURROGATE),
        lambda c: c.row_count(SURROGATE),
    ],
)
async def test_a_lone_surrogate_anywhere_raises_before_any_rpc(fake: tuple[FakeMilvus, str], call: Any) -> None:
    server, uri = fake
    async with asyncload.connect(uri) as client:
        with pytest.raises(asyncload.InvalidArgumentError, match="lone surrogate"):
            await call(client)
    assert sum(server.calls.values()) == 0


async def test_the_largest_int32_replica_number_is_sent(fake: tuple[FakeMilvus, str]) -> None:
    from ._fake import progress

    server, uri = fake
    server.script("GetLoadingProgress", progress(100))
    async with asyncload.connect(uri) as client:
        await client.load_collection("c", replica_number=2**31 - 1)
    assert server.requests["LoadCollection"][0].replica_number == 2**31 - 1


@pytest.mark.parametrize("timeout", [0, -1, math.nan, math.inf, 10**400, True, "1"])
async def test_wait_timeouts_are_checked(fake: tuple[FakeMilvus, str], timeout: object) -> None:
    from ._fake import progress

    server, uri = fake
    server.script("GetLoadingProgress", progress(100))
    async with asyncload.connect(uri) as client:
        task = await client.load_collection("c")
        with pytest.raises(asyncload.InvalidArgumentError, match="timeout"):
            await task.wait(timeout=timeout)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ TLS files
@pytest.fixture
def pems(tmp_path: Path) -> dict[str, str]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    issued = ca.issue_cert("milvus.test")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    issued.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    issued.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    (tmp_path / "notes.txt").write_text("not PEM\n")
    (tmp_path / "encrypted.key").write_text(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    return {
        "ca": str(tmp_path / "ca.pem"),
        "cert": str(tmp_path / "client.pem"),
        "key": str(tmp_path / "client.key"),
        "notes": str(tmp_path / "notes.txt"),
        "encrypted": str(tmp_path / "encrypted.key"),
        "dir": str(tmp_path),
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ca_file": "/no/such/ca.pem"}, "ca_file '/no/such/ca.pem' cannot be read"),
        ({"ca_file": "{dir}"}, "ca_file .* cannot be read"),
        ({"ca_file": "{notes}"}, "holds no PEM certificate"),
        ({"ca_file": "{key}"}, "holds no PEM certificate"),
        ({"ca_file": 5}, "ca_file must be a path"),
        ({"client_cert_file": "{cert}"}, "needs both client_cert_file .* and client_key_file"),
        ({"client_key_file": "{key}"}, "needs both"),
        ({"client_cert_file": "{cert}", "client_key_file": "{notes}"}, "holds no PEM private key"),
        ({"client_cert_file": "{key}", "client_key_file": "{key}"}, "client_cert_file .* holds no PEM certificate"),
        ({"client_cert_file": "{cert}", "client_key_file": "{encrypted}"}, "encrypted private key"),
        ({"server_name": "a b"}, "server_name 'a b' is not a valid host name"),
        ({"server_name": ""}, "server_name must not be empty"),
    ],
)
def test_bad_tls_arguments(pems: dict[str, str], kwargs: dict[str, Any], match: str) -> None:
    filled = {k: v.format(**pems) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(asyncload.InvalidArgumentError, match=match) as info:
        asyncload.connect("https://127.0.0.1:19530", **filled)
    assert "PRIVATE KEY-----\n" not in str(info.value)


def test_tls_arguments_need_an_https_uri(pems: dict[str, str], tmp_path: Path) -> None:
    for uri in ("http://127.0.0.1:19530", "127.0.0.1:19530", str(tmp_path / "x.db")):
        with pytest.raises(asyncload.InvalidArgumentError, match="need a TLS connection: use an 'https://"):
            asyncload.connect(uri, client_cert_file=pems["cert"], client_key_file=pems["key"])


def test_tls_files_are_read_at_connect_and_kept_out_of_reprs(pems: dict[str, str]) -> None:
    client = asyncload.connect(
        "https://127.0.0.1:19530",
        ca_file=Path(pems["ca"]),
        client_cert_file=pems["cert"],
        client_key_file=pems["key"],
        server_name="milvus.test",
    )
    tls = client._endpoint.tls
    assert tls is not None and tls.mutual and tls.server_name == "milvus.test"
    assert tls.client_key == Path(pems["key"]).read_bytes()
    assert "PRIVATE KEY" not in repr(client) + repr(client._endpoint) + repr(tls)


@pytest.mark.parametrize(
    ("details", "error"),
    [
        (
            "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Tls handshake failed "
            "(TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:"
            "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate: OK",
            asyncload.TLSError,
        ),
        (
            "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Custom verification "
            "check failed with error: UNAUTHENTICATED: Hostname Verification Check failed.",
            asyncload.TLSError,
        ),
        (
            "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:1: Unwrap failed "
            "(TSI_DATA_CORRUPTED)",
            asyncload.TLSError,
        ),
        ("failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:1: Connection refused", None),
        ("DNS resolution failed for ssl-milvus.example.com:443: C-ares status is not ARES_SUCCESS", None),
        ("failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:1: Socket closed", None),
    ],
)
def test_failed_handshakes_map_to_tls_error(details: str, error: type[Exception] | None) -> None:
    """What gRPC reported for a real Milvus 2.3.5 (tests/test_tls.py), as the mapping sees it."""
    exc = CallAbandoned("ShowCollections", 1.0)
    exc.code = lambda: grpc.StatusCode.UNAVAILABLE  # type: ignore[method-assign]
    exc.details = lambda: details  # type: ignore[method-assign]
    mapped = map_rpc_error(exc, operation="list_collections")
    assert type(mapped) is (error or asyncload.ServerUnavailableError)


# ------------------------------------------------------------------- calls gRPC never reports (aio)
async def test_a_call_with_metadata_grpc_refuses_still_ends_by_its_deadline(milvus_lite_path: str) -> None:
    """grpc.aio never completes a call whose metadata is not printable ASCII: the transport gives up
    on it at its deadline plus a grace (validation keeps such metadata out; bypassed here)."""
    uri = await _embedded.acquire(milvus_lite_path)
    try:
        transport = _make_transport(uri.removeprefix("http://"), tls=None, metadata=(("dbname", "dbé"),))
        try:
            with anyio.fail_after(COMPLETION_GRACE + 10):  # a hang guard: without the fix this never returns
                with pytest.raises(grpc.RpcError):
                    await transport.unary("ShowCollections", milvus_pb2.ShowCollectionsRequest(), timeout=0.5)
        finally:
            await transport.aclose()
    finally:
        await _embedded.release(milvus_lite_path)


async def test_a_client_call_grpc_never_reports_is_a_typed_error(milvus_lite_path: str) -> None:
    endpoint = Endpoint(uri="x", embedded_path=milvus_lite_path, db_name="dbé")  # bypasses parse_uri
    client = asyncload.AsyncClient(
        endpoint, timeout=0.5, polling=asyncload.PollingConfig(), retry=asyncload.RetryPolicy()
    )
    with anyio.fail_after(COMPLETION_GRACE + 10):
        async with client:
            with pytest.raises(asyncload.AsyncLoadError):
                await client.list_collections()
