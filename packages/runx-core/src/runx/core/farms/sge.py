"""The sge farm (Grid Engine): a qsub script per run (or array jobs for a large sweep), batched status, qdel.

Below the farm class: RESOURCES as qsub options, the job script with its `#$` directives, the
parsers of what qstat and qacct print, and the batched qsub / qstat / qacct / qdel calls (usable on
their own). As runx.core.farms.batch says, a sweep of more than ARRAY_THRESHOLD runs goes as array
jobs (`qsub -t 1-N`, task K runs line K of a list file), here of at most the cell's `max_aj_tasks`
(`qconf -sconf`), and runs submitted one job each go at most SUBMIT_RATE per second; a qsub that
cannot reach a busy qmaster is tried again with backoff (runx.core.farms.throttle).

Status: one `qstat -xml` call lists every pending and running job; a job it no longer lists has
ended, and `qacct -j <job>` (one call per job number) gives its exit status. A job's name is
checked against the name runx gave it before its state is believed or it is deleted, so a job
number that the cell reused for someone else's job is never taken for the run's.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from runx.core.argv import display_quote, shell_join
from runx.core.errors import RunxError
from runx.core.farms import register
from runx.core.farms.batch import BatchFarm, array_list, mem_amount, run_command, task_ranges
from runx.core.farms.sge_requeue import SIGNAL, requeue_lines, warned, warning_options
from runx.core.farms.throttle import RETRY_DELAYS, Busy, retry
from runx.core.plan import Job

__all__ = [
    "SgeFarm",
    "SgeError",
    "JobState",
    "QSUB_SCRIPT",
    "DEFAULT_PE",
    "qsub_options",
    "job_name",
    "qsub_script",
    "array_list",
    "parse_qsub_terse",
    "parse_qstat_xml",
    "parse_qacct",
    "qstat_state",
    "acct_state",
    "submit",
    "verify",
    "live_jobs",
    "query",
    "cancel",
    "max_array_tasks",
]

QSUB_SCRIPT = "qsub.sh"
DEFAULT_PE = "smp"
TIMEOUT = 120.0
RESCHEDULED = 25
"""qacct's `failed` for an attempt Grid Engine runs again (`25 : rescheduling`)."""
DEFAULT_MAX_AJ_TASKS = 75_000
"""Grid Engine's default `max_aj_tasks`, used where `qconf -sconf` does not answer."""

# Keys with a qsub option of their own; every other key is a resource request `-l key=value`.
_OPTIONS = {"queue": "-q", "partition": "-q", "q": "-q", "project": "-P", "account": "-A"}
_SLOT_KEYS = ("cpu", "gpu")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_VALUE_UNSAFE = re.compile(r"[\s,\"'\\#=]")
_JOB_ID = re.compile(r"(\d+)(?:\.(\d+))?\Z")
# What qsub says when it cannot get through to the qmaster (down, or too busy to answer in time).
_UNREACHABLE = re.compile(r"unable to contact qmaster|unable to send message to qmaster|commlib error|can't connect|"
                          r"cannot connect|got no connection|failed receiving gdi request|timeout", re.I)


class SgeError(RuntimeError):
    """Grid Engine failed or did not answer (not a mistake in what the user wrote)."""


class JobState(NamedTuple):
    """What Grid Engine says about one job: a runx state, the exit code once known, its own words."""

    state: str
    exit_code: Optional[int] = None
    raw: str = ""
    name: str = ""


# ---- options and scripts (pure) -----------------------------------------------------------------


def _plain(key: str, value: Any) -> str:
    text = str(value)
    if isinstance(value, (dict, list)) or not text or _VALUE_UNSAFE.search(text) or text.startswith("-"):
        raise RunxError(f"RESOURCES.{key}: expected one value without spaces, commas, quotes, '#' or '=' "
                        f"(and not an option), found {value!r}")
    return text


def _slots(key: str, value: Any) -> int:
    if value is True:
        return 1
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise RunxError(f"RESOURCES.{key}: expected a whole number of slots, found {value!r}")
    return int(value)


def _mem(value: Any) -> str:
    """`mem: 128` (GB) as Grid Engine's `128G`; `0.5` as `512M`; text with a unit passes through."""
    return mem_amount(value, lambda text: _plain("mem", text))


