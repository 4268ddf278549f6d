"""The architecture, kept true by tests: the engine never imports a front-end, ``import asyncload``
stays light, public names are exact and report public modules."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import asyncload

PACKAGE = Path(asyncload.__file__).parent
#: The front-ends: they import the engine, never the reverse.
FRONT_ENDS = ("asyncload.footprint", "asyncload.widgets", "asyncload.cli", "asyncload.testing", "asyncload.__main__")
#: Packages only a front-end may import (the engine imports pandas lazily, for client.footprint()).
FRONT_END_LIBRARIES = ("ipywidgets", "rich", "matplotlib", "IPython", "pytest")
PUBLIC_MODULES = ("asyncload", "asyncload.errors", "asyncload.footprint", "asyncload.widgets", "asyncload.testing")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_front_end(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FRONT_ENDS)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (functions, TYPE_CHECKING blocks), made absolute."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


ENGINE = sorted(p for p in PACKAGE.rglob("*.py") if not _is_front_end(_module_name(p)))


def test_the_engine_is_found() -> None:
    names = {_module_name(p) for p in ENGINE}
    assert {"asyncload._client", "asyncload._tasks", "asyncload._monitor.policy", "asyncload._transport.proto"} <= names
    assert not any(_is_front_end(n) for n in names)


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: _module_name(p))
def test_no_engine_module_imports_a_front_end(path: Path) -> None:
    imported = _imports(path)
    assert not [m for m in imported if _is_front_end(m)], "the engine must not import a front-end"
    assert not [m for m in imported if m.split(".")[0] in FRONT_END_LIBRARIES]


def test_the_import_walker_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    assert "asyncload._footprint.frame" in _imports(PACKAGE / "_client.py")  # imported inside footprint()
    assert "asyncload._transport.milvus" in _imports(PACKAGE / "_client.py")  # inside __aenter__


def test_import_asyncload_imports_no_front_end_library_and_no_protocol_layer() -> None:
    probe = (
        "import sys, asyncload; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pandas', 'numpy', 'ipywidgets', 'rich', 'matplotlib', 'grpc', 'google', 'pymilvus', 'milvus_lite') "
        "or m.startswith(('asyncload.cli', 'asyncload.widgets', 'asyncload.footprint', 'asyncload._transport.'))))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _public_definitions(module: ModuleType) -> set[str]:
    """Names a module offers: classes and functions of asyncload's, and UPPER_CASE constants."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, ModuleType):
            continue
        if callable(value) and str(getattr(value, "__module__", "")).startswith("asyncload"):
            names.add(name)  # classes, functions, pytest fixtures
        elif name.isupper() and name != "TYPE_CHECKING":
            names.add(name)
    return names


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_module_all_is_exact(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(set(exported), key=exported.index), "no duplicates"
    assert set(exported) == _public_definitions(module)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_classes_and_functions_report_a_public_module(name: str) -> None:
    module = importlib.import_module(name)
    for exported in module.__all__:
        value = getattr(module, exported)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ in PUBLIC_MODULES, f"{name}.{exported} reports {value.__module__}"


def _public_methods(cls: type) -> list[tuple[str, object]]:
    return [
        (n, m)
        for n, m in vars(cls).items()
        if not n.startswith("_") and (inspect.isfunction(m) or isinstance(m, property))
    ]


PUBLIC_CLASSES = [
    getattr(importlib.import_module(m), n)
    for m in PUBLIC_MODULES
    for n in importlib.import_module(m).__all__
    if inspect.isclass(getattr(importlib.import_module(m), n))
]


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__qualname__)
def test_every_public_method_has_a_docstring(cls: type) -> None:
    missing = [n for n, m in _public_methods(cls) if not inspect.getdoc(m)]
    assert not missing, f"{cls.__qualname__}: no docstring on {missing}"


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__qualname__)
def test_every_public_coroutine_says_what_cancelling_it_does(cls: type) -> None:
    silent = [
        n
        for n, m in _public_methods(cls)
        if inspect.iscoroutinefunction(m) and "cancel" not in (inspect.getdoc(m) or "").lower()
    ]
    assert not silent, f"{cls.__qualname__}: say what cancelling {silent} does"
