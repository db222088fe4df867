"""runx's command lines (runx.core.argparser, runx.runx.cli): every argv runx 0.0.11 read means the same now,
hyphenated twins mean the same as 0.0.11's spellings, and errors are one usage line plus one error line."""
from __future__ import annotations

import argparse
import contextlib
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runx.core.argparser import UsageError
from runx.runx.cli import launcher_parser, ledger_parser


def runx_0011_parser() -> argparse.ArgumentParser:
    """runx 0.0.11's launcher parser, as its runx/runx.py built it (help texts left out)."""
    parser = argparse.ArgumentParser(description="Experiment runner")
    parser.add_argument("exp_yml", type=str)
    parser.add_argument("--exp_name", type=str, default=None)
    parser.add_argument("--tag", type=str, default=None)
    parser.add_argument("--no_cooldir", action="store_true")
    parser.add_argument("--no_run", "-n", action="store_true")
    parser.add_argument("--interactive", "-i", action="store_true")
    parser.add_argument("--farm", type=str, default=None)
    parser.add_argument("--config_file", "-c", type=str, default=None)
    return parser


def reading(parse, argv: list):
    """The namespace as a dict, or None when argv is rejected (or only shows the help)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return vars(parse(argv))
        except (SystemExit, UsageError):
            return None


def ours(argv: list):
    return reading(launcher_parser().read, argv)


LAUNCH_WORDS = [
    "-n", "-i", "-v", "-in", "-nv", "-niv", "--no_run", "--interactive", "--verbose", "--no_cooldir", "--array",
    "--resume", "--no_r", "--inter", "--verb", "--no", "--j", "-j", "--jobs", "--jobs=2", "-j3", "-ij2", "-j=4",
    "--jobs-per-gpu", "--jobs-per=2", "--tag", "--tag=x", "--seed", "--seed=-3", "-c", "-cfile.yml", "-c=file",
    "--config_file", "--conf", "--farm", "--gpus", "--exp_name", "--exp", "--", "-x", "--bogus", "-h", "--resume=1",
    "sweep.yml", "other.yml", "-", "-1", "-2.5", "4", "x y", "-x y", "",
]
free_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6).filter(lambda w: not w.startswith("-"))
words = st.one_of(st.sampled_from(LAUNCH_WORDS), free_text, st.integers(-20, 20).map(str))
OLD_DESTS = ("exp_yml", "exp_name", "tag", "no_cooldir", "no_run", "interactive", "farm", "config_file")


@settings(max_examples=600, deadline=None)
@given(st.lists(words, max_size=7).filter(lambda argv: argv.count("--") <= 1 and argv[-1:] != ["--"]))
def test_every_argv_runx_0011_reads_means_the_same(argv):
    # A trailing `--` is left out: argparse before 3.12 rejects `runx sweep.yml --`.
    theirs = reading(runx_0011_parser().parse_args, argv)
    if theirs is None:
        return
    got = ours(argv)
    assert got is not None, f"0.0.11 reads {argv} as {theirs}, we reject it"
    assert {k: got[k] for k in OLD_DESTS} == theirs


def hyphenated(argv: list) -> list:
    """argv with every long option's name (not its value) written with hyphens."""
    out = []
    for word in argv:
        if word == "--":
            return out + argv[len(out):]
        name, eq, value = word.partition("=")
        out.append("--" + name[2:].replace("_", "-") + eq + value if word.startswith("--") and " " not in name else word)
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(words, max_size=7).filter(lambda argv: argv.count("--") <= 1 and argv[-1:] != ["--"]))
def test_hyphenated_twins_read_as_the_underscored_spelling(argv):
    assert ours(hyphenated(argv)) == ours(argv)


def reference_ledger_parser(command: str) -> argparse.ArgumentParser:
    """What `runx COMMAND` reads, as plain argparse with options between positionals (parse_intermixed_args)."""
    parser = argparse.ArgumentParser(prog=f"runx {command}")
    parser.add_argument("experiment")
    if command != "status":
        parser.add_argument("runs", nargs="*")
    if command == "resubmit":
        parser.add_argument("--failed", action="store_true")
        parser.add_argument("-n", "--no_run", action="store_true")
    if command == "status":
        parser.add_argument("--json", action="store_true")
    parser.add_argument("--logroot")
    parser.add_argument("-c", "--config_file")
    return parser


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["cancel", "resubmit", "status"]),
       st.lists(st.one_of(st.sampled_from(["--failed", "--logroot", "/tmp/x", "-c", "exp", "run-a", "-q", "--fail",
                                           "--config-file", "--conf", "-n", "--json"]), free_text), max_size=6))
