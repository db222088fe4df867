"""Fail when any named module can be imported: proves an env holds runx-logx alone."""
import importlib.util
import sys

present = [name for name in sys.argv[1:] if importlib.util.find_spec(name) is not None]
if present:
    sys.exit(f"expected absent from this env, but importable: {', '.join(present)}")
print(f"absent as expected: {', '.join(sys.argv[1:])}")
