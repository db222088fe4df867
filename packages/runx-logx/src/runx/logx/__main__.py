"""`python -m runx.logx RUN_DIR`: print a run's metrics summary; `--version`: package and format versions."""
from __future__ import annotations

import sys
from typing import List, Optional

from runx.logx.metrics_format import FORMAT_VERSION, summarize


def installed_version() -> str:
    """The installed runx-logx distribution's version (one setuptools-scm version shared by all four packages)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runx-logx")
    except PackageNotFoundError:
        return "(not installed)"


def main(argv: Optional[List[str]] = None) -> int:
    """Print the summary of the run directory given, or the versions; 2 on bad input."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        print(f"runx-logx {installed_version()}, metrics format {FORMAT_VERSION}")
        return 0
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m runx.logx RUN_DIR | --version", file=sys.stderr)
        return 2
    summary = summarize(args[0])
    if summary is None:
        print(f"{args[0]}: no metrics.jsonl", file=sys.stderr)
        return 2
    for phase, p in summary.phases.items():
        values = ", ".join(f"{k}={m.last:g} (min {m.min:g} @{m.min_step}, max {m.max:g} @{m.max_step})"
                           for k, m in p.metrics.items())
        print(f"{phase}: {p.count} records, last step {p.last_step}: {values}")
    if summary.torn:
        print("(a torn or corrupt line of metrics.jsonl was skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
