"""Adaptive search (SWEEP method tpe): the options, the search space, the study and the driver.

`options` and `space` are pure and never import Optuna; `study` loads it (the `runx-core[search]`
extra) and `driver` runs the search in the foreground: ask a trial, create its run through the same
plan -> stage -> farm path as any run, poll the farm and the runs' metrics, prune, tell.
"""
