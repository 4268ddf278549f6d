"""TLS settings of ``connect()``: a CA bundle, a client certificate and key, a server name override.

The files are read (and checked to look like PEM) when ``connect()`` is called, so a wrong path is
an :class:`~asyncload.errors.InvalidArgumentError` before anything is started. No message ever
quotes a file's contents; the private key is kept out of every repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._validation import check_host_name, check_path
from .errors import InvalidArgumentError

__all__ = ["TLSConfig", "tls_config"]

_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
_PRIVATE_KEY = b"PRIVATE KEY-----"
_ENCRYPTED_KEY = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


@dataclass(frozen=True)
class TLSConfig:
    """What a secure channel needs: PEM bytes (None: gRPC's default roots; no client certificate)."""

    ca: bytes | None = field(default=None, repr=False)
    client_cert: bytes | None = field(default=None, repr=False)
    client_key: bytes | None = field(default=None, repr=False)
    server_name: str | None = None
    #: Where the PEM files came from, for reprs and messages.
    files: tuple[str, ...] = ()

    @property
    def mutual(self) -> bool:
        return self.client_cert is not None


def tls_config(
    *,
    secure: bool,
    ca_file: object = None,
    client_cert_file: object = None,
    client_key_file: object = None,
    server_name: object = None,
) -> TLSConfig | None:
    """Check ``connect()``'s TLS arguments and read their files; None for a plaintext connection.

    TLS arguments need an ``https://`` URI (they are an error on a plaintext one, rather than
    silently unused); a client certificate needs its key and the reverse.
    """
    given = {
        name: value
        for name, value in (
            ("ca_file", ca_file),
            ("client_cert_file", client_cert_file),
            ("client_key_file", client_key_file),
            ("server_name", server_name),
        )
        if value is not None
    }
    if not secure:
        if given:
            raise InvalidArgumentError(
                f"{', '.join(given)} need{'s' if len(given) == 1 else ''} a TLS connection: "
                "use an 'https://host:port' uri"
            )
        return None
    if (client_cert_file is None) != (client_key_file is None):
        raise InvalidArgumentError(
            "mutual TLS needs both client_cert_file (the client certificate, PEM) and client_key_file "
            "(its private key, PEM); got only " + ("client_cert_file" if client_key_file is None else "client_key_file")
        )
    files: list[str] = []
    ca = _read_pem(ca_file, what="ca_file", marker=_CERTIFICATE, kind="certificate", files=files)
    cert = _read_pem(client_cert_file, what="client_cert_file", marker=_CERTIFICATE, kind="certificate", files=files)
    key = _read_pem(client_key_file, what="client_key_file", marker=_PRIVATE_KEY, kind="private key", files=files)
    if key is not None and _ENCRYPTED_KEY in key:
        raise InvalidArgumentError(
            f"client_key_file {files[-1]!r} is an encrypted private key: gRPC needs it unencrypted "
            "(e.g. openssl pkey -in key.pem -out plain.pem)"
        )
    name = None if server_name is None else check_host_name(server_name, what="server_name")
    return TLSConfig(ca=ca, client_cert=cert, client_key=key, server_name=name, files=tuple(files))


def _read_pem(path: object, *, what: str, marker: bytes, kind: str, files: list[str]) -> bytes | None:
    """The contents of the PEM file at ``path`` (None for None); its name is appended to ``files``."""
    if path is None:
        return None
    name = check_path(path, what=what)
    files.append(name)
    try:
        with open(name, "rb") as pem:
            data = pem.read()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidArgumentError(f"{what} {name!r} cannot be read: {reason}") from None
    if marker not in data:
        raise InvalidArgumentError(f"{what} {name!r} holds no PEM {kind} (a '-----BEGIN ...' block)")
    return data
