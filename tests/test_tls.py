"""TLS against real Milvus 2.3.5 standalones: one-way (``--tls-mode 1``) and mutual (``--tls-mode 2``),
with certificates made here by trustme (no network).

- the one-way server's certificate names ``127.0.0.1`` and is signed by the test CA;
- the mutual server's certificate names only ``milvus.test`` (reached as 127.0.0.1, so it needs
  ``server_name``), and it requires a client certificate signed by the same CA.

A failed handshake is a :class:`asyncload.TLSError`, sent once (never retried).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import asyncload
from asyncload import LoadState
from asyncload.testing import MilvusStandalone, StandaloneTLS, require_standalone

from ._data import make_collection

trustme = pytest.importorskip("trustme")

pytestmark = [pytest.mark.anyio, pytest.mark.standalone]

SERVER_NAME = "milvus.test"
ROWS = 200


@dataclass(frozen=True)
class Certs:
    ca: Path
    other_ca: Path
    ip_cert: Path
    ip_key: Path
    named_cert: Path
    named_key: Path
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    where = tmp_path_factory.mktemp("certs")
    ca, other = trustme.CA(), trustme.CA()

    def issue(name: str, *identities: str) -> tuple[Path, Path]:
        issued = ca.issue_cert(*identities)
        cert, key = where / f"{name}.pem", where / f"{name}.key"
        issued.cert_chain_pems[0].write_to_path(str(cert))
        issued.private_key_pem.write_to_path(str(key))
        return cert, key

    ca.cert_pem.write_to_path(str(where / "ca.pem"))
    other.cert_pem.write_to_path(str(where / "other-ca.pem"))
    ip_cert, ip_key = issue("server-ip", "127.0.0.1")
    named_cert, named_key = issue("server-named", SERVER_NAME)
    client_cert, client_key = issue("client", "client@asyncload.test")
    return Certs(
        where / "ca.pem", where / "other-ca.pem", ip_cert, ip_key, named_cert, named_key, client_cert, client_key
    )


def _serve(tls: StandaloneTLS) -> Iterator[MilvusStandalone]:
    require_standalone()
    with MilvusStandalone(tls=tls) as server:
        make_collection(server.uri, None, "small", rows=ROWS, dim=8, tls=tls)
        yield server


@pytest.fixture(scope="module")
def one_way(certs: Certs) -> Iterator[MilvusStandalone]:
    yield from _serve(StandaloneTLS(1, certs.ip_cert, certs.ip_key, certs.ca))


@pytest.fixture(scope="module")
def mutual(certs: Certs) -> Iterator[MilvusStandalone]:
    tls = StandaloneTLS(
        2, certs.named_cert, certs.named_key, certs.ca, certs.client_cert, certs.client_key, server_name=SERVER_NAME
    )
    yield from _serve(tls)


async def _load_and_release(client: asyncload.AsyncClient) -> None:
    task = await client.load_collection("small")
    final = await task.wait(timeout=120)
    assert final.state is LoadState.LOADED and final.percent == 100
    assert await client.get_load_state("small") is LoadState.LOADED
    await client.release_collection("small")


async def _handshake_fails(client: asyncload.AsyncClient) -> asyncload.TLSError:
    """The first RPC raises TLSError, and it was sent once: a TLS failure is not retried."""
    with pytest.raises(asyncload.TLSError) as info:
        await client.list_collections()
    assert client.statistics().rpcs == {"ShowCollections": 1}
    assert not isinstance(info.value, asyncload.ServerUnavailableError)
    assert "TLS handshake" in str(info.value)
    return info.value


async def test_one_way_tls_loads_a_collection(one_way: MilvusStandalone, certs: Certs) -> None:
    assert one_way.uri.startswith("https://127.0.0.1:")
    async with asyncload.connect(one_way.uri, ca_file=certs.ca) as client:
        await _load_and_release(client)


async def test_mutual_tls_loads_with_a_client_certificate(mutual: MilvusStandalone, certs: Certs) -> None:
    async with asyncload.connect(
        mutual.uri,
        ca_file=certs.ca,
        client_cert_file=certs.client_cert,
        client_key_file=certs.client_key,
        server_name=SERVER_NAME,
    ) as client:
        await _load_and_release(client)


async def test_mutual_tls_without_a_client_certificate_is_a_tls_error(mutual: MilvusStandalone, certs: Certs) -> None:
    async with asyncload.connect(mutual.uri, ca_file=certs.ca, server_name=SERVER_NAME) as client:
        await _handshake_fails(client)


async def test_an_untrusted_certificate_is_a_tls_error_sent_once(one_way: MilvusStandalone, certs: Certs) -> None:
    async with asyncload.connect(one_way.uri, ca_file=certs.other_ca) as client:
        error = await _handshake_fails(client)
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)


async def test_a_private_ca_is_not_trusted_without_ca_file(one_way: MilvusStandalone) -> None:
    async with asyncload.connect(one_way.uri) as client:  # gRPC's default roots
        await _handshake_fails(client)


async def test_a_certificate_for_another_name_is_a_tls_error_until_server_name_says_it(
    mutual: MilvusStandalone, certs: Certs
) -> None:
    files = {"ca_file": certs.ca, "client_cert_file": certs.client_cert, "client_key_file": certs.client_key}
    async with asyncload.connect(mutual.uri, **files) as client:  # the certificate names milvus.test only
        await _handshake_fails(client)
    async with asyncload.connect(mutual.uri, server_name="other.test", **files) as client:
        await _handshake_fails(client)
    async with asyncload.connect(mutual.uri, server_name=SERVER_NAME, **files) as client:
        assert "small" in await client.list_collections()


async def test_the_tls_settings_stay_out_of_reprs(one_way: MilvusStandalone, certs: Certs) -> None:
    key = certs.ip_key.read_text()
    client = asyncload.connect(
        one_way.uri, ca_file=certs.ca, client_cert_file=certs.ip_cert, client_key_file=certs.ip_key
    )
    assert "PRIVATE KEY" not in repr(client) + repr(client._endpoint)
    assert key.splitlines()[1] not in repr(client._endpoint)
