"""Public names report the public module they are used from, not the private one defining them.

``asyncload.LoadTask.__module__`` is ``'asyncload'`` (not ``'asyncload._tasks'``), so tracebacks,
reprs, pickles and generated docs name the import path users write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["publish"]


def publish(namespace: Mapping[str, object], names: Iterable[str], module: str) -> None:
    """Set ``__module__`` to ``module`` on the classes and functions among ``names`` that a private
    module (one with a ``_``-prefixed component) or a submodule of ``module`` defines."""
    for name in names:
        obj = namespace[name]
        current = getattr(obj, "__module__", None)
        if not isinstance(current, str) or not current.startswith("asyncload"):
            continue
        inner = current.startswith(module + ".") or any(part.startswith("_") for part in current.split("."))
        if inner and (isinstance(obj, type) or callable(obj)):
            try:
                obj.__module__ = module
            except (AttributeError, TypeError):  # pragma: no cover - builtins and the like
                continue
