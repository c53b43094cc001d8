"""Workflow tests that run Snakemake for real on a tiny story (up to the shot list)."""

from __future__ import annotations

import subprocess

import pytest

from storyreel.core.artifacts import read_json, sha256_file
from storyreel.media.quality import cue_start_errors
from storyreel.media.subtitles import parse_subtitles

from conftest import BIN, REPO, TINY_STORY, Workdir

pytestmark = pytest.mark.workflow

TEXT_AND_AUDIO = ["idea", "script", "revise", "voice", "asr", "shotlist"]
UNTIL_SHOTLIST_FILES = ["idea.json", "script.json", "revised.json", "narration.wav", "voice.json",
                        "words.json", "subtitles.srt", "subtitles.vtt", "shotlist.json"]


@pytest.fixture(scope="module")
def until_shotlist(shared_tmp) -> Workdir:
    """One real `--until shotlist` run, shared by the tests that read its artifacts."""
    work = Workdir(shared_tmp / "until", [TINY_STORY])
    result = work.run("--until", "shotlist")
    work.jobs_run = result.jobs()
    return work


def test_dry_run_lists_each_stage(workdir):
    result = workdir.run("-n")
    jobs = result.jobs()
    for stage in TEXT_AND_AUDIO:
        assert stage in jobs, result.output[-3000:]
    assert "checkpoint" in result.output  # the shot fan-out waits for the shotlist checkpoint


def test_until_shotlist_runs_exactly_the_six_stages(until_shotlist):
    assert sorted(until_shotlist.jobs_run) == sorted(TEXT_AND_AUDIO)
    results = until_shotlist.results()
    for name in UNTIL_SHOTLIST_FILES:
        assert (results / name).stat().st_size > 0, name
    assert not (results / "keyframes").exists()


def test_artifacts_validate_against_their_schemas(until_shotlist):
    results = until_shotlist.results()
    for name, schema in [("idea.json", "idea"), ("script.json", "script"),
                         ("revised.json", "revised"), ("voice.json", "voice"),
                         ("words.json", "words"), ("shotlist.json", "shotlist")]:
        read_json(results / name, schema)
    for shot in (results / "shots").glob("*.json"):
        read_json(shot, "shot")


def test_subtitle_cues_start_on_aligned_words(until_shotlist):
    results = until_shotlist.results()
    words = read_json(results / "words.json", "words")["words"]
    for name in ("subtitles.srt", "subtitles.vtt"):
        errors = cue_start_errors(parse_subtitles(results / name), words)  # every word, in order
        assert errors and max(errors) <= 0.150, (name, errors)


def test_every_job_writes_a_log_and_a_benchmark(until_shotlist):
    for stage in TEXT_AND_AUDIO:
        assert (until_shotlist.path / "logs" / stage / "tiny.log").exists(), stage
        assert (until_shotlist.path / "benchmarks" / stage / "tiny.tsv").exists(), stage


def test_noop_rerun_runs_nothing(until_shotlist):
    result = until_shotlist.run("--until", "shotlist")
    assert result.jobs() == []


def test_resume_after_kill_during_voice(tmp_path, until_shotlist):
    work = Workdir(tmp_path / "killed", [TINY_STORY])
    proc = work.start("--until", "shotlist", "--cores", "1")
    work.kill_when(proc, work.path / "logs" / "voice" / "tiny.log")
    results = work.results()
    assert not (results / "words.json").exists()
    done_before = {n: (results / n).stat().st_mtime_ns
                   for n in ("idea.json", "script.json", "revised.json")}

    args = ["-s", str(REPO / "Snakefile"), "-d", str(work.path),
            "--workflow-profile", str(REPO / "profiles" / "test"), "--until", "shotlist"]
    proc = subprocess.run([str(BIN / "storyreel"), "resume", *args], capture_output=True,
                          text=True, env=work.env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rerun = [j for j in TEXT_AND_AUDIO
             if f"rule {j}:" in proc.stdout + proc.stderr or f"checkpoint {j}:" in proc.stderr]
    assert "idea" not in rerun and "script" not in rerun and "revise" not in rerun
    assert "voice" in rerun and "shotlist" in rerun
    for name, mtime in done_before.items():
        assert (results / name).stat().st_mtime_ns == mtime, f"{name} was redone"
    reference = until_shotlist.results()
    for name in UNTIL_SHOTLIST_FILES:
        assert sha256_file(results / name) == sha256_file(reference / name), name


def test_bad_config_is_one_clear_message(workdir):
    result = workdir.run("-n", "--config", 'stages={"voice": {"backend": "sam"}}', check=False)
    assert result.returncode != 0
    assert "stages.voice.backend: 'sam' is not one of ['piper', 'espeak']" in result.output
    assert "Traceback" not in result.output


def test_hostile_story_id_is_rejected(tmp_path):
    work = Workdir(tmp_path / "hostile", [{**TINY_STORY, "id": "../../etc"}])
    result = work.run("-n", check=False)
    assert result.returncode != 0
    assert "stories[0].id: '../../etc' does not match" in result.output
    assert not (tmp_path / "etc").exists()
    assert "Traceback" not in result.output


def test_stories_file_can_be_switched(tmp_path):
    work = Workdir(tmp_path / "switch", [TINY_STORY])
    other = work.path / "other.yaml"
    other.write_text("stories:\n  - id: second\n    idea: A cat finds a key.\n")
    result = work.run("-n", "--config", "stories=other.yaml")
    assert "story=second" in result.output
    assert "story=tiny" not in result.output
