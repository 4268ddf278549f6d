"""LoadOptions: how a collection or partitions are loaded, as one validated value.

The client's ``load_collection`` / ``load_partitions`` keyword arguments, the widgets' selection
and the command line's flags all become one :class:`LoadOptions`; the transport turns it into
the fields LoadCollection and LoadPartitions share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ._validation import check_flag, check_load_params, check_name_list, check_replica_number
from .errors import InvalidArgumentError

__all__ = ["LoadOptions"]


@dataclass(frozen=True)
class LoadOptions:
    """What to load and how; every argument is checked when the value is built.

    ``load_fields`` loads only those fields (None: every field; it must include the primary key and
    a vector field, checked against the schema before a load is sent); ``skip_load_dynamic_field``
    skips the dynamic ``$meta`` field; ``replica_number`` None is the server's default;
    ``refresh=True`` reloads segments added since the load; ``resource_groups`` and
    ``load_params`` are passed to Milvus as they are.

    >>> LoadOptions(load_fields=["id", "vec"], skip_load_dynamic_field=True)
    LoadOptions(load_fields=('id', 'vec'), skip_load_dynamic_field=True)
    """

    load_fields: tuple[str, ...] | None = None
    skip_load_dynamic_field: bool = False
    replica_number: int | None = None
    resource_groups: tuple[str, ...] = ()
    refresh: bool = False
    load_params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __init__(
        self,
        *,
        load_fields: Sequence[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int | None = None,
        resource_groups: Sequence[str] | None = None,
        refresh: bool = False,
        load_params: Mapping[str, str] | None = None,
    ) -> None:
        fields = check_name_list(load_fields, what="load_fields", allow_empty=True)
        if load_fields is not None and not fields:
            raise InvalidArgumentError(
                "load_fields must name the fields to load (at least the primary key and a vector field), "
                "or be None to load every field"
            )
        set_ = object.__setattr__
        set_(self, "load_fields", fields if load_fields is not None else None)
        set_(self, "skip_load_dynamic_field", check_flag(skip_load_dynamic_field, what="skip_load_dynamic_field"))
        set_(self, "replica_number", check_replica_number(replica_number))
        set_(self, "resource_groups", check_name_list(resource_groups, what="resource_groups", allow_empty=True))
        set_(self, "refresh", check_flag(refresh, what="refresh"))
        set_(self, "load_params", MappingProxyType(check_load_params(load_params)))

    def __repr__(self) -> str:
        defaults = LoadOptions.__dataclass_fields__
        shown = []
        for name, spec in defaults.items():
            value = getattr(self, name)
            default = spec.default_factory() if callable(spec.default_factory) else spec.default
            if value != default:
                shown.append(f"{name}={dict(value) if name == 'load_params' else value!r}")
        return f"LoadOptions({', '.join(shown)})"

    def __hash__(self) -> int:
        return hash(
            (
                self.load_fields,
                self.skip_load_dynamic_field,
                self.replica_number,
                self.resource_groups,
                self.refresh,
                tuple(sorted(self.load_params.items())),
            )
        )
