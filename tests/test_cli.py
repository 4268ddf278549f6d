"""The ``asyncload`` command line, run as a subprocess against real servers.

Milvus Lite for every command, output shape, usage error and message; the Milvus 2.3.5 standalone
for real progress, partitions, a wrong token and Ctrl-C during a wait (under a real terminal too).
A Milvus Lite ``.db`` cannot be opened by two processes at once: fixtures create the data, then
release the file before the CLI runs on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from asyncload.testing import MilvusStandalone

from ._data import drop_collection, make_collection

TOKEN_ENV = ("MILVUS_URI", "MILVUS_TOKEN")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TOKEN_ENV}
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncload", *args],
        capture_output=True,
        text=True,
        env=env or cli_env(),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def run_json(*args: str, env: dict[str, str] | None = None, code: int = 0) -> Any:
    result = run("--json", *args, env=env)
    assert result.returncode == code, result.stderr
    return json.loads(result.stdout)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The failure is one line on stderr, without a traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("asyncload: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def run_in_terminal(
    args: Sequence[str], *, env: dict[str, str], interrupt_when: str | None = None, timeout: float = 120
) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr; optionally SIGINT it once ``interrupt_when``
    shows up. Returns the exit code and everything it printed, ANSI codes removed."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "asyncload", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color", "COLUMNS": os.environ.get("PTY_COLUMNS", "120")},
        close_fds=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    pending_interrupt = interrupt_when  # None once sent, or when none was asked for
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            if pending_interrupt is not None and pending_interrupt in ANSI.sub(
                "", b"".join(chunks).decode(errors="replace")
            ):
                proc.send_signal(signal.SIGINT)
                pending_interrupt = None
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, ANSI.sub("", b"".join(chunks).decode(errors="replace")).replace("\r", "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------------- Milvus Lite


@pytest.fixture
def lite(tmp_path: Path) -> str:
    """A Lite database with 'books' (2,000 rows, partitions a and b, dynamic field) and 'films' (300 rows)."""
    from milvus_lite.server_manager import server_manager_instance

    path = str(tmp_path / "lite.db")
    uri = server_manager_instance.start_and_get_uri(path)
    make_collection(uri, None, "books", rows=2_000, dim=8, partitions=("a", "b"))
    make_collection(uri, None, "films", rows=300, dim=8, dynamic=False)
    server_manager_instance.release_server(path)  # the CLI subprocess opens the file next
    return path


def test_demo_on_milvus_lite_then_status_on_its_database(tmp_path: Path) -> None:
    result = run("demo", "--dir", str(tmp_path), "--rows", "4000")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step in range(1, 7):
        assert f"[{step}/6]" in out
    for text in (
        "demo_books",
        "demo_authors",
        "IVF_FLAT",
        "is now NOT_LOAD",
        "UnsupportedOperationError",
        "what happened",
    ):
        assert text in out
    assert re.search(r"fiction\s+LOADED\s+100%", out) and re.search(r"science\s+LOADED\s+100%", out)
    assert result.stderr == ""

    status = run_json("--uri", str(tmp_path / "demo.db"), "status")
    assert {c["name"]: c["rows"] for c in status["collections"]} == {"demo_authors": 2_000, "demo_books": 4_000}


def test_demo_json(tmp_path: Path) -> None:
    doc = run_json("demo", "--dir", str(tmp_path), "--rows", "2000")
    assert doc["server"] == "milvus-lite" and doc["database"] == str(tmp_path / "demo.db")
    assert [c["name"] for c in doc["collections"]] == ["demo_authors", "demo_books"]
    assert doc["load"]["state"] == "LOADED" and doc["load"]["percent"] == 100
    assert [(p["name"], p["state"]) for p in doc["partitions"]] == [("fiction", "LOADED"), ("science", "LOADED")]
    assert doc["released"] == "NOT_LOAD"
    selected = {f["name"] for f in doc["footprint"]["fields"] if f["selected"]}
    assert selected == {"id", "embedding", "title"}
    assert doc["footprint"]["totals"]["total_selected"] < doc["footprint"]["totals"]["total_all"]
    assert doc["rpcs"]["LoadCollection"] == 1


def test_status(lite: str) -> None:
    result = run("--uri", lite, "status")
    assert result.returncode == 0, result.stderr
    assert re.search(r"books\s+NOT_LOAD\s+0%\s+2,000\s+\S+ \w?i?B", result.stdout)
    assert re.search(r"films\s+NOT_LOAD\s+0%\s+300", result.stdout)

    doc = run_json("status", "--uri", lite)  # global options after the command too
    assert doc["uri"] == f"embedded Milvus Lite at {lite}"
    books, films = doc["collections"]
    assert set(books) == {
        "name",
        "state",
        "percent",
        "rows",
        "estimated_bytes",
        "estimated_from",
        "estimated_low",
        "estimated_high",
        "fit",
    }
    assert (books["name"], books["state"], books["percent"], books["rows"]) == ("books", "NOT_LOAD", 0, 2_000)
    assert books["estimated_bytes"] > 2_000 * 8 * 4 and films["name"] == "films"
    # not loaded, so not sampled: the VarChar and JSON fields make the figure a schema range
    assert books["estimated_from"] == "schema range"
    assert books["estimated_low"] < books["estimated_bytes"] < books["estimated_high"]
    assert books["fit"] == "unknown", "Milvus Lite does not report its memory: never a guess"
    assert re.search(r"books\s.*\S+ \w?i?B \*\s+unknown", result.stdout)
    assert "not sampled (not loaded: nothing to sample): a typical value inside a schema range" in result.stdout


def test_uri_from_the_environment_and_the_trio_backend(lite: str) -> None:
    doc = run_json("--backend", "trio", "status", env=cli_env(MILVUS_URI=lite))
    assert [c["name"] for c in doc["collections"]] == ["books", "films"]


def test_footprint(lite: str) -> None:
    result = run("--uri", lite, "footprint", "books", "--fields", "id,vec", "--skip-dynamic")
    assert result.returncode == 0, result.stderr
    assert "books: 2,000 rows" in result.stdout
    assert re.search(r"^vec\s+FloatVector\(8\)\s+FLAT.*yes", result.stdout, re.M)
    assert re.search(r"^title\s+VarChar.*\bno\b", result.stdout, re.M)
    for label in ("selected fields", "per-row overhead", "fixed", "total", "peak while loading", "fits?"):
        assert label in result.stdout
    assert re.search(r"fits\?\s+unknown\s+unknown: the server does not report its memory", result.stdout)
    everything = run("--uri", lite, "footprint", "books")
    assert re.search(r"^title\s+VarChar.*\.\..*schema range", everything.stdout, re.M)
    assert re.search(r"schema range\s+\S+ \w?i?B\.\.\S+ \w?i?B\s+not sampled: title, \$meta", everything.stdout)

    doc = run_json("--uri", lite, "footprint", "books", "--fields", "id,vec", "--skip-dynamic", "--replicas", "2")
    assert doc["collection"] == "books" and doc["rows"] == 2_000 and doc["replica_number"] == 2
    fields = {f["name"]: f for f in doc["fields"]}
    assert set(fields) == {"id", "vec", "title", "score", "$meta"}
    assert {n for n, f in fields.items() if f["selected"]} == {"id", "vec"}
    assert fields["vec"]["dtype"] == "FloatVector" and fields["vec"]["raw_bytes"] == 2 * 2_000 * 8 * 4
    totals = doc["totals"]
    assert totals["total_selected"] == totals["selected_bytes"] + totals["overhead_bytes"]
    assert 0 < totals["fixed_bytes"] < totals["overhead_bytes"]
    assert totals["exact"] is True, "id and vec are fixed width"
    assert doc["fit"]["verdict"] == "unknown" and doc["fit"]["capacity_bytes"] is None
    assert totals["total_all"] > totals["total_selected"] and isinstance(doc["assumptions"], list)


def test_load_and_release(lite: str) -> None:
    result = run("--uri", lite, "load", "books", "--fields", "id,vec", "--skip-dynamic", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    assert "books: LOADED 100%" in result.stdout
    assert "books is loaded (fields id, vec) without the dynamic field: 100%" in result.stdout
    assert "released when the command exits" in result.stdout  # Milvus Lite lives in the CLI's process

    doc = run_json("--uri", lite, "load", "films")
    assert doc["collection"] == "films" and doc["partitions"] == []
    assert (doc["state"], doc["percent"], doc["waited"], doc["submitted"]) == ("LOADED", 100, True, True)

    result = run("--uri", lite, "release", "books")
    assert (result.returncode, result.stdout.strip()) == (0, "released books (now: books NOT_LOAD)")
    doc = run_json("--uri", lite, "release", "films")
    assert doc == {"collection": "films", "partitions": [], "released": True, "state": {"films": "NOT_LOAD"}}


def test_load_under_a_terminal_shows_a_rich_progress_bar(lite: str) -> None:
    pytest.importorskip("rich")
    code, screen = run_in_terminal(["--uri", lite, "load", "books"], env=cli_env())
    assert code == 0, screen
    assert "━" in screen and "LOADED" in screen and "books is loaded" in screen


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["load", "nope"],
            "collection 'nope' does not exist at embedded Milvus Lite at {lite} (collections there: books, films)",
        ),
        (
            ["footprint", "books", "--fields", "id,vec,nope"],
            "collection 'books' has no field 'nope'; its fields: id, vec, title, score",
        ),
        (
            ["load", "books", "--fields", "id,title"],
            "--fields must include the primary key and a vector field (missing vec)",
        ),
        (["load", "books", "--fields", "id,vec,$meta"], "--fields cannot name the dynamic field $meta"),
        (
            ["load", "books", "--partitions", "a,zz"],
            "collection 'books' has no partition 'zz' (its partitions: _default, a, b)",
        ),
        (["load", "books", "--partitions", "a"], "embedded Milvus Lite: MilvusLite does not support LoadPartitions"),
        (
            ["release", "books", "--partitions", "a"],
            "embedded Milvus Lite: MilvusLite does not support ReleasePartitions",
        ),
        (["release", "nope"], "collection 'nope' does not exist"),
    ],
)
def test_failures_are_one_clear_line_and_exit_1(lite: str, args: list[str], message: str) -> None:
    result = run("--uri", lite, *args)
    assert result.returncode == 1
    assert message.format(lite=lite) in one_error_line(result)
    assert result.stdout == ""


def test_json_errors_and_debug_tracebacks(lite: str) -> None:
    doc = run_json("--uri", lite, "footprint", "nope", code=1)
    assert set(doc) == {"error"} and doc["error"]["type"] == "CollectionNotFoundError"
    assert doc["error"]["message"].startswith("collection 'nope' does not exist") and doc["error"]["code"] == 100

    result = run("--uri", lite, "--debug", "load", "nope")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "CollectionNotFoundError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("asyncload: error: collection 'nope'")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "usage: asyncload"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["load"], "the following arguments are required: COLLECTION"),
        (["load", "books", "--replicas", "0"], "argument --replicas: expected a positive whole number"),
        (["load", "books", "--timeout", "-1"], "argument --timeout: expected a positive number of seconds"),
        (["load", "books", "--fields", "id,,vec"], "argument --fields: expected comma-separated names"),
        (["load", "books", "--frobnicate"], "usage: asyncload load"),
        (["wait", "books", "--fields", "id"], "usage: asyncload wait"),
        (["wait", "books", "--timeout", "0"], "argument --timeout: expected a positive number of seconds"),
        (["footprint", "books", "--fields", "id,id"], "argument --fields: id named more than once"),
        (["--uri", "ftp://somewhere", "status"], "bad --uri or --db: unsupported URI scheme 'ftp'"),
        (["--uri", "/no/such/dir/x.db", "status"], "directory '/no/such/dir' does not exist"),
        (["--uri", "http://host:notaport", "status"], "bad port in URI"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_server(tmp_path: Path) -> None:
    port = free_port()
    result = run("--uri", f"http://127.0.0.1:{port}", "status")
    assert result.returncode == 1
    assert f"cannot reach Milvus at http://127.0.0.1:{port} (is it running? set --uri or MILVUS_URI)" in (
        one_error_line(result)
    )


def test_the_token_is_never_printed() -> None:
    port = free_port()
    secrets = ("s3cret-Pa55word", "hunter2-dont-show")
    for args in (
        ["--debug", "--uri", f"http://root:{secrets[0]}@127.0.0.1:{port}", "status"],
        ["--debug", "--uri", f"ftp://root:{secrets[0]}@127.0.0.1:{port}", "status"],
        ["--debug", "--json", "--uri", f"http://127.0.0.1:{port}", "--token", f"root:{secrets[1]}", "status"],
    ):
        result = run(*args, env=cli_env(MILVUS_TOKEN=f"root:{secrets[1]}"))
        assert result.returncode in (1, 2)
        for secret in secrets:
            assert secret not in result.stdout + result.stderr


def test_demo_standalone_without_the_milvus_package_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "fake" / "milvus"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('__version__ = "0.0-fake"\n')
    env = cli_env(PYTHONPATH=os.pathsep.join(filter(None, [str(fake.parent), os.environ.get("PYTHONPATH")])))
    result = run("demo", "--standalone", env=env)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "--standalone needs a local Milvus 2.3.5" in line and "pip install milvus==2.3.5" in line


def test_the_trio_backend_without_trio_says_which_extra(tmp_path: Path) -> None:
    hidden = tmp_path / "hidden" / "trio"  # first on the path: "import trio" fails as if not installed
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError(\"No module named 'trio'\")\n")
    env = cli_env(PYTHONPATH=os.pathsep.join(filter(None, [str(hidden.parent), os.environ.get("PYTHONPATH")])))
    result = run("--uri", str(tmp_path / "x.db"), "--backend", "trio", "status", env=env)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "--backend trio needs trio" in line and "pip install 'asyncload-milvus[trio]'" in line
    assert not (tmp_path / "x.db").exists(), "nothing ran"
    document = run_json("--uri", str(tmp_path / "x.db"), "status", "--backend", "trio", env=env, code=2)
    assert document["error"]["message"] == line.removeprefix("asyncload: error: ")


# ------------------------------------------------------------------------------- Milvus standalone


@pytest.fixture(scope="module")
def standalone(milvus_standalone: MilvusStandalone) -> Iterator[dict[str, str]]:
    """'cli_big' (60,000 rows x 128-d in 4 segments over partitions a and b) on the session's standalone;
    yields the CLI environment for it (URI and token in MILVUS_URI / MILVUS_TOKEN)."""
    uri, token = milvus_standalone.uri, milvus_standalone.token
    assert token is not None
    make_collection(uri, token, "cli_big", rows=60_000, dim=128, partitions=("a", "b"), segments=2)
    yield cli_env(MILVUS_URI=uri, MILVUS_TOKEN=token)
    drop_collection(uri, token, "cli_big")


def state_of(env: dict[str, str], name: str = "cli_big") -> tuple[str, int]:
    doc = run_json("status", env=env)
    row = next(c for c in doc["collections"] if c["name"] == name)
    return row["state"], row["percent"]


@pytest.mark.standalone
def test_standalone_load_shows_progress_then_status_and_release(standalone: dict[str, str]) -> None:
    result = run("load", "cli_big", "--fields", "id,vec", "--timeout", "120", env=standalone)
    assert result.returncode == 0, result.stderr
    percents = [int(p) for p in re.findall(r"^cli_big: LOAD\w* (\d+)%", result.stdout, re.M)]
    assert percents[0] < 100 and percents[-1] == 100 and percents == sorted(percents)
    assert any(0 < p < 100 for p in percents), result.stdout
    assert state_of(standalone) == ("LOADED", 100)

    doc = run_json("release", "cli_big", env=standalone)
    assert doc["state"] == {"cli_big": "NOT_LOAD"} and state_of(standalone) == ("NOT_LOAD", 0)


@pytest.mark.standalone
def test_standalone_partitions(standalone: dict[str, str]) -> None:
    doc = run_json("load", "cli_big", "--partitions", "a", env=standalone)
    assert (doc["partitions"], doc["state"], doc["percent"]) == (["a"], "LOADED", 100)
    doc = run_json("release", "cli_big", "--partitions", "a", env=standalone)
    assert doc == {"collection": "cli_big", "partitions": ["a"], "released": True, "state": {"a": "NOT_LOAD"}}
    result = run("load", "cli_big", "--partitions", "zz", env=standalone)
    assert result.returncode == 1 and "has no partition 'zz'" in one_error_line(result)


@pytest.mark.standalone
def test_standalone_no_wait_then_a_timeout(standalone: dict[str, str]) -> None:
    try:
        doc = run_json("load", "cli_big", "--no-wait", env=standalone)
        assert (doc["submitted"], doc["waited"], doc["state"]) == (True, False, "LOADING")
        result = run("load", "cli_big", "--timeout", "0.5", env=standalone)
        assert result.returncode == 1
        line = one_error_line(result)
        assert "cli_big is still loading after 0.5 s" in line and "the load continues on the server" in line
    finally:
        run("release", "cli_big", env=standalone)


@pytest.mark.standalone
@pytest.mark.parametrize("token", ["root:not-the-password", None])
def test_standalone_wrong_or_missing_token(standalone: dict[str, str], token: str | None) -> None:
    env = {k: v for k, v in standalone.items() if k != "MILVUS_TOKEN"}
    args = ["--token", token] if token else []
    result = run(*args, "status", env=env)
    assert result.returncode == 1
    line = one_error_line(result)
    if token:
        assert "refused the token: check --token / MILVUS_TOKEN" in line and "not-the-password" not in line
    else:
        assert "requires authentication: pass --token user:password (or set MILVUS_TOKEN)" in line


@pytest.mark.standalone
def test_standalone_unknown_database(standalone: dict[str, str]) -> None:
    result = run("--db", "no_such_db", "status", env=standalone)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "database not found" in line and "no_such_db" in line and "(check --db)" in line


@pytest.mark.standalone
def test_standalone_ctrl_c_in_a_terminal_stops_waiting_and_the_load_goes_on(standalone: dict[str, str]) -> None:
    try:
        code, screen = run_in_terminal(["load", "cli_big"], env=standalone, interrupt_when="LOADING")
        assert code == 130, screen
        assert "interrupted: stopped waiting; the load of cli_big continues on the server" in screen
        assert "Traceback" not in screen
        state, _ = state_of(standalone)
        assert state in ("LOADING", "LOADED")
    finally:
        run("release", "cli_big", env=standalone)


@pytest.mark.standalone
def test_standalone_ctrl_c_with_release_on_interrupt(standalone: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "asyncload", "load", "cli_big", "--release-on-interrupt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=standalone,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # plain output: one line per progress change
        assert first.startswith("cli_big: LOADING"), first
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: released cli_big, which stops its load on the server" in err
    assert "is loaded" not in rest
    assert state_of(standalone) == ("NOT_LOAD", 0)


@pytest.mark.standalone
def test_standalone_ctrl_c_json(standalone: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "asyncload", "--json", "load", "cli_big", "--partitions", "a,b"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=standalone,
    )
    try:
        deadline = time.monotonic() + 30
        while state_of(standalone)[0] != "LOADING" and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        doc = json.loads(out)
        assert (doc["interrupted"], doc["released"], doc["submitted"], doc["partitions"]) == (
            True,
            False,
            True,
            ["a", "b"],
        )
        assert doc["state"] in ("LOADING", "LOADED")
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        run("release", "cli_big", env=standalone)


@pytest.mark.standalone
def test_demo_on_a_standalone(tmp_path: Path, milvus_standalone: MilvusStandalone) -> None:
    """demo --standalone starts its own Milvus 2.3.5 (on free ports, beside the session's) and stops it."""
    doc = run_json("demo", "--standalone", "--dir", str(tmp_path), "--rows", "20000")
    assert doc["server"] == "milvus-standalone-2.3.5"
    assert doc["load"]["state"] == "LOADED"
    assert [(p["name"], p["state"]) for p in doc["partitions"]] == [("fiction", "LOADED"), ("science", "NOT_LOAD")]
    assert doc["released"] == "NOT_LOAD" and doc["rpcs"]["LoadPartitions"] == 1
    assert list(tmp_path.iterdir()) == [], "the demo's server data is removed"


def test_footprint_of_a_loaded_collection_on_lite_says_its_measured_memory_is_unknown(tmp_path: Path) -> None:
    """Milvus Lite lives in the CLI's own process (a load ends with it): the same view in-process."""
    import io

    import anyio
    from milvus_lite.server_manager import server_manager_instance

    import asyncload
    from asyncload.cli.output import Output
    from asyncload.cli.views import show_footprint

    path = str(tmp_path / "lite.db")
    make_collection(server_manager_instance.start_and_get_uri(path), None, "films", rows=300, dim=8, dynamic=False)

    async def main() -> tuple[Any, Any, Any]:
        async with asyncload.connect(path) as client:
            await (await client.load_collection("films"))
            fp = await client.footprint_estimate("films")
            return fp, await client.footprint_fit(fp), await client.footprint("films")

    try:
        fp, fit, df = anyio.run(main)
    finally:
        server_manager_instance.release_server(path)
    assert fp.loaded and fp.measured_bytes is None and fit.verdict.value == "loaded"
    assert df.attrs["measured_bytes"] is None and df.attrs["measured"].startswith("unknown")
    assert df.attrs["fit"]["verdict"] == "loaded", "no double count: its memory is in what the nodes use"
    buffer = io.StringIO()
    show_footprint(Output(stdout=buffer, stderr=io.StringIO()), fp, fit=fit, assumptions=False)
    text = buffer.getvalue()
    assert re.search(r"measured \(loaded\)\s+\?\s+unknown: the server does not implement GetQuerySegmentInfo", text)
    assert re.search(r"fits\?\s+loaded\s+loaded already", text)


@pytest.mark.standalone
def test_standalone_footprint_of_a_loaded_collection_says_2_3_5_answers_0(standalone: dict[str, str]) -> None:
    result = run("load", "cli_big", "--fields", "id,vec", "--timeout", "120", env=standalone)
    assert result.returncode == 0, result.stderr
    try:
        shown = run("footprint", "cli_big", env=standalone)
        assert shown.returncode == 0, shown.stderr
        assert re.search(
            r"measured \(loaded\)\s+\?\s+the server does not report loaded memory \(Milvus 2\.3\.5 answers 0\)",
            shown.stdout,
        ), shown.stdout
        assert re.search(r"fits\?\s+loaded\s+loaded already", shown.stdout)
        doc = run_json("footprint", "cli_big", env=standalone)
        assert doc["loaded"] is True and doc["measured_bytes"] is None and doc["fit"]["verdict"] == "loaded"
        assert "answers 0" in doc["measured"]
    finally:
        run("release", "cli_big", env=standalone)
    shown = run("footprint", "cli_big", env=standalone)
    assert "measured (loaded)" not in shown.stdout and not re.search(r"fits\?\s+loaded", shown.stdout)
