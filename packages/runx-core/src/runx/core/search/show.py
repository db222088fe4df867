"""`-n` of an adaptive search: the method, budget, metric, pruner and search space, then the first
`parallel` trials it would launch (drawn by the same sampler and seed from an in-memory study)."""
from __future__ import annotations

from typing import TextIO

from runx.core.config import Settings
from runx.core.dryrun import show_plan
from runx.core.farms import Farm
from runx.core.plan import plan_runs
from runx.core.search.options import SearchOptions
from runx.core.search.space import SearchSpace, combination_for, describe
from runx.core.text import printable

__all__ = ["show_search"]


def show_search(settings: Settings, options: SearchOptions, space: SearchSpace, farm: Farm, tag: object,
                verbose: bool, out: TextIO) -> None:
    """Print the search and its first trials; nothing is created."""
    from runx.core.search.study import open_study

    stop = options.early_stop
    pruning = "none" if stop is None else ", ".join(f"{k}={v}" for k, v in stop._asdict().items() if v is not None)
    lines = [f"# search: method {options.method}, {options.trials} trial(s), {options.parallel} at a time, "
             f"seed {options.seed}",
             f"# metric: {options.metric} ({options.goal}), early stopping: {pruning}",
             "# space:"] + [f"#   {line}" for line in describe(space)]
    out.write("".join(printable(line) + "\n" for line in lines))
    study = open_study(None, options, space, resume=False)
    first = [combination_for(space, study.ask()[1], n) for n in range(min(options.parallel, options.trials))]
    out.write(f"# the first {len(first)} trial(s):\n")
    show_plan(plan_runs(settings, first, tag=tag if isinstance(tag, str) else None), farm, verbose, out)
