"""runx.core.cmdline: the launcher's and sumx's command-line parser reads argv as argparse would."""
from __future__ import annotations

import argparse
import contextlib
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runx.core.cmdline import CommandLine, Option, Positional, positive_number
from runx.core.errors import RunxError
from runx.runx import LAUNCH
from runx.runx.ledger_cli import _command_line as ledger_command_line


def as_argparse(command_line: CommandLine) -> argparse.ArgumentParser:
    """The argparse parser runx 0.0.11's way of building it would give for the same table."""
    parser = argparse.ArgumentParser(prog=command_line.prog, add_help=False)
    for option in command_line.options:
        if option.kind == "flag":
            parser.add_argument(*option.names, dest=option.dest, action="store_true")
        elif option.kind == "append":
            parser.add_argument(*option.names, dest=option.dest, action="append", type=option.convert or str, default=[])
        else:
            parser.add_argument(*option.names, dest=option.dest, type=option.convert or str, default=option.default)
    for positional in command_line.positionals:
        nargs = None if positional.count == 1 else positional.count
        parser.add_argument(positional.dest, nargs=nargs)
    return parser


def argparse_reading(command_line: CommandLine, argv: list):
    """argparse's namespace as a dict, or None when it rejects argv. A list of positionals may be
    split by options (`runx cancel sweep --logroot L run1`): there parse_intermixed_args is the
    reference (it mishandles `--`, so the ledger cases leave `--` to the launcher's)."""
    parser = as_argparse(command_line)
    intermixed = any(p.count != 1 for p in command_line.positionals)
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return vars(parser.parse_intermixed_args(argv) if intermixed else parser.parse_args(argv))
        except SystemExit:
            return None


def our_reading(command_line: CommandLine, argv: list):
    try:
        namespace = vars(command_line.parse(argv))
    except RunxError:
        return None
    return namespace


LAUNCH_WORDS = [
    "-n", "-i", "-v", "-in", "-nv", "-niv", "--no_run", "--interactive", "--verbose", "--no_cooldir", "--array",
    "--resume", "--no_r", "--inter", "--verb", "--no", "--j", "-j", "--jobs", "--jobs=2", "-j3", "-ij2", "-j=4",
    "--jobs-per-gpu", "--jobs-per=2", "--tag", "--tag=x", "--seed", "--seed=-3", "-c", "-cfile.yml", "-c=file",
    "--config_file", "--conf", "--farm", "--gpus", "--exp_name", "--", "-x", "--bogus", "-h", "--resume=1",
    "sweep.yml", "other.yml", "-", "-1", "-2.5", "4", "x y", "-x y", "",
]
free_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6).filter(lambda w: not w.startswith("-"))
words = st.one_of(st.sampled_from(LAUNCH_WORDS), free_text, st.integers(-20, 20).map(str))


@settings(max_examples=600, deadline=None)
@given(st.lists(words, max_size=7).filter(lambda argv: argv.count("--") <= 1 and argv[-1:] != ["--"]))
def test_launcher_reads_argv_as_argparse_does(argv):
    # A trailing `--` is left out: argparse before 3.12 rejects `runx sweep.yml --`, which we accept.
    theirs = argparse_reading(LAUNCH, argv)
    ours = our_reading(LAUNCH, argv)
    if ours is not None and ours["help"]:
        return  # -h shows the help whatever else is there, as argparse's own -h does
    if theirs is None:
        assert ours is None, f"argparse rejects {argv}, we read {ours}"
        return
    assert ours is not None, f"argparse reads {argv} as {theirs}, we reject it"
    assert ours == theirs


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["cancel", "resubmit", "status"]),
       st.lists(st.one_of(st.sampled_from(["--failed", "--logroot", "/tmp/x", "-c", "exp", "run-a", "-q", "--fail"]), free_text),
                max_size=6))
def test_ledger_commands_read_argv_as_argparse_does(command, argv):
    command_line = ledger_command_line(command)
    theirs = argparse_reading(command_line, argv)
    ours = our_reading(command_line, argv)
    assert (ours is None) == (theirs is None), (argv, ours, theirs)
    if ours is not None:
        assert ours == theirs


def test_values_conversions_and_errors():
    args = LAUNCH.parse(["sweep.yml", "-ij4", "--tag", "-x y", "--seed", "-7", "--jobs-per", "2"])
    assert (args.exp_yml, args.interactive, args.jobs, args.tag, args.seed, args.jobs_per_gpu) == ("sweep.yml", True, 4, "-x y", -7, 2)
    assert LAUNCH.parse(["--", "-n"]).exp_yml == "-n"
    for argv, message in [
        (["sweep.yml", "-j", "x"], "-j x: expected an integer"),
        (["sweep.yml", "--no"], "ambiguous option --no: could be --no_cooldir, --no_run"),
        (["sweep.yml", "--tag"], "--tag: expected a value (TAG)"),
        (["sweep.yml", "--tag", "--farm"], "--tag: expected a value (TAG)"),
        (["sweep.yml", "-q"], "unrecognized option -q"),
        (["sweep.yml", "--resume=yes"], "--resume: takes no value"),
        ([], "expected EXP_YML: experiment YAML"),
        (["a.yml", "b.yml"], "unrecognized arguments: b.yml"),
    ]:
        with pytest.raises(RunxError, match=re.escape(message)):
            LAUNCH.parse(argv)


def test_help_skips_the_positional_check_and_lists_every_option():
    assert LAUNCH.parse(["-h"]).help
    text = LAUNCH.help()
    assert text.startswith("usage: runx [options] EXP_YML\n")
    for option in LAUNCH.options:
        assert option.invocation() in text


def test_optional_value_takes_only_a_following_number():
    line = CommandLine("t", "", [Option("--watch", kind="optional", convert=positive_number, const=5.0, expects="seconds")],
                       [Positional("exps", count="+")])
    assert line.parse(["a", "--watch"]).watch == 5.0
    assert line.parse(["--watch", "a"]).exps == ["a"] and line.parse(["--watch", "a"]).watch == 5.0
    assert line.parse(["--watch", "2.5", "a"]).watch == 2.5
    assert line.parse(["--watch=1", "a"]).watch == 1.0
    assert line.parse(["a"]).watch is None
    for bad in (["a", "--watch", "0"], ["a", "--watch", "-1"], ["a", "--watch=x"]):
        with pytest.raises(RunxError, match="expected seconds"):
            line.parse(bad)


def test_append_collects_every_value_in_order():
    line = CommandLine("t", "", [Option("-f", "--filter", kind="append")], [Positional("exps", count="*")])
    assert line.parse(["-f", "a<1", "x", "--filter=b=2", "-fc"]).filter == ["a<1", "b=2", "c"]
    assert line.parse([]).filter == [] and line.parse([]).exps == []


@pytest.mark.parametrize("argv, status, stream, first, last", [
    (["--help"], 0, "stdout", "usage: runx [options] EXP_YML", "  runx resubmit sweep --failed   rerun failed runs in their own directories"),
    (["sweep.yml", "-j", "x"], 2, "stderr", "usage: runx [options] EXP_YML", "runx: error: -j x: expected an integer"),
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
