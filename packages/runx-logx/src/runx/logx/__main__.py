"""`python -m runx.logx RUN_DIR`: print a run's metrics summary; `--version`: package and format versions."""
from __future__ import annotations

import sys
from typing import List, Optional

from runx.logx.rundir.layout import METRICS_FILE
from runx.logx.rundir.summary import FORMAT_VERSION, summarize


def _text(value: object) -> str:
    """A value for the terminal: numbers as %g, anything else as its repr (no raw control characters)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(value)


def _name(text: str) -> str:
    """A name from the run directory for the terminal: as is when printable, else its repr."""
    return text if text.isprintable() else repr(text)


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
        print(f"{_name(args[0])}: no {METRICS_FILE}", file=sys.stderr)
        return 2
    for phase, p in summary.phases.items():
        values = ", ".join(f"{_name(k)}={_text(m.last)} (min {_text(m.min)} @{m.min_step}, max {_text(m.max)} @{m.max_step})"
                           for k, m in p.metrics.items())
        print(f"{_name(phase)}: {p.count} records, last step {p.last_step}: {values}")
    if summary.torn:
        print(f"(a torn or corrupt line of {METRICS_FILE} was skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
