"""The examples of runx 0.0.11's README, each run end to end with real subprocesses."""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

SWEEP = """\
CMD: 'python train.py'

HPARAMS:
  lr: [0.01, 0.02]
  solver: ['sgd', 'adam']
"""

BIGFARM = """\
LOGROOT: {logroot}
FARM: bigfarm

bigfarm:
  SUBMIT_CMD: 'submit_job'
  RESOURCES:
     gpu: 2
     cpu: 16
     mem: 128
"""

NAME = re.compile(r"^[a-z]+-[a-z]+_\d{4}\.\d\d\.\d\d_\d\d\.\d\d$")


def test_intro_sweep_runs_interactively(project):
    project.write("sweep.yml", SWEEP)
    done = project.runx("sweep.yml", "-i")
    assert done.returncode == 0, done.stderr
    runs = project.runs("sweep")
    assert len(runs) == 4 and all(NAME.match(r.name) for r in runs)
    argvs = sorted(project.argv_of(r)["argv"] for r in runs)
    assert argvs == sorted(
        [["--lr", lr, "--solver", s] for lr in ("0.01", "0.02") for s in ("sgd", "adam")]
    )
    for run in runs:
        seen = project.argv_of(run)
        assert seen["cwd"] == str(run / "code")
        assert seen["pythonpath"] == str(run / "code")
        assert (run / "code" / "train.py").is_file()
        assert not (run / "code" / "logs").exists(), "LOGROOT inside the project must not be staged"
        hparams = json.loads((run / "hparams.json").read_text())
        assert hparams == {"lr": float(seen["argv"][1]), "solver": seen["argv"][3]}
        record = json.loads((run / "run.json").read_text())
        assert record["experiment"] == "sweep" and record["run"] == run.name
        assert record["args"] == seen["argv"] and record["sweep"] is None  # a plain grid run
        assert os.access(run / "submit_cmd.sh", os.X_OK)
        status = (run / "status.log").read_text().split("\n")
        assert [l.split()[0] for l in status if l] == ["queued", "started", "finished"]
        assert status[2].endswith("exit=0")
    assert "trained --lr 0.01 --solver sgd" in done.stdout


def test_dry_run_prints_seed_commands_and_creates_nothing(project):
    project.write("sweep.yml", SWEEP)
    done = project.runx("sweep.yml", "-n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "python train.py --lr 0.01 --solver sgd",
        "python train.py --lr 0.01 --solver adam",
        "python train.py --lr 0.02 --solver sgd",
        "python train.py --lr 0.02 --solver adam",
    ]
    assert not project.logroot.exists()


