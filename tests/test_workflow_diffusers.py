"""End to end through Snakemake with both diffusers backends on tiny random pipelines (CPU, no
download): one model load per stage per story, a one-shot edit that reruns only that shot on the
warm model, resume after kill -9 in the middle of a shot, an injected out-of-memory error that
degrades one shot and is flagged, and gpu=1 in the dry run."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import yaml

from storyreel.core.artifacts import read_json
from storyreel.media import ffmpeg
from storyreel.models import diffusion, worker

from conftest import BIN, REPO, TINY_STORY, Result, Workdir, copy_tree

pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install '.[diffusers]'")

pytestmark = [pytest.mark.workflow, pytest.mark.diffusers]

GPU = ("--resources", "gpu=1")  # what a workstation with one card passes (profiles/gpu)


def stages(models, image: str = "sd15", video: str = "svd", **extra) -> dict:
    """Both stages on tiny pipelines: SD 1.5 at its native size (from its config), the video
    families at 32 pixels (their native sizes are the pipelines' defaults, 704x512 and up)."""
    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["stages"]
    return {**base,
            "keyframes": {"backend": "diffusers", "model": str(models[image]), "steps": 2,
                          "resolution": None if image == "sd15" else 32, "idle_s": 120,
                          **extra},
            "video": {"backend": "diffusers", "model": str(models[video]), "steps": 1,
                      "resolution": None if video == "svd" else 32, "num_frames": 4,
                      "guidance_scale": 1.0, "idle_s": 120, **extra}}


def shots(work: Workdir) -> list[str]:
    return [s["id"] for s in read_json(work.results() / "shotlist.json", "shotlist")["shots"]]


@pytest.fixture(scope="module")
def film(shared_tmp, tiny_models):
    work = Workdir(shared_tmp / "diffusers", [TINY_STORY], {"stages": stages(tiny_models)})
    work.jobs_run = work.run(*GPU).jobs()
    yield work
    worker.stop_all(work.path)


def test_story_is_made_with_one_load_per_stage(film):
    results = film.results()
    ids = shots(film)
    assert len(ids) >= 2
    assert sorted(j for j in film.jobs_run if j.startswith(("keyframes", "video"))) == sorted(
        [f"keyframes[{s}]" for s in ids] + [f"video[{s}]" for s in ids])
    assert diffusion.count_loads(film.path, "keyframes") == 1
    assert diffusion.count_loads(film.path, "video") == 1
    manifest = read_json(results / "manifest.json", "manifest")
    assert manifest["stages"]["keyframes"]["backend"] == "diffusers"
    assert manifest["stages"]["video"]["model"].endswith("tiny-svd")
    assert manifest["degradations"] == []
    timings = manifest["timings"]["keyframes"]
    assert timings["peak_rss_mb"] > 100  # the model worker's memory is counted
    fps = manifest["output"]["fps"]
    total = ffmpeg.count_frames(results / "final.mp4")
    plan = read_json(results / "shotlist.json", "shotlist")
    assert total == round(plan["shots"][-1]["end"] * fps)  # cuts and length stay exact
    log = (film.path / "logs" / "keyframes" / "tiny" / f"{ids[0]}.log").read_text()
    assert "peak RSS" in log and "model worker" in log


def test_dry_run_declares_the_gpu(film):
    out = film.run("-n", "--forcerun", "keyframes", "video", *GPU).output
    blocks = out.split("\n\n")
    model_jobs = [b for b in blocks if "rule keyframes:" in b or "rule video:" in b]
    assert model_jobs and all("gpu=1" in b for b in model_jobs)
    assert all("gpu=0" in b for b in blocks if "rule post:" in b)


def test_editing_one_shot_reruns_it_on_the_warm_models(film):
    target = shots(film)[-1]
    config = yaml.safe_load((film.path / "config" / "config.yaml").read_text())
    config["shots"] = {"tiny": {target: {"prompt": "A red kite over a green meadow at noon"}}}
    film.write_config(config)
    jobs = film.run(*GPU).jobs()
    assert sorted(jobs) == sorted(["shotlist", "vision", f"keyframes[{target}]",
                                   f"video[{target}]", "post", "contactsheet", "stagetable"])
    assert diffusion.count_loads(film.path, "keyframes") == 1  # still warm: no new load
    assert diffusion.count_loads(film.path, "video") == 1


FOX = {"id": "fox", "title": "Tilly", "duration_s": 10, "seed": 3, "idea": (
    "Every night a small fox named Tilly climbed the hill to see the moon.\n\n"
    "At dawn, Tilly carried the moon home in an acorn cup.")}


def test_portraits_condition_their_shots_through_the_ip_adapter(tmp_path, tiny_models):
    """Portraits on: each character's portrait is drawn on the keyframes model (no load of its
    own), then every shot that shows it is conditioned on it through the IP-Adapter."""
    from storyreel.models.tiny import IP_ADAPTER_WEIGHTS

    adapter = {"model": str(tiny_models["ip_adapter"]), "subfolder": "models",
               "weight_name": IP_ADAPTER_WEIGHTS, "image": None, "scale": 0.8}
    config = {**stages(tiny_models), "portraits": {"enabled": True}}
    config["keyframes"] = {**config["keyframes"], "ip_adapter": adapter}
    config["video"] = {"backend": "kenburns"}
    work = Workdir(tmp_path / "fox", [FOX], {"stages": config})
    try:
        jobs = work.run(*GPU).jobs()
        assert "portraits[tilly]" in jobs
        first_shot = min(jobs.index(j) for j in jobs if j.startswith("keyframes["))
        assert jobs.index("portraits[tilly]") < first_shot
        assert (work.results("fox") / "characters" / "tilly.png").is_file()
        assert diffusion.count_loads(work.path, "keyframes") == 1  # portraits share the model
        log = (work.path / "logs" / "keyframes" / "fox").glob("*.log")
        inputs = (work.path / "logs" / "portraits" / "fox" / "tilly.log").read_text()
        assert "portrait of Tilly drawn" in inputs and list(log)
    finally:
        worker.stop_all(work.path)


def test_injected_oom_degrades_one_shot_and_the_film_completes(film, tmp_path, monkeypatch):
    work = Workdir(tmp_path / "oom", [TINY_STORY])
    copy_tree(film.path / "results", work.path / "results")
    copy_tree(film.path / ".snakemake", work.path / ".snakemake")
    config = yaml.safe_load((film.path / "config" / "config.yaml").read_text())
    first = shots(film)[0]
    config["shots"] = {"tiny": {first: {"seed": 4242}}}
    work.write_config(config)
    # the keyframe runs out of memory whatever the savers; the clip once (a saver fixes it)
    monkeypatch.setenv(diffusion.INJECT_ENV, f"keyframes:{first},video:{first}:1")
    try:
        jobs = work.run(*GPU).jobs()
    finally:
        worker.stop_all(work.path)
    assert f"keyframes[{first}]" in jobs and "post" in jobs
    manifest = read_json(work.results() / "manifest.json", "manifest")
    found = {(d["stage"], d["shot"], d["backend"]) for d in manifest["degradations"]}
    assert found == {("keyframes", first, "animatic"), ("video", first, "diffusers")}
    reasons = {d["stage"]: d["reason"] for d in manifest["degradations"]}
    assert "out of GPU memory" in reasons["keyframes"]
    assert "attention_slicing" in reasons["video"]
    assert (work.results() / "final.mp4").exists()


def test_resume_after_kill_during_a_shot(film, tmp_path):
    """kill -9 while the second keyframe is being rendered; the resumed run redoes only the
    missing shots, on the worker that outlived the kill (no second load)."""
    work = Workdir(tmp_path / "killed", [TINY_STORY])
    config = yaml.safe_load((film.path / "config" / "config.yaml").read_text())
    config.pop("shots", None)
    work.write_config(config)
    copy_tree(film.path / "results", work.path / "results")
    copy_tree(film.path / ".snakemake", work.path / ".snakemake")
    for path in [*(work.results() / "keyframes").glob("*"), *(work.results() / "video").glob("*"),
                 *work.results().glob("final.*"), work.results() / "poster.jpg",
                 work.results() / "manifest.json"]:
        path.unlink()  # everything from the first keyframe on is to be made again
    try:
        proc = work.start("--cores", "1", *GPU)  # one job at a time, keyframes first (priority)
        logs = work.path / "logs" / "keyframes" / "tiny"
        deadline = time.monotonic() + 600
        while len(list(logs.glob("*.attempt1.log"))) < 2:  # the second keyframe started
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        done = {p: p.stat().st_mtime_ns for p in (work.results() / "keyframes").glob("*.png")}
        assert len(done) == 1
        cut = next(p.name.split(".")[0] for p in logs.glob("*.attempt1.log")
                   if p.name.split(".")[0] not in {d.stem for d in done})
        args = ["-s", str(REPO / "Snakefile"), "-d", str(work.path),
                "--workflow-profile", str(REPO / "profiles" / "test"), *GPU]
        resumed = subprocess.run([str(BIN / "storyreel"), "resume", *args], capture_output=True,
                                 text=True, env=work.env(), timeout=600)
        assert resumed.returncode == 0, resumed.stderr[-4000:]
        rerun = Result(resumed.returncode, resumed.stdout + resumed.stderr).jobs()
    finally:
        worker.stop_all(work.path)
    for path, mtime in done.items():
        assert path.stat().st_mtime_ns == mtime, f"{path.name} was redone"
    assert f"keyframes[{cut}]" in rerun and "post" in rerun
    assert not {f"keyframes[{p.stem}]" for p in done} & set(rerun)
    assert (work.results() / "final.mp4").exists()
    assert diffusion.count_loads(work.path, "keyframes") == 1  # the warm worker outlived -9


# Every other family the docs name makes a film: one text-to-image and one image-to-video
# family per film, several shots per pipeline call.
PAIRS = [("sdxl", "ltx"), ("sd3", "cogvideox"), ("flux", "wan")]


@pytest.mark.parametrize(("image", "video"), PAIRS)
def test_every_family_makes_a_film(shared_tmp, tiny_models, image, video):
    work = Workdir(shared_tmp / f"{image}-{video}", [TINY_STORY],
                   {"stages": stages(tiny_models, image, video, batch=4)})
    try:
        work.run(*GPU)
    finally:
        worker.stop_all(work.path)
    results = work.results()
    manifest = read_json(results / "manifest.json", "manifest")
    assert manifest["stages"]["keyframes"]["model"].endswith(f"tiny-{image}")
    assert manifest["stages"]["video"]["model"].endswith(f"tiny-{video}")
    assert manifest["degradations"] == []
    plan = read_json(results / "shotlist.json", "shotlist")
    assert ffmpeg.count_frames(results / "final.mp4") == round(
        plan["shots"][-1]["end"] * manifest["output"]["fps"])
    assert diffusion.count_loads(work.path, "keyframes") == 1
    assert diffusion.count_loads(work.path, "video") == 1
    logs = {p.name.split("-")[0]: p.read_text() for p in (work.path / "logs" / "workers").glob(
        "*.log")}
    assert "made earlier in a batch" in logs["keyframes"]  # two shots, one pipeline call
    if video != "wan":  # Wan's pipeline takes one keyframe per call
        assert "made earlier in a batch" in logs["video"]
