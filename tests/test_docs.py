"""The docs: the site builds in strict mode with every public name on it, and every Python block runs.

``mkdocs build --strict`` (warnings fail) builds mkdocs.yml into a temp dir; every page in docs/ is in
the nav and every name in the public modules' ``__all__`` has its entry in the API reference.

Every ```python block of README.md and docs/*.md runs as pasted, as its own script in a fresh temp
dir, against the embedded Milvus Lite default. A block may be preceded by one HTML comment:

- ``<!-- run-before: asyncload demo --dir . -->``: a command the block's prose tells the reader to
  run first (here the demo leaving ./demo.db with its sample collections);
- ``<!-- not-run: REASON -->``: a block that cannot run here, e.g. one that needs a standalone
  server; visible in the page source, and kept to a few (see ``test_few_blocks_are_not_run``).

A block with top-level ``await`` is a notebook cell: it runs on asyncio, as ipykernel runs cells.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import asyncload

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
PUBLIC_MODULES = ["asyncload.errors", "asyncload.footprint", "asyncload.widgets", "asyncload.testing"]
MAX_NOT_RUN = 3

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
_MARK = re.compile(r"<!--\s*(run-before|not-run):\s*(.*?)\s*-->\s*$")

# Runs a block like a script (``__name__ == "__main__"``), or on asyncio like a notebook cell when it
# has top-level await (the compile flag ipykernel uses).
_RUNNER = """\
import ast, asyncio, inspect, sys
path = sys.argv[1]
code = compile(open(path, encoding="utf-8").read(), path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__", "__file__": path}
if code.co_flags & inspect.CO_COROUTINE:
    asyncio.run(eval(code, namespace))
else:
    exec(code, namespace)
"""


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    source: str
    mark: str | None  # "run-before" or "not-run"
    detail: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def python_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = _MARK.search(before)
        blocks.append(Block(page, line, match.group(1), mark.group(1) if mark else None, mark.group(2) if mark else ""))
    return blocks


BLOCKS = [block for page in PAGES for block in python_blocks(page)]


def _env() -> dict[str, str]:
    """This checkout's asyncload first on the path; no server settings leaking in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASYNCLOAD_", "MILVUS_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _command(line: str) -> list[str]:
    argv = shlex.split(line)
    if argv[0] == "asyncload":  # the console script, from this checkout
        return [sys.executable, "-m", "asyncload", *argv[1:]]
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    raise AssertionError(f"run-before: only asyncload or python commands, not {line!r}")


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    return f"\n--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-6000:]}"


def test_the_pages_have_python_blocks_to_run() -> None:
    assert len(BLOCKS) >= 8
    assert any(block.page.name == "README.md" for block in BLOCKS)


def test_few_blocks_are_not_run() -> None:
    skipped = [f"{block.id} ({block.detail})" for block in BLOCKS if block.mark == "not-run"]
    assert all(block.detail for block in BLOCKS if block.mark == "not-run"), "a not-run block says why"
    assert len(skipped) <= MAX_NOT_RUN, f"too many blocks are not run: {skipped}"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_python_block_runs_as_pasted(block: Block, tmp_path: Path) -> None:
    if block.mark == "not-run":
        pytest.skip(f"marked not-run: {block.detail}")
    env = _env()
    if block.mark == "run-before":
        before = subprocess.run(
            _command(block.detail), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
        )
        assert before.returncode == 0, f"run-before {block.detail!r} failed" + _tail(before)
    (tmp_path / "_run_block.py").write_text(_RUNNER, encoding="utf-8")
    (tmp_path / "snippet.py").write_text(block.source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "_run_block.py", "snippet.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, f"the block at {block.id} failed" + _tail(result)


# -- the site ---------------------------------------------------------------------------------------


def _nav_pages(nav: Any) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


def test_every_docs_page_is_in_the_nav() -> None:
    yaml = pytest.importorskip("yaml", reason="the docs tools: pip install '.[test]'")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(_nav_pages(config["nav"]))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages - in_nav == set(), "pages missing from the nav"
    assert in_nav - pages == set(), "nav entries without a page"
    assert {"migrate-pymilvus.md", "migrate-go.md", "try-it.md"} <= in_nav


def _public_names() -> dict[str, str]:
    """Every public name -> the anchor ids (any one will do) of its entry in the API reference."""
    names = {f"asyncload.{n}": f"asyncload.{n}" for n in asyncload.__all__}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names.update({f"{module_name}.{n}": f"{module_name}.{n}" for n in module.__all__})
    errors = importlib.import_module("asyncload.errors")
    for n in errors.__all__:  # re-exported by asyncload, documented once on the errors page
        names[f"asyncload.{n}"] = f"asyncload.errors.{n}"
    return names


def test_strict_build_has_every_public_name(tmp_path: Path) -> None:
    pytest.importorskip("mkdocstrings", reason="the docs tools: pip install '.[test]'")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", "mkdocs.yml", "--site-dir", str(site)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, "mkdocs build --strict failed" + _tail(result)
    assert "WARNING" not in result.stderr
    html = "\n".join(p.read_text(encoding="utf-8") for p in (site / "reference").rglob("*.html"))
    anchors = set(re.findall(r'id="([^"]+)"', html))
    missing = sorted(name for name, anchor in _public_names().items() if anchor not in anchors)
    assert missing == [], "public names missing from the API reference"
    for page in ("migrate-pymilvus", "migrate-go", "try-it", "api", "notebooks"):
        assert (site / page / "index.html").is_file()


# -- install lines ----------------------------------------------------------------------------------

# The distribution is asyncload-milvus: "asyncload[extra]" or "pip install asyncload" would get the
# unrelated project of that name on PyPI.
_WRONG_NAME = re.compile(r"(?<![\w-])asyncload\[|pip install (?:-U |--upgrade )?[\"']?asyncload(?![\w-])")


def test_every_install_line_names_the_distribution() -> None:
    files = [*PAGES, *DOCS.rglob("*.md"), *(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "asyncload").rglob("*.py")]
    files += [ROOT / "pyproject.toml", ROOT / "mkdocs.yml", *(ROOT / "examples").glob("*.py")]
    wrong = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(set(files))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _WRONG_NAME.search(line)
    ]
    assert wrong == []
