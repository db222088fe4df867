"""`runx sweep.yml key=value ...`: overrides of HPARAMS and of top-level keys, end to end (real runs)."""
from __future__ import annotations

import json

SWEEP = """\
CMD: 'python train.py'
HPARAMS: [
  {lr: [0.01, 0.02], solver: sgd, adam: true, epochs: 10},
  {solver: adam, lr: [0.5]},
]
"""


def records(project, experiment="sweep"):
    return [json.loads((run / "run.json").read_text()) for run in project.runs(experiment)]


def test_overrides_change_every_mapping_are_recorded_and_resume_like_any_key(project):
    project.write("sweep.yml", SWEEP)
    done = project.runx("sweep.yml", "-n", "lr=0.1,1e-5", "adam=null", "epochs=3", "epoch=7", "name=[a,b]")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "# overrides: lr=0.1,1e-5 adam=null epochs=3 epoch=7 'name=[a,b]'",
        "python train.py --lr 0.1 --solver sgd --epochs 3 --epoch 7 --name '[a,b]'",
        "python train.py --lr 1e-5 --solver sgd --epochs 3 --epoch 7 --name '[a,b]'",
        "python train.py --lr 0.1 --solver adam --epochs 3 --epoch 7 --name '[a,b]'",
        "python train.py --lr 1e-5 --solver adam --epochs 3 --epoch 7 --name '[a,b]'",
    ]
    assert "epoch is not in HPARAMS" in done.stderr and "the closest key is 'epochs'" in done.stderr, done.stderr
    assert not project.logroot.exists()

    done = project.runx("sweep.yml", "-i", "lr=0.3", "solver=sgd", "adam=null", 'tag="x,y"')
    assert done.returncode == 0, done.stderr
    assert "tag is not in HPARAMS" in done.stderr
    runs = project.runs("sweep")
    assert len(runs) == 2  # both mappings now lr 0.3, solver sgd: the same configuration twice
    for run, record in zip(runs, records(project)):
        assert project.argv_of(run)["argv"] == ["--lr", "0.3", "--solver", "sgd", "--epochs", "10", "--tag", "x,y"]
        assert record["overrides"] == ["lr=0.3", "solver=sgd", "adam=null", 'tag="x,y"']
        assert json.loads((run / "hparams.json").read_text()) == {"lr": 0.3, "solver": "sgd", "epochs": 10, "tag": "x,y"}

    done = project.runx("sweep.yml", "-i", "--resume", "lr=0.3,0.4", "solver=sgd", "adam=null", 'tag="x,y"')
    assert done.returncode == 0, done.stderr
    assert "2 configuration(s) already succeeded, queued or running; 2 to launch" in done.stderr, done.stderr
    assert sorted(r["hparams"]["lr"] for r in records(project)) == [0.3, 0.3, 0.4, 0.4]
    without = [r for r in records(project) if r["overrides"] == []]
    assert without == []


def test_top_level_overrides_and_refusals(project, tmp_path):
    project.write(".runx", "LOGROOT: logs\nbigfarm:\n  SUBMIT_CMD: submit_job\n  RESOURCES: {gpu: 2, cpu: 16}\n")
    project.write("sweep.yml", "CMD: 'python train.py'\nHPARAMS:\n  lr: 0.1\n  wd: {uniform: [0, 1]}\nSWEEP: {trials: 1}\n")
    done = project.runx("sweep.yml", "-n", "FARM=bigfarm", "RESOURCES.gpu=4", "RESOURCES.mem=64", "SWEEP.trials=3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "# overrides: FARM=bigfarm RESOURCES.gpu=4 RESOURCES.mem=64 SWEEP.trials=3"
    assert len(lines) == 4 and all(line.startswith('submit_job --gpu 4 --cpu 16 --mem 64 -c "python train.py --lr 0.1 --wd 0.')
                                   for line in lines[1:]), lines
    assert len(set(lines[1:])) == 3  # three draws
    bad = {
        ("FRAM=bigfarm",): "override FRAM=bigfarm: unknown key FRAM (did you mean 'FARM'?)",
        ("SWEEP.trialz=3",): "override SWEEP.trialz=3: unknown sweep option trialz (did you mean 'trials'?)",
        ("RESOURCES=4",): "override RESOURCES=4: expected RESOURCES.<name>=value",
        ("FARM.x=1",): "override FARM.x=1: FARM takes a value, not a dot path",
        ("FARM=nosuch",): "the command line: FARM: unknown farm 'nosuch'",
        ("lr=0.1,",): "override lr=0.1,: an empty value between commas",
        ("lr=",): "lr=: expected key=value with a value after '='",
        ("lr=[0.1",): "override lr=[0.1",
    }
    for args, message in bad.items():
        done = project.runx("sweep.yml", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("runx: error: ") and message in done.stderr, (args, done.stderr)
        assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    done = project.runx("sweep.yml", "-n", "lr=0.1", "nonsense")
    assert done.returncode == 2 and done.stderr.splitlines() == [
        "usage: runx [options] EXP_YML [KEY=VALUE ...]", "runx: error: unrecognized arguments: nonsense (expected KEY=VALUE)"]
    assert not project.logroot.exists()
    help_text = project.runx("--help").stdout
    assert "KEY=VALUE" in help_text and "RESOURCES.gpu=4" in help_text
