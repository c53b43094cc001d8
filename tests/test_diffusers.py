"""The diffusers backends on tiny random pipelines (built offline, no download): model family,
sizes, seeding, the character sheet, frame fitting, memory savers and fallback on an injected
out-of-memory error, the warm worker (one load for many shots) and the memory peaks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storyreel.core.config import load_config, options_for
from storyreel.media import ffmpeg
from storyreel.models import diffusion, peaks, worker

pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install '.[diffusers]'")
pytest.importorskip("torch", reason="needs the diffusers extra: pip install '.[diffusers]'")

from storyreel.backends.keyframes.diffusers import DiffusersKeyframes  # noqa: E402
from storyreel.backends.video.diffusers import DiffusersVideo, fit_plan  # noqa: E402
from storyreel.stages import keyframes as keyframes_stage  # noqa: E402

pytestmark = pytest.mark.diffusers

REPO = Path(__file__).resolve().parents[1]


def keyframe_options(models: dict[str, Path], **extra) -> dict:
    return options_for("keyframes", backend="diffusers", model=str(models["sd"]), steps=2,
                       resolution=32, guidance_scale=5.0, idle_s=30, **extra)


def video_options(models: dict[str, Path], **extra) -> dict:
    return options_for("video", backend="diffusers", model=str(models["svd"]), steps=1,
                       resolution=32, num_frames=4, guidance_scale=1.0, idle_s=30, **extra)


def plan(seed: int = 7, shot: str = "sh001", start: float = 0.0, end: float = 1.0) -> dict:
    return {"id": shot, "story": "tiny", "seed": seed, "aspect": "16:9", "camera": "push_in",
            "transition": "crossfade", "start": start, "end": end,
            "prompt": "storybook; Mara, a girl in a red coat; the tower at night; Mara lights "
                      "the lamp", "negative_prompt": "blurry",
            "cast": [{"descriptors": "Mara, a girl in a red coat"}]}


@pytest.fixture
def in_workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    worker.stop_all(tmp_path)


def test_family_size_and_prompt(tiny_models):
    assert diffusion.family(str(tiny_models["sd"]), {"StableDiffusionPipeline": 1},
                            "t2i")[0] == "StableDiffusionPipeline"
    with pytest.raises(diffusion.StoryreelError, match="not a supported"):
        diffusion.family(str(tiny_models["svd"]), {"StableDiffusionPipeline": 1}, "t2i")
    assert diffusion.generation_size("16:9", 1024, 8) == (1024, 576)
    assert diffusion.generation_size("9:16", 1024, 16) == (576, 1024)
    assert diffusion.generation_size("1:1", 30, 16) == (32, 32)
    prompt = diffusion.shot_prompt(
        {**plan(), "prompt": "storybook; Mara, a girl in a red coat; at night"})
    assert prompt.startswith("Mara, a girl in a red coat; ")  # the sheet first, verbatim, once
    assert prompt.count("Mara, a girl in a red coat") == 1


def test_keyframe_is_seeded_and_has_the_headroom_size(tiny_models, in_workdir):
    backend = DiffusersKeyframes(keyframe_options(tiny_models))
    sizes = [backend.save(plan(seed), in_workdir / f"{i}.png")
             for i, seed in enumerate((7, 7, 8))]
    w, h = ffmpeg.frame_size("16:9")
    assert sizes[0] == (ffmpeg.even(w * 1.2), ffmpeg.even(h * 1.2))
    data = [(in_workdir / f"{i}.png").read_bytes() for i in range(3)]
    assert data[0] == data[1] and data[0] != data[2]  # same seed, same picture
    assert diffusion.count_loads(in_workdir, "keyframes") == 1


def test_ip_adapter_reference_image_conditions_the_keyframe(tiny_models, in_workdir):
    from PIL import Image

    from storyreel.models.tiny import IP_ADAPTER_WEIGHTS

    DiffusersKeyframes(keyframe_options(tiny_models)).save(plan(), in_workdir / "plain.png")
    for colour in ("red", "blue"):
        Image.new("RGB", (64, 64), colour).save(in_workdir / f"{colour}.png")
        adapter = {"model": str(tiny_models["ip_adapter"]), "subfolder": "models",
                   "weight_name": IP_ADAPTER_WEIGHTS, "image": str(in_workdir / f"{colour}.png"),
                   "scale": 1.0}
        backend = DiffusersKeyframes(keyframe_options(tiny_models, ip_adapter=adapter))
        assert backend.reference is not None
        backend.save(plan(), in_workdir / f"{colour}-ref.png")
    pictures = {(in_workdir / f"{n}.png").read_bytes() for n in ("plain", "red-ref", "blue-ref")}
    assert len(pictures) == 3  # the adapter changes the picture, and so does its reference


def test_fit_plan_trims_or_slows_down_to_the_exact_count():
    trimmed = fit_plan(25, 25, 10, 25)  # long enough: real time, end trimmed
    assert [a for a, _, _ in trimmed] == list(range(10))
    slowed = fit_plan(4, 7, 25, 25)  # 0.57 s of motion over a 1 s shot: slowed, blended
    assert len(slowed) == 25 and slowed[0] == (0, 1, 0.0) and slowed[-1][0] == 3
    assert all(0 <= w < 1 for _, _, w in slowed)
    assert len(fit_plan(1, 7, 3, 25)) == 3


def test_clip_has_the_shots_exact_frames(tiny_models, in_workdir):
    backend = DiffusersKeyframes(keyframe_options(tiny_models))
    backend.save(plan(), in_workdir / "k.png")
    video = DiffusersVideo(video_options(tiny_models))
    shot = plan(start=0.3, end=1.1)
    output = load_config({})["output"]
    info = video.render_shot(in_workdir / "k.png", shot, in_workdir / "c.mp4", output, 0.2)
    expected = ffmpeg.shot_frames(0.3, 1.1, 25) + round(0.2 * 25)  # body plus crossfade overlap
    assert info["frames"] == expected == ffmpeg.count_frames(in_workdir / "c.mp4")
    assert diffusion.count_loads(in_workdir, "video") == 1


def test_memory_savers_then_fallback_on_injected_oom(tiny_models, in_workdir, monkeypatch):
    backend = DiffusersKeyframes(keyframe_options(tiny_models))
    info = backend.save_shot(plan(), in_workdir / "a.png", inject_oom=2)
    assert info["savers"] == ["attention_slicing", "vae_tiling"]
    assert "out of memory" in info["oom"]
    with pytest.raises(diffusion.ModelOutOfMemory):
        backend.save_shot(plan(), in_workdir / "b.png", inject_oom=99)
    # through the stage: every saver fails, the shot falls back to the animatic and is flagged
    from test_keyframes import plans_for

    from storyreel.job import fallback
    from storyreel.job.context import JobContext

    shot = plans_for("16:9")[0]
    options = keyframe_options(tiny_models, warm=False)
    job = JobContext.alone("keyframes", "film", shot["id"])
    monkeypatch.setenv(diffusion.INJECT_ENV, f"keyframes:{shot['id']}")
    keyframes_stage.render_keyframe(shot, in_workdir / "c.png", options, job)
    records = fallback.gather(in_workdir / "results" / "film")
    assert [(r["shot"], r["backend"]) for r in records] == [(shot["id"], "animatic")]
    assert "out of GPU memory" in records[0]["reason"]
    monkeypatch.delenv(diffusion.INJECT_ENV)
    keyframes_stage.render_keyframe(shot, in_workdir / "c.png", options, job)  # fine again:
    assert fallback.gather(in_workdir / "results" / "film") == []  # the flag goes


def test_warm_worker_loads_once_for_many_shots(tiny_models, in_workdir):
    options = keyframe_options(tiny_models)
    for i in range(3):
        keyframes_stage.render_keyframe(plan(seed=i, shot=f"sh00{i + 1}"),
                                        in_workdir / f"{i}.png", options)
    assert diffusion.count_loads(in_workdir, "keyframes") == 1
    assert all((in_workdir / f"{i}.png").exists() for i in range(3))
    assert worker.stop_all(in_workdir) == 1


def test_monitor_samples_the_process_tree():
    code = "import time; b = bytearray(200 * 2**20); time.sleep(0.6)"
    with peaks.Monitor() as mon:
        subprocess.run([sys.executable, "-c", code], check=True)
    assert mon.peak_rss_mb > 200
    assert mon.record()["peak_rss_mb"] >= mon.peak_rss_mb - 0.1


@pytest.mark.gpu
def test_keyframe_on_cuda_reports_gpu_memory(tiny_models, in_workdir):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    backend = DiffusersKeyframes(keyframe_options(tiny_models, device="cuda"))
    with peaks.Monitor() as mon:
        backend.save(plan(), in_workdir / "k.png")
    assert backend.device == "cuda"
    assert mon.peak_gpu_mb is not None and mon.peak_gpu_mb > 0
