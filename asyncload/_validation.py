"""Argument checks that run before any RPC (or, for field names, before the load is sent).

Each raises :class:`~asyncload.errors.InvalidArgumentError` (or its subclass for load fields)
naming what was wrong and what would be right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._schema import DYNAMIC_FIELD_NAME, CollectionSchema
from .errors import InvalidArgumentError, InvalidLoadFieldsError

__all__ = [
    "check_collection_name",
    "check_load_params",
    "check_name_list",
    "check_replica_number",
    "check_timeout",
    "validate_load_fields",
]


def check_collection_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidArgumentError(f"collection name must be a str, not {type(name).__name__} ({name!r})")
    if not name.strip():
        raise InvalidArgumentError("collection name must not be empty")
    return name


def check_name_list(names: object, *, what: str, allow_none: bool = True, allow_empty: bool = False) -> tuple[str, ...]:
    """A list/tuple of non-empty, distinct strings. A bare str is refused (it is not a list of names)."""
    if names is None:
        if allow_none:
            return ()
        raise InvalidArgumentError(f"{what} must be a list of names, not None")
    if isinstance(names, str | bytes) or not isinstance(names, Sequence | set | frozenset):
        raise InvalidArgumentError(
            f"{what} must be a list of names like ['a', 'b'], not {type(names).__name__} ({names!r})"
        )
    items = list(names)
    bad = [n for n in items if not isinstance(n, str) or not n]
    if bad:
        raise InvalidArgumentError(f"{what} must hold non-empty strings; got {bad!r}")
    duplicates = sorted({n for n in items if items.count(n) > 1})
    if duplicates:
        raise InvalidArgumentError(f"{what} names {duplicates!r} more than once")
    if not items and not allow_empty:
        raise InvalidArgumentError(f"{what} must name at least one; pass None for the default")
    return tuple(items)


def check_replica_number(replica_number: object) -> int | None:
    if replica_number is None:
        return None
    if isinstance(replica_number, bool) or not isinstance(replica_number, int) or replica_number < 1:
        raise InvalidArgumentError(
            f"replica_number must be a positive int (or None for the server's default), got {replica_number!r}"
        )
    return replica_number


def check_timeout(timeout: object, *, what: str = "timeout") -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidArgumentError(f"{what} must be a positive number of seconds or None, got {timeout!r}")
    return float(timeout)


def check_flag(value: object, *, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be True or False, got {value!r}")
    return value


def check_load_params(params: object) -> dict[str, str]:
    if params is None:
        return {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise InvalidArgumentError(f"load_params must be a dict of str to str, got {params!r}")
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
