"""The notebooks in notebooks/ run top to bottom in a real ipykernel (nbclient), on the embedded default.

Any error in any cell fails the test (the notebooks assert what they show). concurrent-loads also runs
against the Milvus 2.3.5 standalone, where its loads take seconds: the cell after the one that starts
them runs while they load, a cancelled wait really waited, and a release stops a load.

nbclient records only the widget messages sent while the cell that caused them runs, so updates made
later by background tasks (the live bars) are not in the executed notebook's widget state: the kernel
side is checked by the notebooks' own asserts, the rendering in a browser by test_browser.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from asyncload.testing import MilvusStandalone

from ._data import drop_collection

nbformat = pytest.importorskip("nbformat", reason="notebook tests need nbformat: pip install 'asyncload-milvus[test]'")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need nbclient: pip install 'asyncload-milvus[test]'")
pytest.importorskip("ipykernel", reason="notebook tests need ipykernel: pip install 'asyncload-milvus[test]'")
pytest.importorskip("ipywidgets", reason="the notebooks need ipywidgets: pip install 'asyncload-milvus[jupyter]'")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def run(name: str, workdir: Path, **env: str) -> Any:
    """Execute notebooks/<name> in a fresh python3 kernel whose working directory is ``workdir``."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        allow_errors=False,
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASYNCLOAD_")}
    client.execute(env={**base, "MPLBACKEND": "module://matplotlib_inline.backend_inline", **env})
    return notebook


def outputs(notebook: Any) -> list[dict[str, Any]]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def test_the_notebooks_are_there_and_committed_without_outputs() -> None:
    assert NAMES == ["choosing-fields.ipynb", "concurrent-loads.ipynb", "quickstart.ipynb"]
    for name in NAMES:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert all(not cell.outputs and cell.execution_count is None for cell in code), f"{name} has outputs"
        assert "widgets" not in notebook.metadata, f"{name} carries widget state"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_on_the_embedded_default(name: str, tmp_path: Path) -> None:
    notebook = run(name, tmp_path)
    assert [o for o in outputs(notebook) if o["output_type"] == "error"] == []
    views = [o for o in outputs(notebook) if WIDGET_VIEW in o.get("data", {})]
    assert views, "the panels / tasks rendered as widgets"
    if name == "concurrent-loads.ipynb":
        tasks = [o for o in views if o["data"]["text/plain"].startswith("<LoadTask")]
        assert len(tasks) == 3, "a displayed LoadTask is a live widget (with its text repr beside it)"
    assert list(tmp_path.glob("*.db")), "the embedded default ran next to the notebook"


@pytest.mark.standalone
def test_concurrent_loads_notebook_on_a_real_server(milvus_standalone: MilvusStandalone, tmp_path: Path) -> None:
    uri, token = milvus_standalone.uri, milvus_standalone.token
    assert token is not None
    try:
        notebook = run(
            "concurrent-loads.ipynb", tmp_path, ASYNCLOAD_URI=uri, ASYNCLOAD_TOKEN=token, ASYNCLOAD_ROWS="30000"
        )
    finally:
        for name in ("shard_a", "shard_b", "shard_c"):
            drop_collection(uri, token, name)
    texts = [o.get("text", "") for o in outputs(notebook) if o["output_type"] == "stream"]
    assert any("'shard_a': 'LOADING" in t for t in texts), "the next cell ran while the loads went on"
    assert any("wait cancelled: True" in t for t in texts), "the cancelled wait really waited"
    assert any("stopped:" in t and "released before it finished loading" in t for t in texts)
