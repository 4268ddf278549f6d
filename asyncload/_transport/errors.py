"""Map what the layer below says (gRPC status codes, Milvus error statuses) to asyncload's errors.

These two functions are the only places that decide which public error class a failure becomes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import grpc

from ..errors import (
    AsyncLoadError,
    AuthenticationError,
    CollectionNotFoundError,
    DeadlineExceededError,
    NotFoundError,
    PartitionNotFoundError,
    PermissionDeniedError,
    ServerError,
    ServerUnavailableError,
    TLSError,
    TransportError,
    UnsupportedOperationError,
)

__all__ = ["RETRIABLE_CODES", "UNEXPECTED_CODE", "map_rpc_error", "status_error", "user_names"]

# Milvus error codes (pkg/util/merr) the server marks retriable: service not ready (1), unavailable (2),
# request limit (4), rate limit (8), resource insufficient (12), not fully loaded (103), recovering (106).
RETRIABLE_CODES = frozenset({1, 2, 4, 8, 12, 103, 106})
#: Milvus's catch-all "unexpected error" (e.g. for ~15 s after a restart): no word on the request.
UNEXPECTED_CODE = 65535
_COLLECTION_NOT_FOUND = frozenset({100})
_PARTITION_NOT_FOUND = frozenset({200})
_OTHER_NOT_FOUND = frozenset({300, 400, 700, 800})  # resource group, replica, index, database
_NOT_AUTHENTICATED = frozenset({1400, 1402})
_NOT_PERMITTED = frozenset({1401})
# What gRPC's details say when a TLS handshake failed (all reported as UNAVAILABLE): an untrusted
# certificate ("Tls handshake failed ... CERTIFICATE_VERIFY_FAILED"), a name mismatch ("Hostname
# Verification Check failed"), a client certificate the server refused (TLS 1.3 reports that
# after the handshake: "Unwrap failed (TSI_DATA_CORRUPTED)"). TSI is gRPC's transport security layer.
_TLS_FAILURE = re.compile(
    r"handshake failed|\(TSI_[A-Z_]+\)|SSL_ERROR|CERTIFICATE_VERIFY|Hostname Verification", re.IGNORECASE
)
# Legacy ``error_code`` values of servers that predate ``code``.
_LEGACY_COLLECTION_NOT_EXISTS = 4
_LEGACY_PERMISSION_DENIED = 3
# Milvus names a collection (or partition) it resolved to an id by that id, e.g. a just-dropped one:
# "collection not found[collection=470840354361008838]".
_COLLECTION_ID = re.compile(r"\b(collection(?:_?id)?\s*[=:]\s*)(\d{6,})\b", re.IGNORECASE)
_PARTITION_ID = re.compile(r"\b(partition(?:_?id)?\s*[=:]\s*)(\d{6,})\b", re.IGNORECASE)


def user_names(reason: str, collection: str | None, partitions: Sequence[str] = ()) -> str:
    """``reason`` with the server's internal collection (and, for one partition, partition) ids
    replaced by the names the user asked for."""
    if collection:
        reason = _COLLECTION_ID.sub(lambda m: m.group(1) + collection, reason)
    if len(partitions) == 1:
        reason = _PARTITION_ID.sub(lambda m: m.group(1) + partitions[0], reason)
    return reason


def status_error(
    status: Any,
    *,
    operation: str,
    collection: str | None = None,
    partitions: Sequence[str] = (),
) -> AsyncLoadError | None:
    """The error a Milvus ``common.Status`` stands for, or None when it reports success."""
    legacy = int(status.error_code)
    code = int(status.code) or legacy
    if code == 0:
        return None
    reason = user_names(str(status.reason) or f"error code {code}", collection, partitions)
    retriable = bool(getattr(status, "retriable", False)) or int(status.code) in RETRIABLE_CODES
    lowered = reason.lower()
    if int(status.code) in _COLLECTION_NOT_FOUND or (int(status.code) == 0 and legacy == _LEGACY_COLLECTION_NOT_EXISTS):
        return CollectionNotFoundError(collection or "?", reason=reason, code=code, operation=operation)
    if int(status.code) in _PARTITION_NOT_FOUND or ("partition" in lowered and "not found" in lowered):
        missing = next((p for p in partitions if repr(p) in reason or p in reason), None)
        return PartitionNotFoundError(collection or "?", missing, reason=reason, code=code, operation=operation)
    if int(status.code) in _NOT_AUTHENTICATED:
        return AuthenticationError(f"{operation}: authentication failed: check the token ({reason})")
    if int(status.code) in _OTHER_NOT_FOUND:
        return NotFoundError(reason, code=code, operation=operation)
    if int(status.code) in _NOT_PERMITTED or (int(status.code) == 0 and legacy == _LEGACY_PERMISSION_DENIED):
        return PermissionDeniedError(reason, code=code, operation=operation)
    return ServerError(reason, code=code, retriable=retriable, operation=operation)


def map_rpc_error(exc: grpc.RpcError, *, operation: str) -> AsyncLoadError:
    """The most specific asyncload error for a failed gRPC call (chain it with ``from exc``).

    The message carries gRPC's details but never request metadata, so no token can leak.
    """
    # Sync errors are grpc.Call objects, grpc.aio's AioRpcError only has the same methods.
    code_of, details_of = getattr(exc, "code", None), getattr(exc, "details", None)
    code = code_of() if callable(code_of) else None
    details = (details_of() if callable(details_of) else None) or (code.name if code else "no details")
    prefix = f"{operation}: "
    if code == grpc.StatusCode.UNAVAILABLE and _TLS_FAILURE.search(details):
        return TLSError(
            f"{prefix}the TLS handshake with Milvus failed ({details}): check that ca_file holds the CA "
            "that signed the server's certificate, that the certificate names the host (or server_name), "
            "and, if the server requires mutual TLS, client_cert_file and client_key_file"
        )
    if code == grpc.StatusCode.UNAVAILABLE:
        return ServerUnavailableError(f"{prefix}Milvus is unavailable ({details})")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return AuthenticationError(f"{prefix}authentication failed: check the token ({details})")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDeniedError(details, code=0, operation=operation)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceededError(f"{prefix}no answer within the deadline ({details})")
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return UnsupportedOperationError(details, code=0, operation=operation)
    # Everything else broke on the wire (a reset stream, a proxy in between, a crash mid-answer):
    # it is not a Milvus status and says nothing about what was asked.
    name = code.name if code is not None else "UNKNOWN"
    return TransportError(f"{prefix}gRPC {name} ({details})", grpc_code=name, operation=operation)
