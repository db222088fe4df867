"""runx.sumx.logroot: LOGROOT read without PyYAML gives runx.core.config's answer, or declines."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runx.core.config import config_logroot
from runx.core.errors import RunxError
from runx.sumx.logroot import UNDECIDED, plain_logroot

VALUES = ["/home/logs", "logs", "./logs", "../x/logs", "~/logs", "$HOME/logs", "${HOME}/l", "~", "~x", "yes", "No",
          "ON", "y", "null", "123", "1e3", "0x1F", ".5", ".inf", "-x", "2024-01-01", "'/quoted'", '"/dq"', "/a#b",
          "/a #c", "&a /x", "*a", "/x/", "a-b", "a.b_c", "/x: y", "[/x]", "{a: b}", "|", ">", "", "logs # it's",
          "/with space", "C:\\x", "/a\\b", "/x'", "!!str /t", "/x//y/./z", "/x/../y"]
OTHER_LINES = [
    "", "   ", "# a comment with 'quote", "FARM: bigfarm", "FARM: other", "bigfarm:", "    SUBMIT_CMD: 'submit_job'",
    "    RESOURCES: {gpu: 4, cpu: 32}", "    RESOURCES:", "        gpu: 8", "A: don't", "A: 'open", 'A: "open',
    "close'", 'close"', "A: [x,", "  y]", "A: |", "  LOGROOT: /inblock", "  don't 'x", "---", "...", "%YAML 1.1",
    "- item", "B: &anc /base", "C: *anc", "<<: *anc", "\tTAB: x", "A: x\r", "A: b # it's", "A: 'it''s'",
    'A: "esc\\"q"', "D: {k: 'v', j: \"w\"}", "  it's: 'abc", "def'", "A: x], [b", 'A: {"a":"b}', "A: a[0]",
    "  /more", "  # indented comment", "LOGROOT : /space", "LOGROOT:/nospace", "'LOGROOT': /q", '"LOGROOT": /q',
    "? LOGROOT", ": /q", "logroot: /lower", "my-farm.x: 1", "yes: 1", "on: 2", "E: >", "  folded", "F: [a, b]",
    "G: {t: \"04:00:00\", p: gpu}", "H: 'a' # c", "I: \"#not a comment\"", "J: x #c 'q", "K: ", "L: 'x'y'",
]


def fast_and_yaml(path) -> tuple:
    fast = plain_logroot(str(path))
    try:
        slow = str(config_logroot(path))
    except RunxError:
        slow = None
    return fast, slow


lines = st.lists(st.one_of(st.sampled_from(OTHER_LINES), st.sampled_from(VALUES).map(lambda v: f"LOGROOT: {v}")),
                 max_size=8)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines, st.booleans())
def test_plain_reading_agrees_with_pyyaml_or_declines(tmp_path, config_lines, final_newline):
    path = tmp_path / "runx.yml"
    path.write_bytes(("\n".join(config_lines) + ("\n" if final_newline else "")).encode())
    fast, slow = fast_and_yaml(path)
    if fast is not UNDECIDED:
        assert slow is not None and fast == slow, (config_lines, fast, slow)


@pytest.mark.parametrize("text, expected", [
    ("LOGROOT: /home/logs          # where experiments go; this file's folder\nFARM: bigfarm\n\nbigfarm:\n"
     "    SUBMIT_CMD: 'submit_job'\n    RESOURCES:\n        gpu: 8\n", "/home/logs"),
    ("LOGROOT: /shared/logs\nFARM: slurm\nslurm:\n    RESOURCES: {gpu: 1, time: \"04:00:00\", partition: gpu}\n"
     "    # ARRAY: true\n", "/shared/logs"),
    ("LOGROOT: logs\n", "{here}/logs"),
    ("# config\nLOGROOT: ../runs/./x\n", "{parent}/runs/x"),
])
def test_plain_configs_need_no_yaml(tmp_path, text, expected):
    path = tmp_path / ".runx"
    path.write_text(text)
    fast, slow = fast_and_yaml(path)
    here = os.path.realpath(tmp_path)
    assert fast == slow == expected.format(here=here, parent=os.path.dirname(here))


@pytest.mark.parametrize("text", ["LOGROOT: 'quoted'\n", "LOGROOT: yes\n", "LOGROOT: /x\n  /continued\n", "LOGROOT:\n",
                                  "FARM: a\n", "LOGROOT: /x\nLOGROOT: /y\n", "A: 'multi\nLOGROOT: /x'\n", "---\nLOGROOT: /x\n"])
def test_anything_unusual_is_left_to_pyyaml(tmp_path, text):
    path = tmp_path / ".runx"
    path.write_text(text)
    assert plain_logroot(str(path)) is UNDECIDED


def test_config_lookup_follows_runx(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert plain_logroot(None) is None  # no config anywhere
    assert plain_logroot("missing.yml") is UNDECIDED  # runx.core.config reports it
    (tmp_path / "home" / ".config").mkdir(parents=True)
    (tmp_path / "home" / ".config" / "runx.yml").write_text("LOGROOT: user_logs\n")
    assert plain_logroot(None) == os.path.join(os.path.realpath(tmp_path), "home", ".config", "user_logs")
    (tmp_path / ".runx").write_text("LOGROOT: /local\n")
    assert plain_logroot(None) == "/local"
    (tmp_path / "other.yml").write_text("LOGROOT: ~/x\n")
    assert plain_logroot("other.yml") == os.path.join(str(tmp_path / "home"), "x")


def test_sumx_with_a_plain_config_does_not_import_yaml(tmp_path):
    import subprocess
    import sys

    from conftest import write_run

    write_run(tmp_path / "logs" / "e", "r1", {"lr": 0.1}, [{"acc": 1.0}])
    (tmp_path / ".runx").write_text("LOGROOT: logs   # relative to this file\nFARM: local\n")
    code = "import sys; from runx.sumx import main; main(['e']); sys.stderr.write(str('yaml' in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "r1" in done.stdout and done.stderr == "False"
