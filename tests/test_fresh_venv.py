"""The README's quick start and each extra's promise, in a fresh virtual environment.

Builds the wheel of this checkout, creates a venv (no system site-packages, nothing from this
checkout on the path), installs ``asyncload-milvus[jupyter]`` from the wheel and checks that:

- the quick start's ``asyncload demo`` runs from the console script;
- the three notebooks in notebooks/ run top to bottom in a kernel of that venv (the extra
  ``jupyter`` is all they need);
- without the extra ``trio``, ``asyncload --backend trio`` says which extra to install; after
  ``pip install "asyncload-milvus[trio]"`` an example runs on trio;
- the wheel's metadata lists what each extra promises.

Slow (a minute or two: pip reuses its cache), so it runs under CI (``CI`` set, as in .ci/run) or with
``ASYNCLOAD_FRESH_VENV=1``; elsewhere it is skipped with that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import asyncload

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DIST = "asyncload-milvus"


def _enabled(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (_enabled("CI") or _enabled("ASYNCLOAD_FRESH_VENV")),
        reason="slow (builds the wheel, installs it in a new venv): runs under CI or with ASYNCLOAD_FRESH_VENV=1",
    ),
]


@dataclass(frozen=True)
class FreshVenv:
    root: Path
    wheel: Path
    work: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def env(self) -> dict[str, str]:
        """The venv first on PATH, nothing of this checkout or of the outer environment's Python."""
        skip = ("PYTHON", "VIRTUAL_ENV", "ASYNCLOAD_", "MILVUS_", "JUPYTER_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
        env["PATH"] = os.pathsep.join([str(self.root / "bin"), env.get("PATH", "")])
        env["VIRTUAL_ENV"] = str(self.root)
        return env

    def run(self, *args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(a) for a in args],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return result

    def check(self, *args: str | Path, timeout: float = 600) -> str:
        result = self.run(*args, timeout=timeout)
        assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        return result.stdout

    def pip_install(self, requirement: str) -> None:
        self.check(self.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshVenv]:
    base = tmp_path_factory.mktemp("fresh-venv")
    dist = base / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-6000:]
    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith("asyncload_milvus-"), wheel.name
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(base / "venv")
    work = base / "work"
    work.mkdir()
    fresh = FreshVenv(base / "venv", wheel, work)
    fresh.pip_install(f"{DIST}[jupyter] @ {wheel.as_uri()}")
    yield fresh
    shutil.rmtree(base, ignore_errors=True)


def test_the_wheel_is_asyncload_milvus_importing_asyncload_from_the_venv(fresh: FreshVenv) -> None:
    out = fresh.check(
        fresh.python,
        "-c",
        "import asyncload, importlib.metadata as m, json; "
        "print(json.dumps([asyncload.__file__, m.version('asyncload-milvus'), m.requires('asyncload-milvus')]))",
    )
    where, version, requires = json.loads(out)
    assert Path(where).is_relative_to(fresh.root), "asyncload imported from the fresh venv, not the checkout"
    assert version == asyncload.__version__

    def extra(name: str) -> dict[str, set[str]]:
        """The requirements of one extra: name -> the extras they ask for."""
        found = [Requirement(r) for r in requires]
        return {r.name: r.extras for r in found if r.marker is not None and r.marker.evaluate({"extra": name})}

    assert {"ipywidgets", "jinja2", "matplotlib", "ipykernel"} <= extra("jupyter").keys()
    assert extra("trio") == {"trio": set()}
    # hatchling writes a self-referencing extra ("asyncload-milvus[jupyter]") out as its requirements
    jupyter = extra("jupyter").keys()
    assert jupyter | {"jupyterlab"} <= extra("notebook").keys()
    test = extra("test").keys()
    assert (
        jupyter | {"trio", "jupyterlab", "pytest", "nbclient", "mkdocs", "mkdocstrings", "mkdocstrings-python"} <= test
    )


def test_the_quick_start_demo_runs_from_the_console_script(fresh: FreshVenv) -> None:
    out = fresh.check(fresh.bin / "asyncload", "demo", timeout=300)
    assert "demo_books" in out and "what happened" in out


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_notebooks_run_in_a_kernel_of_the_jupyter_extra(
    fresh: FreshVenv, notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat", reason="the notebook tools: pip install '.[test]'")
    nbclient = pytest.importorskip("nbclient", reason="the notebook tools: pip install '.[test]'")
    # A kernelspec for the fresh venv's Python; nbclient (of this environment) only talks to it.
    spec = tmp_path / "share" / "jupyter" / "kernels" / "fresh"
    spec.mkdir(parents=True)
    argv = [str(fresh.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "fresh", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    workdir = tmp_path / "work"
    workdir.mkdir()
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="fresh", resources={"metadata": {"path": str(workdir)}}, allow_errors=False
    )
    client.execute(env={**fresh.env, "MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o["output_type"] == "error"]
    assert errors == []
    assert list(workdir.glob("*.db")), "the notebook ran on the embedded default beside it"


def test_the_trio_extra_runs_an_example_on_trio(fresh: FreshVenv) -> None:
    # Only the jupyter extra so far (this is the module's last test): no trio, and the command line
    # says which extra brings it.
    assert fresh.run(fresh.python, "-c", "import trio").returncode != 0, "trio came without the trio extra"
    missing = fresh.run(fresh.bin / "asyncload", "--uri", fresh.work / "nothing.db", "--backend", "trio", "status")
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "asyncload: error: --backend trio needs trio, which is not installed: pip install 'asyncload-milvus[trio]'"
    )
    fresh.pip_install(f"{DIST}[jupyter,trio] @ {fresh.wheel.as_uri()}")
    out = fresh.check(fresh.python, ROOT / "examples" / "quickstart.py", "--backend", "trio", "--dir", fresh.work)
    assert "running on trio" in out and "released; state: NOT_LOAD" in out
    status = fresh.check(fresh.bin / "asyncload", "--uri", fresh.work / "quickstart.db", "--backend", "trio", "status")
    assert "books" in status
