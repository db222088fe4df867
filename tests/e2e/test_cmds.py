"""runx ls, show, status --json, note, diff, rm/restore, resubmit -n and cancel, on real local sweeps."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time

TRAIN = """\
import os, sys
from runx.logx import logx
logdir = os.environ["RUNX_LOGDIR"]
logx.initialize(logdir=logdir, tensorboard=False)
lr = float(sys.argv[sys.argv.index("--lr") + 1])
for epoch in range(2):
    logx.metric("val", {"acc": lr * 10 + epoch}, epoch=epoch)
open(os.path.join(logdir, "best_checkpoint_ep1.pth"), "wb").close()
sys.exit(int(sys.argv[sys.argv.index("--exit") + 1]))
"""
HOSTILE = "\x1b]0;owned\x07\x1b[2J"


def sweep(project, lrs="[0.1, 0.2]", exits="[0]", name="sweep"):
    project.write("train.py", TRAIN)
    project.write(f"{name}.yml", f"CMD: {sys.executable} train.py\nHPARAMS:\n  lr: {lrs}\n  exit: {exits}\n  solver: adam\n")
    return project.runx(f"{name}.yml", "-i")


def names_by_hparams(project, experiment="sweep"):
    out = {}
    for run in project.runs(experiment):
        record = json.loads((run / "run.json").read_text())
        out[(record["hparams"]["lr"], record["hparams"]["exit"], record["launch"])] = run.name
    return out


def launch_time_of(project, run, experiment="sweep"):
    """The local time the run's launch id names, as sumx's `launched` column shows it."""
    import calendar

    launch = json.loads((project.logroot / experiment / run / "run.json").read_text())["launch"]
    when = calendar.timegm(time.strptime(launch[:20], "%Y-%m-%dT%H:%M:%SZ"))
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def one_line_error(done, start):
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith(start), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr


RUN_MANY = """\
import contextlib, io, json, sys
from runx.runx import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def runx_many(project, *argvs):
    """Each command line through runx.runx.main in one Python process (bad input and --help, where a
    process per case would only add start-up time): [(exit code, stdout, stderr)]."""
    done = subprocess.run([sys.executable, "-c", RUN_MANY, json.dumps(argvs)], cwd=project.root, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return [subprocess.CompletedProcess(argv, code, out, err) for argv, (code, out, err) in zip(argvs, json.loads(done.stdout))]


def test_ls_show_status_note_and_diff_tell_about_real_runs(project):
    assert sweep(project, exits="[0, 3]").returncode == 1  # two of four runs exit 3
    # status.log and the launch id have whole seconds: the second launch starts in a later second, as two
    # launches a user tells apart do (within one second ls orders them by name and sumx shows one time)
    time.sleep(1)
    (project.root / "train.py").write_text(TRAIN.replace("lr * 10", "lr * 20"))
    (project.root / "blob.bin").write_bytes(b"\0\1\2")
    project.write("sweep.yml", f"CMD: {sys.executable} train.py\nHPARAMS:\n  lr: [0.3]\n  exit: [0]\n  solver: adam\n")
    assert project.runx("sweep.yml", "-i").returncode == 0
    runs = names_by_hparams(project)
    launches = {launch for (_, _, launch) in runs}
    assert len(launches) == 2  # two launches, each one id for all its runs
    ok = next(n for (lr, code, _), n in runs.items() if lr == 0.1 and code == 0)
    bad = next(n for (lr, code, _), n in runs.items() if lr == 0.2 and code == 3)
    new = next(n for (lr, _, _), n in runs.items() if lr == 0.3)

    listing = project.runx("ls")
    assert listing.returncode == 0, listing.stderr
    line = next(row for row in listing.stdout.splitlines() if row.startswith("sweep "))
    assert line.split()[1] == "5" and "2 failed, 3 succeeded" in line, listing.stdout
    runs_listing = project.runx("ls", "sweep").stdout.splitlines()
    assert runs_listing[0].split() == ["run", "state", "started", "duration", "hparams"]
    bad_line = next(row for row in runs_listing if row.startswith(bad))
    assert "failed (3)" in bad_line and "lr=0.2 exit=3" in bad_line and "solver" not in bad_line  # only what differs
    assert len(runs_listing) == 2 + 5
    as_json = json.loads(project.runx("ls", "--json").stdout)
    assert as_json["experiments"][0]["states"] == {"failed": 2, "succeeded": 3}
    assert isinstance(as_json["experiments"][0]["last_activity"], float)
    runs_json = json.loads(project.runx("ls", "sweep", "--json").stdout)
    assert runs_json["differing"] == ["lr", "exit"] and len(runs_json["runs"]) == 5
    status = json.loads(project.runx("status", "sweep", "--json").stdout)
    by_run = {r["run"]: r for r in status}
    assert by_run[bad]["state"] == "failed" and by_run[bad]["exit_code"] == 3 and by_run[bad]["attempts"] == 1
    assert by_run[ok]["farm"] == "local" and by_run[ok]["duration"] >= 0

    noted = project.runx("note", "sweep", ok, "lr warm-up helped;", "keep" + HOSTILE)
    assert noted.returncode == 0, noted.stderr
    assert project.runx("note", "sweep", ok[:-3], "second\nline").returncode == 0  # a unique prefix names the run
    notes = (project.logroot / "sweep" / ok / "notes.txt").read_text()
    assert notes.count("Z ") == 2 and ("keep" + HOSTILE) in notes  # stored as written, with its UTC time

    shown = project.runx("show", "sweep", ok)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "\x1b" not in text and "keep\\x1b]0;owned\\x07" in text  # printed escaped, never raw
    assert "train.py --lr 0.1 --exit 0 --solver adam" in text
    assert "lr=0.1 exit=0 solver=adam" in text and "succeeded, exit 0, 1 attempt(s)" in text
    assert "val (step 1): acc=2.0 (min 1.0, max 2.0)" in text
    assert str(project.logroot / "sweep" / ok / "best_checkpoint_ep1.pth") in text
    assert str(project.logroot / "sweep" / ok / "logging.log") in text
    assert "lr warm-up helped; keep" in text and "line" in text
    details = json.loads(project.runx("show", "sweep", ok, "--json").stdout)
    assert details["metrics"]["val"]["metrics"]["acc"] == {"last": 2.0, "min": 1.0, "max": 2.0}
    assert [n["text"] for n in details["notes"]] == ["lr warm-up helped; keep" + HOSTILE, "second\nline"]
    assert details["state"] == "succeeded" and details["launch"] == json.loads(
        (project.logroot / "sweep" / ok / "run.json").read_text())["launch"]

    same_launch = project.runx("diff", "sweep", ok, bad)
    assert same_launch.returncode == 0, same_launch.stderr
    assert "  lr: 0.1 -> 0.2" in same_launch.stdout and "  exit: 0 -> 3" in same_launch.stdout
    assert "code: the same" in same_launch.stdout and "solver" not in same_launch.stdout
    changed = project.runx("diff", "sweep", ok, new).stdout
    assert f"--- {ok}/code/train.py" in changed and f"+++ {new}/code/train.py" in changed
    assert "-    logx.metric(\"val\", {\"acc\": lr * 10 + epoch}, epoch=epoch)" in changed
    assert "+    logx.metric(\"val\", {\"acc\": lr * 20 + epoch}, epoch=epoch)" in changed
    assert f"Only in {new}/code: blob.bin" in changed and "\0" not in changed

    sumx = subprocess.run([sys.executable, "-m", "runx.sumx", "sweep", "--notes"], cwd=project.root, capture_output=True,
                          text=True, timeout=60)
    assert sumx.returncode == 0, sumx.stderr
    header, _, *rows = sumx.stdout.splitlines()
    assert "launched" in header and "notes" in header  # two launches in one experiment: told apart
    launched = {line.split()[0]: line for line in rows}
    assert runs_json["runs"][-1]["run"] == new
    new_time, column = launch_time_of(project, new), header.index("launched")  # the column alone: a note has a time too
    assert launched[new][column:column + len(new_time)] == new_time
    assert launched[ok][column:column + len(new_time)] == launch_time_of(project, ok) != new_time
    assert "lr warm-up helped; keep\\x1b]0;owned" in launched[ok] and "\x1b" not in sumx.stdout
    last = subprocess.run([sys.executable, "-m", "runx.sumx", "sweep", "--last", "--json"], cwd=project.root,
                          capture_output=True, text=True, timeout=60)
    assert [row["run"] for row in json.loads(last.stdout)["rows"]] == [new]
    assert json.loads(last.stdout)["rows"][0]["launch"] == json.loads(
        (project.logroot / "sweep" / new / "run.json").read_text())["launch"]

    pager_out = project.root / "paged.txt"
    code, on_screen = on_a_terminal_with_pager(project, ["diff", "sweep", ok, new], pager_out)
    assert code == 0 and pager_out.read_text() == changed and "blob.bin" not in on_screen  # through $PAGER

    bad = [(("show", "sweep", "nope"), "runx: error: "), (("show", "sweep"), "usage:"),
           (("note", "sweep", ok, " "), "runx: error: TEXT: expected a note"),
           (("diff", "sweep", ok, "nope"), "runx: error: "), (("ls", "nope"), "runx: error: "),
           (("show", "sweep", ok, "--bogus"), "usage:"), (("status", "sweep", "--jsn"), "usage:")]
    for (args, start), done in zip(bad, runx_many(project, *(args for args, _ in bad))):
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith(start) and "Traceback" not in done.stderr, (args, done.stderr)
        assert done.stderr.rstrip("\n").count("\n") <= 1 and not done.stdout, (args, done.stderr)
    commands = ("ls", "show", "diff", "note", "rm", "restore", "status", "cancel", "resubmit")
    for command, helped in zip(commands, runx_many(project, *([c, "--help"] for c in commands))):
        assert helped.returncode == 0 and helped.stdout.startswith(f"usage: runx {command} "), (command, helped.stdout)
        assert "examples:" in helped.stdout and "--logroot DIR" in helped.stdout


def on_a_terminal_with_pager(project, args, pager_out):
    """Run `runx ARGS` with a terminal as stdin and stdout and PAGER writing to `pager_out`: (exit code, screen)."""
    main, child = pty.openpty()
    env = {**os.environ, "PAGER": f"cat > '{pager_out}'", "MANPAGER": "", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "runx.runx", *args], cwd=project.root, stdin=child, stdout=child,
                            stderr=subprocess.PIPE, env=env)
    os.close(child)
    screen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal is gone: the process ended
            break
        if not chunk:
            break
        screen += chunk
    proc.wait(timeout=60)
    os.close(main)
    return proc.returncode, screen.decode(errors="replace")


