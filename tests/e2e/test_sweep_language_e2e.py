"""The sweep language through the real CLI: `-n` shows sampled values, `-i` records them in hparams.json."""
from __future__ import annotations

import json

RANDOM = """\
CMD: 'python train.py'
SWEEP: {trials: 3, seed: 1}
HPARAMS:
  solver: [sgd, adam]
  lr: {loguniform: [1e-5, 1e-1]}
  batch: {randint: [16, 128]}
  logdir: LOGDIR
"""

REPLICAS = """\
CMD: 'python train.py'
HPARAMS:
  lr: [0.1, 0.01]
  warmup: [0, 500]
  seed: {replica}
  RUNX.ZIP: [lr, warmup]
  RUNX.REPLICAS: 2
  RUNX.TAG: 'w{warmup}-s{replica}'
"""


def dry(project, *args):
    done = project.runx("exp.yml", "-n", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_dry_run_shows_the_sampled_values_the_same_each_time(project):
    project.write("exp.yml", RANDOM.replace("  logdir: LOGDIR\n", ""))
    lines = dry(project)
    assert len(lines) == 6
    assert lines == dry(project) == dry(project, "--seed", "1")
    assert lines != dry(project, "--seed", "2")
    for line in lines:
        words = line.split()
        lr, batch = float(words[words.index("--lr") + 1]), int(words[words.index("--batch") + 1])
        assert 1e-5 <= lr <= 1e-1 and 16 <= batch <= 128
    assert [l.split("--solver ")[1].split()[0] for l in lines] == ["sgd"] * 3 + ["adam"] * 3
    assert not project.logroot.exists()


def test_interactive_records_the_sampled_values_in_hparams_json(project):
    project.write("exp.yml", RANDOM)
    planned = dry(project)
    done = project.runx("exp.yml", "-i")
    assert done.returncode == 0, done.stderr
    runs = project.runs("exp")
    assert len(runs) == 6
    seen, origins = [], []
    for run in runs:
        hparams = json.loads((run / "hparams.json").read_text())
        argv = project.argv_of(run)["argv"]
        assert argv[argv.index("--lr") + 1] == repr(hparams["lr"])
        assert int(argv[argv.index("--batch") + 1]) == hparams["batch"] and isinstance(hparams["batch"], int)
        assert hparams["logdir"] == str(run)
        seen.append((hparams["solver"], hparams["lr"], hparams["batch"]))
        origins.append(json.loads((run / "run.json").read_text())["sweep"])
    assert sorted((o["seed"], o["trial"], o["replica"]) for o in origins) == sorted((1, t, None) for t in range(3) for _ in range(2))
    expected = []
    for line in planned:
        words = line.split()
        expected.append((words[words.index("--solver") + 1], float(words[words.index("--lr") + 1]),
                         int(words[words.index("--batch") + 1])))
    assert sorted(seen) == sorted(expected)


def test_zip_and_replicas_run_with_replica_seeds_and_tags(project):
    project.write("exp.yml", REPLICAS)
    assert dry(project) == [
        "python train.py --lr 0.1 --warmup 0 --seed 0",
        "python train.py --lr 0.1 --warmup 0 --seed 1",
        "python train.py --lr 0.01 --warmup 500 --seed 0",
        "python train.py --lr 0.01 --warmup 500 --seed 1",
    ]
    done = project.runx("exp.yml", "-i")
    assert done.returncode == 0, done.stderr
    by_tag = {}
    for run in project.runs("exp"):
        by_tag[run.name.split("_")[0]] = json.loads((run / "hparams.json").read_text())
        origin = json.loads((run / "run.json").read_text())["sweep"]
        assert origin == {"seed": 0, "trial": None, "replica": by_tag[run.name.split("_")[0]]["seed"]}
    assert by_tag == {
        "w0-s0": {"lr": 0.1, "warmup": 0, "seed": 0},
        "w0-s1": {"lr": 0.1, "warmup": 0, "seed": 1},
        "w500-s0": {"lr": 0.01, "warmup": 500, "seed": 0},
        "w500-s1": {"lr": 0.01, "warmup": 500, "seed": 1},
    }


def test_list_of_dicts_with_trials_replicas_and_skip(project):
    project.write("exp.yml", """\
        CMD: 'python train.py'
        SWEEP: {trials: 2}
        HPARAMS:
          - {arch: small, lr: {uniform: [0.1, 0.2]}, seed: '{replica}', RUNX.REPLICAS: 2, RUNX.TAG: small}
          - {arch: big, RUNX.TRIALS: 1}
          - {arch: huge, RUNX.SKIP: true}
        """)
    lines = dry(project)
    assert [l.split("--arch ")[1].split()[0] for l in lines] == ["small"] * 4 + ["big"] * 2
    assert [l.split("--seed ")[1] for l in lines] == ["0", "1"] * 3


def run_bad(project, expected):
    done = project.runx("exp.yml", "-n")
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("runx: error: exp.yml: "), done.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in done.stderr and not project.logroot.exists()


def test_typos_fail_with_one_line_and_exit_2(project):
    cases = [
        ("SWEEP: {trials: 2}\nHPARAMS:\n  lr: {loguniforn: [1e-5, 1e-1]}\n", "HPARAMS.lr: expected a value or a list of values, found a mapping with unknown distribution 'loguniforn' (did you mean 'loguniform'?)"),
        ("SWEEP: {trials: 2}\nHPARAMS:\n  lr: {uniform: [0.5, 0.1]}\n", "HPARAMS.lr.uniform: expected low < high, found [0.5, 0.1]"),
        ("HPARAMS:\n  lr: [1, 2]\n  RUNX.REPLICA: 3\n", "HPARAMS.RUNX.REPLICA: unknown RUNX key (did you mean 'RUNX.REPLICAS'?)"),
        ("SWEEP: {trails: 2}\nHPARAMS:\n  lr: [1, 2]\n", "SWEEP.trails: unknown sweep option (did you mean 'trials'?)"),
        ("HPARAMS:\n  lr: {uniform: [0, 1]}\n", "HPARAMS.lr: drawn from a distribution, so the sweep needs a number of trials"),
        ("HPARAMS:\n  lr: [1, 2]\n  wd: [1]\n  RUNX.ZIP: [lr, wd]\n", "RUNX.ZIP: zipped hyperparameters need the same number of values"),
    ]
    for body, expected in cases:
        project.write("exp.yml", "CMD: python train.py\n" + body)
        run_bad(project, expected)


def test_seed_option_must_be_a_number(project):
    project.write("exp.yml", RANDOM)
    done = project.runx("exp.yml", "-n", "--seed", "x")
    assert done.returncode == 2 and "--seed" in done.stderr


def test_more_trials_with_resume_launch_only_the_new_trials(project):
    project.write("exp.yml", "CMD: python train.py\nSWEEP: {trials: 2}\nHPARAMS:\n  lr: {loguniform: [1e-4, 1]}\n")
    assert project.runx("exp.yml", "-i").returncode == 0
    project.write("exp.yml", "CMD: python train.py\nSWEEP: {trials: 3}\nHPARAMS:\n  lr: {loguniform: [1e-4, 1]}\n")
    done = project.runx("exp.yml", "-i", "--resume")
    assert done.returncode == 0, done.stderr
    assert "2 configuration(s) already succeeded" in done.stderr
    lrs = [json.loads((run / "hparams.json").read_text())["lr"] for run in project.runs("exp")]
    assert len(lrs) == 3 == len(set(lrs))
