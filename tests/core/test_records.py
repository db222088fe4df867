"""runx.core.records.Record: typing.NamedTuple's class syntax without importing typing."""
from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from runx.core.records import Record


class Point(Record):
    """A point."""

    x: int
    y: int = 0
    tags: tuple = ()

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


def test_fields_defaults_methods_and_tuple_behaviour():
    p = Point(3, -4)
    assert p == (3, -4, ()) and p._fields == ("x", "y", "tags") and p.norm1() == 7
    assert Point(1)._replace(y=2) == Point(1, 2) and Point.__doc__ == "A point."
    assert Point.__qualname__ == "Point" and Point.__module__ == __name__
    assert list(Point.__annotations__) == ["x", "y", "tags"]
    assert pickle.loads(pickle.dumps(Point(5, 6))) == Point(5, 6)
    with pytest.raises(AttributeError):
        p.x = 1
    with pytest.raises(TypeError):
        Point()


def test_a_field_without_default_after_one_with_default_is_refused():
    with pytest.raises(TypeError, match="without a default"):
        class Bad(Record):
            a: int = 1
            b: int


def test_dry_run_imports_neither_typing_nor_argparse_nor_coolname(tmp_path):
    """The dry run's import budget (issue: runx -n within 1.5x of `import yaml`): guard what was cut."""
    (tmp_path / ".runx").write_text(f"LOGROOT: {tmp_path / 'logs'}\n")
    (tmp_path / "sweep.yml").write_text("CMD: python train.py\nHPARAMS:\n  lr: [0.01, 0.02]\n  solver: [sgd, adam]\n")
    # Only what runx adds counts: a virtualenv's own site hook imports typing on Python 3.9.
    probe = ("import sys\nbefore = set(sys.modules)\nimport io, contextlib\nfrom runx.runx import main\nout = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n    code = main(['sweep.yml', '-n', '-i'])\n"
             "assert code == 0 and len(out.getvalue().splitlines()) == 4, out.getvalue()\n"
             "print(sorted(m for m in ('typing', 'argparse', 'coolname', 'shutil', 'subprocess') if m in sys.modules and m not in before))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
