"""Does a load fit? The query nodes' memory and a pure verdict against a footprint (no I/O).

``parse_system_info`` reads GetMetrics ``{"metric_type": "system_info"}``'s JSON answer (Milvus
2.3.5: ``nodes_info[].infos`` with ``type``, ``name``, ``hardware_infos.memory`` and
``memory_usage``); ``fit_verdict`` compares a footprint's loading peak and steady state with what
the query nodes can still take. A Milvus query node refuses a load whose predicted use passes
``queryNode.overloadedMemoryThresholdPercentage`` (90 %) of its memory, so that share, minus what
is used already, is the capacity a load can count on. Servers that do not answer (Milvus Lite)
give :attr:`FitVerdict.UNKNOWN`, never a guess.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass

from .estimate import Footprint

__all__ = [
    "LOAD_THRESHOLD",
    "TIGHT_SHARE",
    "ClusterMemory",
    "Fit",
    "FitVerdict",
    "NodeMemory",
    "fit_verdict",
    "judge_fit",
    "parse_system_info",
]

#: Share of a query node's memory a load may bring it to (``overloadedMemoryThresholdPercentage``).
LOAD_THRESHOLD = 0.9
#: A load whose peak takes more than this share of the capacity is "tight".
TIGHT_SHARE = 0.8


@dataclass(frozen=True)
class NodeMemory:
    """One query node's memory as GetMetrics reports it (bytes). In standalone mode every role is
    one process, so ``used_bytes`` moves with everything the server does, not just loads."""

    name: str
    node_id: int
    address: str
    total_bytes: int
    used_bytes: int

    @property
    def free_bytes(self) -> int:
        """Total minus used (never negative)."""
        return max(0, self.total_bytes - self.used_bytes)

    @property
    def capacity_bytes(self) -> int:
        """What a load may still add before the node refuses it (90 % of total, minus used)."""
        return max(0, int(self.total_bytes * LOAD_THRESHOLD) - self.used_bytes)


@dataclass(frozen=True)
class ClusterMemory:
    """The query nodes' memory; ``known`` is False when the server does not say (``reason`` why)."""

    nodes: tuple[NodeMemory, ...]
    known: bool
    reason: str = ""

    @property
    def total_bytes(self) -> int:
        """Summed over the query nodes (0 when unknown)."""
        return sum(n.total_bytes for n in self.nodes)

    @property
    def used_bytes(self) -> int:
        """Summed over the query nodes (0 when unknown)."""
        return sum(n.used_bytes for n in self.nodes)

    @property
    def free_bytes(self) -> int:
        """Summed over the query nodes (0 when unknown)."""
        return sum(n.free_bytes for n in self.nodes)

    @property
    def capacity_bytes(self) -> int:
        """What a load may still add, summed over the query nodes (0 when unknown)."""
        return sum(n.capacity_bytes for n in self.nodes)

    @classmethod
    def unknown(cls, reason: str) -> ClusterMemory:
        """No figures: the server did not say (``reason``), and nothing is guessed."""
        return cls((), False, reason)


class FitVerdict(enum.Enum):
    FITS = "fits"
    TIGHT = "tight"
    DOES_NOT_FIT = "does not fit"
    UNKNOWN = "unknown"
    #: The collection is loaded already: its memory is in what the query nodes use (no verdict).
    LOADED = "loaded"


@dataclass(frozen=True)
class Fit:
    """A footprint against the query nodes' memory.

    ``needed_bytes`` is the loading peak (what must fit while loading), ``steady_bytes`` what stays;
    ``capacity_bytes`` what the query nodes can still take (None when unknown), ``headroom_bytes``
    capacity minus peak. ``reason`` says why in one line.
    """

    verdict: FitVerdict
    reason: str
    needed_bytes: int
    steady_bytes: int
    capacity_bytes: int | None
    headroom_bytes: int | None
    replica_number: int
    query_nodes: int

    def as_dict(self) -> dict[str, object]:
        """Plain values (for ``DataFrame.attrs`` and JSON)."""
        return {
            "verdict": self.verdict.value,
            "reason": self.reason,
            "needed_bytes": self.needed_bytes,
            "steady_bytes": self.steady_bytes,
            "capacity_bytes": self.capacity_bytes,
            "headroom_bytes": self.headroom_bytes,
            "replica_number": self.replica_number,
            "query_nodes": self.query_nodes,
        }


