"""runx.core.farms.slurm: options and scripts (pure), then submit/query/cancel against real Slurm."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from runx.core.errors import RunxError
from runx.core.farms import slurm
from runx.core.farms.batch import task_ranges
from runx_testing import require

# ---- sbatch_options -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resources, expected",
    [
        ({"gpu": 2}, ["--gres=gpu:2"]),
        ({"gpu": "a100:4"}, ["--gres=gpu:a100:4"]),
        ({"gpu": 0}, []),
        ({"gpu": True}, ["--gres=gpu"]),
        ({"cpu": 16}, ["--cpus-per-task=16"]),
        ({"mem": 128}, ["--mem=128G"]),
        ({"mem": "128"}, ["--mem=128G"]),
        ({"mem": 0.5}, ["--mem=512M"]),
        ({"mem": "500M"}, ["--mem=500M"]),
        ({"mem": "2T"}, ["--mem=2T"]),
        ({"time": 90}, ["--time=90"]),
        ({"time": "1-00:00:00"}, ["--time=1-00:00:00"]),
        ({"partition": "batch"}, ["--partition=batch"]),
        ({"nodes": 2}, ["--nodes=2"]),
        ({"account": "proj"}, ["--account=proj"]),
        ({"qos": "high"}, ["--qos=high"]),
        ({"constraint": "volta&ib"}, ["--constraint=volta&ib"]),
        ({"exclusive": True}, ["--exclusive"]),
        ({"exclusive": False, "reservation": None}, []),
        ({"mail_type": "END"}, ["--mail-type=END"]),
        ({"ntasks-per-node": 8}, ["--ntasks-per-node=8"]),
        ({"w": "node1"}, ["-wnode1"]),
        ({"gres": ["gpu:2", "nvme:1"]}, ["--gres=gpu:2", "--gres=nvme:1"]),
        ({"GPU": 1, "CPU": 4}, ["--gres=gpu:1", "--cpus-per-task=4"]),
    ],
)
def test_sbatch_options(resources, expected):
    assert slurm.sbatch_options(resources) == expected


def test_sbatch_options_keep_the_order_of_resources():
    resources = {"gpu": 2, "cpu": 16, "mem": 128, "time": "4:00:00", "partition": "p", "signal": "USR1@90"}
    assert slurm.sbatch_options(resources) == [
        "--gres=gpu:2", "--cpus-per-task=16", "--mem=128G", "--time=4:00:00", "--partition=p", "--signal=USR1@90",
    ]


@pytest.mark.parametrize(
    "resources",
    [{"mem": True}, {"bad key": 1}, {"-x": 1}, {"comment": "a\nb"}, {"cpu": {"n": 1}}, {"gres": [["a"]]}, {3: 1}],
)
def test_sbatch_options_reject_what_sbatch_cannot_take(resources):
    with pytest.raises(RunxError):
        slurm.sbatch_options(resources)


# ---- batch_script -------------------------------------------------------------------------------


def _directives(script: str) -> list:
    return [line[len("#SBATCH "):] for line in script.splitlines() if line.startswith("#SBATCH ")]


def test_batch_script_for_one_run():
    script = slurm.batch_script("exp_run", "/logs/exp/run", "/logs/exp/run/job.sh", ["--gres=gpu:2", "--exclusive"])
    lines = script.splitlines()
    assert lines[0] == "#!/bin/sh"
    assert _directives(script) == [
        "--job-name=exp_run",
        "--output=/logs/exp/run/slurm-%j.out",
        "--error=/logs/exp/run/slurm-%j.err",
        "--chdir=/logs/exp/run",
        "--gres=gpu:2",
        "--exclusive",
    ]
    assert lines[-1] == "exec sh /logs/exp/run/job.sh"
    # Directives must come before the first command, or sbatch ignores them.
    first_command = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
    assert all(i < first_command for i, line in enumerate(lines) if line.startswith("#SBATCH"))


def test_batch_script_quotes_for_sbatch_and_sh():
    script = slurm.batch_script('a b"c#d', "/logs/x y%z", "/logs/x y%z/job.sh", ["--comment=it's \\ fine"])
    assert _directives(script) == [
        '--job-name="a b\\"c#d"',
        '--output="/logs/x y%%z/slurm-%j.out"',
        '--error="/logs/x y%%z/slurm-%j.err"',
        '--chdir="/logs/x y%z"',
        '--comment="it\'s \\\\ fine"',
    ]
    assert script.splitlines()[-1] == "exec sh '/logs/x y%z/job.sh'"


def test_batch_script_rejects_line_breaks():
    with pytest.raises(RunxError):
        slurm.batch_script("a\nb", "/r", "/r/job.sh", [])


def test_batch_script_for_an_array():
    options = ["--cpus-per-task=2", slurm.array_option(4)]
    script = slurm.batch_script("exp", "/logs/exp", "/logs/exp/slurm-array.txt", options, array=True)
    assert _directives(script) == [
        "--job-name=exp",
        "--output=/dev/null",  # each task redirects into its run directory
        "--error=/dev/null",
        "--chdir=/logs/exp",
        "--cpus-per-task=2",
        "--array=0-3",
    ]
    assert "list=/logs/exp/slurm-array.txt" in script
    assert 'exec sh "$run_dir/job.sh"' in script


def test_array_helpers():
    assert slurm.array_option(1) == "--array=0-0"
    assert slurm.array_list(["/a", "/b c"]) == "/a\n/b c\n"
    with pytest.raises(ValueError):
        slurm.array_option(0)
    with pytest.raises(RunxError):
        slurm.array_list(["/a\n/b"])


def test_array_script_maps_task_ids_to_run_dirs(tmp_path):
    """The array script run by plain sh, as Slurm would run task 1."""
    runs = []
    for i in range(3):
        run = tmp_path / f"run {i}"
        run.mkdir()
        (run / "job.sh").write_text(f'echo "task {i} in $(pwd)"; exit {i}\n')
        runs.append(str(run))
    (tmp_path / "list.txt").write_text(slurm.array_list(runs))
    script = tmp_path / "batch.sh"
    script.write_text(slurm.batch_script("exp", str(tmp_path), str(tmp_path / "list.txt"), [], array=True))
    env = {"PATH": "/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_JOB_ID": "77"}
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert (tmp_path / "run 1" / "slurm-77_1.out").read_text() == f"task 1 in {tmp_path}/run 1\n"
    env["SLURM_ARRAY_TASK_ID"] = "5"
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "no run for array task 5" in done.stderr


# ---- states -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, code, state, exit_code",
    [
        ("PENDING", None, "queued", None),
        ("CONFIGURING", None, "queued", None),
        ("REQUEUED", None, "queued", None),
        ("RUNNING", 0, "running", None),
        ("COMPLETING", 3, "running", None),
        ("SUSPENDED", None, "running", None),
        ("COMPLETED", 0, "succeeded", 0),
        ("COMPLETED", None, "succeeded", 0),
        ("FAILED", 3, "failed", 3),
        ("TIMEOUT", 143, "failed", 143),
        ("OUT_OF_MEMORY", 137, "failed", 137),
        ("NODE_FAIL", None, "failed", None),
        ("CANCELLED by 0", 0, "cancelled", 0),
        ("CANCELLED+", None, "cancelled", None),
        ("", None, "unknown", None),
        ("SOMETHING_NEW", 1, "unknown", 1),
    ],
)
def test_job_state(raw, code, state, exit_code):
    got = slurm.job_state(raw, code, "test")
    assert (got.state, got.exit_code, got.raw, got.source) == (state, exit_code, raw, "test")


def test_exit_codes_from_slurm_spellings():
    assert slurm._exit_from_wait_status("768") == 3
    assert slurm._exit_from_wait_status("0") == 0
    assert slurm._exit_from_wait_status("9") == 137
    assert slurm._exit_from_wait_status("") is None
    assert slurm._exit_from_pair("3:0") == 3
    assert slurm._exit_from_pair("0:15") == 143
    assert slurm._exit_from_pair("") is None


def test_query_without_valid_ids_runs_nothing(monkeypatch):
    def no_commands(*args, **kwargs):
        raise AssertionError("no Slurm command expected")

    monkeypatch.setattr(slurm, "_run", no_commands)
    answers = slurm.query(["abc", "-u root", "1;2"])
    assert {k: v.state for k, v in answers.items()} == {"abc": "unknown", "-u root": "unknown", "1;2": "unknown"}
    slurm.cancel(["abc", ""])


def test_missing_commands_are_user_errors(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RunxError, match="sbatch"):
        slurm.submit("/x/batch.sh")


# ---- against the real Slurm ---------------------------------------------------------------------


@pytest.fixture
def slurm_root(tmp_path: Path) -> Path:
    require("slurm")
    return tmp_path


def test_submit_query_failed_with_exit_code(slurm_root):
    from e2e.slurm_helpers import make_run_dir, read_output, submit_run, wait_for_state

    run = make_run_dir(slurm_root, "failing", 'echo "out here"; echo "err here" >&2; exit 3')
    job_id = submit_run(run)
    assert job_id.isdigit()
    state = wait_for_state(job_id)
    assert (state.state, state.exit_code) == ("failed", 3), state
    assert read_output(run, job_id) == "out here\n"
    assert (run / f"slurm-{job_id}.err").read_text() == "err here\n"


def test_quick_job_succeeds_in_its_run_dir(slurm_root):
    from e2e.slurm_helpers import make_run_dir, read_output, submit_run, wait_for_state

    run = make_run_dir(slurm_root, "quick run %x", "pwd; echo $SLURM_JOB_NAME")
    job_id = submit_run(run, job_name='exp "quick" #1')
    state = wait_for_state(job_id)
    assert (state.state, state.exit_code) == ("succeeded", 0), state
    assert read_output(run, job_id) == f'{run}\nexp "quick" #1\n'


def test_cancel_a_running_job(slurm_root):
    from e2e.slurm_helpers import make_run_dir, submit_run, wait_for_state

    run = make_run_dir(slurm_root, "sleeper", "sleep 300")
    job_id = submit_run(run)
    assert wait_for_state(job_id, ("running",)).state == "running"
    slurm.cancel([job_id])
    state = wait_for_state(job_id)
    assert state.state == "cancelled", state
    slurm.cancel([job_id, "99999999"])  # gone or unknown: not an error


def test_cancel_a_queued_job(slurm_root):
    from e2e.slurm_helpers import make_run_dir, submit_run, wait_for_state

    run = make_run_dir(slurm_root, "held", "true")
    job_id = submit_run(run, options=["--hold"])
    assert slurm.query([job_id])[job_id].state == "queued"
    slurm.cancel([job_id])
    assert wait_for_state(job_id).state == "cancelled"


def test_query_many_in_one_squeue_call(slurm_root, monkeypatch):
    from e2e.slurm_helpers import make_run_dir, submit_run, wait_for_states

    ids = [submit_run(make_run_dir(slurm_root, f"r{i}", f"exit {i}")) for i in range(3)]
    wait_for_states(ids)
    calls = []
    real_run = slurm._run
    monkeypatch.setattr(slurm, "_run", lambda argv, **kw: calls.append(argv[0]) or real_run(argv, **kw))
    answers = slurm.query(ids + ["bogus"])
    assert calls == ["squeue"]
    assert [(answers[j].state, answers[j].exit_code) for j in ids] == [("succeeded", 0), ("failed", 1), ("failed", 2)]
    assert answers["bogus"].state == "unknown"


def test_array_over_a_sweep(slurm_root):
    from e2e.slurm_helpers import make_run_dir, wait_for_states

    runs = [make_run_dir(slurm_root, f"run{i}", f"echo run {i}; exit {i}") for i in range(3)]
    (slurm_root / "list.txt").write_text(slurm.array_list(str(r) for r in runs))
    script = slurm_root / "batch.sh"
    script.write_text(
        slurm.batch_script("exp", str(slurm_root), str(slurm_root / "list.txt"), [slurm.array_option(3)], array=True)
    )
    array_id = slurm.submit(str(script))
    tasks = [f"{array_id}_{i}" for i in range(3)]
    answers = wait_for_states(tasks + [array_id])
    assert [(answers[t].state, answers[t].exit_code) for t in tasks] == [("succeeded", 0), ("failed", 1), ("failed", 2)]
    assert answers[array_id].state == "failed"
    for i, run in enumerate(runs):
        assert (run / f"slurm-{array_id}_{i}.out").read_text() == f"run {i}\n"


def test_jobs_squeue_forgot_come_from_the_completion_log_or_sacct(slurm_root, monkeypatch):
    from e2e.slurm_helpers import make_run_dir, submit_run, wait_for_states

    failing = submit_run(make_run_dir(slurm_root, "f", "exit 3"))
    fine = submit_run(make_run_dir(slurm_root, "ok", "true"))
    wait_for_states([failing, fine])
    monkeypatch.setattr(slurm, "_from_squeue", lambda ids: {})  # as if MinJobAge had passed
    answers = wait_for_states([failing, fine], timeout=30)
    assert (answers[failing].state, answers[failing].exit_code) == ("failed", 3)
    assert (answers[fine].state, answers[fine].exit_code) == ("succeeded", 0)
    assert {a.source for a in answers.values()} <= {"sacct", "jobcomp"}


def test_sacct_when_accounting_exists(slurm_root):
    from e2e.slurm_helpers import make_run_dir, submit_run, wait_for_states

    probe = subprocess.run(["sacct", "-n", "-X", "-j", "1"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"accounting is off here: {probe.stderr.strip()}")
    ids = [submit_run(make_run_dir(slurm_root, "f", "exit 3")), submit_run(make_run_dir(slurm_root, "ok", "true"))]
    wait_for_states(ids)
    found = {}
    for _ in range(50):  # slurmctld hands records to slurmdbd asynchronously
        found = slurm._from_sacct(ids)
        if all(j in found and found[j].state != "running" for j in ids):
            break
        __import__("time").sleep(0.2)
    assert (found[ids[0]].state, found[ids[0]].exit_code) == ("failed", 3)
    assert (found[ids[1]].state, found[ids[1]].exit_code) == ("succeeded", 0)


def test_submit_rejections_are_user_errors(slurm_root):
    from e2e.slurm_helpers import make_run_dir, submit_run

    run = make_run_dir(slurm_root, "bad", "true")
    with pytest.raises(RunxError, match="partition"):
        submit_run(run, options=slurm.sbatch_options({"partition": "no-such-partition"}))
    with pytest.raises(RunxError, match="unrecognized"):
        submit_run(run, options=slurm.sbatch_options({"no-such-option": 1}))


# ---- large sweeps: arrays by default, chunks, id lists (pure) ------------------------------------


def test_id_lists_are_cut_to_the_length_one_argument_may_have():
    words = [str(10_000_000 + i) for i in range(30_000)]
    chunks = slurm._chunks(words)
    assert [w for c in chunks for w in c] == words and len(chunks) == 5
    assert all(len(",".join(c)) <= slurm.ID_LIST_CHARS for c in chunks)
    assert slurm._chunks(["1", "2", "3"], limit=3) == [["1", "2"], ["3"]]
    assert slurm._chunks([]) == []


def test_array_tasks_are_asked_as_their_array_and_cancelled_as_ranges():
    assert slurm._asked(["7_0", "7_1", "8", "9_3", "7_2"]) == ["7", "8", "9"]
    assert task_ranges([5, 0, 1, 2, 7, 8, 10]) == ["0-2", "5", "7-8", "10"]
    assert task_ranges([3]) == ["3"]


def test_a_whole_array_reads_from_its_tasks_without_a_quadratic_scan():
    found = {f"7_{i}": slurm.JobState("queued") for i in range(20_000)}
    found["7_5"] = slurm.JobState("running")
    answers: dict = {}
    slurm._resolve(["7", "7_3", "8"] + [str(100 + i) for i in range(20_000)], found, answers)
    assert answers["7"].state == "running" and answers["7_3"].state == "queued" and "8" not in answers


def _farm(monkeypatch, array=None, flag=None, max_size=None, cluster=1001):
    from runx.core.config import FarmSettings
    from runx.core.farms import LaunchOptions

    monkeypatch.setattr(slurm, "max_array_size", lambda: cluster)
    return slurm.SlurmFarm(FarmSettings(name="slurm", kind="slurm", submit_cmd="sbatch", array=array,
                                        array_max_size=max_size), None, LaunchOptions(array=flag))


@pytest.mark.parametrize(
    "array, flag, count, expected",
    [
        (None, None, 100, False), (None, None, 101, True), (None, None, 10_000, True),
        (False, None, 10_000, False), (None, False, 10_000, False), (True, False, 10_000, False),
        (True, None, 2, True), (None, True, 2, True), (False, True, 2, True), (None, True, 1, False),
    ],
)
def test_arrays_by_default_above_the_threshold_and_as_told(monkeypatch, array, flag, count, expected):
    assert _farm(monkeypatch, array, flag).uses_arrays(count) is expected


def test_arrays_are_cut_to_the_smaller_of_array_max_size_and_the_clusters_limit(monkeypatch):
    assert _farm(monkeypatch, max_size=60).array_size() == 60
    assert _farm(monkeypatch, max_size=5000).array_size() == 1001
    assert _farm(monkeypatch, cluster=300).array_size() == 300
