"""Fail unless every runx package is imported from site-packages, not from the source tree."""
import importlib
import sys
from pathlib import Path

source_tree = Path(__file__).resolve().parent.parent / "packages"
for name in ("runx.runx", "runx.core", "runx.logx", "runx.sumx"):
    module = importlib.import_module(name)
    location = Path(module.__file__).resolve()
    if source_tree in location.parents:
        sys.exit(f"{name} imported from the source tree: {location}")
    print(f"{name}: {location}")
