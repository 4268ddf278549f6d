"""Messages that name what the user did, on the embedded default (Milvus Lite) and without a server."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import asyncload
from asyncload._calls import close_names, describe_call
from asyncload._transport.errors import user_names

from ._data import make_collection
from .test_cli import one_error_line, run

pytestmark = pytest.mark.anyio


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[str]:
    """A Milvus Lite database path holding 'books' (200 rows), not loaded."""
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "lite.db")
    make_collection(server_manager_instance.start_and_get_uri(path), None, "books", rows=200, dim=8)
    yield path
    server_manager_instance.release_server(path)


async def test_errors_name_the_users_call_and_suggest_close_names(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        with pytest.raises(asyncload.CollectionNotFoundError) as info:
            await client.footprint("boks")
        message = str(info.value)
        assert message.startswith("footprint('boks'): "), message
        assert "describe_collection" not in message and "describe_index" not in message
        assert info.value.suggestions == ("books",)
        assert "did you mean 'books'?" in message
        with pytest.raises(asyncload.CollectionNotFoundError) as load:
            await client.load_collection("Books", load_fields=["id", "vec"])
        assert str(load.value).startswith("load_collection('Books'): ")
        assert load.value.suggestions == ("books",), "the same name in another case comes first"
        with pytest.raises(asyncload.CollectionNotFoundError) as far:
            await client.row_count("zzz")
        assert far.value.suggestions == () and "did you mean" not in str(far.value)
        assert client.statistics().rpcs["ShowCollections"] == 3, "one listing per not-found error"


async def test_a_released_task_says_released_on_lite(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        task = await client.load_collection("books")
        assert "LOADED 100% (done)" in repr(task)
        await task.release()
        assert repr(task) == "<LoadTask books released (after loading 100%)>"
        again = await client.load_collection("books")
        assert "LOADED 100% (done)" in repr(again), "a new load is not the released one"
        await client.release_collection("books")
        assert "released" in repr(again)


async def test_following_on_lite(lite: str) -> None:
    async with asyncload.connect(lite) as client:
        with pytest.raises(asyncload.NotLoadedError, match=r"follow_load\('books'\): 'books' is neither"):
            await client.follow_load("books")
        await (await client.load_collection("books")).wait()
        async with asyncload.connect(lite) as other:
            task = await other.follow_load("books")
            assert task.done() and task.followed
            assert (await task).loaded
            assert "LoadCollection" not in other.statistics().rpcs


@pytest.fixture
def held_db(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A Milvus Lite path held open by another process: (path, that process's PID)."""
    path = str(tmp_path / "held.db")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from milvus_lite.server_manager import server_manager_instance
                print(server_manager_instance.start_and_get_uri({path!r}), flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdin is not None
    try:
        assert holder.stdout.readline().startswith("http://"), "the other process holds the .db"
        yield path, holder.pid
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


async def test_a_db_locked_by_another_process_is_one_clean_error(
    held_db: tuple[str, int], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    path, pid = held_db
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG), pytest.raises(asyncload.DatabaseLockedError) as info:
        async with asyncload.connect(path):
            pass
    assert info.value.pid == pid
    assert f"in use by another process (PID {pid})" in str(info.value)
    assert isinstance(info.value, asyncload.ServerUnavailableError)
    assert info.value.__cause__ is None and info.value.__suppress_context__, "milvus_lite's chain is not shown"
    assert not [r for r in caplog.records if r.name.startswith("milvus_lite")], "no milvus_lite traceback logged"
    assert "Traceback" not in capfd.readouterr().err


def test_internal_ids_are_replaced_by_the_names_asked_for() -> None:
    reason = "collection not found[collection=470840354361008838]"
    assert user_names(reason, "books") == "collection not found[collection=books]"
    assert user_names("collection not loaded[collectionID=470840354361008838]", "books") == (
        "collection not loaded[collectionID=books]"
    )
    assert user_names("partition not found[partition=470840354361008999]", "books", ("p1",)) == (
        "partition not found[partition=p1]"
    )
    assert user_names("collection not found[collection=470840354361008838]", None) == reason


def test_call_labels_and_close_names() -> None:
    assert describe_call("footprint", ("books",), {"load_fields": ["secret"]}) == "footprint('books')"
    assert describe_call("load_partitions", ("books", ["p1"]), {}) == "load_partitions('books', ['p1'])"
    assert describe_call("list_collections", (), {}) == "list_collections()"
    assert len(describe_call("follow_load", ("b" * 100,), {})) < 80
    assert close_names("boks", ["books", "cars", "bookz"]) == ("books", "bookz")
    assert close_names("BOOKS", ["books"]) == ("books",)
    assert close_names("books", ["books"]) == ()


def test_the_cli_names_the_process_holding_a_db(held_db: tuple[str, int]) -> None:
    path, pid = held_db
    result = run("--uri", path, "status")
    assert result.returncode == 1
    assert f"is in use by another process (PID {pid})" in one_error_line(result)


def test_the_cli_suggests_close_names_and_explains_nothing_to_wait_for(tmp_path: Path) -> None:
    from milvus_lite.server_manager import server_manager_instance

    lite = str(tmp_path / "cli.db")
    make_collection(server_manager_instance.start_and_get_uri(lite), None, "books", rows=200, dim=8)
    server_manager_instance.release_server(lite)  # the CLI subprocess opens the file next
    result = run("--uri", lite, "load", "boks")
    assert result.returncode == 1
    assert "did you mean 'books'?" in one_error_line(result)
    result = run("--uri", lite, "wait", "books")
    assert result.returncode == 1
    assert "'books' is neither loading nor loaded (NOT_LOAD)" in one_error_line(result)


def test_the_cli_keeps_grpc_log_lines_out(tmp_path: Path) -> None:
    """gRPC's C core reads GRPC_VERBOSITY when grpc is imported: the CLI sets it before the engine imports grpc."""
    probe = textwrap.dedent(
        f"""
        import builtins, os, sys
        at_import = []
        real_import = builtins.__import__
        def spy(name, *args, **kwargs):
            if name.split(".")[0] == "grpc" and not at_import:
                at_import.append(os.environ.get("GRPC_VERBOSITY"))
            return real_import(name, *args, **kwargs)
        builtins.__import__ = spy
        from asyncload.cli import main
        code = main(["--uri", {str(tmp_path / "probe.db")!r}, "status"])
        print(code, "grpc" in sys.modules, at_import)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "GRPC_VERBOSITY"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "0 True ['NONE']", result.stdout + result.stderr
