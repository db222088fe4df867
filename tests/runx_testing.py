"""What a test needs from its environment.

`require(name)` skips a test whose dependency is missing, except where the environment promises
it: RUNX_TEST_REQUIRE (set per tox env) lists what an env provides, and under CI=true a missing
promised dependency fails the test instead of skipping it, so CI cannot go green by skipping.
"""
from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

_PROBES = {
    "torch": lambda: importlib.util.find_spec("torch") is not None,
    "tensorboard": lambda: importlib.util.find_spec("tensorboard") is not None,
    "tensorboardX": lambda: importlib.util.find_spec("tensorboardX") is not None,
    "google_crc32c": lambda: importlib.util.find_spec("google_crc32c") is not None,
    "numpy": lambda: importlib.util.find_spec("numpy") is not None,
    "argcomplete": lambda: importlib.util.find_spec("argcomplete") is not None,
    # Under tox only the envs that promise Slurm run its tests (one env is enough for a 2-core cluster).
    "slurm": lambda: ("RUNX_TEST_REQUIRE" not in os.environ or "slurm" in promised())
    and shutil.which("sbatch") is not None and _slurm_answers(),
    # The 2-node Slurm of .ci/slurm-multinode.sh (its SLURM_CONF: multinode_slurm_conf()), for the py311-sched env.
    "slurm-multinode": lambda: ("RUNX_TEST_REQUIRE" not in os.environ or "slurm-multinode" in promised())
    and shutil.which("sbatch") is not None and _slurm_answers(multinode_slurm_conf(), nodes=2),
    # Grid Engine the same way (.ci/gridengine.sh starts a cell; its env gives SGE_ROOT and PATH).
    "sge": lambda: ("RUNX_TEST_REQUIRE" not in os.environ or "sge" in promised())
    and shutil.which("qsub") is not None and _sge_answers(),
    # Slow tests that install from PyPI into a fresh venv run only where an env asks for them.
    "upgrade": lambda: "upgrade" in promised(),
    "quickstart": lambda: "quickstart" in promised(),
    # Building the four release wheels and sdists offline needs build, setuptools and setuptools-scm.
    "release": lambda: ("RUNX_TEST_REQUIRE" not in os.environ or "release" in promised())
    and all(importlib.util.find_spec(m) is not None for m in ("build", "setuptools", "setuptools_scm")),
    # A headless Chromium with Debian's chromedriver, driven by selenium (.ci/chromium.sh; tests/browser.py);
    # Pillow decodes its screenshots.
    "browser": lambda: all(importlib.util.find_spec(m) is not None for m in ("selenium", "PIL"))
    and os.access("/usr/bin/chromedriver", os.X_OK)
    and any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")),
    # sumx --plot's optional extra (runx-sumx[plot]).
    "matplotlib": lambda: importlib.util.find_spec("matplotlib") is not None,
    "bench": lambda: "RUNX_TEST_REQUIRE" not in os.environ or "bench" in promised(),
}


MULTINODE_SLURM_CONF = "/var/lib/runx-ci/slurm-multinode/etc/slurm.conf"


def multinode_slurm_conf() -> str:
    """The SLURM_CONF of the multi-node test cluster ($RUNX_TEST_MULTINODE_SLURM_CONF, else .ci/slurm-multinode.sh's)."""
    return os.environ.get("RUNX_TEST_MULTINODE_SLURM_CONF") or MULTINODE_SLURM_CONF


def _slurm_answers(conf: str | None = None, nodes: int = 1) -> bool:
    import subprocess

    if conf is not None and not os.path.isfile(conf):
        return False
    env = None if conf is None else {**os.environ, "SLURM_CONF": conf}
    try:
        out = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=10, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and sum(s.strip().rstrip("*~#$@+-^!%") in _UP for s in out.stdout.split()) >= nodes


_UP = ("idle", "mix", "alloc", "comp", "plnd", "resv")
"""sinfo's short states of a node that runs jobs or will soon (a node still completing the last test's job counts)."""


def _sge_answers() -> bool:
    import subprocess

    try:
        out = subprocess.run(["qstat", "-f"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    # A queue instance with slots (resv/used/tot.) and no state letters (au, E, d, s) after its arch.
    return out.returncode == 0 and any(
        len(line.split()) == 5 and "@" in line.split()[0] for line in out.stdout.splitlines())


def promised() -> set[str]:
    """What this environment promises to provide (RUNX_TEST_REQUIRE, comma separated)."""
    return {n.strip() for n in os.environ.get("RUNX_TEST_REQUIRE", "").split(",") if n.strip()}


def require(name: str) -> None:
    """Skip unless `name` is available; under CI=true fail if this env promised it."""
    if _PROBES[name]():
        return
    if os.environ.get("CI") == "true" and name in promised():
        pytest.fail(f"{name} is promised by RUNX_TEST_REQUIRE in CI but is not available")
    pytest.skip(f"{name} not available")
