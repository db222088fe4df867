"""The NGC farm, against a stand-in `ngc` on PATH that records its argv (NGC's servers are not reachable)."""
from __future__ import annotations

import json
import os
import shlex
import stat

FAKE_NGC = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["NGC_LOG"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["batch", "run"]:
    print("--------------------------------------------------")
    print(" Job Information")
    print("   Id: 1234567")
    print("   Name: x")
"""


def test_ngc_uploads_then_submits(project, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ngc = bin_dir / "ngc"
    ngc.write_text(FAKE_NGC)
    ngc.chmod(ngc.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "ngc.jsonl"
    project.write(
        ".runx",
        f"""\
        LOGROOT: {project.logroot}
        FARM: ngc
        ngc:
            NGC_LOGROOT: /ngc_logroot
            WORKSPACE: my_ws
            SUBMIT_CMD: 'ngc batch run'
            RESOURCES:
               image: nvidian/pytorch:19.10-py3
               instance: dgx1v.16g.1.norm
               ace: nv-us-west-2
               result: /result
        """,
    )
    project.write("sweep.yml", "CMD: python train.py\nHPARAMS:\n  lr: [0.01, 0.02]\n  logdir: LOGDIR\n")
    done = project.runx("sweep.yml", env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "NGC_LOG": str(log)})
    assert done.returncode == 0, done.stderr
    calls = [json.loads(l) for l in log.read_text().splitlines()]
    runs = project.runs("sweep")
    assert len(calls) == 4 and len(runs) == 2
    for upload, batch in zip(calls[0::2], calls[1::2]):
        run_name = upload[upload.index("--destination") + 1].split("/")[1]
        run = project.logroot / "sweep" / run_name
        assert upload == ["workspace", "upload", "--source", str(run), "--destination", f"sweep/{run_name}", "my_ws"]
        assert batch[:2] == ["batch", "run"]
        assert batch[2:10] == ["--image", "nvidian/pytorch:19.10-py3", "--instance", "dgx1v.16g.1.norm",
                               "--ace", "nv-us-west-2", "--result", "/result"]
        assert batch[batch.index("--name") + 1] == f"sweep_{run_name}"
        assert batch[batch.index("--workspace") + 1] == "my_ws:/ngc_logroot:RW"
        commandline = batch[batch.index("--commandline") + 1]
        assert shlex.split(commandline) == ["sh", f"/ngc_logroot/sweep/{run_name}/job.sh"]
        job_sh = (run / "job.sh").read_text()
        assert f"RUNX_LOGDIR=/ngc_logroot/sweep/{run_name}" in job_sh
        assert f"--logdir /ngc_logroot/sweep/{run_name}" in job_sh
        hparams = json.loads((run / "hparams.json").read_text())
        assert hparams["logdir"] == f"/ngc_logroot/sweep/{run_name}"
        assert json.loads((run / "run.json").read_text())["job_id"] == "1234567"


def test_ngc_dry_run_shows_the_commandline(project):
    project.write(".runx", "LOGROOT: logs\nFARM: ngc\nngc:\n  NGC_LOGROOT: /n\n  WORKSPACE: ws\n  RESOURCES: {ace: a}\n")
    project.write("sweep.yml", "CMD: python train.py\nHPARAMS: {lr: 0.1}\n")
    done = project.runx("sweep.yml", "-n")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("ngc batch run --ace a --name sweep_")
    assert line.endswith('--commandline "python train.py --lr 0.1" --workspace ws:/n:RW')


def test_ngc_needs_workspace(project):
    project.write(".runx", "LOGROOT: logs\nFARM: ngc\nngc:\n  NGC_LOGROOT: /n\n")
    project.write("sweep.yml", "CMD: python train.py\nHPARAMS: {lr: 0.1}\n")
    done = project.runx("sweep.yml", "-n")
    assert done.returncode == 2 and "ngc.WORKSPACE" in done.stderr
