"""Protobuf descriptions -> asyncload's own schema dataclasses."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from .._schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema, IndexInfo, mmap_setting

__all__ = ["collection_schema", "index_info"]


def _kv(pairs: Any) -> dict[str, str]:
    return {str(p.key): str(p.value) for p in pairs}


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _field(proto: Any) -> FieldSchema:
    params = _kv(proto.type_params)
    dtype = DataType.from_wire(int(proto.data_type))
    element = DataType.from_wire(int(proto.element_type)) if dtype is DataType.ARRAY else None
    is_dynamic = bool(proto.is_dynamic) or (proto.name == DYNAMIC_FIELD_NAME and dtype is DataType.JSON)
    return FieldSchema(
        name=str(proto.name),
        dtype=dtype,
        is_primary=bool(proto.is_primary_key),
        is_dynamic=is_dynamic,
        auto_id=bool(proto.autoID),
        nullable=bool(getattr(proto, "nullable", False)),
        is_partition_key=bool(getattr(proto, "is_partition_key", False)),
        dim=_int_or_none(params.get("dim")),
        max_length=_int_or_none(params.get("max_length")),
        element_type=element,
        max_capacity=_int_or_none(params.get("max_capacity")),
        mmap=mmap_setting(params) is True,
        params=MappingProxyType(params),
    )


def collection_schema(response: Any) -> CollectionSchema:
    """Build a CollectionSchema from a DescribeCollectionResponse.

    Servers before 2.4 do not list the dynamic field: when the schema enables it and no field is
    marked dynamic, a ``$meta`` JSON field is added so every layer sees the same field list.
    """
    schema = response.schema
    fields = [_field(f) for f in schema.fields]
    enable_dynamic = bool(schema.enable_dynamic_field)
    if enable_dynamic and not any(f.is_dynamic for f in fields):
        fields.append(FieldSchema(name=DYNAMIC_FIELD_NAME, dtype=DataType.JSON, is_dynamic=True))
    props = _kv(response.properties)
    return CollectionSchema(
        name=str(response.collection_name or schema.name),
        fields=tuple(fields),
        enable_dynamic_field=enable_dynamic,
        description=str(schema.description),
        mmap=mmap_setting(props) is True,
    )


def index_info(description: Any) -> IndexInfo:
    """Build an IndexInfo from one ``IndexDescription``; nested ``params`` JSON is flattened."""
    params = _kv(description.params)
    nested = params.pop("params", None)
    if nested:
        import json

        try:
            extra = json.loads(nested)
        except ValueError:
            extra = {}
        if isinstance(extra, dict):
            for key, value in extra.items():
                params.setdefault(str(key), str(value))
    return IndexInfo(
        field_name=str(description.field_name),
        index_name=str(description.index_name),
        index_type=params.get("index_type", ""),
        metric_type=params.get("metric_type") or None,
        params=MappingProxyType(params),
        indexed_rows=int(description.indexed_rows),
        total_rows=int(description.total_rows),
    )


# Array element types by wire number -> bytes an element takes in the server's column.
_ARRAY_ELEMENT_WIDTH = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 10: 4, 11: 8}  # Bool, Int8/16/32/64, Float, Double


def value_sizes(field_data: Any) -> list[int]:
    """Byte sizes of each value in one query result column (variable-length types only).

    VARCHAR: UTF-8 length; JSON (and ``$meta``): serialized length; ARRAY: its elements' bytes
    (element width x count; strings by their UTF-8 bytes);
    sparse vectors: their wire bytes (8 per non-zero). Other types give an empty list.
    """
    scalars = field_data.scalars
    kind = scalars.WhichOneof("data") if field_data.HasField("scalars") else None
    if kind == "string_data":
        return [len(s.encode()) for s in scalars.string_data.data]
    if kind == "json_data":
        return [len(b) for b in scalars.json_data.data]
    if kind == "array_data":
        width = _ARRAY_ELEMENT_WIDTH.get(int(scalars.array_data.element_type))
        sizes = []
        for element in scalars.array_data.data:
            inner = element.WhichOneof("data")
            values = getattr(element, inner).data if inner else ()
            if width is not None:
                sizes.append(width * len(values))  # what segcore holds: the elements, packed
            else:  # strings: their bytes
                sizes.append(sum(len(v.encode()) if isinstance(v, str) else len(v) for v in values))
        return sizes
    if field_data.HasField("vectors") and field_data.vectors.WhichOneof("data") == "sparse_float_vector":
        return [len(b) for b in field_data.vectors.sparse_float_vector.contents]
    return []
