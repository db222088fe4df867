"""The sge farm's pure parts: RESOURCES as qsub options, the qsub script (run by a real sh), and
what qsub -terse, qstat -xml and qacct print (texts as Son of Grid Engine 8.1.9 printed them)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from runx.core.errors import RunxError
from runx.core.farms import infer_kind, lookup
from runx.core.farms.sge import (
    SgeFarm,
    acct_state,
    array_list,
    job_name,
    parse_qacct,
    parse_qstat_xml,
    parse_qsub_terse,
    qstat_state,
    qsub_options,
    qsub_script,
)


def test_resources_map_to_qsub_options():
    assert qsub_options({"cpu": 4, "mem": 16, "time": 90, "queue": "all.q", "project": "vision"}) == [
        "-pe", "smp", "4", "-l", "mem_free=16G", "-l", "h_rt=1:30:00", "-q", "all.q", "-P", "vision"]
    assert qsub_options({"gpu": 2, "cpu": 8, "pe": "mpi"}) == ["-pe", "mpi", "8"]
    assert qsub_options({"gpu": 2}) == ["-pe", "smp", "2"]
    assert qsub_options({"pe": "mpi"}) == ["-pe", "mpi", "1"]
    assert qsub_options({"mem": 0.5, "time": "4:00:00", "h_vmem": "2G"}) == [
        "-l", "mem_free=512M", "-l", "h_rt=4:00:00", "-l", "h_vmem=2G"]
    assert qsub_options({"time": 5}) == ["-l", "h_rt=0:05:00"]
    assert qsub_options({"partition": "long.q", "account": "lab42", "arch": "lx-amd64"}) == [
        "-q", "long.q", "-A", "lab42", "-l", "arch=lx-amd64"]
    assert qsub_options({"exclusive": True, "gpu": 0, "ssd": False, "scratch": None}) == ["-l", "exclusive=true"]
    assert qsub_options({"CPU": 3, "MEM": "500M"}) == ["-pe", "smp", "3", "-l", "mem_free=500M"]
    assert qsub_options({}) == []


@pytest.mark.parametrize("resources, words", [
    ({"mem": "1G,h_rt=99"}, "RESOURCES.mem: expected one value without spaces, commas"),
    ({"queue": "all.q -P x"}, "RESOURCES.queue: expected one value without spaces"),
    ({"arch": "a'b"}, "RESOURCES.arch: expected one value"),
    ({"queue": "-V"}, "RESOURCES.queue: expected one value without spaces, commas, quotes, '#' or '=' (and not an option)"),
    ({"cpu": "four"}, "RESOURCES.cpu: expected a whole number of slots, found 'four'"),
    ({"cpu": 2.5}, "RESOURCES.cpu: expected a whole number of slots"),
    ({"gres": ["gpu:2", "nvme:1"]}, "RESOURCES.gres: expected one value, found ['gpu:2', 'nvme:1']"),
    ({"h-rt": 5}, "RESOURCES: 'h-rt' is not a Grid Engine resource name"),
    ({"note": "a\nb"}, "RESOURCES.note: a value cannot contain a line break"),
    ({"mem": True}, "RESOURCES.mem: expected an amount"),
])
def test_bad_resources_name_the_key(resources, words):
    with pytest.raises(RunxError) as err:
        qsub_options(resources)
    assert str(err.value).startswith(words), str(err.value)


def test_job_names_suit_grid_engine():
    assert job_name("sweep", "calm-heron_2026.11.28_13.05") == "sweep_calm-heron_2026.11.28_13.05"
    assert job_name("1st try", "a/b:c@d") == "runx_1st_try_a_b_c_d"
    assert job_name("exp", "array") == "exp_array"


def test_the_kind_is_sge_by_type_or_section_name_never_by_qsub_alone():
    assert lookup("sge") is SgeFarm and SgeFarm.default_submit_cmd == "qsub"
    assert infer_kind("sge", "") == "sge" and infer_kind("gridengine", "qsub") == "sge"
    assert infer_kind("pbs", "qsub") == "generic", "PBS's submit command is qsub too"


def _run_script(tmp_path: Path, script: str, task: str = "") -> subprocess.CompletedProcess:
    path = tmp_path / "qsub.sh"
    path.write_text(script)
    env = {**os.environ, "JOB_ID": "77", **({"SGE_TASK_ID": task} if task else {})}
    return subprocess.run(["sh", str(path)], capture_output=True, text=True, env=env, timeout=30)


def test_one_run_script_sends_output_into_the_run_directory(tmp_path):
    run_dir = tmp_path / "exp with space" / "it's $HOME #1"
    run_dir.mkdir(parents=True)
    (run_dir / "job.sh").write_text('echo "out in $(pwd)"; echo err >&2; exit 3\n')
    script = qsub_script("exp_run", str(run_dir), qsub_options({"cpu": 2, "time": 10}))
    assert script.splitlines()[:9] == [
        "#!/bin/sh", "# Submitted by runx with qsub: one run.", "#$ -N exp_run", "#$ -S /bin/sh", "#$ -V",
        "#$ -o /dev/null", "#$ -e /dev/null", "#$ -pe smp 2", "#$ -l h_rt=0:10:00"]
    assert not [line for line in script.splitlines() if line.startswith("#$") and str(tmp_path) in line]
    done = _run_script(tmp_path, script)
    assert done.returncode == 3 and done.stdout == "" and done.stderr == ""
    assert (run_dir / "sge-77.out").read_text() == f"out in {run_dir}\n"
    assert (run_dir / "sge-77.err").read_text() == "err\n"


def test_array_script_runs_line_k_of_the_list_for_task_k(tmp_path):
    runs = [tmp_path / f"run {i}" for i in range(3)]
    for i, run in enumerate(runs):
        run.mkdir()
        (run / "job.sh").write_text(f"echo task {i}; exit {i}\n")
    listing = tmp_path / ".array_x.txt"
    listing.write_text(array_list(str(r) for r in runs))
    script = qsub_script("exp_array", str(listing), ["-l", "h_rt=0:10:00"], array_of=3)
    assert "#$ -t 1-3" in script.splitlines()
    for k in (1, 2, 3):
        done = _run_script(tmp_path, script, task=str(k))
        assert done.returncode == k - 1
        assert (runs[k - 1] / f"sge-77.{k}.out").read_text() == f"task {k - 1}\n"
    done = _run_script(tmp_path, script, task="4")
    assert done.returncode == 2
    assert (tmp_path / ".array_x.txt.errors").read_text().startswith("runx: no run for array task 4 in ")
    with pytest.raises(RunxError):
        array_list(["a\nb"])


def test_qsub_terse():
    assert parse_qsub_terse("42\n") == "42"
    assert parse_qsub_terse("3.1-3:1\n") == "3"
    assert parse_qsub_terse("Your job 42 has been submitted\n") is None
    assert parse_qsub_terse("") is None


QSTAT_XML = """<?xml version='1.0'?>
<job_info  xmlns:xsd="http://arc.liv.ac.uk/repos/darcs/sge/source/dist/util/resources/schemas/qstat/qstat.xsd">
  <queue_info>
    <job_list state="running">
      <JB_job_number>2</JB_job_number>
      <JAT_prio>0.50000</JAT_prio>
      <JB_name>exp_calm-heron</JB_name>
      <JB_owner>root</JB_owner>
      <state>r</state>
      <queue_name>all.q@vm</queue_name>
      <slots>1</slots>
    </job_list>
    <job_list state="running">
      <JB_job_number>3</JB_job_number>
      <JB_name>exp_array</JB_name>
      <state>t</state>
      <slots>1</slots>
      <tasks>1</tasks>
    </job_list>
  </queue_info>
  <job_info>
    <job_list state="pending">
      <JB_job_number>3</JB_job_number>
      <JB_name>exp_array</JB_name>
      <state>qw</state>
      <slots>1</slots>
      <tasks>2,4-8:2</tasks>
    </job_list>
    <job_list state="pending">
      <JB_job_number>13</JB_job_number>
      <JB_name>other</JB_name>
      <state>Eqw</state>
      <slots>1</slots>
    </job_list>
  </job_info>
