"""A griffe extension for the docs site: asyncload's reST-flavoured docstrings, rendered as Markdown.

The docstrings are written for ``help()`` and Sphinx-style readers: ``code`` in double backticks (fine
in Markdown too), roles such as :class:`~asyncload.LoadTask`, literal blocks introduced by ``::`` and
``>>>`` examples. Markdown would show the roles verbatim and turn ``>>>`` lines into nested quotes, so
this rewrites roles to inline code, ``::`` to ``:`` (the indented block after it stays a code block)
and each run of ``>>>``/``...`` lines to a fenced ``pycon`` block. Loaded by mkdocs.yml.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|exc|data|obj|const):`~?([^`]+)`")
_PROMPT = re.compile(r"^\s*(>>>|\.\.\.)( |$)")


def _role(match: re.Match[str]) -> str:
    target = match.group(1)
    if match.group(0).split("`", 1)[1].startswith("~"):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def to_markdown(text: str) -> str:
    """The docstring ``text`` with reST roles, ``::`` and doctest prompts made Markdown."""
    text = _ROLE.sub(_role, text)
    out: list[str] = []
    in_example = False
    for line in text.splitlines():
        if _PROMPT.match(line):
            if not in_example:
                if out and out[-1].strip():
                    out.append("")
                out.append("```pycon")
                in_example = True
            out.append(re.sub(r"\s+# doctest:.*$", "", line.strip()))
            continue
        if in_example:
            out += ["```", ""]
            in_example = False
        out.append(line[:-1] if line.endswith("::") else line)
    if in_example:
        out.append("```")
    return "\n".join(out)


class ReSTDocstrings(griffe.Extension):
    """Rewrite every docstring griffe loads (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
