"""asyncload's own view of a Milvus collection: schema, fields and indexes.

The transport converts Milvus's protobuf descriptions into these frozen dataclasses; everything
above it (load-field validation, the footprint estimator, widgets) sees only these.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "DYNAMIC_FIELD_NAME",
    "FIXED_WIDTH",
    "CollectionSchema",
    "DataType",
    "FieldSchema",
    "IndexInfo",
    "mmap_setting",
]

#: Name of the reserved JSON field that holds every undeclared key of a dynamic collection.
DYNAMIC_FIELD_NAME = "$meta"


def mmap_setting(params: Mapping[str, str]) -> bool | None:
    """What ``mmap.enabled`` in a field's, an index's or a collection's parameters says: True,
    False, or None when it is not set (the level above decides)."""
    value = params.get("mmap.enabled")
    return None if value is None else value.strip().lower() == "true"


class DataType(enum.Enum):
    """Milvus field types, valued by Milvus's wire numbers (``schema.proto`` ``DataType``)."""

    NONE = 0
    BOOL = 1
    INT8 = 2
    INT16 = 3
    INT32 = 4
    INT64 = 5
    FLOAT = 10
    DOUBLE = 11
    STRING = 20
    VARCHAR = 21
    ARRAY = 22
    JSON = 23
    GEOMETRY = 24
    TEXT = 25
    TIMESTAMPTZ = 26
    BINARY_VECTOR = 100
    FLOAT_VECTOR = 101
    FLOAT16_VECTOR = 102
    BFLOAT16_VECTOR = 103
    SPARSE_FLOAT_VECTOR = 104
    INT8_VECTOR = 105
    UNKNOWN = -1

    @classmethod
    def from_wire(cls, number: int) -> DataType:
        """The type for Milvus's wire number; ``UNKNOWN`` for types newer than asyncload."""
        try:
            return cls(number)
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_vector(self) -> bool:
        """Whether this is a vector type (float, float16, bfloat16, binary, sparse, int8 vectors)."""
        return self.value >= 100

    @property
    def milvus_name(self) -> str:
        """The name Milvus and pymilvus print, e.g. ``FloatVector``, ``VarChar``, ``JSON``."""
        return _MILVUS_NAMES.get(self, self.name.title())


#: Bytes a value of each fixed-width scalar type takes (also an ARRAY's element width).
FIXED_WIDTH: Mapping[DataType, int] = MappingProxyType(
    {
        DataType.BOOL: 1,
        DataType.INT8: 1,
        DataType.INT16: 2,
        DataType.INT32: 4,
        DataType.INT64: 8,
        DataType.FLOAT: 4,
        DataType.DOUBLE: 8,
        DataType.TIMESTAMPTZ: 8,
    }
)


_MILVUS_NAMES = {
    DataType.BOOL: "Bool",
    DataType.INT8: "Int8",
    DataType.INT16: "Int16",
    DataType.INT32: "Int32",
    DataType.INT64: "Int64",
    DataType.FLOAT: "Float",
    DataType.DOUBLE: "Double",
    DataType.STRING: "String",
    DataType.VARCHAR: "VarChar",
    DataType.ARRAY: "Array",
    DataType.JSON: "JSON",
    DataType.GEOMETRY: "Geometry",
    DataType.TEXT: "Text",
    DataType.TIMESTAMPTZ: "Timestamptz",
    DataType.BINARY_VECTOR: "BinaryVector",
    DataType.FLOAT_VECTOR: "FloatVector",
    DataType.FLOAT16_VECTOR: "Float16Vector",
    DataType.BFLOAT16_VECTOR: "BFloat16Vector",
    DataType.SPARSE_FLOAT_VECTOR: "SparseFloatVector",
    DataType.INT8_VECTOR: "Int8Vector",
    DataType.UNKNOWN: "Unknown",
}


def _frozen_mapping(items: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True)
class FieldSchema:
    """One field of a collection as Milvus describes it.

    ``dim`` is set for fixed-size vectors, ``max_length`` for VARCHAR (and VARCHAR array elements),
    ``element_type`` and ``max_capacity`` for ARRAY. ``is_dynamic`` marks the reserved ``$meta`` field.
    ``mmap`` is True when the field's ``mmap.enabled`` type parameter says so.
    """

    name: str
    dtype: DataType
    is_primary: bool = False
    is_dynamic: bool = False
    auto_id: bool = False
    nullable: bool = False
    is_partition_key: bool = False
    dim: int | None = None
    max_length: int | None = None
    element_type: DataType | None = None
    max_capacity: int | None = None
    mmap: bool = False
    params: Mapping[str, str] = field(default_factory=_frozen_mapping)

    @property
    def is_vector(self) -> bool:
        """Whether the field holds vectors."""
        return self.dtype.is_vector


@dataclass(frozen=True)
class CollectionSchema:
    """A collection's fields in declaration order, the dynamic ``$meta`` field last when enabled."""

    name: str
    fields: tuple[FieldSchema, ...]
    enable_dynamic_field: bool = False
    description: str = ""
    mmap: bool = False

    @property
    def field_names(self) -> tuple[str, ...]:
        """Every field's name, in schema order (the dynamic field included, if any)."""
        return tuple(f.name for f in self.fields)

    @property
    def primary_field(self) -> FieldSchema:
        """The primary-key field."""
        for f in self.fields:
            if f.is_primary:
                return f
        raise LookupError(f"collection {self.name!r} has no primary key field")

    @property
    def vector_fields(self) -> tuple[FieldSchema, ...]:
        """The vector fields, in schema order."""
        return tuple(f for f in self.fields if f.is_vector)

    @property
    def dynamic_field(self) -> FieldSchema | None:
        """The dynamic ``$meta`` JSON field, or None when the collection has none."""
        for f in self.fields:
            if f.is_dynamic:
                return f
        return None

    def field(self, name: str) -> FieldSchema:
        """The field called ``name``; KeyError for a name the schema does not have."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class IndexInfo:
    """One index as DescribeIndex reports it; ``params`` are the flattened index parameters
    (``index_type``, ``metric_type``, ``M``, ``nlist``, ``m``, ``nbits``, ``mmap.enabled``...)."""

    field_name: str
    index_name: str
    index_type: str
    metric_type: str | None = None
    params: Mapping[str, str] = field(default_factory=_frozen_mapping)
    indexed_rows: int = 0
    total_rows: int = 0

    @property
    def mmap(self) -> bool:
        """Whether the index is memory-mapped (``mmap.enabled``): it then costs disk, not memory."""
        return mmap_setting(self.params) is True
