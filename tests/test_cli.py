"""The storyreel command (Click): every subcommand, pass-through to Snakemake, completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storyreel import cli
from storyreel.ops import joblog


def test_workdir_of_reads_directory_flags(tmp_path):
    assert cli.workdir_of(["-d", str(tmp_path), "--cores", "1"]) == tmp_path.resolve()
    assert cli.workdir_of([f"--directory={tmp_path}"]) == tmp_path.resolve()
    assert cli.workdir_of(["--cores", "1"]) == Path.cwd().resolve()


def test_no_other_snakemake_in_an_empty_directory(tmp_path):
    assert cli.other_snakemake_running(tmp_path.resolve()) is False


def test_backends_lists_every_kind(capsys):
    assert cli.main(["backends"]) == 0
    out = capsys.readouterr().out
    for name in ("template", "piper", "pocketsphinx", "animatic", "kenburns", "ffmpeg"):
        assert name in out


def test_docs_check_passes_on_current_docs(capsys):
    assert cli.main(["docs", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


COMMANDS = ["run", "resume", "status", "verify", "clean", "report", "monitor", "backends", "docs"]


def test_every_command_has_help(capsys):
    assert cli.main(["--help"]) == 0
    top = capsys.readouterr().out
    for command in COMMANDS:
        assert f"  {command}" in top, command
    for command in [c for c in COMMANDS if c != "run"]:
        assert cli.main([command, "--help"]) == 0, command
        assert f"Usage: storyreel {command}" in capsys.readouterr().out


def test_run_passes_snakemake_options_through_from_the_venv_without_activation(tmp_path):
    """`.venv/bin/storyreel run --cores 8 --resources gpu=1 -n` with a PATH that lacks the venv."""
    from conftest import BIN, REPO, TINY_STORY, Workdir

    work = Workdir(tmp_path / "work", [TINY_STORY])
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run([str(BIN / "storyreel"), "run", "-s", str(REPO / "Snakefile"), "-d",
                           str(work.path), "--cores", "8", "--resources", "gpu=1", "-n"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "This was a dry-run" in proc.stdout + proc.stderr
    assert "voice" in joblog.jobs(proc.stdout + proc.stderr)


def test_run_help_shows_snakemakes_options_too():
    proc = subprocess.run([sys.executable, "-m", "storyreel.cli", "run", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert "Usage: storyreel run" in proc.stdout and "--cores" in proc.stdout


def test_shell_completion_script():
    env = {**os.environ, "_STORYREEL_COMPLETE": "bash_source"}
    proc = subprocess.run([str(Path(sys.executable).parent / "storyreel")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert "_storyreel_completion" in proc.stdout
    env = {**os.environ, "_STORYREEL_COMPLETE": "bash_complete", "COMP_WORDS": "storyreel cl",
           "COMP_CWORD": "1"}
    proc = subprocess.run([str(Path(sys.executable).parent / "storyreel")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert "clean" in proc.stdout


def test_clean_parses_ages():
    from storyreel.ops.clean import parse_age

    assert parse_age("30m") == 1800 and parse_age("7d") == 7 * 86400 and parse_age("90") == 90
    assert cli.main(["clean", "--older-than", "soon", "--dry-run"]) != 0


def test_status_of_an_empty_directory(tmp_path, capsys):
    assert cli.main(["status", "-d", str(tmp_path)]) == 0
    assert "no stories here" in capsys.readouterr().out


def test_notification_urls_come_from_the_environment_only():
    from storyreel.ops import notify

    assert notify.destinations({}) == []
    urls = notify.destinations({notify.ENV: "json://a.example/x, ntfy://ntfy.sh/t"})
    assert urls == ["json://a.example/x", "ntfy://ntfy.sh/t"]