def test_farm_sweep_prints_submit_job_shape(project):
    project.write(".runx", BIGFARM.format(logroot=project.logroot))
    project.write("sweep.yml", SWEEP)
    done = project.runx("sweep.yml", "-n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == 'submit_job --gpu 2 --cpu 16 --mem 128 -c "python train.py --lr 0.01 --solver sgd"'
    assert done.stdout.splitlines()[3] == 'submit_job --gpu 2 --cpu 16 --mem 128 -c "python train.py --lr 0.02 --solver adam"'


def _fake_submit_job(tmp: Path) -> Path:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    script = bin_dir / "submit_job"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, subprocess, sys\n"
        "log = os.environ['SUBMIT_LOG']\n"
        "with open(log, 'a') as f: f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "job = sys.argv[sys.argv.index('-c') + 1]\n"
        "print('Job id: 4242')\n"
        "sys.exit(subprocess.run(['bash', '-c', job]).returncode and 0)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_logdir_sweep_submits_to_generic_farm(project, tmp_path):
    bin_dir = _fake_submit_job(tmp_path)
    project.write(".runx", BIGFARM.format(logroot=project.logroot))
    project.write("sweep.yml", SWEEP + "  logdir: LOGDIR\n")
    log = tmp_path / "submitted.jsonl"
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SUBMIT_LOG": str(log)}
    done = project.runx("sweep.yml", env=env)
    assert done.returncode == 0, done.stderr
    runs = project.runs("sweep")
    assert len(runs) == 4
    submitted = [json.loads(l) for l in log.read_text().splitlines()]
    assert [s[:6] for s in submitted] == [["--gpu", "2", "--cpu", "16", "--mem", "128"]] * 4
    assert all(s[6] == "-c" for s in submitted)
    for run in runs:
        seen = project.argv_of(run)
        assert seen["argv"][-2:] == ["--logdir", str(run)]
        record = json.loads((run / "run.json").read_text())
        assert record["job_id"] == "4242"
        assert record["farm"]["name"] == "bigfarm"
        assert "submitted" in (run / "status.log").read_text()
    status = project.runx("status", "sweep", env=env)
    assert status.returncode == 0, status.stderr
    rows = [line.split() for line in status.stdout.splitlines()[2:]]
    assert len(rows) == 4 and all(r[1:5] == ["generic", "4242", "succeeded", "0"] for r in rows)


def test_list_inheritance_tags_and_skip(project):
    project.write(
        "lists.yml",
        """\
        PYTHONPATH: LOGDIR/code:LOGDIR/code/lib
        CMD: "python train.py"

        HPARAMS: [
          {
           logdir: LOGDIR,
           adam: true,
           arch: alexnet,
           lr: [0.01, 0.02],
           epochs: 10,
           RUNX.TAG: 'alexnet',
          },
          {
           arch: resnet50,
           lr: [0.002, 0.005],
           RUNX.TAG: '{arch}-lrstudy',
          },
          {
           RUNX.SKIP: true,
           arch: resnet50,
           lr: [0.002, 0.005],
           RUNX.TAG: 'resnet50',
          }
        ]
        """,
    )
    done = project.runx("lists.yml", "-i")
    assert done.returncode == 0, done.stderr
    runs = project.runs("lists")
    assert sorted(r.name.split("_")[0] for r in runs) == ["alexnet", "alexnet", "resnet50-lrstudy", "resnet50-lrstudy"]
    for run in runs:
        seen = project.argv_of(run)
        args = seen["argv"]
        assert args[:2] == ["--logdir", str(run)] and "--adam" in args and args[-2:] == ["--epochs", "10"]
        assert seen["pythonpath"] == f"{run}/code:{run}/code/lib"
        arch = args[args.index("--arch") + 1]
        assert run.name.startswith("alexnet_" if arch == "alexnet" else "resnet50-lrstudy_")


def test_booleans_and_none(project):
    project.write(
        "bools.yml",
        """\
        CMD: python train.py
        HPARAMS:
          some_flag: [true, false]
          some_arg: ['True', 'False']
          other: None
          nothing: null
        """,
    )
    done = project.runx("bools.yml", "-i")
    assert done.returncode == 0, done.stderr
    argvs = sorted(project.argv_of(r)["argv"] for r in project.runs("bools"))
    assert argvs == sorted([
        ["--some_flag", "--some_arg", "True"], ["--some_flag", "--some_arg", "False"],
        ["--some_arg", "True"], ["--some_arg", "False"],
    ])


def test_tag_exp_name_and_no_cooldir(project):
    project.write("sweep.yml", "CMD: python train.py\nHPARAMS: {lr: 0.1}\n")
    done = project.runx("sweep.yml", "-i", "--tag", "mytag", "--exp_name", "other")
    assert done.returncode == 0, done.stderr
    [run] = project.runs("other")
    assert run.name.startswith("mytag_")
    done = project.runx("sweep.yml", "-i", "--tag", "fixed", "--no_cooldir")
    assert done.returncode == 0, done.stderr
    assert (project.logroot / "sweep" / "fixed" / "argv.json").is_file()
    again = project.runx("sweep.yml", "-i", "--tag", "fixed", "--no_cooldir")
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    assert [r.name for r in project.runs("sweep")] == ["fixed"]


def test_failed_jobs_do_not_stop_the_sweep_and_exit_1(project):
    project.write("fail.yml", "CMD: python train.py\nHPARAMS: {exit: [0, 3, 0]}\n")
    done = project.runx("fail.yml", "-i")
    assert done.returncode == 1
    statuses = sorted((r / "status.log").read_text().splitlines()[-1].split()[-1] for r in project.runs("fail"))
    assert statuses == ["exit=0", "exit=0", "exit=3"]
    assert "1 of 3 job(s) failed" in done.stderr
