"""profiles/slurm on a real SLURM: two tiny stories to final.mp4 through sbatch, a kill -9 of
Snakemake in the middle, and a resume through SLURM.

`make test-slurm` starts a single-node SLURM (.ci/slurm/up.sh), installs storyreel[slurm] and
runs these tests; anywhere else they are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import BIN, REPO, TINY_FILM, TINY_STORY, Workdir

pytest.importorskip("snakemake_executor_plugin_slurm", reason="needs storyreel[slurm]")

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

# What a CI cluster without an accounting database needs on top of profiles/slurm (docs/cluster.md)
SLURM_ARGS = ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1"]
STORIES = [TINY_STORY, TINY_FILM]


def slurm_up() -> bool:
    if not shutil.which("sbatch") or not shutil.which("scontrol"):
        return False
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True)
    return ping.returncode == 0 and "UP" in ping.stdout


if not slurm_up():
    pytest.skip("no SLURM running here (make test-slurm starts one)", allow_module_level=True)


def slurm_jobs(states: str = "all") -> dict[str, str]:
    """SLURM job id -> job name, for jobs in ``states`` (finished ones stay for MinJobAge)."""
    out = subprocess.run(["squeue", "-h", "-t", states, "-o", "%i %j"], capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split(maxsplit=1) for line in out.splitlines() if line.strip())


def scontrol_job(job_id: str) -> dict[str, str]:
    """``scontrol show job`` as a dict (finished jobs stay visible for MinJobAge)."""
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True,
                         text=True, check=True).stdout
    return dict(item.split("=", 1) for item in out.split() if "=" in item)


def wait_for_slurm_jobs(job_ids: set[str], timeout: float = 300) -> None:
    """Wait until none of ``job_ids`` is pending or running any more."""
    deadline = time.monotonic() + timeout
    while job_ids & set(slurm_jobs("PENDING,RUNNING,CONFIGURING,COMPLETING")):
        if time.monotonic() > deadline:
            raise AssertionError(f"SLURM jobs still running after {timeout} s")
        time.sleep(0.5)


class SlurmWorkdir(Workdir):
    """A working directory run through profiles/slurm instead of profiles/test."""

    def command(self, *args: str) -> list[str]:
        return [str(BIN / "snakemake"), *self.args(), *args]

    def args(self) -> list[str]:
        return ["-s", str(REPO / "Snakefile"), "-d", str(self.path),
                "--workflow-profile", str(REPO / "profiles" / "slurm"), *SLURM_ARGS]

    @staticmethod
    def env() -> dict[str, str]:
        env = Workdir.env()
        # the site block's environment override, as a site would set it
        env["STORYREEL_SLURM_PARTITION"] = os.environ.get("STORYREEL_CI_PARTITION", "debug")
        return env


def test_two_stories_killed_and_resumed_through_slurm(tmp_path: Path) -> None:
    work = SlurmWorkdir(tmp_path / "work", STORIES)
    before = set(slurm_jobs())

    # 1. Run through SLURM; kill -9 Snakemake once the first story's shot list exists (its text
    #    and audio group job is done, other SLURM jobs are in flight or queued).
    proc = work.start()
    work.kill_when(proc, work.results("tiny") / "shotlist.json", timeout=600)
    first_run = set(slurm_jobs()) - before
    assert first_run, "Snakemake submitted nothing to SLURM"
    # tiny's text and audio group job had finished (its shot list was being written)
    done = {p: p.stat().st_mtime_ns for p in (work.results("tiny") / n for n in (
        "idea.json", "script.json", "revised.json", "voice.json", "words.json"))}
    # The jobs it had submitted run on without it; a user checks `squeue` (or scancels them)
    # before resuming (docs/cluster.md).
    wait_for_slurm_jobs(first_run)
    assert not (work.results("tiny") / "final.mp4").exists()

    # 2. Resume through SLURM: unlock the stale lock, rerun what is incomplete, finish. The
    #    keyframes stage asks for a GPU as a GPU backend would (gpu=1 -> sbatch --gpus=1; the
    #    CI node has one fake GPU), which changes no output.
    resume = subprocess.run([str(BIN / "storyreel"), "resume", *work.args(),
                             "--set-resources", "keyframes:gpu=1"],
                            capture_output=True, text=True, env=work.env(), timeout=900)
    output = resume.stdout + resume.stderr
    assert resume.returncode == 0, output[-6000:]
    assert "submitted with SLURM jobid" in output
    resumed = set(slurm_jobs()) - before - first_run
    assert resumed, "the resume submitted nothing to SLURM"
    details = {job: scontrol_job(job) for job in resumed}
    # keyframes go in groups (profiles/slurm): the group job is named after them
    keyframes = [d for d in details.values() if "keyframes" in d.get("Comment", "")]
    assert keyframes, "no keyframes job was resubmitted"
    assert all("gpu" in d.get("TresPerJob", "") + d.get("TRES", "") for d in keyframes), keyframes
    assert not any("gpu" in d.get("TresPerJob", "") for d in details.values()
                   if "keyframes" not in d.get("Comment", ""))

    for story in ("tiny", "film"):
        results = work.results(story)
        assert (results / "final.mp4").stat().st_size > 0, story
        assert (results / "manifest.json").exists(), story
    for path, mtime in done.items():
        assert path.stat().st_mtime_ns == mtime, f"{path.relative_to(work.path)} was redone"

    # One story's text and audio stages went to SLURM as one group job.
    logs = (work.path / ".snakemake" / "log").glob("*.snakemake.log")
    assert any("Group job story-text-audio" in log.read_text() for log in logs)
    # Every job kept its own log where the local profiles put it.
    for stage in ("script", "revise", "voice", "asr", "post"):
        assert (work.path / "logs" / stage / "tiny.log").exists(), stage

    # A no-op rerun submits nothing.
    again = work.run()
    assert "submitted with SLURM jobid" not in again.output



def model_stages(models: dict) -> dict:
    """Both stages on the tiny SD 1.5 and SVD pipelines (CPU), as on a GPU cluster."""
    import yaml

    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["stages"]
    return {**base,
            "keyframes": {"backend": "diffusers", "model": str(models["sd15"]), "steps": 2,
                          "resolution": 32, "batch": 1},
            "video": {"backend": "diffusers", "model": str(models["svd"]), "steps": 1,
                      "resolution": 32, "num_frames": 4, "guidance_scale": 1.0}}


def loads_per_group(work: Workdir, stage: str) -> Counter:
    """Model loads of a stage per SLURM job (each group job is one)."""
    from storyreel.models import diffusion

    return Counter(r["slurm_job"] for r in diffusion.loads(work.path, stage))


def test_model_shots_go_in_groups_that_load_each_model_once(tmp_path, tiny_models):
    """profiles/slurm groups a story's keyframes and clips: one load per stage per group job,
    through a kill -9 of Snakemake in the middle of the keyframes group, a resume, and a one-shot
    edit whose clip runs out of memory and degrades."""
    pytest.importorskip("diffusers", reason="needs the diffusers extra")
    from storyreel.core.artifacts import read_json

    work = SlurmWorkdir(tmp_path / "models", [TINY_FILM], {"stages": model_stages(tiny_models)})
    before = set(slurm_jobs())
    proc = work.start()
    first = work.results("film") / "keyframes" / "sh001.png"
    work.kill_when(proc, first, timeout=900)  # the keyframes group job runs on without it
    text = {p: p.stat().st_mtime_ns for p in work.results("film").glob("*.json")}
    wait_for_slurm_jobs(set(slurm_jobs()) - before, timeout=600)
    shots = sorted(p.stem for p in (work.results("film") / "shots").glob("*.json"))
    made = sorted(p.stem for p in (work.results("film") / "keyframes").glob("*.png"))
    assert len(shots) >= 2 and made == shots  # the group made every shot on one load
    assert list(loads_per_group(work, "keyframes").values()) == [1]

    resume = subprocess.run([str(BIN / "storyreel"), "resume", *work.args()],
                            capture_output=True, text=True, env=work.env(), timeout=900)
    assert resume.returncode == 0, (resume.stdout + resume.stderr)[-6000:]
    assert (work.results("film") / "final.mp4").exists()
    for path, mtime in text.items():
        assert path.stat().st_mtime_ns == mtime, f"{path.name} was redone"
    for stage in ("keyframes", "video"):
        groups = loads_per_group(work, stage)
        assert None not in groups and set(groups.values()) == {1}, (stage, groups)
    logs = "".join(p.read_text() for p in (work.path / ".snakemake" / "log").glob("*.log"))
    assert "Group job shots-keyframes" in logs and "Group job shots-video" in logs

    # A one-shot edit inside a group: only that shot's keyframe and clip are made again; its clip
    # runs out of GPU memory (injected) whatever the savers, and falls back to Ken Burns.
    import yaml

    config = yaml.safe_load((work.path / "config" / "config.yaml").read_text())
    config["shots"] = {"film": {shots[-1]: {"prompt": "A red kite over a green meadow"}}}
    work.write_config(config)
    env = {**work.env(), "STORYREEL_INJECT_OOM": f"video:{shots[-1]}"}
    per_shot = [*(work.results("film") / "keyframes").glob("*.png"),
                *(work.results("film") / "video").glob("*.mp4")]
    mtimes = {p: p.stat().st_mtime_ns for p in per_shot}
    edit = subprocess.run(work.command(), capture_output=True, text=True, env=env, timeout=900)
    assert edit.returncode == 0, (edit.stdout + edit.stderr)[-6000:]
    redone = sorted(p.name for p, mtime in mtimes.items() if p.stat().st_mtime_ns != mtime)
    assert redone == [f"{shots[-1]}.mp4", f"{shots[-1]}.png"]
    manifest = read_json(work.results("film") / "manifest.json", "manifest")
    assert [(d["stage"], d["shot"], d["backend"]) for d in manifest["degradations"]] == [
        ("video", shots[-1], "kenburns")]
    for stage in ("keyframes", "video"):
        assert set(loads_per_group(work, stage).values()) == {1}, stage
