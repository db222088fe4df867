"""`python -m runx.logx RUN_DIR`: print a run's metrics summary (the latest values per phase)."""
import sys

from runx.logx.metrics_format import summarize


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m runx.logx RUN_DIR", file=sys.stderr)
        return 2
    summary = summarize(args[0])
    if summary is None:
        print(f"{args[0]}: no metrics.jsonl", file=sys.stderr)
        return 2
    for phase, p in summary.phases.items():
        values = ", ".join(f"{k}={m.last:g}" for k, m in p.metrics.items())
        print(f"{phase}: {p.count} records, last step {p.last_step}: {values}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
