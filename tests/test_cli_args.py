"""The storyreel command behaves like its neighbours: -v/-q mean what they say, targets mix with
--config as in Snakemake, every subcommand's help has a line per option and an example, and no
mistyped invocation ends in a traceback."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyreel import cli
from storyreel.ops import snakeargs

from conftest import TINY_STORY, Workdir

COMMANDS = ["run", "resume", "status", "verify", "clean", "report", "monitor", "backends", "docs",
            "doctor"]


@pytest.fixture
def launched(monkeypatch, tmp_path):
    """Commands that would start Snakemake, a server or a rewrite record what they would do."""
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "call", lambda command, **kw: calls.append(command) or 0)
    monkeypatch.setattr(cli, "resume", lambda args: calls.append(["resume", *args]) or 0)
    from storyreel.ops import monitor

    monkeypatch.setattr(monitor, "serve", lambda *a: calls.append(["serve", *map(str, a)]))
    monkeypatch.setattr(cli.docgen, "write", lambda: calls.append(["docs"]))
    work = Workdir(tmp_path / "work", [TINY_STORY])
    (work.path / "config" / "other.yaml").write_text(yaml.safe_dump(
        {"stories": [{**TINY_STORY, "id": "other"}]}))
    monkeypatch.chdir(work.path)
    return calls


def test_verbose_and_quiet_mean_what_they_say(launched):
    assert cli.main(["run", "-v", "-n"]) == 0
    assert launched[-1][1:] == ["--verbose", "-n"]  # not Snakemake's -v (its version)
    assert cli.main(["run", "-q"]) == 0
    assert launched[-1][1:] == ["--quiet=rules"]  # quiet about jobs, not about progress
    assert cli.main(["run", "--quiet", "progress", "results/tiny/final.mp4"]) == 0
    assert launched[-1][1:] == ["results/tiny/final.mp4", "--quiet", "progress"]


def test_targets_after_config_go_to_snakemake_as_targets(launched):
    assert cli.main(["run", "--config", "stories=config/other.yaml", "seed=3",
                     "results/other/final.mp4", "--cores", "2"]) == 0
    assert launched[-1][1:] == ["results/other/final.mp4", "--config",
                                "stories=config/other.yaml", "seed=3", "--cores", "2"]
    assert cli.main(["resume", "--configfile", "config/config.yaml", "results/tiny/final.mp4"]
                    ) == 0
    assert launched[-1] == ["resume", "results/tiny/final.mp4", "--configfile",
                            "config/config.yaml"]


@pytest.mark.parametrize(("args", "line"), [
    (["--config", "foo"], "--config foo: not KEY=VALUE (e.g. --config seed=7)"),
    (["--configfile", "nope.yaml"], "--configfile nope.yaml: no such file"),
    (["--resources", "gpu"], "--resources gpu: not NAME=VALUE (e.g. --resources gpu=1)"),
    (["results/nope/final.mp4"],
     "results/nope/final.mp4: the stories file has no story 'nope' (stories: tiny)"),
])
def test_what_snakemake_answers_with_a_traceback_is_one_line(launched, capsys, args, line):
    assert cli.main(["run", *args]) == 2
    err = capsys.readouterr().err
    assert f"Error: {line}" in err.splitlines()
    assert launched == []


def test_every_subcommand_help_has_a_line_per_option_and_an_example(launched, capsys):
    for command in COMMANDS:
        assert cli.main([command, "--help"]) == 0, command
        text = capsys.readouterr().out
        assert re.search(r"Examples:\n\s+storyreel ", text), command
        lines = text.splitlines()
        options = lines[lines.index("Options:") + 1:]
        for i, line in enumerate(options):
            if not line.startswith("  -"):
                continue
            described = "  " in line.strip() or (i + 1 < len(options) and options[i + 1]
                                                  .startswith(" " * 10))
            assert described, f"{command}: {line!r} has no description"


TOKENS = st.sampled_from(COMMANDS + [
    "-d", "--directory", ".", "/nonexistent/dir", "--story", "tiny", "nope", "--json",
    "--dry-run", "-n", "--older-than", "7d", "soon", "--out", "report.zip", "--host", "::1",
    "--port", "0", "-1", "99999", "abc", "--check", "--config", "--configfile", "config/x.yaml",
    "x=1", "seed=2", "=", "stories=none.yaml", "--offline", "-v", "-q", "--verbose", "--quiet",
    "--help", "-h", "--cores", "2", "results/tiny/final.mp4", "results/nope/final.mp4", "--",
    "-x", "", "é", "--resources", "gpu", "--until"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(TOKENS, max_size=6))
def test_no_invocation_ends_in_a_traceback(launched, capsys, argv):
    code = cli.main(argv)
    assert isinstance(code, int)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err


@given(args=st.lists(st.sampled_from(["--config", "a=1", "b=2", "results/x/final.mp4", "-n",
                                      "--cores", "2", "-v", "-q", "--until", "post",
                                      "--configfile", "c.yaml", "target"]), max_size=8))
def test_sorting_snakemake_arguments_keeps_every_one(args):
    parsed = snakeargs.parse(args)
    command = parsed.command()
    rewritten = {"-v": "--verbose", "-q": "--quiet=rules"}
    assert sorted(command) == sorted(rewritten.get(a, a) for a in args)
    for i, arg in enumerate(command):  # a target never follows a multi-value option's values
        if arg == "results/x/final.mp4":
            before = [a for a in command[:i] if a.startswith("-")]
            assert not before or before[-1] not in snakeargs.MULTI_VALUE


def test_a_target_of_an_archived_story_is_made_again(launched, capsys):
    from pathlib import Path

    (Path("results") / "tiny").mkdir(parents=True)
    (Path("results") / "tiny" / ".archived").touch()
    assert cli.main(["run", "results/tiny/final.mp4", "--cores", "2"]) == 0
    assert launched[-1][1:] == ["results/tiny/final.mp4", "--cores", "2", "--forcerun",
                                "results/tiny/final.mp4"]
    assert ("storyreel: results/tiny/final.mp4: its story was archived by `storyreel clean`; "
            "making it again") in capsys.readouterr().err.splitlines()