def _h_rt(value: Any) -> str:
    """`time: 90` (minutes, as on Slurm) as `h_rt=1:30:00`; text (`"4:00:00"`, seconds) passes through."""
    if isinstance(value, bool):
        raise RunxError(f"RESOURCES.time: expected minutes or H:MM:SS, found {value!r}")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        minutes = int(value)
        return f"{minutes // 60}:{minutes % 60:02d}:00"
    return _plain("time", value)


def qsub_options(resources: Mapping[str, Any]) -> List[str]:
    """RESOURCES as qsub options, one option and its value per item (`-l h_rt=1:00:00`, `-pe smp 4`).

    `cpu`/`gpu` are slots of the parallel environment `pe` (default smp; the larger of the two),
    `mem` is `-l mem_free=`, `time` is `-l h_rt=`, `queue`/`partition` is `-q`, `project` is `-P`,
    `account` is `-A`; any other key is `-l key=value` (`true`: `-l key=true`; false or null: omitted).
    """
    options: List[List[str]] = []
    slots: Optional[int] = None
    pe = DEFAULT_PE
    for key, value in resources.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise RunxError(f"RESOURCES: {key!r} is not a Grid Engine resource name")
        name = key.lower()
        if value is False or value is None:
            continue
        if isinstance(value, (dict, list)):
            raise RunxError(f"RESOURCES.{key}: expected one value, found {value!r}")
        if "\n" in str(value) or "\r" in str(value):
            raise RunxError(f"RESOURCES.{key}: a value cannot contain a line break: {value!r}")
        if name in _SLOT_KEYS:
            count = _slots(key, value)
            slots = count if slots is None else max(slots, count)
        elif name == "pe":
            pe = _plain(key, value)
        elif name == "mem":
            options.append(["-l", f"mem_free={_mem(value)}"])
        elif name == "time":
            options.append(["-l", f"h_rt={_h_rt(value)}"])
        elif name in _OPTIONS:
            options.append([_OPTIONS[name], _plain(key, value)])
        else:
            options.append(["-l", f"{key}={'true' if value is True else _plain(key, value)}"])
    if slots:
        options.insert(0, ["-pe", pe, str(slots)])
    elif pe != DEFAULT_PE:
        options.insert(0, ["-pe", pe, "1"])
    return [word for option in options for word in option]


