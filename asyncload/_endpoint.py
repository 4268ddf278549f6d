"""Where to connect: parse a URI into a gRPC target or an embedded Milvus Lite path; build metadata.

Secrets stay here: the token only ever lands in gRPC metadata, never in a repr or message.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit

from ._tls import TLSConfig, tls_config
from ._validation import check_host_name, check_metadata_value, check_path, check_text, show
from .errors import InvalidArgumentError

__all__ = ["DEFAULT_PORT", "Endpoint", "parse_uri", "redact_uri"]

DEFAULT_PORT = 19530
_URI_FORMS = (
    "'http://host:port', 'https://host:port', 'host:port', or a local path ending in '.db' for an embedded Milvus Lite"
)
_SCHEMES = ("http", "https", "tcp", "grpc")
_PORT = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True)
class Endpoint:
    """A parsed URI: either ``target`` (host:port, with ``tls`` for a secure channel) or ``embedded_path``."""

    uri: str
    target: str | None = None
    tls: TLSConfig | None = None
    embedded_path: str | None = None
    token: str | None = field(default=None, repr=False)
    db_name: str | None = None

    @property
    def secure(self) -> bool:
        return self.tls is not None

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


def redact_uri(uri: str) -> str:
    """``uri`` fit for a message: any ``user:password@`` part (up to the last '@') becomes ``***@``."""
    if "@" not in uri:
        return uri
    scheme, sep, rest = uri.partition("://")
    if not sep:
        scheme, rest = "", uri
    return f"{scheme}{sep}***@{rest.rpartition('@')[2]}"


def parse_uri(
    uri: object,
    *,
    token: object = None,
    db_name: object = None,
    ca_file: object = None,
    client_cert_file: object = None,
    client_key_file: object = None,
    server_name: object = None,
) -> Endpoint:
    """Validate and parse ``connect()``'s arguments; raises InvalidArgumentError naming the accepted forms.

    No message quotes credentials: the URI's ``user:password@`` part is redacted, a token never shown.
    """
    if isinstance(uri, os.PathLike):
        uri = os.fspath(uri)
    if not isinstance(uri, str) or not uri.strip():
        shown = show(redact_uri(uri) if isinstance(uri, str) else uri)
        raise InvalidArgumentError(f"uri must be a non-empty string: {_URI_FORMS}; got {shown}")
    check_text(uri, what="uri", secret=True)  # it may hold a password: never quoted here
    tok = None
    if token is not None:
        expected = "a string ('user:password' or an API key) or None"
        tok = check_text(token, what="token", secret=True, allow_empty=True, expected=expected) or None
    if db_name is not None:
        db_name = check_metadata_value(db_name, what="db_name")
    uri = uri.strip()
    shown = show(redact_uri(uri))
    tls_args = {
        "ca_file": ca_file,
        "client_cert_file": client_cert_file,
        "client_key_file": client_key_file,
        "server_name": server_name,
    }
    if uri.endswith(".db") and "://" not in uri:
        path = os.path.abspath(os.path.expanduser(check_path(uri, what="uri")))
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            raise InvalidArgumentError(
                f"cannot create embedded Milvus Lite database {shown}: directory {show(redact_uri(parent))} "
                "does not exist"
            )
        tls_config(secure=False, **tls_args)
        return Endpoint(uri=uri, embedded_path=path, token=tok, db_name=db_name)
    if any(c.isspace() or not c.isprintable() for c in uri):
        raise InvalidArgumentError(f"URI {shown} holds whitespace or a control character: use {_URI_FORMS}")
    parts = _split(uri)
    if parts is None:
        raise InvalidArgumentError(f"cannot parse URI {shown}: use {_URI_FORMS}")
    if parts.scheme not in _SCHEMES:
        raise InvalidArgumentError(f"unsupported URI scheme {parts.scheme!r} in {shown}: use {_URI_FORMS}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in uri or "#" in uri:
        raise InvalidArgumentError(f"cannot parse URI {shown}: it has a path, query or fragment; use {_URI_FORMS}")
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host, port_text = _host_and_port(hostport)
    if host is None:
        raise InvalidArgumentError(f"cannot parse the host of URI {shown}: use {_URI_FORMS}")
    host = check_host_name(host, what="the URI's host")
    if port_text is None:
        port = 443 if parts.scheme == "https" else DEFAULT_PORT
    elif _PORT.fullmatch(port_text) and 1 <= int(port_text) <= 65535:
        port = int(port_text)
    else:
        raise InvalidArgumentError(f"bad port in URI {shown}: a port is a number from 1 to 65535; use {_URI_FORMS}")
    if userinfo and tok is None:
        # http://user:password@host:port: take the credentials as the token, keep them out of the uri.
        user, _, password = userinfo.partition(":")
        tok = check_text(f"{unquote(user)}:{unquote(password)}", what="the URI's credentials", secret=True)
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    scheme = "https" if parts.scheme == "https" else "http"
    tls = tls_config(secure=scheme == "https", **tls_args)
    return Endpoint(uri=f"{scheme}://{target}", target=target, tls=tls, token=tok, db_name=db_name)


def _split(uri: str) -> SplitResult | None:
    """``urlsplit`` of the URI (``host:port`` read as ``http://host:port``), None where it cannot."""
    try:
        return urlsplit(uri if "://" in uri else f"http://{uri}")
    except ValueError:  # e.g. 'http://[::1' (raised outside this frame: its message may quote a password)
        return None


def _host_and_port(hostport: str) -> tuple[str | None, str | None]:
    """Split ``host[:port]`` / ``[v6][:port]``; the port as text (None when absent); host None if malformed."""
    if hostport.startswith("["):
        inside, bracket, after = hostport[1:].partition("]")
        if not bracket or not inside or (after and not after.startswith(":")):
            return None, None
        return inside, after[1:] if after else None
    host, colon, port = hostport.partition(":")
    if not host:
        return None, None
    return host, port if colon else None
