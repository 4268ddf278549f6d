"""Where to connect: parse a URI into a gRPC target or an embedded Milvus Lite path; build metadata.

Secrets stay here: the token only ever lands in gRPC metadata, never in a repr or message.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import InvalidArgumentError

__all__ = ["DEFAULT_PORT", "Endpoint", "parse_uri"]

DEFAULT_PORT = 19530
_URI_FORMS = (
    "'http://host:port', 'https://host:port', 'host:port', or a local path ending in '.db' for an embedded Milvus Lite"
)


@dataclass(frozen=True)
class Endpoint:
    """A parsed URI: either ``target`` (host:port, with ``secure`` for TLS) or ``embedded_path``."""

    uri: str
    target: str | None = None
    secure: bool = False
    embedded_path: str | None = None
    token: str | None = field(default=None, repr=False)
    db_name: str | None = None

    @property
    def embedded(self) -> bool:
        return self.embedded_path is not None

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """gRPC metadata as Milvus expects it: base64 token in ``authorization``, ``dbname``."""
        items: list[tuple[str, str]] = []
        if self.token:
            items.append(("authorization", base64.b64encode(self.token.encode()).decode()))
        if self.db_name:
            items.append(("dbname", self.db_name))
        return tuple(items)

    def describe(self) -> str:
        """A human description without secrets."""
        where = f"embedded Milvus Lite at {self.embedded_path}" if self.embedded else self.uri
        return where + (f" (database {self.db_name!r})" if self.db_name else "")


def parse_uri(uri: object, *, token: object = None, db_name: object = None) -> Endpoint:
    """Validate and parse ``connect()``'s arguments; raises InvalidArgumentError naming the accepted forms."""
    if isinstance(uri, os.PathLike):
        uri = os.fspath(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidArgumentError(f"uri must be a non-empty string: {_URI_FORMS}; got {uri!r}")
    if token is not None and not isinstance(token, str):
        raise InvalidArgumentError(
            f"token must be a string ('user:password' or an API key) or None, not {type(token).__name__}"
        )
    if db_name is not None and (not isinstance(db_name, str) or not db_name):
        raise InvalidArgumentError(f"db_name must be a non-empty string or None, got {db_name!r}")
    uri = uri.strip()
    tok = token or None
    if uri.endswith(".db") and "://" not in uri:
        path = os.path.abspath(os.path.expanduser(uri))
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            raise InvalidArgumentError(
                f"cannot create embedded Milvus Lite database {uri!r}: directory {parent!r} does not exist"
            )
        return Endpoint(uri=uri, embedded_path=path, token=tok, db_name=db_name)
    parts = urlsplit(uri if "://" in uri else f"http://{uri}")
    if parts.scheme not in ("http", "https", "tcp", "grpc"):
        raise InvalidArgumentError(f"unsupported URI scheme {parts.scheme!r} in {uri!r}: use {_URI_FORMS}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else DEFAULT_PORT)
    except ValueError as exc:
        raise InvalidArgumentError(f"bad port in URI {uri!r}: use {_URI_FORMS}") from exc
    host = parts.hostname
    if not host or (parts.path not in ("", "/")):
        raise InvalidArgumentError(f"cannot parse URI {uri!r}: use {_URI_FORMS}")
    if parts.username is not None and tok is None:
        # http://user:password@host:port: take the credentials as the token, keep them out of the uri.
        tok = f"{parts.username}:{parts.password or ''}"
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    scheme = "https" if parts.scheme == "https" else "http"
    return Endpoint(uri=f"{scheme}://{target}", target=target, secure=scheme == "https", token=tok, db_name=db_name)
