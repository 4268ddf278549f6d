"""Bad input gets a clear error before any RPC: URIs, names, types, load fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import asyncload
from asyncload._endpoint import parse_uri
from asyncload._schema import CollectionSchema, DataType, FieldSchema
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
