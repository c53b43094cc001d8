"""The storyreel command: resume's working-directory logic, docs check, backends listing."""

from __future__ import annotations

from pathlib import Path

from storyreel import cli


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
