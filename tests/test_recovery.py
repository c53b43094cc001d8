"""Self-healing artifacts and recovery (issue 6): each corruption case is caught with one line
naming the file and the rule that makes it, `storyreel verify` removes it with what depends on
it, and `storyreel resume` regenerates exactly that, giving the film of an uninterrupted run.
A failed post never deletes the last good film. Resume passes targets after --config, finds
Snakemake without an activated venv, and cleans what a killed run leaves behind."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from storyreel.core.artifacts import sha256_file
from storyreel.recovery import resume as recovery
from storyreel.recovery import verify

from conftest import BIN, REPO, TINY_FILM, Workdir, copy_tree

pytestmark = pytest.mark.workflow

STORY = "film"


@pytest.fixture(scope="module")
def reference(shared_tmp) -> Workdir:
    """One uninterrupted run of the tiny film, copied by every case."""
    work = Workdir(shared_tmp / "reference", [TINY_FILM])
    work.run()
    return work


def clone(reference: Workdir, path) -> Workdir:
    """A copy of the reference working directory (mtimes and Snakemake metadata kept)."""
    copy_tree(reference.path, path)
    work = Workdir.__new__(Workdir)
    work.path = path
    return work


def resume(work: Workdir, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    args = ["-s", str(REPO / "Snakefile"), "-d", str(work.path),
            "--workflow-profile", str(REPO / "profiles" / "test"), *extra]
    return subprocess.run([str(BIN / "storyreel"), "resume", *args], capture_output=True,
                          text=True, env=env or work.env(), timeout=900)


def truncate(path, size: int = 100, keep_mtime: bool = False) -> None:
    stat = path.stat()
    with open(path, "r+b") as fh:
        fh.truncate(size)
    if keep_mtime:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


# (case, file, keep its old mtime, what a plain run says: (rule that reads it, rule that made
# it) or None when a plain run passes it by)
CASES = [
    ("words", "words.json", False, "asr"),
    ("narration", "narration.wav", False, "voice"),
    ("keyframe", "keyframes/sh001.png", False, "keyframes"),
    ("clip", "video/sh001.mp4", False, "video"),
    ("final", "final.mp4", False, None),
    ("shot", "shots/sh001.json", False, None),
    ("words-old-mtime", "words.json", True, None),
    ("manifest", "manifest.json", False, None),
]


@pytest.mark.parametrize("case,name,keep_mtime,maker", CASES, ids=[c[0] for c in CASES])
def test_corrupt_artifact_heals(reference, tmp_path, case, name, keep_mtime, maker):
    work = clone(reference, tmp_path / case)
    results = work.results(STORY)
    truncate(results / name, keep_mtime=keep_mtime)
    if maker:  # a plain run fails at once, one line naming the file and its rule, no retry
        plain = work.run(check=False)
        assert plain.returncode != 0
        assert f"corrupt input results/{STORY}/{name} (made by rule '{maker}')" in plain.output
        assert "Traceback" not in plain.output
        assert "not retried" in plain.output  # the second attempt exits at once
        assert "FAILED at" in plain.output  # the end-of-run summary names the story's stage
    report = verify.verify(work.path, dry_run=True)
    assert any(name in path for path, _ in report.corrupt), report.lines()
    proc = resume(work)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"corrupt: results/{STORY}/{name}: " in proc.stderr
    assert sha256_file(results / "final.mp4") == sha256_file(reference.results(STORY)
                                                             / "final.mp4")
    assert verify.verify(work.path, dry_run=True).ok
    assert artifacts(work) == artifacts(reference)  # every artifact is back, and identical
    assert work.run().jobs() == []  # and up to date


def artifacts(work: Workdir) -> dict[str, str]:
    """sha256 of every result file that does not record times (manifest, stage table)."""
    results = work.results(STORY)
    return {p.relative_to(results).as_posix(): sha256_file(p) for p in sorted(results.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.parts)
            and p.name not in ("manifest.json", "stages.html")}


def test_failed_post_keeps_the_last_good_film(reference, tmp_path):
    work = clone(reference, tmp_path / "post")
    results = work.results(STORY)
    good = sha256_file(results / "final.mp4")
    env = {**work.env(), "STORYREEL_FAULTS": "post:permanent"}
    proc = subprocess.run(work.command("--forcerun", "post"), capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode != 0
    assert "injected permanent fault in post" in proc.stderr
    assert sha256_file(results / "final.mp4") == good  # the last good film is still there
    assert (results / "final.mp4").stat().st_mtime <= 1  # ...dated so that it is remade
    rerun = work.run()
    assert "rule post:" in rerun.output or "localrule post:" in rerun.output
    assert sha256_file(results / "final.mp4") == good


def test_resume_passes_targets_after_config_and_finds_snakemake(reference, tmp_path):
    work = clone(reference, tmp_path / "targets")
    (work.results(STORY) / "final.mp4").unlink()
    env = {k: v for k, v in work.env().items() if k not in ("VIRTUAL_ENV",)}
    env["PATH"] = "/usr/bin:/bin"  # no activated venv: snakemake is found beside python
    proc = resume(work, "--config", "stories=config/stories.yaml",
                  f"results/{STORY}/final.mp4", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "CalledProcessError" not in proc.stderr
    assert (work.results(STORY) / "final.mp4").exists()


def test_split_targets_moves_targets_out_of_config():
    targets, options = recovery.split_targets(
        ["--cores", "2", "--config", "stories=x.yaml", "seed=3", "results/k01/final.mp4",
         "-d", "w"])
    assert targets == ["results/k01/final.mp4"]
    assert options == ["--cores", "2", "--config", "stories=x.yaml", "seed=3", "-d", "w"]


def test_resume_cleans_leftovers_and_stale_markers(reference, tmp_path):
    work = clone(reference, tmp_path / "leftovers")
    results = work.results(STORY)
    part = results / "video" / ".sh001.mp4.abc123.part.mp4"
    part.write_bytes(b"half a clip")
    tmpdir = work.path / ".snakemake" / "storyreel-tmp" / "jobs" / "video__film__sh001"
    tmpdir.mkdir(parents=True)
    (tmpdir / "frame.png").write_bytes(b"x")
    # a job that finished after Snakemake was killed: output present, stale incomplete
    # marker, no metadata (a later parameter change could not be detected for it)
    key = f"results/{STORY}/keyframes/sh002.png"
    marker = work.path / ".snakemake" / "incomplete" / verify._record_key(key)
    marker.write_text("{}")
    (work.path / ".snakemake" / "metadata" / verify._record_key(key)).unlink()
    report = verify.verify(work.path, dry_run=True)
    assert any(path == key for path, _ in report.untrusted), report.lines()
    reader = subprocess.Popen(["tail", "-f", str(work.path / "logs" / "post" / "film.log")],
                              cwd=work.path)
    try:
        (work.path / ".snakemake" / "locks").mkdir(exist_ok=True)
        (work.path / ".snakemake" / "locks" / "0.input.lock").write_text("stale")
        proc = resume(work)
    finally:
        reader.kill()
        reader.wait()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "removed a stale lock" in proc.stderr
    assert not part.exists() and not tmpdir.exists()
    assert "keyframes" in proc.stderr  # the untrusted keyframe was remade...
    assert sha256_file(results / "final.mp4") == sha256_file(reference.results(STORY)
                                                             / "final.mp4")
    assert not marker.exists()


def test_snakemake_is_found_beside_python():
    assert recovery.snakemake_command() == [str(BIN / "snakemake")]


# -- issue 16: every artifact kind checked, missing intermediates remade ------------------------

def damage(path, how: str) -> None:
    """``empty``: zero bytes; ``garbage``: bytes of the same size, old time stamp kept (what
    a disk or a careless copy leaves); ``delete``: gone."""
    if how == "delete":
        path.unlink()
        return
    stat = path.stat()
    path.write_bytes(b"" if how == "empty" else bytes((i * 7 + 3) % 256
                                                        for i in range(stat.st_size)))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


DAMAGE = [("srt-empty", "subtitles.srt", "empty"),
          ("words-deleted", "words.json", "delete"),
          ("script-garbage", "script.json", "garbage"),
          ("stages-garbage", "stages.html", "garbage")]


@pytest.mark.parametrize("case,name,how", DAMAGE, ids=[c[0] for c in DAMAGE])
def test_every_kind_of_damage_is_found_and_remade(reference, tmp_path, case, name, how):
    """Issue 16: a zero-byte subtitles.srt survived verify, resume and a rerun; a deleted
    words.json under a finished film was neither reported (exit 0, "0 corrupt") nor remade."""
    work = clone(reference, tmp_path / case)
    damage(work.results(STORY) / name, how)
    report = verify.verify(work.path, dry_run=True)
    assert not report.ok
    assert any(name in path for path, _ in report.corrupt + report.missing), report.lines()
    proc = resume(work)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"results/{STORY}/{name}: " in proc.stderr
    assert "leftover" not in proc.stderr  # a finished run leaves no job folder behind
    assert artifacts(work) == artifacts(reference)
    assert verify.verify(work.path, dry_run=True).ok
    assert work.run().jobs() == []


def test_an_archived_story_is_its_own_state_not_damage(reference, tmp_path):
    from storyreel.ops import clean

    work = clone(reference, tmp_path / "archived")
    clean.apply(work.path, clean.plan(work.path))
    report = verify.verify(work.path)
    assert report.ok and not report.removed, report.lines()
    assert report.archived == [f"results/{STORY}"]
    assert (work.results(STORY) / "final.mp4").exists()


def test_a_failed_report_rule_counts_its_attempts_and_the_story_stays_done(reference, tmp_path):
    """Issue 16: a failure in the report rules marked a story FAILED although its film
    existed."""
    work = clone(reference, tmp_path / "report")
    env = {**work.env(), "STORYREEL_FAULTS": "stagetable:permanent"}
    proc = subprocess.run(work.command("--forcerun", "stagetable"), capture_output=True,
                          text=True, env=env, timeout=900)
    assert proc.returncode != 0
    logs = work.path / "logs" / "stagetable"
    assert (logs / f"{STORY}.attempt1.log").exists() and (logs / f"{STORY}.attempt2.log").exists()
    assert "not retried" in (logs / f"{STORY}.attempt2.log").read_text()
    assert "stories: 1 done, 0 degraded, 0 failed" in proc.stderr


def workflow_clone(path) -> None:
    """The workflow's files as a fresh clone has them: same content, new time stamps."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for name in listed:
        source = REPO / name
        if source.is_file() and not name.startswith(("tests/", "docs/")):
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, path / name)


def test_results_copied_into_a_fresh_clone_are_up_to_date(reference, tmp_path):
    """Issue 16: copying a finished project into a new clone of the same commit reran
    everything ("Code has changed since last execution": the adapters' time stamps)."""
    workflow_clone(tmp_path / "clone")
    work = clone(reference, tmp_path / "copied")
    command = [str(BIN / "snakemake"), "-s", str(tmp_path / "clone" / "Snakefile"), "-d",
               str(work.path), "--workflow-profile", str(tmp_path / "clone" / "profiles" /
                                                         "test"), "-n"]
    proc = subprocess.run(command, capture_output=True, text=True, env=work.env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-3000:]
