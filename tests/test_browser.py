"""End to end in a real browser: JupyterLab serves a notebook showing a LoadPanel, headless Chromium
(Debian's ``chromium``, driven by Playwright pointed at the system binary: nothing downloads a browser)
runs it, clicks Load, and sees the bar reach 100 % and the state turn Loaded.

The screenshots are kept as test artefacts in ``$ASYNCLOAD_ARTIFACTS`` (default: ``test-artifacts/`` at
the repository root). Skipped, with the reason, where Chromium, Playwright or JupyterLab is missing;
under CI (``CI`` set) that is a failure instead, since .ci/run installs them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TOKEN = "asyncload-browser-test"

NOTEBOOK_CELLS = [
    # Sample data with pymilvus, on the embedded default next to the notebook.
    """
import numpy as np
from pymilvus import DataType, MilvusClient

data = MilvusClient("./browser.db")
schema = data.create_schema(enable_dynamic_field=True)
schema.add_field("id", DataType.INT64, is_primary=True)
schema.add_field("vec", DataType.FLOAT_VECTOR, dim=32)
schema.add_field("title", DataType.VARCHAR, max_length=128)
schema.add_field("score", DataType.FLOAT)
index = data.prepare_index_params()
index.add_index("vec", index_type="FLAT", metric_type="L2")
data.create_collection("books", schema=schema, index_params=index)
vectors = np.random.default_rng(0).random((2000, 32), dtype=np.float32)
data.insert("books", [{"id": i, "vec": vectors[i].tolist(), "title": f"book {i}", "score": i % 5, "genre": "g"}
                      for i in range(2000)])
data.release_collection("books")
data.close()
""",
    """
from asyncload.widgets import LoadPanel, open_client

client = await open_client("./browser.db")
panel = await LoadPanel.create(client, "books")
panel
""",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable() -> str | None:
    if not any(Path(p).exists() for p in CHROMIUM_CANDIDATES):
        return "Debian's chromium is not installed (apt-get install -y chromium)"
    for module, package in (("playwright", "playwright"), ("jupyterlab", "jupyterlab"), ("ipywidgets", "ipywidgets")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed: pip install 'asyncload-milvus[test]'"
    return None


def _artifacts() -> Path:
    directory = Path(os.environ.get("ASYNCLOAD_ARTIFACTS") or ROOT / "test-artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_notebook(path: Path) -> None:
    nbformat: Any = importlib.import_module("nbformat")  # untyped package
    cells = [nbformat.v4.new_code_cell(source.strip()) for source in NOTEBOOK_CELLS]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(notebook, path)


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[str]:
    """A JupyterLab server on a free loopback port serving ``panel.ipynb``; yields the notebook's URL."""
    reason = _unavailable()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"browser test cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    root = tmp_path / "lab"
    root.mkdir()
    _write_notebook(root / "panel.ipynb")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
    )
    # No news or update checks: nothing but loopback traffic.
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    log = open(tmp_path / "jupyterlab.log", "wb")  # noqa: SIM115 - closed in the finally below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.port_retries=0",
            "--allow-root",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.2)
        # Start the notebook's kernel through the REST API: the page attaches to it (no kernel dialog).
        request = urllib.request.Request(
            f"{base}/api/sessions?token={TOKEN}",
            data=json.dumps(
                {"path": "panel.ipynb", "name": "panel.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
            ).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60):
            pass
        yield f"{base}/lab/tree/panel.ipynb?reset&token={TOKEN}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _progress(page: Any) -> dict[str, Any]:
    """The LoadPanel's bar width and state label as the browser renders them."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const bar = document.querySelector('.jp-OutputArea-output .widget-hprogress .progress-bar');
            const out = document.querySelector('.jp-OutputArea-output .widget-vbox');
            return {width: bar ? bar.style.width : null,
                    classes: bar ? bar.className : null,
                    text: out ? out.innerText : ''};
        }"""
    )
    return result


def test_load_panel_in_jupyterlab_reaches_loaded(jupyterlab: str, tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    chromium = next(p for p in CHROMIUM_CANDIDATES if Path(p).exists())
    artifacts = _artifacts()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        page = context.pages[0] if context.pages else context.new_page()
        try:
            page.goto(jupyterlab, timeout=60_000)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
            select_kernel = page.get_by_role("dialog").get_by_role("button", name="Select", exact=True)
            with contextlib.suppress(PlaywrightTimeout):  # only if JupyterLab asks which kernel after all
                select_kernel.click(timeout=3_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()

            load = page.locator(".jp-OutputArea-output .widget-vbox button", has_text="Load")
            load.wait_for(state="visible", timeout=120_000)
            page.wait_for_function(
                "() => (document.querySelector('.jp-OutputArea-output .widget-vbox') || {}).innerText"
                "?.includes('Not loaded')",
                timeout=30_000,
            )
            panel = page.locator(".jp-OutputArea-output .widget-vbox").first
            panel.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "browser-loadpanel-before.png"))
            before = _progress(page)
            assert before["width"] == "0%" and "Not loaded" in before["text"], before

            load.click()
            page.wait_for_function(
                """() => {
                    const bar = document.querySelector('.jp-OutputArea-output .widget-hprogress .progress-bar');
                    const out = document.querySelector('.jp-OutputArea-output .widget-vbox');
                    return bar && bar.style.width === '100%' && out && out.innerText.includes('Loaded');
                }""",
                timeout=60_000,
            )
            page.wait_for_timeout(300)  # let the last render settle for the picture
            panel.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "browser-loadpanel-loaded.png"))
            panel.screenshot(path=str(artifacts / "browser-loadpanel-loaded-panel.png"))
            after = _progress(page)
        except Exception:
            page.screenshot(path=str(artifacts / "browser-loadpanel-failure.png"))
            raise
        finally:
            context.close()
    assert after["width"] == "100%" and "progress-bar-success" in after["classes"], after
    assert "Loaded" in after["text"] and "100 %" in after["text"], after
    assert "Failed" not in after["text"] and "Error" not in after["text"], after
