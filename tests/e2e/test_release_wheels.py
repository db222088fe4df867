"""The release the workflow publishes: real wheels and sdists of the four packages, installed in clean venvs.

`.github/workflows/release.yml` runs `python -m build` for each package; this test does the same offline
(`--no-isolation`, against the installed setuptools and setuptools-scm), so a broken sdist, a missing file,
a wrong dependency or a version mismatch fails here before a tag is pushed (docs/releasing.md).
"""
from __future__ import annotations

import email
import subprocess
import sys
import venv
import zipfile
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Dict, List

from runx_testing import require

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("runx-core", "runx-logx", "runx-sumx", "runx")
THIRD_PARTY = {"pyyaml", "coolname", "tabulate", "tensorboardx", "google-crc32c"}  # what runx's wheels may require besides each other


def run(*argv: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=cwd, timeout=300)


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_venv(where: Path) -> Path:
    """A venv with nothing installed (not even pip: this interpreter's pip installs into it with --python)."""
    venv.EnvBuilder(with_pip=False).create(where)
    return where / "bin" / "python"


def pip(python: Path, *args: object) -> str:
    return ok(run(sys.executable, "-m", "pip", "--python", python, *args))


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(z.read(name))


def requirement_name(requirement: str) -> str:
    for stop in "[ ;<>=!~(":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower().replace("_", "-")


def test_runx_sumx_and_logx_print_one_version():
    """`runx --version`, `sumx --version`, `python -m runx.logx --version`: the same setuptools-scm version."""
    versions = {p: installed_version(p) for p in ("runx-core", "runx-logx", "runx-sumx")}
    assert len(set(versions.values())) == 1, versions
    v = versions["runx-logx"]
    assert ok(run(sys.executable, "-m", "runx.runx", "--version")) == f"runx {v}\n"
    assert ok(run(sys.executable, "-m", "runx.sumx", "--version")) == f"sumx {v}\n"
    assert ok(run(sys.executable, "-m", "runx.logx", "--version")) == f"runx-logx {v}, metrics format 1\n"


def test_built_wheels_install_together_and_logx_alone_pulls_nothing(tmp_path):
    require("release")
    dist = tmp_path / "dist"
    # Each package's sdist, then the wheel built from that sdist (as the release workflow does), in parallel.
    builds = [subprocess.Popen([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist / package),
                                str(REPO / "packages" / package)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True) for package in PACKAGES]
    for build in builds:
        out, _ = build.communicate(timeout=300)
        assert build.returncode == 0, f"{build.args}\n{out}"
    for built in dist.glob("*/*"):
        built.rename(dist / built.name)
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 4 and len(sdists) == 4, sorted(p.name for p in dist.iterdir())

    meta: Dict[str, email.message.Message] = {}
    for wheel in wheels:
        m = wheel_metadata(wheel)
        meta[m["Name"]] = m
    assert sorted(meta) == sorted(PACKAGES)
    versions = {name: m["Version"] for name, m in meta.items()}
    assert len(set(versions.values())) == 1, f"the four packages must share one version: {versions}"
    v = versions["runx"]
    if (REPO / ".git").exists():
        assert v != "0.1.0.dev0", "setuptools-scm fell back instead of reading the version from git"
    assert all(s.name.endswith(f"-{v}.tar.gz") for s in sdists), [s.name for s in sdists]

    # runx-logx ships its type information: py.typed, and the stub through which type checkers see the
    # `logx` and `LogX` that its __init__ provides on first access.
    logx_wheel = next(w for w in wheels if w.name.startswith("runx_logx-"))
    with zipfile.ZipFile(logx_wheel) as z:
        assert {"runx/logx/py.typed", "runx/logx/__init__.pyi"} <= set(z.namelist()), z.namelist()

    # runx-logx: every Requires-Dist sits behind an extra, so `pip install runx-logx` pulls nothing.
    logx_requires: List[str] = meta["runx-logx"].get_all("Requires-Dist") or []
    assert all("extra ==" in r for r in logx_requires), logx_requires
    for name, m in meta.items():
        for r in m.get_all("Requires-Dist") or []:
            if "extra ==" not in r:
                assert requirement_name(r) in THIRD_PARTY | set(PACKAGES), f"{name} requires {r}"

    # A clean venv, no index: runx-logx alone installs from the built wheel and nothing else arrives.
    alone = clean_venv(tmp_path / "logx-alone")
    pip(alone, "install", "--no-index", "--find-links", dist, "runx-logx")
    assert pip(alone, "list", "--format=freeze").split() == [f"runx-logx=={v}"]
    assert ok(run(alone, "-m", "runx.logx", "--version")) == f"runx-logx {v}, metrics format 1\n"
    assert ok(run(alone, "-c", "import runx.logx; print(runx.logx.__file__)")).startswith(str(tmp_path / "logx-alone"))

    # A clean venv with all four wheels, no index: they satisfy each other (pip check names only the
    # third-party dependencies, which this offline test does not install into the venv).
    together = clean_venv(tmp_path / "together")
    pip(together, "install", "--no-index", "--no-deps", *wheels)
    check = run(sys.executable, "-m", "pip", "--python", together, "check")
    missing = {line.split(" requires ")[1].split(",")[0].strip().lower() for line in check.stdout.splitlines()
               if " requires " in line}
    assert missing <= THIRD_PARTY, check.stdout
    assert not [line for line in check.stdout.splitlines() if "has requirement" in line], check.stdout

    # The third-party dependencies come from this interpreter's environment, after the venv's own packages.
    import coolname
    import tabulate
    import yaml

    site = Path(ok(run(together, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")).strip())
    deps = {str(Path(m.__file__).resolve().parents[1]) for m in (yaml, coolname, tabulate)}
    (site / "zz_deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    bin_dir = tmp_path / "together" / "bin"
    assert ok(run(bin_dir / "runx", "--version")) == f"runx {v}\n"
    assert ok(run(bin_dir / "sumx", "--version")) == f"sumx {v}\n"
    assert ok(run(together, "-m", "runx.logx", "--version")) == f"runx-logx {v}, metrics format 1\n"
    where = ok(run(together, "-c", "import runx.core, runx.runx, runx.logx, runx.sumx as s; "
                                   "print(runx.core.__file__, runx.runx.__file__, runx.logx.__file__, s.__file__)"))
    assert all(p.startswith(str(site)) for p in where.split()), where

    # And they work: a real two-run sweep launched from the installed wheels, then sumx's table.
    work = tmp_path / "work"
    work.mkdir()
    (work / ".runx").write_text(f"LOGROOT: {tmp_path / 'logs'}\n")
    (work / "train.py").write_text(
        "import sys\nfrom runx.logx import logx\nlogx.initialize()\n"
        "lr = float(sys.argv[sys.argv.index('--lr') + 1])\nlogx.metric('val', {'loss': lr * 10}, 0)\n")
    (work / "sweep.yml").write_text("CMD: python train.py\nHPARAMS:\n  lr: [0.1, 0.2]\n")
    env_bin = f"{bin_dir}:/usr/bin:/bin"
    launched = subprocess.run([str(bin_dir / "runx"), "sweep.yml", "-i"], capture_output=True, text=True, cwd=work,
                              timeout=120, env={"PATH": env_bin, "HOME": str(tmp_path)})
    ok(launched)
    table = ok(run(bin_dir / "sumx", tmp_path / "logs" / "sweep", cwd=work))
    assert "loss" in table and "0.1" in table and "0.2" in table, table
