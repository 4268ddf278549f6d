"""Which public call an error belongs to, and the close names a not-found error suggests.

Every public :class:`~asyncload.AsyncClient` coroutine is wrapped by :func:`user_call`: while it
runs, the RPCs it sends label their errors with the user's call (``footprint('books'): ...``)
instead of the internal step that failed (``describe_index: ...``). A nested public call keeps the
outermost label. When the call fails with a collection or partition that does not exist, one extra
RPC lists the names that do, and the error is raised again naming the close ones.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import anyio

from .errors import AsyncLoadError, CollectionNotFoundError, NotFoundError, PartitionNotFoundError

__all__ = ["close_names", "current_call", "describe_call", "suggest_names", "user_call", "with_suggestions"]

_CALL: ContextVar[str | None] = ContextVar("asyncload_user_call", default=None)
_MAX_ARG = 60

P = ParamSpec("P")
R = TypeVar("R")


class _Lister(Protocol):
    def list_collections(self) -> Awaitable[list[str]]: ...
    def list_partitions(self, collection: str) -> Awaitable[list[str]]: ...


C = TypeVar("C", bound=_Lister)


def current_call() -> str | None:
    """The label of the public call running in this context (None outside one)."""
    return _CALL.get()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_ARG else text[: _MAX_ARG - 3] + "..."


def describe_call(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """``footprint('books')``, ``load_partitions('books', ['p1'])``: the method and its target only
    (names of collections and partitions; never other arguments, so nothing secret)."""
    shown = [a for a in args[:2] if isinstance(a, str | list | tuple)]
    for key in ("collection", "partition_names", "partition_name"):
        if key in kwargs and len(shown) < 2:
            shown.append(kwargs[key])
    return f"{name}({', '.join(_short(a) for a in shown)})"


def close_names(name: str, candidates: Iterable[str], *, limit: int = 3) -> tuple[str, ...]:
    """Existing names that look like ``name``: the same but for case first, then difflib's closest."""
    pool = [c for c in candidates if c != name]
    same_case = [c for c in pool if c.lower() == name.lower()]
    close = difflib.get_close_matches(name, pool, n=limit, cutoff=0.6)
    return tuple(dict.fromkeys(same_case + close))[:limit]


def with_suggestions(error: NotFoundError, suggestions: Sequence[str]) -> NotFoundError:
    """A copy of a collection/partition not-found ``error`` whose message ends "did you mean ...?"."""
    if not suggestions:
        return error
    hint = f"; did you mean {' or '.join(map(repr, suggestions))}?"
    new: NotFoundError
    if isinstance(error, PartitionNotFoundError):
        new = PartitionNotFoundError(
            error.collection, error.partition, reason=error.reason + hint, code=error.code, operation=error.operation
        )
    elif isinstance(error, CollectionNotFoundError):
        new = CollectionNotFoundError(
            error.collection, reason=error.reason + hint, code=error.code, operation=error.operation
        )
    else:
        return error
    new.suggestions = tuple(suggestions)
    return new


async def suggest_names(lister: _Lister, error: NotFoundError) -> NotFoundError:
    """``error`` with close existing names, at the cost of one listing RPC (bounded to 2 s; any
    failure of that RPC leaves the error as it was)."""
    if error.suggestions or not isinstance(error, CollectionNotFoundError | PartitionNotFoundError):
        return error
    try:
        with anyio.fail_after(2):
            if isinstance(error, PartitionNotFoundError):
                if error.partition is None:
                    return error
                found = close_names(error.partition, await lister.list_partitions(error.collection))
            else:
                found = close_names(error.collection, await lister.list_collections())
    except (AsyncLoadError, TimeoutError):
        return error
    return with_suggestions(error, found)


def user_call(method: Callable[Concatenate[C, P], Awaitable[R]]) -> Callable[Concatenate[C, P], Awaitable[R]]:
    """Label the errors of RPCs sent while ``method`` runs with the user's call; see the module docstring."""
    name = method.__name__

    @functools.wraps(method)
    async def wrapper(self: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if _CALL.get() is not None:
            return await method(self, *args, **kwargs)
        token = _CALL.set(describe_call(name, args, kwargs))
        try:
            return await method(self, *args, **kwargs)
        except NotFoundError as exc:
            better = await suggest_names(self, exc)
            if better is exc:
                raise
            raise better from exc
        finally:
            _CALL.reset(token)

    return wrapper
