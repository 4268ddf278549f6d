"""Test support: a throw-away Milvus 2.3.5 standalone server and pytest fixtures.

This module is a pytest plugin. Enable it in a ``conftest.py``::

    pytest_plugins = ["asyncload.testing"]

and ask for the fixtures:

``milvus_standalone``
    A real Milvus 2.3.5 standalone (the Go/C++ server from the PyPI ``milvus`` package, installed by
    ``pip install "asyncload-milvus[test]"``), started once per test session with authorization on
    (user ``root``, password ``Milvus``). Use ``milvus_standalone.uri`` and ``milvus_standalone.token``.
    Where it cannot run (not Linux x86_64, package missing) the test is skipped with the reason; when the
    environment variable ``CI`` is set (to anything but ``""``, ``0`` or ``false``) it fails instead, so a
    CI run never passes by silently skipping.

``milvus_lite_path``
    A fresh path ``<tmp_path>/lite.db`` (a string) for Milvus Lite, the embedded server.

:class:`MilvusStandalone` can also be used on its own, e.g. in a script::

    with MilvusStandalone(authorization=True) as server:
        print(server.uri, server.token)

Every port the server opens (gRPC proxy, internal ports of all components, embedded etcd client and peer,
metrics/health) is a free port picked at start, so several instances, or a Milvus of your own on the
default ports, do not clash. Each instance gets a fresh temporary data directory, removed by
:meth:`MilvusStandalone.stop`. The server binaries are unpacked once into a cache directory
(``$ASYNCLOAD_MILVUS_CACHE``, else ``$XDG_CACHE_HOME/asyncload`` or ``~/.cache/asyncload``) and shared.

Only this module imports pytest; the rest of asyncload does not need it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

try:
    import pytest
except ImportError as exc:  # pytest comes with the test extra
    raise ImportError(
        "asyncload.testing is a pytest plugin and needs pytest: pip install 'asyncload-milvus[test]'"
    ) from exc

from ._public import publish as _publish
from ._servers.standalone import (
    MILVUS_VERSION as MILVUS_VERSION,
)
from ._servers.standalone import (
    ROOT_TOKEN as ROOT_TOKEN,
)
from ._servers.standalone import (
    MilvusStandalone as MilvusStandalone,
)
from ._servers.standalone import (
    MilvusStandaloneError as MilvusStandaloneError,
)
from ._servers.standalone import (
    StandaloneTLS as StandaloneTLS,
)
from ._servers.standalone import (
    standalone_available as standalone_available,
)

__all__ = [
    "MILVUS_VERSION",
    "ROOT_TOKEN",
    "MilvusStandalone",
    "MilvusStandaloneError",
    "StandaloneTLS",
    "milvus_lite_path",
    "milvus_standalone",
    "require_standalone",
    "standalone_available",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def milvus_standalone() -> Iterator[MilvusStandalone]:
    """A Milvus 2.3.5 standalone shared by the whole session, authorization on (token ``root:Milvus``).

    Skipped where it cannot run, with the reason; a failure instead when ``CI`` is set. Collections
    made by one test stay for the next: give them unique names, and drop them when done.
    """
    require_standalone()
    with MilvusStandalone(authorization=True) as server:
        yield server


def require_standalone() -> None:
    """Skip the calling test (or fixture) where :class:`MilvusStandalone` cannot run, with the reason;
    fail instead when ``CI`` is set. For fixtures starting servers of their own (e.g. with TLS)."""
    reason = standalone_available()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"Milvus standalone unavailable in CI: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def milvus_lite_path(tmp_path: Path) -> str:
    """A fresh Milvus Lite database path, ``<tmp_path>/lite.db`` (a string; the file does not exist yet)."""
    return str(tmp_path / "lite.db")


_publish(globals(), __all__, __name__)