def test_ledger_commands_read_argv_as_argparse_does(command, argv):
    theirs = reading(reference_ledger_parser(command).parse_intermixed_args, [w.replace("--config-file", "--config_file")
                                                                              for w in argv])
    got = reading(ledger_parser(command).read, argv)
    assert (got is None) == (theirs is None), (argv, got, theirs)
    if got is not None:
        assert got == theirs


def test_values_conversions_and_errors():
    args = launcher_parser().read(["sweep.yml", "-ij4", "--tag", "-x y", "--seed", "-7", "--jobs-per", "2"])
    assert (args.exp_yml, args.interactive, args.jobs, args.tag, args.seed, args.jobs_per_gpu) == ("sweep.yml", True, 4, "-x y", -7, 2)
    assert launcher_parser().read(["--", "-n"]).exp_yml == "-n"
    args = launcher_parser().read(["s.yml", "--no-run", "--exp-name", "e", "--config-file", "c", "--jobs_per_gpu", "3", "--exp", "f"])
    assert (args.no_run, args.exp_name, args.config_file, args.jobs_per_gpu) == (True, "f", "c", 3)
    for argv, message in [
        (["sweep.yml", "-j", "x"], "-j x: expected an integer"),
        (["sweep.yml", "--jobs=x"], "--jobs x: expected an integer"),
        (["sweep.yml", "--no"], "ambiguous option: --no could match --no_cooldir, --no-cooldir, --no_run, --no-run"),
        (["sweep.yml", "--tag"], "argument --tag: expected one argument"),
        (["sweep.yml", "--tag", "--farm"], "argument --tag: expected one argument"),
        (["sweep.yml", "-q"], "unrecognized option -q"),
        (["sweep.yml", "--resume=yes"], "argument --resume: ignored explicit argument 'yes'"),
        ([], "expected EXP_YML: experiment YAML"),
        (["a.yml", "b.yml"], "unrecognized arguments: b.yml"),
    ]:
        with pytest.raises(UsageError, match=re.escape(message)) as raised:
            launcher_parser().read(argv)
        assert raised.value.report.startswith("usage: runx [options] EXP_YML [KEY=VALUE ...]\nrunx: error: ")
        assert raised.value.report.count("\n") == 2


def test_help_lists_every_option_with_its_twin(capsys):
    with pytest.raises(SystemExit) as done:
        launcher_parser().read(["-h"])
    text = capsys.readouterr().out
    assert done.value.code == 0 and text.startswith("usage: runx [options] EXP_YML [KEY=VALUE ...]\n")
    for name in ("--exp_name", "--exp-name", "--no_run", "--no-run", "-n", "-i", "--config_file", "--config-file", "-c",
                 "--farm", "--tag", "--no_cooldir", "--jobs-per-gpu", "--jobs_per_gpu", "--version", "--where"):
        assert re.search(rf"(^|[\s,]){re.escape(name)}\b", text), name


@pytest.mark.parametrize("argv, status, stream, first, last", [
    (["--help"], 0, "stdout", "usage: runx [options] EXP_YML [KEY=VALUE ...]", "  runx resubmit sweep --failed   rerun failed runs in their own directories"),
    (["sweep.yml", "-j", "x"], 2, "stderr", "usage: runx [options] EXP_YML [KEY=VALUE ...]", "runx: error: -j x: expected an integer"),
    (["cancel", "-h"], 0, "stdout", "usage: runx cancel [options] EXPERIMENT [RUN ...]", "          runx cancel sweep RUN_NAME"),
    (["status"], 2, "stderr", "usage: runx status [options] EXPERIMENT", "runx status: error: expected EXPERIMENT: experiment name below LOGROOT (or a path to its directory)"),
    (["resubmit", "sweep", "--bogus"], 2, "stderr", "usage: runx resubmit [options] EXPERIMENT [RUN ...]", "runx resubmit: error: unrecognized option --bogus (see runx resubmit --help)"),
])
def test_command_line_help_and_usage_errors(tmp_path, argv, status, stream, first, last):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "runx.runx", *argv], cwd=tmp_path, capture_output=True, text=True)
    lines = getattr(done, stream).splitlines()
    assert done.returncode == status and (lines[0], lines[-1]) == (first, last)
    assert not list(tmp_path.iterdir()) and "Traceback" not in done.stderr


@pytest.mark.parametrize("argv, prog, distribution", [
    (["--version"], "runx", "runx-core"), (["status", "--version"], "runx status", "runx-core"),
    (["cancel", "--version"], "runx cancel", "runx-core"), (["resubmit", "--version"], "runx resubmit", "runx-core"),
])
def test_version(tmp_path, argv, prog, distribution):
    import subprocess
    import sys
    from importlib.metadata import version

    done = subprocess.run([sys.executable, "-m", "runx.runx", *argv], cwd=tmp_path, capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{prog} {version(distribution)}\n", "")
