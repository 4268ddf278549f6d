"""Argument checks that run before any RPC (or, for field names, before the load is sent).

Each raises :class:`~asyncload.errors.InvalidArgumentError` (or its subclass for load fields)
naming what was wrong and what would be right.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import reprlib
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

from ._schema import DYNAMIC_FIELD_NAME, CollectionSchema
from .errors import InvalidArgumentError, InvalidLoadFieldsError

__all__ = [
    "INT32_MAX",
    "MAX_SECONDS",
    "check_collection_name",
    "check_flag",
    "check_host_name",
    "check_int",
    "check_load_params",
    "check_metadata_value",
    "check_name_list",
    "check_number",
    "check_path",
    "check_replica_number",
    "check_text",
    "check_timeout",
    "show",
    "validate_load_fields",
]

#: The largest value of an int32 field on the wire (replica_number, ...).
INT32_MAX = 2**31 - 1
#: The longest duration asyncload accepts (about 31 years): gRPC turns far larger deadlines into
#: ones that have already passed.
MAX_SECONDS = 1e9
_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_show = reprlib.Repr()
_show.maxstring = 80
_show.maxother = 80
_show.maxlist = 8


def show(value: object) -> str:
    """A short repr of a (non-secret) value for an error message."""
    return _show.repr(value)


def _surrogate(text: str) -> int | None:
    """The index of the first lone surrogate in ``text`` (which UTF-8 cannot encode), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def check_text(
    value: object, *, what: str, secret: bool = False, allow_empty: bool = False, expected: str = "a str"
) -> str:
    """A str that UTF-8 can encode (no lone surrogates), non-empty unless ``allow_empty``.

    A ``secret`` (token, password) is never quoted, not even in part. ``expected`` says what is
    right when ``value`` is not a str.
    """
    if not isinstance(value, str):
        shown = "" if secret else f" ({show(value)})"
        raise InvalidArgumentError(f"{what} must be {expected}, not {type(value).__name__}{shown}")
    at = _surrogate(value)
    if at is not None:
        where = "" if secret else f" {show(value)}"
        raise InvalidArgumentError(
            f"{what}{where} is not valid text: it holds a lone surrogate at index {at}, which UTF-8 cannot encode"
        )
    if not allow_empty and not value.strip():
        raise InvalidArgumentError(f"{what} must not be empty")
    return value


def check_metadata_value(value: object, *, what: str) -> str:
    """Text sent as gRPC metadata: printable ASCII only (grpc.aio never completes a call with
    anything else in its metadata)."""
    text = check_text(value, what=what)
    bad = next((c for c in text if not " " <= c <= "~"), None)
    if bad is not None:
        raise InvalidArgumentError(
            f"{what} must be printable ASCII (it is sent as gRPC metadata), got {show(text)} with {bad!r}"
        )
    return text


def check_host_name(value: object, *, what: str) -> str:
    """A DNS name (ASCII labels of letters, digits, '-' and '_') or an IPv4/IPv6 address."""
    host = check_text(value, what=what)
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidArgumentError(f"{what} {show(host)} is not a valid IPv6 address") from None
        return host
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise InvalidArgumentError(
            f"{what} {show(host)} is not a valid host name: use letters, digits, '-', '_' and dots, or an IP address"
        )
    return host


def check_path(value: object, *, what: str) -> str:
    """A file system path (str or os.PathLike of str)."""
    path = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(path, str):
        raise InvalidArgumentError(f"{what} must be a path (str or os.PathLike), not {type(value).__name__}")
    check_text(path, what=what)
    if "\0" in path:
        raise InvalidArgumentError(f"{what} {show(path)} holds a NUL character")
    return path


def check_int(value: object, *, what: str, minimum: int, maximum: int, alternative: str = "") -> int:
    """An int (not a bool) in ``[minimum, maximum]``; ``alternative`` is said too (", or None for ...")."""
    if isinstance(value, bool) or not isinstance(value, Integral) or not minimum <= int(value) <= maximum:
        kind = "a positive int up to" if minimum == 1 else f"an int from {minimum} to"
        raise InvalidArgumentError(f"{what} must be {kind} {maximum}{alternative}, got {show(value)}")
    return int(value)


def check_number(
    value: object,
    *,
    what: str,
    minimum: float = 0.0,  # with positive: 0, exclusive
    maximum: float = MAX_SECONDS,
    positive: bool = False,
    unit: str = "",
    alternative: str = "",
) -> float:
    """A finite real number (not a bool, NaN or infinity) in ``[minimum, maximum]``; with
    ``positive`` above 0. The message says the ``unit`` (" of seconds") and ``alternative``."""
    number: float | None = None
    if not isinstance(value, bool) and isinstance(value, Real):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            number = None
    low_ok = number is not None and (number > 0 if positive else number >= minimum)
    if number is None or not math.isfinite(number) or not low_ok or number > maximum:
        kind = f"a positive number{unit} up to" if positive else f"a number{unit} from {minimum:g} to"
        raise InvalidArgumentError(f"{what} must be {kind} {maximum:g}{alternative}, got {show(value)}")
    return number