def job_name(experiment: str, run: str) -> str:
    """The `-N` name runx gives a run's job: Grid Engine refuses `/ : @ \\ * ?`, blanks and a leading digit."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{experiment}_{run}")
    return name if name[:1].isalpha() or name[:1] == "_" else f"runx_{name}"


def _directives(options: List[str]) -> List[str]:
    """`#$` lines, one per option with its values (`-pe smp 4` is one line; values never start with `-`)."""
    lines: List[str] = []
    for word in options:
        if word.startswith("-"):
            lines.append(f"#$ {word}")
        else:
            lines[-1] += f" {word}"
    return lines


def qsub_script(name: str, run_dir: str, options: List[str], array_of: int = 0,
                run_lines: Optional[Sequence[str]] = None) -> str:
    """The qsub script for one run (`sh <run_dir>/job.sh`), or with array_of=N for a whole sweep.

    One run: the job's output goes to `<run_dir>/sge-<jobid>.out` and `.err` (`<jobid>.<K>` when it
    runs as task K of an array job). Array: `run_dir` is the list file (see `array_list`); task K
    reads line K, sends its output to `<that run dir>/sge-<jobid>.<K>.out` and `.err`, and runs its
    `job.sh`; nothing is written beside the runs but `<list file>.errors` when a task finds no run.
    Output is appended, so an attempt Grid Engine runs again keeps the earlier one's. Paths are set in
    the script (shell-quoted), not in `#$` lines, whose quoting Grid Engine reads its own way. Options
    come after runx's own. `run_lines`: the lines that run the job instead of `exec sh job.sh` (the
    requeue's, runx.core.farms.sge_requeue; for an array, what each task runs in `$run_dir`).
    """
    head = ["-N", name, "-S", "/bin/sh", "-V", "-o", "/dev/null", "-e", "/dev/null"]
    if array_of:
        head += ["-t", f"1-{array_of}"]
    what = f"an array job over a sweep of {array_of} runs" if array_of else "one run"
    lines = ["#!/bin/sh", f"# Submitted by runx with qsub: {what}.", *_directives(head + options)]
    if array_of:
        lines += [
            f"list={shlex.quote(run_dir)}",
            'run_dir=$(sed -n "${SGE_TASK_ID}p" "$list")',
            'if [ -z "$run_dir" ]; then',
            '    echo "runx: no run for array task $SGE_TASK_ID in $list" >> "$list.errors"',
            "    exit 2",
            "fi",
            'task="$JOB_ID.$SGE_TASK_ID"',
        ]
    else:
        lines += [f"run_dir={shlex.quote(run_dir)}", 'task="$JOB_ID"',
                  '[ "${SGE_TASK_ID:-undefined}" = undefined ] || task="$JOB_ID.$SGE_TASK_ID"']
    lines += [
        'exec >>"$run_dir/sge-$task.out" 2>>"$run_dir/sge-$task.err" </dev/null',
        'cd "$run_dir" || exit 2',
        *(run_lines if run_lines is not None else ['exec sh "$run_dir/job.sh"']),
    ]
    return "\n".join(lines) + "\n"


# ---- what Grid Engine prints (pure) -------------------------------------------------------------


def parse_qsub_terse(output: str) -> Optional[str]:
    """The job number `qsub -terse` printed: `42`, or `42.1-8:1` for an array job."""
    first = output.strip().splitlines()[0].strip() if output.strip() else ""
    match = re.fullmatch(r"(\d+)(?:\.\d+-\d+:\d+)?", first)
    return match.group(1) if match else None


def _task_ids(text: str) -> List[int]:
    """qstat's `<tasks>`: `3`, `2,5`, `4-10:2` (ranges with a step)."""
    ids: List[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)(?:-(\d+)(?::(\d+))?)?\s*", part)
        if not match:
            continue
        first = int(match.group(1))
        last = int(match.group(2) or first)
        ids.extend(range(first, last + 1, int(match.group(3) or 1)))
    return ids


def qstat_state(letters: str) -> str:
    """The runx state for qstat's state letters: `r`, `t` (transferring), `R`, `s`/`S`/`T` (suspended)
    and `d` (being deleted) while it runs are running; `qw`, `hqw`, `Eqw` (held in error) are queued."""
    return "running" if re.search(r"[rtRsST]", letters) and "q" not in letters else "queued"


def parse_qstat_xml(text: str) -> Dict[str, JobState]:
    """Every job and array task in `qstat -xml`: keyed `N` for a job, `N.K` for task K of array job N."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise SgeError(f"qstat printed no readable XML: {err}") from None
    found: Dict[str, JobState] = {}
    for item in root.iter("job_list"):
        number = (item.findtext("JB_job_number") or "").strip()
        if not number.isdigit():
            continue
        letters = (item.findtext("state") or "").strip()
        answer = JobState(qstat_state(letters), None, letters, (item.findtext("JB_name") or "").strip())
        tasks = item.findtext("tasks")
        if tasks is None:
            found[number] = answer
        else:
            for task in _task_ids(tasks):
                found[f"{number}.{task}"] = answer
    return found


def acct_state(failed: str, exit_status: str) -> Tuple[str, Optional[int]]:
    """The runx state and exit code of an ended job from qacct's `failed` and `exit_status`."""
    code: Optional[int] = int(exit_status) if exit_status.isdigit() else None
    failed_code = int(failed) if failed.isdigit() else 1
    if failed_code == RESCHEDULED:
        return "queued", None  # an attempt that asked to be run again (exit 99): the job is back in the queue
    if failed_code == 0 and code == 0:
        return "succeeded", 0
    if failed_code != 0 and code == 0:
        return "failed", None  # the job never ran (qacct's failed names why)
    return "failed", code