def parse_system_info(answer: str) -> ClusterMemory:
    """The query nodes of a GetMetrics ``system_info`` answer; unknown when it lists none."""
    try:
        doc = json.loads(answer)
    except ValueError:
        return ClusterMemory.unknown("GetMetrics answered something that is not JSON")
    nodes = []
    for entry in doc.get("nodes_info") or () if isinstance(doc, dict) else ():
        infos = entry.get("infos") if isinstance(entry, dict) else None
        if not isinstance(infos, dict) or str(infos.get("type", "")).lower() != "querynode":
            continue
        hardware = infos.get("hardware_infos") or {}
        try:
            total, used = int(hardware["memory"]), int(hardware["memory_usage"])
        except (KeyError, TypeError, ValueError):
            continue
        nodes.append(
            NodeMemory(
                name=str(infos.get("name", "")),
                node_id=int(infos.get("id", entry.get("identifier", 0)) or 0),
                address=str(hardware.get("ip", "")),
                total_bytes=total,
                used_bytes=used,
            )
        )
    if not nodes:
        return ClusterMemory.unknown("GetMetrics lists no query node with its memory")
    return ClusterMemory(tuple(nodes), True)


def fit_verdict(footprint: Footprint, memory: ClusterMemory) -> Fit:
    """Fits / tight / does not fit: the footprint's loading peak (replicas included) against the
    query nodes' capacity; a schema-range figure is judged at its typical value and at its ends.
    A footprint of a collection loaded already (``footprint.loaded``) gets :attr:`FitVerdict.LOADED`:
    its memory is in what the nodes use, and judging it again would count it twice."""
    if footprint.loaded:
        return Fit(
            FitVerdict.LOADED,
            "loaded already: its memory is in what the query nodes use (release it to judge another load)",
            footprint.peak_bytes,
            footprint.total_selected,
            memory.capacity_bytes if memory.known else None,
            None,
            footprint.replica_number,
            len(memory.nodes),
        )
    return judge_fit(
        memory,
        needed=footprint.peak_bytes,
        steady=footprint.total_selected,
        peak_low=footprint.peak_low_bytes,
        peak_high=footprint.peak_high_bytes,
        range_fields=footprint.range_fields,
        replicas=footprint.replica_number,
    )


def judge_fit(
    memory: ClusterMemory,
    *,
    needed: int,
    steady: int,
    peak_low: int,
    peak_high: int,
    range_fields: Sequence[str] = (),
    replicas: int = 1,
) -> Fit:
    """:func:`fit_verdict` on plain figures (bytes, replicas included): the loading peak ``needed``
    (``peak_low`` .. ``peak_high`` where ``range_fields`` are schema ranges) and the ``steady`` state.
    Pure and cheap: the load panel calls it on every click with the memory it read once."""
    replicas = max(replicas, 1)

    def fit(verdict: FitVerdict, reason: str, capacity: int | None = None) -> Fit:
        headroom = None if capacity is None else capacity - needed
        return Fit(verdict, reason, needed, steady, capacity, headroom, replicas, len(memory.nodes))

    if not memory.known:
        return fit(FitVerdict.UNKNOWN, f"unknown: {memory.reason}")
    if replicas > len(memory.nodes):
        return fit(
            FitVerdict.DOES_NOT_FIT,
            f"{replicas} replicas need {replicas} query nodes; the cluster has {len(memory.nodes)}",
            memory.capacity_bytes,
        )
    capacity = memory.capacity_bytes
    # each replica lives on its own group of nodes: deal the nodes (largest first) into one group a
    # replica; the smallest group must hold one replica's share
    groups = [0] * replicas
    for i, node_capacity in enumerate(sorted((n.capacity_bytes for n in memory.nodes), reverse=True)):
        groups[i % replicas] += node_capacity
    group_capacity = min(groups)
    per_replica = -(-needed // replicas)
    if needed > capacity or per_replica > group_capacity:
        if range_fields and peak_low <= capacity:
            reason = (
                f"peak {_mb(needed)} at typical sizes > capacity {_mb(capacity)}; it would fit only if "
                f"{', '.join(range_fields)} are near the schema's smallest values: pass a sample"
            )
        else:
            reason = f"peak while loading {_mb(needed)} > what the query nodes can take, {_mb(capacity)}"
        return fit(FitVerdict.DOES_NOT_FIT, reason, capacity)
    if range_fields and peak_high > capacity:
        return fit(
            FitVerdict.TIGHT,
            f"fits at typical sizes (peak {_mb(needed)} of {_mb(capacity)}), not at the schema's largest "
            f"values of {', '.join(range_fields)} (peak up to {_mb(peak_high)}): pass a sample",
            capacity,
        )
    if needed > TIGHT_SHARE * capacity:
        return fit(
            FitVerdict.TIGHT,
            f"peak {_mb(needed)} takes {needed / capacity:.0%} of what the query nodes can take ({_mb(capacity)})",
            capacity,
        )
    return fit(FitVerdict.FITS, f"peak {_mb(needed)} of {_mb(capacity)} the query nodes can take", capacity)


def _mb(n: int) -> str:
    if abs(n) >= 10**9:
        return f"{n / 1e9:.2f} GB"
    return f"{n / 1e6:.1f} MB"