def test_resubmit_n_shows_and_cancel_says_nothing_to_cancel(project):
    assert sweep(project, lrs="[0.1]", exits="[0, 3]").returncode == 1
    runs = names_by_hparams(project)
    bad = next(n for (_, code, _), n in runs.items() if code == 3)
    before = {r.name: (r / "status.log").read_text() for r in project.runs("sweep")}
    shown = project.runx("resubmit", "sweep", "--failed", "-n")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"would resubmit {bad} (failed) on local: ") and "--exit 3" in shown.stdout
    assert shown.stdout.count("\n") == 1
    assert {r.name: (r / "status.log").read_text() for r in project.runs("sweep")} == before  # nothing changed
    cancelled = project.runx("cancel", "sweep")
    assert cancelled.returncode == 0 and cancelled.stdout.startswith("nothing to cancel"), cancelled.stdout


def wait_started(project, experiment, deadline=30.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        runs = project.runs(experiment)
        status = runs[0] / "status.log" if runs else None
        if status is not None and status.exists() and "started" in status.read_text():
            return runs[0]
        time.sleep(0.05)
    raise AssertionError("the run never started")


def on_a_terminal(project, args, answer):
    """Run `runx ARGS` with a terminal as stdin and type `answer`."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "runx.runx", *args], cwd=project.root, stdin=child,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(child)
    os.write(main, answer.encode())
    out, err = proc.communicate(timeout=60)
    os.close(main)
    return proc.returncode, out, err


def test_rm_moves_runs_to_the_trash_and_back_and_never_touches_a_live_run(project, tmp_path):
    assert sweep(project, lrs="[0.1, 0.2]", exits="[0, 3]").returncode == 1
    exp = project.logroot / "sweep"
    runs = names_by_hparams(project)
    failed = sorted(n for (_, code, _), n in runs.items() if code == 3)
    ok = sorted(n for (_, code, _), n in runs.items() if code == 0)
    trash = project.logroot / ".trash" / "sweep"

    code, out, _ = on_a_terminal(project, ["rm", "sweep", "--failed"], "n\n")
    assert code == 0 and "Move these 2 run(s)" in out and "nothing removed" in out
    assert sorted(r.name for r in project.runs("sweep")) == sorted(failed + ok)
    removed = project.runx("rm", "sweep", "--failed")  # no terminal: no question
    assert removed.returncode == 0, removed.stderr
    assert sorted(r.name for r in project.runs("sweep")) == ok
    assert sorted(p.name for p in trash.iterdir()) == failed
    assert (trash / failed[0] / "run.json").is_file() and (trash / failed[0] / "code" / "train.py").is_file()
    assert "sweep" in project.runx("ls").stdout and "2 succeeded" in project.runx("ls").stdout
    listed = project.runx("ls", "sweep").stdout
    assert not any(n in listed for n in failed)

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "run.json").write_text("{}")
    (exp / "link").symlink_to(outside)
    bad = [(("rm", "sweep", "../x"), "runx: error: RUN '../x': expected a run name below the experiment"),
           (("rm", "sweep", "/etc"), "runx: error: RUN '/etc'"),
           (("rm", "sweep", "link"), "runx: error: "),
           (("rm",), "runx: error: runx rm: expected EXPERIMENT"),
           (("rm", "sweep", "--purge", ok[0]), "runx: error: runx rm --purge: deletes a whole trash"),
           (("restore", "sweep", "nope"), "runx: error: ")]
    for (_, start), done in zip(bad, runx_many(project, *(args for args, _ in bad))):
        one_line_error(done, start)
    assert (outside / "run.json").is_file() and (exp / "link").is_symlink()
    (project.logroot / "alias").symlink_to(exp)
    one_line_error(project.runx("rm", "alias", "-y"), f"runx: error: {project.logroot / 'alias'}: is a symbolic link")
    assert sorted(r.name for r in project.runs("sweep") if not r.is_symlink()) == ok

    restored = project.runx("restore", "sweep", failed[0])
    assert restored.returncode == 0, restored.stderr
    assert (exp / failed[0] / "run.json").is_file() and not (trash / failed[0]).exists()
    assert json.loads(project.runx("status", "sweep", "--json").stdout)[0]["state"] in ("failed", "succeeded")
    assert project.runx("rm", "sweep", failed[0], "-y").returncode == 0
    occupied = exp / failed[1]
    occupied.mkdir()
    one_line_error(project.runx("restore", "sweep"), f"runx: error: {occupied}: already exists; nothing moved")
    assert (trash / failed[0]).is_dir() and (trash / failed[1]).is_dir()  # all or nothing
    occupied.rmdir()
    code, out, _ = on_a_terminal(project, ["rm", "--purge"], "y\n")
    assert code == 0 and "deleted 2 run(s)" in out, out
    assert not (project.logroot / ".trash").exists() and (outside / "run.json").is_file()

    project.write("slow.yml", "CMD: python -c 'import time; time.sleep(60)'\nHPARAMS: {x: [1]}\n")
    launcher = subprocess.Popen([sys.executable, "-m", "runx.runx", "slow.yml", "-i"], cwd=project.root,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        live = wait_started(project, "slow")
        one_line_error(project.runx("rm", "slow", "-y"), f"runx: error: runx rm: {live.name} (running) may still run")
        assert live.is_dir()
    finally:
        os.killpg(launcher.pid, 9)
        launcher.wait()
