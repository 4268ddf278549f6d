"""A missing optional dependency says which extra brings it.

Each case runs in a subprocess where the dependency is hidden by a package of the same name, first on
the path, whose import fails (as when it is not installed). Covered elsewhere: the widgets without
ipywidgets (test_widgets.py), styled()/plot() without jinja2/matplotlib (test_footprint_frame.py),
``asyncload --backend trio`` without trio (test_cli.py), and each extra's contents in a fresh venv
(test_fresh_venv.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_without(modules: list[str], code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    for module in modules:
        hidden = tmp_path / "hidden" / module
        hidden.mkdir(parents=True)
        (hidden / "__init__.py").write_text(f"raise ImportError({f'No module named {module!r}'!r})\n")
    path = os.pathsep.join([str(tmp_path / "hidden"), str(ROOT)])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_asyncload_testing_without_pytest_names_the_test_extra(tmp_path: Path) -> None:
    result = run_without(["pytest"], "import asyncload.testing", tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "ImportError: asyncload.testing is a pytest plugin and needs pytest: pip install 'asyncload-milvus[test]'"
    )


def test_the_engine_and_the_command_line_import_without_any_extra(tmp_path: Path) -> None:
    extras = ["trio", "ipywidgets", "jinja2", "matplotlib", "ipykernel", "pytest"]
    code = "import asyncload, asyncload.footprint, asyncload.widgets, asyncload.cli; print('ok')"
    result = run_without(extras, code, tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
