"""Input checks of issue 14: shell comments in CMD (against a real sh), YAML alias bombs and exponent
numbers, sweeps counted before they are expanded, run-name lengths, staging markers and clean-up."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runx.core.config import shell_comment
from runx.core.errors import RunxError
from runx.core.naming import MAX_SLUG, check_tag
from runx.core.staging import STAGING_FILE, Staging, snapshot, staging_state
from runx.core.sweep import expand
from runx.core.yamlfile import parse_yaml


def sh_keeps_appended_arguments(command: str):
    """Whether a real POSIX sh passes an argument appended to `command` to it (None: sh cannot parse it)."""
    done = subprocess.run(["sh", "-c", f"{command} RUNX_APPENDED"], capture_output=True, text=True, timeout=10,
                          env={"PATH": os.environ["PATH"], "LC_ALL": "C"})
    if done.returncode != 0:
        return None
    return "RUNX_APPENDED" in done.stdout


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["a", "#", " ", "'", '"', "\\", ";", "b#", " #"]), max_size=8).map("".join))
def test_shell_comment_agrees_with_a_real_shell(tail):
    command = "printf '%s\\n' x " + tail
    keeps = sh_keeps_appended_arguments(command)
    if keeps is None:  # unbalanced quotes: sh refuses it before runx's check matters
        return
    assert (shell_comment(command) is None) == keeps, command


def test_yaml_aliases_within_reason_and_merges_still_load():
    text = "base: &b {lr: 0.1, wd: 1e-4}\nHPARAMS:\n" + "".join(f"  - {{<<: *b, i: {i}}}\n" for i in range(500))
    data = parse_yaml(text, "x")
    assert len(data["HPARAMS"]) == 500 and data["HPARAMS"][7] == {"lr": 0.1, "wd": 1e-4, "i": 7}
    assert str(data["base"]["wd"]) == "1e-4" and data["base"]["wd"] == 1e-4


def test_an_alias_bomb_is_refused_cheaply_with_its_line():
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 30))
    started = time.process_time()
    with pytest.raises(RunxError, match=r"^bomb.yml:\d+:\d+: malformed YAML: its aliases expand to more than 100,000 nodes"):
        parse_yaml(text, "bomb.yml")
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize("text, expected", [
    ("1e-5", 1e-5), ("-2E+3", -2000.0), ("1.5e2", 150.0), (".5e1", 5.0), ("1e5", 100000.0)])
def test_exponent_numbers_are_floats_spelled_as_written(text, expected):
    value = parse_yaml(f"v: {text}\n", "x")["v"]
    assert isinstance(value, float) and value == expected and str(value) == text


@pytest.mark.parametrize("text", ["'1e-5'", "1e-5x", "e5", "1e", "0x1e5"])
def test_what_is_not_an_exponent_number_stays_as_yaml_reads_it(text):
    assert not isinstance(parse_yaml(f"v: {text}\n", "x")["v"], float)


def test_a_sweep_is_counted_before_it_is_expanded():
    huge = {f"k{i}": list(range(10)) for i in range(15)}  # 10**15 runs
    started = time.process_time()
    with pytest.raises(RunxError, match="the sweep has 1,000,000,000,000,000 runs; expected at most 100,000"):
        expand(huge, "exp.yml")
    with pytest.raises(RunxError, match="at most 5"):
        expand([{"a": [1, 2, 3]}, {"a": [4, 5, 6]}, {"a": 1, "RUNX.SKIP": True}], "exp.yml", max_runs=5)
    assert time.process_time() - started < 0.5
    assert len(expand([{"a": [1, 2, 3]}, {"a": [4, 5, 6]}, {"a": 1, "RUNX.SKIP": True}], "exp.yml", max_runs=6)) == 6
    assert len(expand({"a": list(range(200_000))}, max_runs=None)) == 200_000


@pytest.mark.parametrize("tag", ["code", ".x", ".", ".."])
def test_tags_discovery_would_skip(tag):
    with pytest.raises(RunxError, match="--tag"):
        check_tag(tag, "--tag")
    assert check_tag("code2", "--tag") == "code2" and check_tag("x.code", "--tag") == "x.code"


def test_coolname_slugs_fit_the_room_left_for_them():
    from coolname import generate_slug

    assert max(len(generate_slug(2)) for _ in range(5000)) <= MAX_SLUG


def test_a_marker_names_a_live_runx_a_dead_one_or_a_reused_pid(tmp_path):
    with Staging(tmp_path / "logs" / "exp") as staging:
        run = staging.claim("r")
        assert staging_state(run) == "staging"  # this process
        marker = json.loads((run / STAGING_FILE).read_text())
    assert staging_state(run) is None and not (run / STAGING_FILE).exists()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        from runx.core.staging import _process_start

        host = os.uname().nodename
        alive = {"launcher": f"{host}:{child.pid}", "process_start": _process_start(child.pid)}
        (run / STAGING_FILE).write_text(json.dumps(alive))
        assert staging_state(run) == "staging"
        (run / STAGING_FILE).write_text(json.dumps({**alive, "process_start": "1"}))  # the pid now names another process
        assert staging_state(run) == "failed-to-stage"
    finally:
        child.kill()
        child.wait()
    (run / STAGING_FILE).write_text(json.dumps(alive))
    assert staging_state(run) == "failed-to-stage"
    for broken in ("", "[1]", "{\"launcher\": 5}", "\xff"):
        (run / STAGING_FILE).write_text(broken)
        assert staging_state(run) == "failed-to-stage"
    assert marker["launcher"].endswith(f":{os.getpid()}")


def test_a_failed_launch_removes_what_it_made_and_nothing_else(tmp_path):
    (tmp_path / "logs" / "other").mkdir(parents=True)
    with pytest.raises(RunxError, match=r"No space left on device while this launch staged its runs; removed the 2 run directories"):
        with Staging(tmp_path / "logs" / "a" / "exp") as staging:
            staging.claim("r1")
            staging.claim("r2")
            raise OSError(28, "No space left on device", str(tmp_path / "logs" / "a" / "exp" / "r2" / "x"))
    assert sorted(os.listdir(tmp_path / "logs")) == ["other"]
    existing = tmp_path / "logs" / "other"
    with pytest.raises(KeyboardInterrupt):
        with Staging(existing) as staging:
            staging.claim("r1")
            raise KeyboardInterrupt
    assert existing.is_dir() and os.listdir(existing) == []


def test_snapshot_leaves_out_run_directories_and_the_destination(tmp_path):
    src = tmp_path / "exp"
    (src / "old_run" / "code").mkdir(parents=True)
    (src / "old_run" / "run.json").write_text("{}")
    (src / "half_made").mkdir()
    (src / STAGING_FILE).write_text("{}")  # the source itself may be anything
    (src / "half_made" / STAGING_FILE).write_text("{}")
    (src / "notes").mkdir()
    (src / "notes" / "a.txt").write_text("a")
    dest = src / "new_run" / "code"
    dest.parent.mkdir()
    snapshot(src, dest, (), exclude=(), run_markers=("run.json", STAGING_FILE))
    names = sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))
    assert names == ["new_run", "notes", "notes/a.txt", STAGING_FILE]
    assert not (dest / "new_run" / "code").exists()  # never copied into itself
