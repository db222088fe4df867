"""Control characters from YAML values and run files never reach runx's text outputs raw (issue 14.3):
the dry run, `runx status`, `runx cancel` and errors that quote values. Real runx subprocesses."""
from __future__ import annotations

import json

BIDI_AND_BREAKS = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029}


def raw_controls(text: str) -> list:
    """Every character of `text` a terminal would act on (a line feed ends a line and is allowed)."""
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 or ord(c) in BIDI_AND_BREAKS]


def test_dry_run_shows_control_characters_as_escapes(project):
    project.write("exp.yml", 'CMD: python train.py\nHPARAMS:\n  title: ["\\e]0;pwned\\a", "\\e[2J", "a\\rb", "\\u202eevil"]\n')
    for flags in (["-n"], ["-n", "-v"]):
        done = project.runx("exp.yml", *flags)
        assert done.returncode == 0, done.stderr
        assert raw_controls(done.stdout) == [] and raw_controls(done.stderr) == []
        for shown in ("\\x1b]0;pwned\\x07", "\\x1b[2J", "a\\rb", "\\u202eevil"):
            assert shown in done.stdout, (shown, done.stdout)
    assert not project.logroot.exists()


def test_an_error_quoting_a_key_escapes_it(project):
    project.write("exp.yml", 'CMD: python train.py\nHPARAMS:\n  "\\e[2Jkey": {nested: 1}\n')
    done = project.runx("exp.yml", "-n")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "\\x1b[2Jkey" in done.stderr and raw_controls(done.stderr) == []


def test_status_and_cancel_escape_what_run_files_hold(project):
    project.write("exp.yml", "CMD: python train.py\nHPARAMS: {lr: [0.1]}\n")
    assert project.runx("exp.yml", "-i").returncode == 0
    [run] = project.runs("exp")
    record = json.loads((run / "run.json").read_text())
    hostile = run.with_name("r\x1b[2J\u202e")
    record.update(job_id="\x1b]0;pwned\x07", run=hostile.name)
    (run / "run.json").write_text(json.dumps(record))
    run.rename(hostile)
    status = project.runx("status", "exp")
    assert status.returncode == 0, status.stderr
    assert raw_controls(status.stdout) == [] and raw_controls(status.stderr) == []
    assert "r\\x1b[2J\\u202e" in status.stdout and "\\x1b]0;pwned\\x07" in status.stdout
    cancel = project.runx("cancel", "exp", hostile.name)
    assert cancel.returncode == 0, cancel.stderr
    assert "r\\x1b[2J\\u202e: already succeeded" in cancel.stdout and raw_controls(cancel.stdout) == []
    missing = project.runx("cancel", "exp", "gone\x1b[2J")
    assert missing.returncode == 2 and "gone\\x1b[2J" in missing.stderr and raw_controls(missing.stderr) == []
