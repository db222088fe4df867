"""Shared fixtures; the dependency rule lives in runx_testing.py (importable from any test)."""
import pytest
from runx_testing import promised, require  # noqa: F401  (re-exported for `from conftest import require`)


@pytest.fixture
def requires():
    """The `require(name)` function as a fixture."""
    return require
