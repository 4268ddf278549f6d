"""The load panel's field selection rules and live totals. Pure: no I/O, no ipywidgets.

Built from one :class:`~asyncload.footprint.Footprint` of every field at one replica (every byte
figure of an estimate is linear in the replica number, so totals for any replica count and any
selection are computed here without asking the server again).

Rules, as Milvus states them: the primary key is always loaded (locked); at least one vector field
must be; the dynamic field ``$meta`` is not named in ``load_fields`` but loaded unless
``skip_load_dynamic_field``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .._footprint.estimate import Footprint
from .._footprint.fit import ClusterMemory, Fit, judge_fit
from .._options import LoadOptions
from .._schema import DYNAMIC_FIELD_NAME

__all__ = ["FieldRow", "Selection"]


@dataclass(frozen=True)
class FieldRow:
    """One field as the panel lists it; ``bytes`` is the resident estimate for one replica.

    ``low_bytes`` .. ``high_bytes`` is its range (equal to ``bytes`` where the size is known; the
    schema's bounds where ``is_range``: a variable-length field without a sample, ``bytes`` then a
    typical value); ``peak_bytes`` (``peak_low_bytes`` .. ``peak_high_bytes``) while loading;
    ``basis`` says how the size was found ("fixed width", "sampled N rows", "schema range", ...).
    """

    name: str
    dtype: str
    dim: int | None
    bytes: int
    is_primary: bool
    is_vector: bool
    is_dynamic: bool
    low_bytes: int = 0
    high_bytes: int = 0
    peak_bytes: int = 0
    peak_low_bytes: int = 0
    peak_high_bytes: int = 0
    basis: str = ""

    @property
    def is_range(self) -> bool:
        """True when the figure is a schema range (not sampled)."""
        return self.low_bytes != self.high_bytes


class Selection:
    """Which fields to load, whether to skip ``$meta``, how many replicas; and what that costs."""

    def __init__(self, footprint: Footprint) -> None:
        if footprint.replica_number != 1:
            raise ValueError("build a Selection from a one-replica footprint")
        self.collection = footprint.collection
        self.rows = footprint.rows
        self.overhead_bytes = footprint.overhead_bytes
        self.fields = tuple(
            FieldRow(
                name=f.name,
                dtype=f.dtype.milvus_name,
                dim=f.dim,
                bytes=f.bytes,
                is_primary=f.is_primary,
                is_vector=f.is_vector,
                is_dynamic=f.name == DYNAMIC_FIELD_NAME,
                low_bytes=f.low_bytes,
                high_bytes=f.high_bytes,
                peak_bytes=f.peak_bytes,
                peak_low_bytes=f.peak_low_bytes,
                peak_high_bytes=f.peak_high_bytes,
                basis=f.basis,
            )
            for f in footprint.fields
        )
        #: The per-row overhead's and fixed cost's share of the loading peak (one replica).
        self.overhead_peak_bytes = footprint.peak_bytes - sum(f.peak_bytes for f in footprint.fields if f.selected)
        #: Whether the collection was loaded when the estimate was made.
        self.loaded = footprint.loaded
        self._selected = {f.name for f in self.fields if not f.is_dynamic}
        self.skip_dynamic = False
        self.replicas = 1

    # -- the rules ------------------------------------------------------------------------------

    @property
    def declared(self) -> tuple[FieldRow, ...]:
        """The fields a checkbox stands for (every field but ``$meta``)."""
        return tuple(f for f in self.fields if not f.is_dynamic)

    @property
    def has_dynamic(self) -> bool:
        """Whether the collection has the dynamic ``$meta`` field."""
        return any(f.is_dynamic for f in self.fields)

    def locked(self, name: str) -> bool:
        """The primary key cannot be unselected."""
        return self._row(name).is_primary

    def selected(self, name: str) -> bool:
        """Whether the field called ``name`` is selected for loading."""
        row = self._row(name)
        return not self.skip_dynamic if row.is_dynamic else name in self._selected

    def select(self, name: str, on: bool = True) -> bool:
        """Select or unselect a declared field; returns whether it is selected afterwards
        (the primary key stays selected whatever is asked)."""
        row = self._row(name)
        if row.is_dynamic:
            raise ValueError(f"{DYNAMIC_FIELD_NAME} is chosen with skip_dynamic, not select()")
        if on or row.is_primary:
            self._selected.add(name)
        else:
            self._selected.discard(name)
        return name in self._selected

    def set_fields(self, names: Iterable[str]) -> None:
        """Select exactly ``names`` (plus the locked primary key)."""
        wanted = set(names)
        for row in self.declared:
            self.select(row.name, row.name in wanted)

    def problem(self) -> str | None:
        """Why the current selection cannot be loaded, or None when it can."""
        vectors = [f.name for f in self.declared if f.is_vector]
        if vectors and not any(v in self._selected for v in vectors):
            return f"Select at least one vector field to load ({', '.join(vectors)}): Milvus requires one."
        if self.replicas < 1:
            return "The replica number must be at least 1."
        return None

    # -- what it costs --------------------------------------------------------------------------

    def total_bytes(self) -> int:
        """The selection's resident estimate, per-row overhead included, times the replicas."""
        chosen = sum(f.bytes for f in self.fields if self.selected(f.name))
        return (chosen + self.overhead_bytes) * max(self.replicas, 1)

    def all_bytes(self) -> int:
        """Every field (``$meta`` included), overhead included, times the replicas."""
        return (sum(f.bytes for f in self.fields) + self.overhead_bytes) * max(self.replicas, 1)

    def field_bytes(self, name: str) -> int:
        """The resident estimate of one field at the current replica number."""
        return self._row(name).bytes * max(self.replicas, 1)

    def field_range(self, name: str) -> tuple[int, int]:
        """One field's ``(low, high)`` at the current replica number (equal where the size is known)."""
        row = self._row(name)
        replicas = max(self.replicas, 1)
        return row.low_bytes * replicas, row.high_bytes * replicas

    def range_fields(self) -> tuple[str, ...]:
        """The selected fields whose figure is a schema range, in schema order."""
        return tuple(f.name for f in self.fields if f.is_range and self.selected(f.name))

    def total_range(self) -> tuple[int, int]:
        """The selection's total ``(low, high)``, overhead included, times the replicas: the two
        ends of :meth:`total_bytes` when selected fields are schema ranges (equal to it otherwise)."""
        chosen = [f for f in self.fields if self.selected(f.name)]
        replicas = max(self.replicas, 1)
        low = sum(f.low_bytes for f in chosen) + self.overhead_bytes
        high = sum(f.high_bytes for f in chosen) + self.overhead_bytes
        return low * replicas, high * replicas

    def peak_bytes(self) -> int:
        """The selection's peak while loading (what must fit while the load runs), times the replicas
        (the estimator rounds the overhead's share up once for all replicas: this may be a byte a
        replica above its ``peak_bytes``)."""
        chosen = sum(f.peak_bytes for f in self.fields if self.selected(f.name))
        return (chosen + self.overhead_peak_bytes) * max(self.replicas, 1)

    def peak_range(self) -> tuple[int, int]:
        """The peak's ``(low, high)`` ends, as :meth:`total_range` for the total."""
        chosen = [f for f in self.fields if self.selected(f.name)]
        replicas = max(self.replicas, 1)
        low = sum(f.peak_low_bytes for f in chosen) + self.overhead_peak_bytes
        high = sum(f.peak_high_bytes for f in chosen) + self.overhead_peak_bytes
        return low * replicas, high * replicas

    def fit(self, memory: ClusterMemory) -> Fit:
        """The selection's verdict against the query nodes' ``memory`` (read once, by the caller):
        fits / tight / does not fit / unknown, as ``fit_verdict`` judges the same selection's
        footprint. Pure: no RPC, so the panel recomputes it on every click."""
        low, high = self.peak_range()
        return judge_fit(
            memory,
            needed=self.peak_bytes(),
            steady=self.total_bytes(),
            peak_low=low,
            peak_high=high,
            range_fields=self.range_fields(),
            replicas=max(self.replicas, 1),
        )

    # -- what to send ---------------------------------------------------------------------------

    def load_options(self) -> LoadOptions:
        """What ``client.load_collection(..., options=...)`` gets: ``load_fields`` is None when every
        declared field is selected (a plain full load), else the selected names in schema order."""
        names = [f.name for f in self.declared if f.name in self._selected]
        every = len(names) == len(self.declared)
        return LoadOptions(
            load_fields=None if every else names,
            skip_load_dynamic_field=self.skip_dynamic,
            replica_number=self.replicas,
        )

    def _row(self, name: str) -> FieldRow:
        for row in self.fields:
            if row.name == name:
                return row
        raise KeyError(name)