def check_collection_name(name: object) -> str:
    return check_text(name, what="collection name")


def check_name_list(names: object, *, what: str, allow_none: bool = True, allow_empty: bool = False) -> tuple[str, ...]:
    """A list/tuple of non-empty, distinct strings. A bare str is refused (it is not a list of names)."""
    if names is None:
        if allow_none:
            return ()
        raise InvalidArgumentError(f"{what} must be a list of names, not None")
    if isinstance(names, str | bytes) or not isinstance(names, Sequence | set | frozenset):
        raise InvalidArgumentError(
            f"{what} must be a list of names like ['a', 'b'], not {type(names).__name__} ({show(names)})"
        )
    items = list(names)
    bad = [n for n in items if not isinstance(n, str) or not n]
    if bad:
        raise InvalidArgumentError(f"{what} must hold non-empty strings; got {show(bad)}")
    for name in items:
        check_text(name, what=f"{what} entry")
    duplicates = sorted({n for n in items if items.count(n) > 1})
    if duplicates:
        raise InvalidArgumentError(f"{what} names {show(duplicates)} more than once")
    if not items and not allow_empty:
        raise InvalidArgumentError(f"{what} must name at least one; pass None for the default")
    return tuple(items)


def check_replica_number(replica_number: object) -> int | None:
    if replica_number is None:
        return None
    return check_int(
        replica_number,
        what="replica_number",
        minimum=1,
        maximum=INT32_MAX,
        alternative=" (or None for the server's default)",
    )


def check_timeout(timeout: object, *, what: str = "timeout") -> float | None:
    """Seconds above 0 (at most :data:`MAX_SECONDS`), or None for no limit."""
    if timeout is None:
        return None
    return check_number(timeout, what=what, positive=True, unit=" of seconds", alternative=", or None for no limit")


def check_flag(value: object, *, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be True or False, got {show(value)}")
    return value


def check_load_params(params: object) -> dict[str, str]:
    if params is None:
        return {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise InvalidArgumentError(f"load_params must be a dict of str to str, got {show(params)}")
    for key, value in params.items():
        check_text(key, what="load_params key")
        check_text(value, what=f"load_params[{show(key)}]", allow_empty=True)
    return dict(params)


def validate_load_fields(schema: CollectionSchema, load_fields: Sequence[str]) -> None:
    """Check ``load_fields`` against the collection the way Milvus does, but with a clearer message.

    Every name must be a declared field; the primary key and at least one vector field must be in.
    The dynamic field is not named here: ``skip_load_dynamic_field`` decides it, with or without
    a dynamic field in the schema, as Milvus does.
    """
    declared = [f.name for f in schema.fields if not f.is_dynamic]
    valid = ", ".join(declared)
    if DYNAMIC_FIELD_NAME in load_fields:
        raise InvalidLoadFieldsError(
            f"load_fields for {schema.name!r} names the dynamic field {DYNAMIC_FIELD_NAME!r}: it is loaded "
            f"unless skip_load_dynamic_field=True; name only declared fields: {valid}",
            collection=schema.name,
            unknown=[DYNAMIC_FIELD_NAME],
            valid=declared,
        )
    unknown = [n for n in load_fields if n not in declared]
    if unknown:
        raise InvalidLoadFieldsError(
            f"load_fields for {schema.name!r} names unknown field(s) {', '.join(map(repr, unknown))}; "
            f"the collection has: {valid}",
            collection=schema.name,
            unknown=unknown,
            valid=declared,
        )
    missing: list[str] = []
    primary = schema.primary_field.name
    if primary not in load_fields:
        missing.append(primary)
    vectors = [f.name for f in schema.vector_fields]
    if vectors and not any(v in load_fields for v in vectors):
        missing.append(vectors[0] if len(vectors) == 1 else " or ".join(vectors))
    if missing:
        needs = [f"the primary key {primary!r}"] if primary in missing else []
        if len(missing) > len(needs):
            needs.append(f"a vector field ({', '.join(map(repr, vectors))})")
        raise InvalidLoadFieldsError(
            f"load_fields for {schema.name!r} must include {' and '.join(needs)}; "
            f"got {list(load_fields)!r}; the collection has: {valid}",
            collection=schema.name,
            missing=missing,
            valid=declared,
        )
