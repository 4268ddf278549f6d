"""A user's own sample of values, turned into the byte sizes the estimator needs (no pandas import).

``normalize_sample`` runs before any RPC: it accepts a pandas DataFrame (duck-typed: anything with
``columns`` and ``to_dict(orient="list")``), a mapping of column name -> list of values, a list of
row dicts (what ``MilvusClient.insert`` takes) or the path of a parquet file (read with pyarrow),
and returns plain columns, or raises :class:`~asyncload.errors.InvalidArgumentError`. Once the schema
is known, ``sample_sizes`` measures each variable-length field's values the way the server holds
them: VarChar as UTF-8 bytes, JSON (and ``$meta``, built from the keys the schema does not declare)
as compact serialized JSON, Array as its elements' bytes, sparse vectors as 8 bytes a non-zero.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._schema import DYNAMIC_FIELD_NAME, FIXED_WIDTH, CollectionSchema, DataType, FieldSchema
from ..errors import InvalidArgumentError

__all__ = ["MAX_SAMPLE_ROWS", "normalize_sample", "sample_sizes"]

#: More rows than this are not needed for a mean; a bigger sample is cut (the first rows are kept).
MAX_SAMPLE_ROWS = 100_000

_STRING_TYPES = frozenset({DataType.VARCHAR, DataType.STRING, DataType.TEXT})
_WHAT = (
    "sample must be a pandas DataFrame, a dict of column name -> list of values, a list of row dicts, "
    "or the path of a .parquet file"
)


def normalize_sample(sample: object) -> dict[str, list[Any]]:
    """Columns of ``sample`` as lists of equal length (at most :data:`MAX_SAMPLE_ROWS` rows).

    Raises InvalidArgumentError for anything else, an empty sample, non-string column names or
    columns of different lengths. A parquet path is read here (pyarrow), before any RPC.
    """
    if isinstance(sample, str | os.PathLike):
        columns = _read_parquet(Path(sample))
    elif isinstance(sample, Mapping):
        columns = {}
        for name, values in sample.items():
            listed = _as_list(values)
            if listed is None:
                raise InvalidArgumentError(f"{_WHAT}; column {name!r} is {type(values).__name__}, not a list of values")
            columns[name] = listed
    elif hasattr(sample, "columns") and callable(getattr(sample, "to_dict", None)):
        frame: Any = sample  # a pandas DataFrame (not imported: the engine does not need pandas)
        columns = dict(frame.to_dict(orient="list"))
    elif isinstance(sample, Sequence) and not isinstance(sample, str | bytes):
        rows = list(sample)
        if not all(isinstance(row, Mapping) for row in rows):
            raise InvalidArgumentError(f"{_WHAT}; a list must hold row dicts")
        names: dict[Any, None] = {}
        for row in rows:
            names.update(dict.fromkeys(row))
        columns = {name: [row.get(name) for row in rows] for name in names}
    else:
        raise InvalidArgumentError(f"{_WHAT}, not {type(sample).__name__}")
    bad = [name for name in columns if not isinstance(name, str) or not name]
    if bad:
        raise InvalidArgumentError(f"sample column names must be non-empty strings; got {bad!r}")
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise InvalidArgumentError(f"sample columns must have the same length; got lengths {sorted(lengths)}")
    if not columns or lengths == {0}:
        raise InvalidArgumentError("sample is empty: give at least one row of the values you will insert")
    return {name: values[:MAX_SAMPLE_ROWS] for name, values in columns.items()}


def _as_list(values: object) -> list[Any] | None:
    """A list of the values of one column: a list/tuple, or a numpy array / pandas Series
    (anything with ``tolist``); None for anything else (a str is not a column)."""
    if isinstance(values, str | bytes):
        return None
    if isinstance(values, Sequence):
        return list(values)
    tolist = getattr(values, "tolist", None)
    if callable(tolist):
        listed = tolist()
        return listed if isinstance(listed, list) else None
    return None


def _read_parquet(path: Path) -> dict[str, list[Any]]:
    if path.suffix.lower() != ".parquet":
        raise InvalidArgumentError(f"{_WHAT}; {str(path)!r} does not end in .parquet")
    if not path.is_file():
        raise InvalidArgumentError(f"sample file {str(path)!r} does not exist")
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InvalidArgumentError(
            "reading a parquet sample needs pyarrow: pip install 'asyncload-milvus[parquet]'"
        ) from exc
    try:
        table = pq.ParquetFile(path).iter_batches(batch_size=MAX_SAMPLE_ROWS)
        batch = next(table, None)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid / OSError family
        raise InvalidArgumentError(f"sample file {str(path)!r} is not a readable parquet file: {exc}") from exc
    if batch is None:
        return {}
    return {str(name): column.to_pylist() for name, column in zip(batch.schema.names, batch.columns, strict=True)}


def sample_sizes(schema: CollectionSchema, columns: Mapping[str, Sequence[Any]]) -> dict[str, list[int]]:
    """Byte sizes of the sampled values of each variable-length field of ``schema``.

    Columns the schema does not declare go into ``$meta`` when the collection has a dynamic field
    (as Milvus does on insert), and raise InvalidArgumentError otherwise. A ``$meta`` column, when
    given, is taken as the dynamic field's values. Missing values (None, NaN) are skipped.
    """
    declared = {f.name: f for f in schema.fields if not f.is_dynamic}
    dynamic = schema.enable_dynamic_field or schema.dynamic_field is not None
    extra = [name for name in columns if name not in declared and name != DYNAMIC_FIELD_NAME]
    if extra and not dynamic:
        raise InvalidArgumentError(
            f"sample columns {extra!r} are not fields of collection {schema.name!r} "
            f"(it has {sorted(declared)!r} and no dynamic field)"
        )
    sizes: dict[str, list[int]] = {}
    for name, values in columns.items():
        fs = declared.get(name)
        if fs is None or not _variable(fs):
            continue
        sizes[name] = [_value_size(fs, v) for v in values if not _missing(v)]
    if dynamic and (extra or DYNAMIC_FIELD_NAME in columns):
        rows = len(next(iter(columns.values())))
        meta_sizes = []
        for i in range(rows):
            given = columns[DYNAMIC_FIELD_NAME][i] if DYNAMIC_FIELD_NAME in columns else None
            doc = dict(given) if isinstance(given, Mapping) else {}
            doc.update({k: columns[k][i] for k in extra if not _missing(columns[k][i])})
            if isinstance(given, str | bytes) and not extra:
                meta_sizes.append(len(given.encode() if isinstance(given, str) else given))
            else:
                meta_sizes.append(_json_size(doc))
        sizes[DYNAMIC_FIELD_NAME] = meta_sizes
    return {name: found for name, found in sizes.items() if found}


def _variable(fs: FieldSchema) -> bool:
    return fs.dtype in _STRING_TYPES or fs.dtype in (DataType.JSON, DataType.ARRAY, DataType.SPARSE_FLOAT_VECTOR)


def _missing(value: Any) -> bool:
    """None, NaN, and pandas' NA / NaT (recognised by name: pandas is not imported here)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _value_size(fs: FieldSchema, value: Any) -> int:
    if fs.dtype in _STRING_TYPES:
        return len(value.encode() if isinstance(value, str) else bytes(value))
    if fs.dtype is DataType.JSON:
        if isinstance(value, bytes):
            return len(value)
        return _json_size(value)
    if fs.dtype is DataType.ARRAY:
        items = value.tolist() if callable(getattr(value, "tolist", None)) else list(value)
        width = FIXED_WIDTH.get(fs.element_type) if fs.element_type is not None else None
        if width is not None:
            return width * len(items)
        return sum(len(str(item).encode()) for item in items)
    # sparse: {index: value} or a list of (index, value) pairs, 4 B index + 4 B value each
    return 8 * len(value)


def _json_size(value: Any) -> int:
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"a JSON sample value cannot be serialized: {exc}") from exc
