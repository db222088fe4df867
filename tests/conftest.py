"""Shared fixtures; the dependency rule lives in runx_testing.py (importable from any test)."""
import pytest
from runx_testing import promised, require  # noqa: F401  (re-exported for `from conftest import require`)


@pytest.fixture
def requires():
    """The `require(name)` function as a fixture."""
    return require


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow_scheduler: minutes-long tests on a real scheduler (multi-node Slurm, time limits); "
        "tox runs them in the py311-sched env, beside py311, which deselects them")