def parse_qacct(text: str) -> Dict[str, JobState]:
    """Every record `qacct -j` printed, keyed `N` or `N.K` (an array task); a later record of the same
    job (a job number the cell used again) replaces an earlier one."""
    found: Dict[str, JobState] = {}
    for block in re.split(r"^=+\s*$", text, flags=re.M):
        fields: Dict[str, str] = {}
        for line in block.splitlines():
            key, _, value = line.strip().partition(" ")
            if key:
                fields[key] = value.strip()
        number = fields.get("jobnumber", "")
        if not number.isdigit():
            continue
        task = fields.get("taskid", "undefined")
        failed = fields.get("failed", "").split()[0] if fields.get("failed") else ""
        exit_status = fields.get("exit_status", "").split()[0] if fields.get("exit_status") else ""
        state, code = acct_state(failed, exit_status)
        raw = f"failed={fields.get('failed', '?')} exit_status={fields.get('exit_status', '?')}"
        found[f"{number}.{task}" if task.isdigit() else number] = JobState(state, code, raw, fields.get("jobname", ""))
    return found


# ---- commands -----------------------------------------------------------------------------------


def _run(argv: List[str], timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return run_command(argv, timeout, SgeError,
                       f"the sge farm needs {argv[0]!r}, which is not on PATH (is Grid Engine's settings.sh sourced?)")


def _message(done: subprocess.CompletedProcess) -> str:
    return " ".join((done.stderr + " " + done.stdout).split())


def _submit_once(script_path: str, qsub: str) -> str:
    done = _run([qsub, "-terse", script_path])
    if done.returncode != 0:
        message = _message(done)
        if _UNREACHABLE.search(message):
            raise Busy(message)
        raise RunxError(f"qsub rejected {script_path}: {message}")
    job_id = parse_qsub_terse(done.stdout)
    if job_id is None:
        raise SgeError(f"qsub printed no job id: {done.stdout.strip()!r}")
    return job_id


def submit(script_path: str, qsub: str = "qsub", retry_delays: Sequence[float] = RETRY_DELAYS) -> str:
    """`qsub -terse script_path`; the job number (RunxError when Grid Engine rejects the job's options).

    While qsub cannot get through to the qmaster (`unable to send message to qmaster`, a commlib
    error, a GDI time-out), it is tried again after each of `retry_delays` seconds; then SgeError."""
    try:
        return retry(lambda: _submit_once(script_path, qsub), "qsub", retry_delays)
    except Busy as busy:
        raise SgeError(f"qsub failed: the qmaster stayed out of reach: {busy}") from None


def verify(options: List[str], qsub: str = "qsub") -> None:
    """`qsub -w v` with these options: RunxError naming Grid Engine's complaint when no queue could ever
    run such a job (an unknown resource, queue, project or parallel environment). Nothing is submitted."""
    done = _run([qsub, "-w", "v", *options, "-b", "y", "true"])
    message = _message(done)
    if done.returncode != 0 and not _UNREACHABLE.search(message):
        raise RunxError(f"qsub rejects {' '.join(options) or 'the default options'}: {message}")


def _tool(qsub: str, name: str) -> str:
    """qstat, qacct or qdel from the directory SUBMIT_CMD's qsub is in (PATH when it has none)."""
    directory = os.path.dirname(qsub)
    return os.path.join(directory, name) if directory else name


_CELL_CONFIG: Dict[str, Dict[str, str]] = {}


def cell_config(qsub: str = "qsub") -> Dict[str, str]:
    """The cell's global configuration (`qconf -sconf`) as name: value, asked once per process and qsub
    ({} where qconf does not answer)."""
    if qsub not in _CELL_CONFIG:
        try:
            done = _run([_tool(qsub, "qconf"), "-sconf"])
        except (RunxError, SgeError):
            return {}
        if done.returncode != 0:
            return {}
        config = {}
        for line in done.stdout.splitlines():
            name, _, value = line.strip().partition(" ")
            if name and not name.startswith("#"):
                config[name] = value.strip()
        _CELL_CONFIG[qsub] = config
    return _CELL_CONFIG[qsub]


def max_array_tasks(qsub: str = "qsub") -> int:
    """The most tasks one array job may have in this cell: its `max_aj_tasks` (0 there: no limit)."""
    value = cell_config(qsub).get("max_aj_tasks", "")
    if not value.isdigit():
        return DEFAULT_MAX_AJ_TASKS
    return int(value) or 2**31 - 1


def live_jobs(qsub: str = "qsub") -> Dict[str, JobState]:
    """Every pending and running job and array task, from one `qstat -xml -u '*'` call."""
    done = _run([_tool(qsub, "qstat"), "-xml", "-u", "*"])
    if done.returncode != 0:
        raise SgeError(f"qstat failed ({done.returncode}): {_message(done)}")
    return parse_qstat_xml(done.stdout)


def query(job_ids: List[str], qsub: str = "qsub") -> Dict[str, JobState]:
    """Each job's state: one `qstat -xml` for all, then `qacct -j` once per job number it no longer lists.

    Ids are `N` (a job) or `N.K` (task K of array job N); what Grid Engine does not know reads as unknown.
    """
    ids = list(dict.fromkeys(str(j).strip() for j in job_ids))
    answers: Dict[str, JobState] = {j: JobState("unknown", None, "not a Grid Engine job id") for j in ids if not _JOB_ID.match(j)}
    wanted = [j for j in ids if j not in answers]
    if wanted:
        live = live_jobs(qsub)
        ended = []
        for job_id in wanted:
            if job_id in live:
                answers[job_id] = live[job_id]
            else:
                ended.append(job_id)
        for number in dict.fromkeys(j.split(".")[0] for j in ended):
            done = _run([_tool(qsub, "qacct"), "-j", number])
            records = parse_qacct(done.stdout) if done.returncode == 0 else {}
            for job_id in ended:
                if job_id.split(".")[0] == number and job_id in records:
                    answers[job_id] = records[job_id]
    for job_id in ids:
        answers.setdefault(job_id, JobState("unknown", None, "Grid Engine does not know this job (yet)"))
    return {str(j).strip(): answers[str(j).strip()] for j in job_ids}


def cancel(job_ids: List[str], qsub: str = "qsub") -> None:
    """One `qdel` for all the jobs (`N`, or `N.K` whose tasks go as ranges `N.1-60`); jobs that are gone
    or already being deleted are not an error."""
    plain: List[str] = []
    tasks: Dict[str, List[int]] = {}
    for job_id in dict.fromkeys(str(j).strip() for j in job_ids):
        match = _JOB_ID.match(job_id)
        if not match:
            continue
        if match.group(2) is None:
            plain.append(job_id)
        else:
            tasks.setdefault(match.group(1), []).append(int(match.group(2)))
    ids = plain + [f"{number}.{span}" for number, numbers in tasks.items() for span in task_ranges(numbers)]
    if not ids:
        return
    done = _run([_tool(qsub, "qdel"), *ids])
    if done.returncode == 0:
        return
    problems = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines()
                if line.strip() and not re.search(r"for deletion|has deleted|does not exist|already in deletion", line)]
    if problems:
        raise SgeError(f"qdel failed ({done.returncode}): {' '.join(problems)}")