</job_info>"""


def test_qstat_xml_lists_jobs_and_array_tasks():
    found = parse_qstat_xml(QSTAT_XML)
    assert sorted(found) == ["13", "2", "3.1", "3.2", "3.4", "3.6", "3.8"]
    assert (found["2"].state, found["2"].name, found["2"].raw) == ("running", "exp_calm-heron", "r")
    assert found["3.1"].state == "running" and found["3.6"].state == "queued" and found["3.6"].name == "exp_array"
    assert found["13"].state == "queued", "a job held in error (Eqw) is still in the queue"
    assert parse_qstat_xml("<job_info><queue_info/><job_info/></job_info>") == {}


@pytest.mark.parametrize("letters, state", [
    ("r", "running"), ("t", "running"), ("Rr", "running"), ("s", "running"), ("dr", "running"), ("S", "running"),
    ("qw", "queued"), ("hqw", "queued"), ("Eqw", "queued"), ("hRwq", "queued"),
])
def test_qstat_states(letters, state):
    assert qstat_state(letters) == state


QACCT = """==============================================================
qname        all.q
hostname     vm
jobnumber    4
taskid       undefined
jobname      exp_calm-heron
failed       100 : assumedly after job
exit_status  137                  (Killed)
ru_wallclock 9s
==============================================================
jobnumber    5
taskid       2
jobname      exp_array
failed       0
exit_status  3
==============================================================
jobnumber    5
taskid       3
jobname      exp_array
failed       0
exit_status  0
==============================================================
jobnumber    6
taskid       undefined
jobname      exp_x
failed       28  : changing into working directory
exit_status  0
==============================================================
jobnumber    6
taskid       undefined
jobname      exp_y
failed       0
exit_status  0
"""


def test_qacct_records_give_state_and_exit_code():
    found = parse_qacct(QACCT)
    assert sorted(found) == ["4", "5.2", "5.3", "6"]
    assert (found["4"].state, found["4"].exit_code, found["4"].name) == ("failed", 137, "exp_calm-heron")
    assert (found["5.2"].state, found["5.2"].exit_code) == ("failed", 3)
    assert (found["5.3"].state, found["5.3"].exit_code) == ("succeeded", 0)
    assert (found["6"].state, found["6"].name) == ("succeeded", "exp_y"), "the later record of a reused number wins"
    assert parse_qacct("error: job id 99 not found\n") == {}


def test_acct_state():
    assert acct_state("0", "0") == ("succeeded", 0)
    assert acct_state("0", "3") == ("failed", 3)
    assert acct_state("100", "137") == ("failed", 137)
    assert acct_state("28", "0") == ("failed", None), "failed before the job ran: no exit code of its own"


def test_bad_resources_in_the_config_are_one_line_and_exit_2(tmp_path):
    import sys

    (tmp_path / ".runx").write_text("LOGROOT: logs\nFARM: sge\nsge:\n  TYPE: sge\n  RESOURCES: {mem: '1G,h_rt=9'}\n")
    (tmp_path / "exp.yml").write_text("CMD: python train.py\nHPARAMS: {x: [1, 2]}\n")
    done = subprocess.run([sys.executable, "-m", "runx.runx", "exp.yml", "-n"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"runx: error: {tmp_path / '.runx'}: sge.RESOURCES.mem: expected one value without spaces, commas, quotes, "
        "'#' or '=' (and not an option), found '1G,h_rt=9'"]
    assert not (tmp_path / "logs").exists()


# ---- arrays by default, the cell's limit, pacing: qsub, qconf and qdel stand-ins run as real programs ----

def _farm(monkeypatch, array=None, flag=None, max_size=None, cell=75_000):
    from runx.core.config import FarmSettings
    from runx.core.farms import LaunchOptions, sge

    monkeypatch.setattr(sge, "max_array_tasks", lambda qsub="qsub": cell)
    return SgeFarm(FarmSettings(name="sge", kind="sge", submit_cmd="qsub", array=array, array_max_size=max_size),
                   None, LaunchOptions(array=flag))


@pytest.mark.parametrize("array, flag, count, expected", [
    (None, None, 100, False), (None, None, 101, True), (False, None, 10_000, False), (None, False, 10_000, False),
    (True, False, 10_000, False), (True, None, 2, True), (None, True, 2, True), (None, True, 1, False),
])
def test_arrays_by_default_above_the_threshold_and_as_told(monkeypatch, array, flag, count, expected):
    assert _farm(monkeypatch, array, flag).uses_arrays(count) is expected


def test_arrays_are_cut_to_the_smaller_of_array_max_size_and_max_aj_tasks(monkeypatch):
    assert _farm(monkeypatch, max_size=60).array_size() == 60
    assert _farm(monkeypatch, max_size=90_000).array_size() == 75_000
    assert _farm(monkeypatch, cell=300).array_size() == 300


def _program(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


SCONF = """#global:
execd_spool_dir              /var/spool/gridengine/execd
max_aj_instances             2000
max_aj_tasks                 {tasks}
max_u_jobs                   0
"""


@pytest.mark.parametrize("tasks, expected", [("500", 500), ("0", 2**31 - 1)])
def test_max_array_tasks_is_the_cells_max_aj_tasks(tmp_path, tasks, expected):
    from runx.core.farms import sge

    (tmp_path / "sconf").write_text(SCONF.format(tasks=tasks))
    _program(tmp_path, "qconf", f'[ "$*" = -sconf ] && exec cat {tmp_path / "sconf"}\nexit 1\n')
    assert sge.max_array_tasks(str(tmp_path / "qsub")) == expected


def test_max_array_tasks_falls_back_to_grid_engines_default_when_qconf_fails(tmp_path):
    from runx.core.farms import sge

    _program(tmp_path, "qconf", "echo 'error: unable to contact qmaster' >&2; exit 1\n")
    assert sge.max_array_tasks(str(tmp_path / "qsub")) == sge.DEFAULT_MAX_AJ_TASKS


UNREACHABLE = ('error: commlib error: got select error (Connection refused)\n'
               'Unable to run job: unable to send message to qmaster using port 16444 on host "vm": got send error.')


def test_qsub_is_tried_again_while_the_qmaster_is_out_of_reach(tmp_path):
    from io import StringIO

    from runx.core.farms import sge, throttle

    calls = tmp_path / "calls"
    qsub = _program(tmp_path, "qsub", f'echo "$*" >> {calls}\n[ "$(wc -l < {calls})" -ge 3 ] && echo 42 && exit 0\n'
                                      f"cat >&2 <<'EOF'\n{UNREACHABLE}\nEOF\nexit 1\n")
    waits: list = []
    err = StringIO()
    job_id = throttle.retry(lambda: sge._submit_once("job.sh", str(qsub)), "qsub", (1, 2, 4), err, waits.append)
    assert job_id == "42" and waits == [1, 2]
    assert calls.read_text().splitlines() == ["-terse job.sh"] * 3
    assert err.getvalue().splitlines()[0].startswith("runx: qsub: the controller is busy (error: commlib error: ")
    calls.unlink()
    _program(tmp_path, "qsub", f"cat >&2 <<'EOF'\n{UNREACHABLE}\nEOF\nexit 1\n")
    with pytest.raises(sge.SgeError, match="qsub failed: the qmaster stayed out of reach: error: commlib"):
        sge.submit("job.sh", str(qsub), retry_delays=())


def test_a_rejected_job_is_not_tried_again(tmp_path):
    from runx.core.farms import sge

    calls = tmp_path / "calls"
    qsub = _program(tmp_path, "qsub", f'echo "$*" >> {calls}\necho "Unable to run job: unknown resource \\"nosuch\\"" >&2\nexit 1\n')
    with pytest.raises(RunxError, match='qsub rejected job.sh: Unable to run job: unknown resource "nosuch"'):
        sge.submit("job.sh", str(qsub), retry_delays=(0, 0))
    assert calls.read_text().splitlines() == ["-terse job.sh"]


def test_cancel_sends_array_tasks_as_ranges_in_one_qdel(tmp_path):
    from runx.core.farms import sge

    calls = tmp_path / "calls"
    _program(tmp_path, "qdel", f'echo "$*" >> {calls}\n')
    sge.cancel(["7.1", "7.2", "7.3", "9", "7.5", "8.60", "7.2", "bad id", "8.59"], str(tmp_path / "qsub"))
    assert calls.read_text().splitlines() == ["9 7.1-3 7.5 8.59-60"]


# ---- time limits: the soft limit's warning and the attempt run again (sge_requeue), in a real sh ----

def test_the_warning_is_a_soft_limit_signals_seconds_before_h_rt():
    from runx.core.farms.sge_requeue import time_seconds, warned, warning_options

    assert [time_seconds(t) for t in ("1:30:00", "::90", "3600", "0:01:00", "", "1:x", "1:2:3:4")] == [
        5400, 90, 3600, 60, None, None, None]
    assert warning_options(qsub_options({"time": 10}), "USR1@90") == ["-l", "s_rt=0:08:30"]
    assert warning_options(qsub_options({"h_rt": 30}), "USR1@10") == ["-l", "s_rt=0:00:20"]
    assert warning_options(qsub_options({"time": "26:00:00"}), "USR1@60") == ["-l", "s_rt=25:59:00"]
    assert warning_options(qsub_options({"h_rt": 60}), "USR1@90") == [], "a limit shorter than the warning: none"
    assert warning_options(qsub_options({"time": 10, "s_rt": "0:09:00"}), "USR1@90") == [], "the user's own s_rt stays"
    assert warning_options(qsub_options({"time": 10}), None) == [] and warning_options([], "USR1@90") == []
    assert warned(qsub_options({"time": 10, "s_rt": "0:09:00"}), "USR1@90")
    assert not warned(qsub_options({"time": 10, "s_rt": "0:09:00"}), None) and not warned([], "USR1@90")


JOB_SH = """echo "started $(date +%s)" >> status.log
echo "attempt=$RUNX_ATTEMPT signal=$RUNX_REQUEUE_SIGNAL"
{before}
echo "job.sh lived on"
echo "finished $(date +%s) exit={code}" >> status.log
exit {code}
"""


def _requeue_run(tmp_path: Path, code: int, warn: bool = True, status: str = "", env: dict = None):
    """qsub.sh with the requeue lines for a run whose job.sh (optionally) has Grid Engine's warning sent to the
    whole process group, then exits `code`; (exit status, status.log lines, the job's stdout)."""
    from runx.core.farms.sge_requeue import requeue_lines

    run_dir = tmp_path / "run it's"
    run_dir.mkdir()
    (run_dir / "status.log").write_text(status)
    before = "kill -USR1 0; sleep 0.2" if warn else ""
    (run_dir / "job.sh").write_text(JOB_SH.format(before=before, code=code))
    script = qsub_script("exp_run", str(run_dir), ["-l", "h_rt=0:01:00", "-l", "s_rt=0:00:50"], run_lines=requeue_lines(3))
    path = tmp_path / "qsub.sh"
    path.write_text(script)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNX_", "SGE_", "RESTARTED"))}
    done = subprocess.run(["sh", str(path)], capture_output=True, text=True, timeout=30, start_new_session=True,
                          env={**full_env, "JOB_ID": "77", **(env or {})})
    return done.returncode, (run_dir / "status.log").read_text().splitlines(), (run_dir / "sge-77.out").read_text()


def test_a_warned_job_that_saved_and_exited_75_is_run_again_by_exit_99(tmp_path):
    rc, lines, out = _requeue_run(tmp_path, 75)
    assert rc == 99
    assert [line.split()[0] for line in lines] == ["started", "interrupted", "finished", "queued"]
    assert lines[1].endswith(" reason=timeout signal=USR1") and lines[2].endswith(" exit=75")
    assert lines[3].endswith(" reason=requeue attempt=2 job=77")
    assert out == "attempt=1 signal=USR1\njob.sh lived on\n", "job.sh ignores the warning the whole job gets"


def test_the_attempts_are_counted_and_the_last_one_is_not_run_again(tmp_path):
    earlier = "queued 1 reason=requeue attempt=2 job=77\nqueued 2 reason=requeue attempt=3 job=77\n"
    rc, lines, out = _requeue_run(tmp_path, 75, status=earlier)
    assert rc == 75 and out.startswith("attempt=3 ")
    assert lines[-1].split()[0] == "finished" and "reason=requeue attempt=4" not in "\n".join(lines)


def test_another_jobs_requeue_lines_do_not_count(tmp_path):
    rc, lines, out = _requeue_run(tmp_path, 75, status="queued 1 reason=requeue attempt=2 job=5\n")
    assert rc == 99 and out.startswith("attempt=1 ")


@pytest.mark.parametrize("code, warn", [(75, False), (3, True), (0, True), (3, False)])
def test_a_job_not_warned_or_not_asking_is_not_run_again(tmp_path, code, warn):
    rc, lines, _ = _requeue_run(tmp_path, code, warn=warn)
    assert rc == code and not [line for line in lines if line.startswith("queued")]
    assert ("interrupted" in "\n".join(lines)) is warn


def test_a_job_grid_engine_ran_again_on_its_own_records_preempted(tmp_path):
    rc, lines, _ = _requeue_run(tmp_path, 0, warn=False, status="started 1\n", env={"RESTARTED": "1"})
    assert rc == 0 and lines[1].split()[0] == "interrupted" and lines[1].endswith(" reason=preempted restarted=1")


def test_a_job_run_again_at_its_own_request_is_not_preempted(tmp_path):
    ours = "started 1\nfinished 2 exit=75\nqueued 3 reason=requeue attempt=2 job=77\n"
    rc, lines, out = _requeue_run(tmp_path, 0, warn=False, status=ours, env={"RESTARTED": "1"})
    assert rc == 0 and out.startswith("attempt=2 ") and "preempted" not in "\n".join(lines)


def test_an_array_task_runs_its_runs_qsub_sh_when_warned(tmp_path):
    from runx.core.config import FarmSettings
    from runx.core.farms import LaunchOptions

    farm = SgeFarm(FarmSettings(name="sge", kind="sge", submit_cmd="qsub"), None, LaunchOptions())
    assert farm._job_options(type("J", (), {"resources": {"time": 1}})()) == ["-l", "h_rt=0:01:00"], "60 s: no room for 90 s"
    job = type("J", (), {"resources": {"time": 10}})()
    options = farm._job_options(job)
    assert options == ["-l", "h_rt=0:10:00", "-l", "s_rt=0:08:30"] and farm._warned(options)
    script = qsub_script("exp_array", "/x/list.txt", options, array_of=2, run_lines=['exec sh "$run_dir/qsub.sh"'])
    assert script.splitlines()[-1] == 'exec sh "$run_dir/qsub.sh"' and "#$ -l s_rt=0:08:30" in script


def test_qacct_reads_an_attempt_run_again_as_queued():
    assert acct_state("25", "99") == ("queued", None)


def test_a_signal_grid_engine_cannot_send_is_one_line_and_exit_2(tmp_path):
    import sys

    (tmp_path / ".runx").write_text("LOGROOT: logs\nFARM: sge\nsge:\n  TYPE: sge\n  SIGNAL: USR2@60\n  RESOURCES: {time: 10}\n")
    (tmp_path / "exp.yml").write_text("CMD: python train.py\nHPARAMS: {x: [1, 2]}\n")
    done = subprocess.run([sys.executable, "-m", "runx.runx", "exp.yml", "-n"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"runx: error: {tmp_path / '.runx'}: sge.SIGNAL: Grid Engine warns before h_rt with USR1 only (at s_rt), "
        "expected USR1@<seconds>, found 'USR2@60'"]
    assert not (tmp_path / "logs").exists()
    (tmp_path / ".runx").write_text("LOGROOT: logs\nFARM: sge\nsge:\n  TYPE: sge\n  SIGNAL: USR1@60\n  RESOURCES: {time: 10}\n")
    done = subprocess.run([sys.executable, "-m", "runx.runx", "exp.yml", "-n"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and done.stdout.splitlines()[0].startswith("qsub -l h_rt=0:10:00 -l s_rt=0:09:00 -b y "), done.stdout
