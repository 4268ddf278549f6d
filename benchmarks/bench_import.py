"""How long ``import asyncload`` and ``asyncload --help`` take, now and at a baseline commit.

Each figure is the median of ``--runs`` fresh processes (default 10): ``import asyncload`` is timed
inside the process (interpreter start-up excluded), ``asyncload --help`` as the whole command
(``python -m asyncload --help``, start-up included). The baseline (default: the commit before the
layout change, 1c3fc36) is checked out into a temporary git worktree and run with the same
interpreter, so both figures come from the same machine in the same run. Targets: import <= 150 ms,
--help <= 250 ms.

    python benchmarks/bench_import.py [--runs 10] [--baseline REV]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORT_PROBE = "import time; t = time.perf_counter(); import asyncload; print(time.perf_counter() - t)"


def _env(source: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(source)  # ahead of the installed (editable) asyncload
    env.pop("MILVUS_URI", None)
    return env


def time_import(source: Path, runs: int) -> float:
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE],
            env=_env(source),
            cwd=source,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def time_help(source: Path, runs: int) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "asyncload", "--help"], env=_env(source), cwd=source, capture_output=True, check=True
        )
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--baseline", default="1c3fc36", help="git revision to compare with ('' to skip)")
    args = parser.parse_args()

    rows = [("this checkout", ROOT)]
    with tempfile.TemporaryDirectory(prefix="asyncload-baseline-") as tmp:
        if args.baseline:
            base = Path(tmp) / "baseline"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.baseline], check=True
            )
            rows.insert(0, (f"baseline {args.baseline}", base))
        try:
            print(f"median of {args.runs} fresh processes, {sys.executable} {sys.version.split()[0]}")
            print(f"{'':<24}{'import asyncload':>18}{'asyncload --help':>18}")
            results = {}
            for label, source in rows:
                results[label] = (time_import(source, args.runs), time_help(source, args.runs))
                imp, hlp = results[label]
                print(f"{label:<24}{imp * 1000:>15.0f} ms{hlp * 1000:>15.0f} ms")
            imp, hlp = results["this checkout"]
            print(
                f"targets: import <= 150 ms: {'met' if imp <= 0.150 else 'MISSED'}; "
                f"--help <= 250 ms: {'met' if hlp <= 0.250 else 'MISSED'}"
            )
        finally:
            if args.baseline:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