# ---- the farm ------------------------------------------------------------------------------------


@register
class SgeFarm(BatchFarm):
    """qsub / qstat / qacct / qdel (Son of Grid Engine, Univa/Altair Grid Engine, Open Grid Scheduler)."""

    kind = "sge"
    default_submit_cmd = "qsub"
    script_name = QSUB_SCRIPT
    array_suffix = ".qsub"
    error = SgeError
    scheduler = "Grid Engine"
    array_nouns = ("array job", "array jobs")
    submitted = "Submitted SGE job"
    first_task = 1
    task_separator = "."

    @classmethod
    def claims(cls, name: str, submit_cmd: str) -> bool:
        # Not by SUBMIT_CMD: PBS's submit command is qsub too, and a generic qsub farm stays generic.
        return name in ("sge", "gridengine")

    @classmethod
    def check_settings(cls, values: Mapping[str, Any], submit_cmd: str, where: str, name: str) -> None:
        try:
            qsub_options(values.get("RESOURCES") or {})
        except RunxError as err:
            raise RunxError(f"{where}: {name}.{err}") from None
        signal = values.get("SIGNAL")
        if isinstance(signal, str) and signal.split("@")[0].strip().upper() not in (SIGNAL, f"SIG{SIGNAL}"):
            raise RunxError(f"{where}: {name}.SIGNAL: Grid Engine warns before h_rt with {SIGNAL} only (at s_rt), "
                            f"expected {SIGNAL}@<seconds>, found {signal!r}")

    @property
    def qsub(self) -> str:
        """The qsub program: SUBMIT_CMD's first word (`qsub`, or a path to it)."""
        argv = self.submit_argv()
        return argv[0] if argv else "qsub"

    def _options(self, job: Job) -> List[str]:
        try:
            return qsub_options(job.resources)
        except RunxError as err:
            raise RunxError(f"{self.farm.source}: {self.farm.name}.{err}") from None

    def _name(self, run: str) -> str:
        return job_name(self.settings.experiment, run)

    def verify(self, options: List[str]) -> None:
        """`qsub -w v` with these options."""
        verify(options, self.qsub)

    def _job_options(self, job: Job) -> List[str]:
        """The options in qsub.sh: RESOURCES, then the soft limit SIGNAL's seconds before h_rt (runx.core.farms.sge_requeue)."""
        options = self._options(job)
        return [*options, *warning_options(options, self.farm.signal)]

    def _warned(self, options: List[str]) -> bool:
        return warned(options, self.farm.signal)

    def run_script(self, job: Job) -> str:
        options = self._job_options(job)
        run_lines = requeue_lines(self.farm.max_attempts) if self._warned(options) else None
        return qsub_script(self._name(job.name), str(job.run_dir), options, run_lines=run_lines)

    def submissions(self, job: Job) -> list:
        return [[self.qsub, "-terse", self._script_path(job)]]

    def display(self, job: Job) -> str:
        return f"{shell_join([self.qsub, *self._job_options(job)])} -b y {display_quote(job.command)}"

    def submit_words(self, script_path: str) -> List[str]:
        return [self.qsub, "-terse", script_path]

    def submit_script(self, script_path: str) -> str:
        return submit(script_path, self.qsub)

    def scheduler_array_limit(self) -> int:
        """The cell's `max_aj_tasks` (`qconf -sconf`)."""
        return max_array_tasks(self.qsub)

    def array_words(self, count: int) -> List[str]:
        return ["-t", f"1-{count}"]

    def array_script(self, chunk: List[Job], list_path: Path) -> str:
        """One array job's script; when warned each task runs its run's own qsub.sh (its requeue)."""
        options = self._job_options(chunk[0])
        run_lines = [f'exec sh "$run_dir/{QSUB_SCRIPT}"'] if self._warned(options) else None
        return qsub_script(self._name("array"), str(list_path), options, array_of=len(chunk), run_lines=run_lines)

    @staticmethod
    def _names(entry: Any) -> Tuple[str, str]:
        """The job names runx gave this run: as a job of its own, or as a task of an array job."""
        experiment = str(entry.record.get("experiment") or entry.run_dir.parent.name)
        return job_name(experiment, entry.name), job_name(experiment, "array")

    def ask(self, job_ids: List[str]) -> Dict[str, JobState]:
        """One qstat call (then qacct for the jobs that ended) for all the job ids."""
        return query(job_ids, self.qsub)

    def owns(self, entry: Any, answer: Any) -> bool:
        """Whether Grid Engine's answer carries a name runx gave this run (a reused job number does not)."""
        return answer.name in self._names(entry)

    def cancel(self, entries: List[Any]) -> Dict[Path, str]:
        """One `qdel` for every run whose job qstat lists under the name runx gave it; a run whose job
        number now belongs to another job is not touched (and said so)."""
        asked = [e for e in entries if e.job_id]
        problems: Dict[Path, str] = {e.run_dir: "no job id recorded; nothing to cancel with qdel" for e in entries if not e.job_id}
        if not asked:
            return problems
        try:
            live = live_jobs(self.qsub)
            ours = []
            for entry in asked:
                answer = live.get(entry.job_id)
                if answer is None:
                    continue  # ended already: nothing to delete
                if answer.name not in self._names(entry):
                    problems[entry.run_dir] = f"job {entry.job_id} is now {answer.name!r}, not this run's; not deleted"
                else:
                    ours.append(entry.job_id)
            cancel(ours, self.qsub)
        except (SgeError, RunxError) as err:
            return {e.run_dir: str(err) for e in entries}
        return problems
