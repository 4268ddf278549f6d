"""Run a few calls concurrently and raise the first failure itself, not an exception group."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

__all__ = ["first_error", "gather"]


async def gather(*calls: Callable[[], Coroutine[Any, Any, object]]) -> None:
    """Await every call concurrently. If any fails, the others are cancelled and the first
    failure is raised as it is (its siblings' errors are dropped). Cancelling ``gather`` cancels all.
    """
    try:
        async with anyio.create_task_group() as tg:
            for call in calls:
                tg.start_soon(call)
    except BaseExceptionGroup as group:
        raise first_error(group) from None


def first_error(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups: not a cancellation, if there is one.
    An exception that is not a group is its own first error."""
    cancelled = anyio.get_cancelled_exc_class()
    leaves: list[BaseException] = []
    stack: list[BaseException] = [exc]
    while stack:
        exc = stack.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            stack[:0] = list(exc.exceptions)
        else:
            leaves.append(exc)
    return next((e for e in leaves if not isinstance(e, cancelled)), leaves[0] if leaves else exc)
