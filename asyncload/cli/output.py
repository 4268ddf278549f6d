"""What the command line prints: rich tables and live bars on a terminal, plain text otherwise, JSON on request.

One :class:`Output` per run decides once: ``--json`` prints one JSON document on stdout and no
prose; a terminal gets rich's tables, spinner and live progress bar; anything else (a pipe, a
file, ``TERM=dumb``) gets plain aligned text and one line per progress change.
Every string goes through :meth:`Output.redact` on its way out, so a secret never reaches the screen.
Diagnostics (errors, warnings) go to stderr.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol

from .._progress import LoadState, Progress

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Column", "Output", "ProgressView", "describe_progress", "eta_note", "fit_columns"]


@dataclass(frozen=True)
class Column:
    """A table column. ``drop``: 0 never dropped (never cut either); on a terminal too narrow for
    every column, the highest ``drop`` goes first, then the next, until the rest fit."""

    title: str
    right: bool = False
    drop: int = 0


def fit_columns(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Indexes of the columns to show in ``width`` characters (each column padded by one space and
    separated by one, as :meth:`Output.table` draws them)."""
    natural = [max([len(c.title)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    keep = list(range(len(columns)))
    while sum(natural[i] + 2 for i in keep) - 1 > width:
        droppable = [i for i in keep if columns[i].drop > 0]
        if not droppable:
            break
        keep.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    return keep


class ProgressView(Protocol):
    def update(self, snapshot: Progress) -> None: ...
    def finish(self, message: str, *, ok: bool) -> None: ...


class Output:
    """Where and how to print; ``secrets`` are replaced by ``***`` in everything printed."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        secrets: Sequence[str] = (),
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        console: Console | None = None,
    ) -> None:
        self.json = json_mode
        self._out = stdout or sys.stdout
        self._err = stderr or sys.stderr
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        #: ``console``: rich output to this console (tests render through one of a given width).
        self._console: Console | None = console
        if console is None and not json_mode and _is_terminal(self._out):
            from rich.console import Console

            self._console = Console(file=self._out, markup=False, highlight=False, emoji=False)

    @property
    def rich(self) -> bool:
        return self._console is not None

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # -- prose (nothing in JSON mode) ------------------------------------------------------------

    def line(self, text: str = "", *, style: str | None = None) -> None:
        if self.json:
            return
        if self._console is not None:
            from rich.text import Text

            self._console.print(Text(self.redact(text), style=style or ""))
        else:
            print(self.redact(text), file=self._out, flush=True)

    def heading(self, text: str) -> None:
        self.line()
        self.line(text, style="bold cyan")

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]], *, title: str | None = None) -> None:
        if self.json:
            return
        cells = [[self.redact(str(c)) for c in row] for row in rows]
        if self._console is not None:
            from rich import box
            from rich.table import Table
            from rich.text import Text

            if title:
                self.line(title, style="bold")
            keep = fit_columns(columns, cells, self._console.width)
            table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), header_style="bold", show_edge=False)
            for i in keep:  # nothing wraps; lesser columns were dropped instead, essential ones are never cut
                col = columns[i]
                table.add_column(
                    col.title,
                    justify="right" if col.right else "left",
                    no_wrap=True,
                    min_width=max([len(col.title)] + [len(r[i]) for r in cells]) if col.drop == 0 else None,
                    overflow="fold",
                )
            for row in cells:
                table.add_row(*(Text(row[i], style=_STATE_STYLES.get(row[i], "")) for i in keep))
            self._console.print(table)
            return
        if title:
            print(self.redact(title), file=self._out)
        widths = [max([len(col.title)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]

        def fmt(values: Sequence[str]) -> str:
            parts = [v.rjust(w) if c.right else v.ljust(w) for v, w, c in zip(values, widths, columns, strict=True)]
            return "  ".join(parts).rstrip()

        print(fmt([c.title for c in columns]), file=self._out)
        print("  ".join("-" * w for w in widths), file=self._out)
        for row in cells:
            print(fmt(row), file=self._out)
        self._out.flush()

    @contextmanager
    def spinner(self, text: str) -> Iterator[Any]:
        """A spinner (terminal) or one line (plain) while something runs; yields ``update(text)``."""
        if self.json:
            yield lambda _text: None
        elif self._console is not None:
            with self._console.status(self.redact(text)) as status:
                yield lambda new: status.update(self.redact(new))
        else:
            self.line(text + " ...")
            yield lambda new: self.line("  " + new + " ...")

    def progress(self, label: str) -> ProgressView:
        """A live view of one load: a rich bar on a terminal, a line per change otherwise."""
        if self.json:
            return _NoView()
        if self._console is not None:
            return _RichView(self._console, self.redact(label))
        return _PlainView(self, label)

    # -- machine output and diagnostics ----------------------------------------------------------

    def emit(self, document: dict[str, Any]) -> None:
        """The one JSON document of a ``--json`` run (nothing otherwise)."""
        if self.json:
            print(self.redact(json.dumps(document, indent=2, default=str)), file=self._out, flush=True)

    def error(self, message: str) -> None:
        print(self.redact(f"asyncload: error: {message}"), file=self._err, flush=True)

    def warn(self, message: str) -> None:
        print(self.redact(f"asyncload: {message}"), file=self._err, flush=True)


_STATE_STYLES = {"LOADED": "green", "LOADING": "yellow", "NOT_LOAD": "dim", "NOT_EXIST": "red"}


def _is_terminal(stream: IO[str]) -> bool:
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def describe_progress(p: Progress) -> str:
    """``LOADING 33% after 1.9 s, eta 3.8 s`` (``eta unknown`` until it can be estimated; no collection name)."""
    text = f"{p.state} {p.percent}% after {p.elapsed:.1f} s"
    if p.state is LoadState.LOADING:
        text += ", eta unknown" if p.eta is None else f", eta {p.eta:.1f} s"
    if p.stalled_for is not None:
        text += f", no progress for {p.stalled_for:.0f} s"
    return text


def eta_note(eta_at: float | None, now: float) -> str:
    """``eta 4 s`` counting down to the predicted finish ``eta_at``; ``eta unknown`` once it has
    passed (the estimate was wrong); "" without an estimate (the note already says why)."""
    if eta_at is None:
        return ""
    left = eta_at - now
    return f"eta {math.ceil(left):.0f} s" if left > 0 else "eta unknown"


class _NoView:
    def update(self, snapshot: Progress) -> None:
        pass

    def finish(self, message: str, *, ok: bool) -> None:
        pass


class _PlainView:
    def __init__(self, output: Output, label: str) -> None:
        self._output = output
        self._label = label

    def update(self, snapshot: Progress) -> None:
        self._output.line(f"{self._label}: {describe_progress(snapshot)}")

    def finish(self, message: str, *, ok: bool) -> None:
        pass  # the command's own summary (or error) line follows


class _RichView:
    """A rich progress bar that turns red and stays red when the load fails or the wait stops."""

    def __init__(self, console: Console, label: str) -> None:
        from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
        from rich.text import Text

        class _Bar(BarColumn):
            def render(self, task: Any) -> Any:
                bar = super().render(task)
                if task.fields.get("failed"):
                    bar.complete_style = bar.finished_style = "red"
                return bar

        class _Note(ProgressColumn):
            """The ETA counting down between snapshots (on rich's clock), or the note set last."""

            def render(self, task: Any) -> Text:
                return Text(eta_note(task.fields["eta_at"], task.get_time()) or task.fields["note"])

        self._bar = Progress(
            TextColumn("{task.description}"),
            _Bar(complete_style="cyan", finished_style="green"),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            _Note(),
            console=console,
            transient=False,
        )
        self._task = self._bar.add_task(label, total=100, state="LOADING", note="", failed=False, eta_at=None)
        self._bar.start()
        self._open = True

    def update(self, snapshot: Progress) -> None:
        loading = snapshot.state is LoadState.LOADING
        note = "eta unknown" if loading else ""
        eta_at = self._bar.get_time() + snapshot.eta if loading and snapshot.eta is not None else None
        if snapshot.stalled_for is not None:
            note, eta_at = f"no progress for {snapshot.stalled_for:.0f} s", None
        self._bar.update(self._task, completed=snapshot.percent, state=str(snapshot.state), note=note, eta_at=eta_at)

    def finish(self, message: str, *, ok: bool) -> None:
        if not self._open:
            return
        self._open = False
        self._bar.update(self._task, note=message, failed=not ok, eta_at=None)
        self._bar.stop()
