"""Shared fixtures: both anyio backends for every async test, the Milvus servers from asyncload.testing."""

from __future__ import annotations

import pytest

pytest_plugins = ["asyncload.testing"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
