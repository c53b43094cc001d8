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
from storyreel.models import diffusion, families, peaks, worker

pytest.importorskip("diffusers", reason="needs the diffusers extra: pip install '.[diffusers]'")
pytest.importorskip("torch", reason="needs the diffusers extra: pip install '.[diffusers]'")

from storyreel.backends.keyframes.diffusers import DiffusersKeyframes  # noqa: E402
from storyreel.backends.video.diffusers import DiffusersVideo, fit_plan  # noqa: E402
from storyreel.stages import keyframes as keyframes_stage  # noqa: E402

pytestmark = pytest.mark.diffusers

REPO = Path(__file__).resolve().parents[1]


def keyframe_options(models: dict[str, Path], **extra) -> dict:
    return options_for("keyframes", **{"backend": "diffusers", "model": str(models["sd"]),
                                       "steps": 2, "resolution": 32, "guidance_scale": 5.0,
                                       "idle_s": 30, **extra})


def video_options(models: dict[str, Path], **extra) -> dict:
    return options_for("video", **{"backend": "diffusers", "model": str(models["svd"]),
                                   "steps": 1, "resolution": 32, "num_frames": 4,
                                   "guidance_scale": 1.0, "idle_s": 30, **extra})


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


def test_family_and_prompt(tiny_models):
    assert diffusion.family(str(tiny_models["sd"]), {"StableDiffusionPipeline": 1},
                            "t2i")[0] == "StableDiffusionPipeline"
    with pytest.raises(diffusion.StoryreelError, match="not a supported"):
        diffusion.family(str(tiny_models["svd"]), {"StableDiffusionPipeline": 1}, "t2i")
    prompt = diffusion.shot_prompt(
        {**plan(), "prompt": "storybook; Mara, a girl in a red coat; at night"})
    assert prompt.startswith("Mara, a girl in a red coat; ")  # the sheet first, verbatim, once
    assert prompt.count("Mara, a girl in a red coat") == 1


def test_the_prompt_fits_the_text_encoder_most_important_first(tiny_models, in_workdir):
    """SD 1.5's CLIP reads 77 tokens (the tiny tokenizer: one a byte): a long plan keeps who,
    doing what and where, leaves what does not fit of the look out, and says so in the
    keyframe's PNG."""
    from PIL import Image

    backend = DiffusersKeyframes(keyframe_options(tiny_models))
    tokenizer, limit = diffusion.prompt_budget(backend.pipe)
    assert limit == 77
    long = {**plan(), "shot_prompt": "Mara lights the lamp",
            "place": {"descriptors": "the tower at night"},
            "prompt": "storybook animatic frame with soft watercolour washes and ink lines; "
                      "warm lamplight glowing against a deep blue dusk; quiet hopeful mood; "
                      "the tower at night; Mara, a girl in a red coat; Mara lights the lamp"}
    prompt, left = diffusion.fit_prompt(diffusion.prompt_parts(long), tokenizer, limit)
    assert prompt == ("Mara, a girl in a red coat; Mara lights the lamp; the tower at night; "
                      "quiet hopeful mood")  # a shorter part after one left out still fits
    assert left == ["storybook animatic frame with soft watercolour washes and ink lines",
                    "warm lamplight glowing against a deep blue dusk"]
    assert len(tokenizer(prompt)["input_ids"]) <= 77
    backend.save_shot(long, in_workdir / "k.png")
    with Image.open(in_workdir / "k.png") as img:
        assert img.text["prompt"] == prompt
        assert img.text["left_out"].startswith('["storybook animatic frame')
    alone, cut = diffusion.fit_prompt(["word " * 40], tokenizer, limit)  # one part, too long
    assert len(tokenizer(alone)["input_ids"]) <= 77 and alone.startswith("word word")
    assert cut and " ".join([alone, *cut]).split() == ["word"] * 40


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


def test_a_shot_is_conditioned_on_the_portrait_of_the_character_it_shows(tiny_models,
                                                                         in_workdir):
    """ip_adapter.image null: each shot's IP-Adapter picture is its first character's portrait
    (``references``); a shot with none is drawn at scale 0 and matches the plain pipeline's."""
    import numpy as np
    from PIL import Image

    from storyreel.models.tiny import IP_ADAPTER_WEIGHTS

    plain = DiffusersKeyframes(keyframe_options(tiny_models))
    plain.save(plan(), in_workdir / "plain.png")
    adapter = {"model": str(tiny_models["ip_adapter"]), "subfolder": "models",
               "weight_name": IP_ADAPTER_WEIGHTS, "image": None, "scale": 1.0}
    backend = DiffusersKeyframes(keyframe_options(tiny_models, ip_adapter=adapter))
    assert backend.reference is None
    for colour in ("red", "blue"):
        Image.new("RGB", (64, 64), colour).save(in_workdir / f"{colour}.png")
        backend.save({**plan(), "references": [str(in_workdir / f"{colour}.png")]},
                     in_workdir / f"{colour}-shot.png")
    backend.save({**plan(), "references": []}, in_workdir / "alone.png")
    shots = {n: (in_workdir / f"{n}.png").read_bytes() for n in ("red-shot", "blue-shot",
                                                                   "alone")}
    assert len(set(shots.values())) == 3  # its own portrait conditions each shot
    with Image.open(in_workdir / "alone.png") as a, Image.open(in_workdir / "plain.png") as b:
        diff = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    assert diff.mean() < 2.0  # no portrait: the adapter adds nothing


def test_a_portrait_is_drawn_on_the_warm_keyframes_model(tiny_models, in_workdir):
    from storyreel.stages.portraits import portrait_plan

    sheet = {"story": "tiny", "id": "mara", "style": "storybook", "style_seed": 9,
             "character": {"name": "Mara", "id": "mara", "kind": "person",
                           "descriptors": "Mara, a girl in a red coat", "colour": "#aa2222",
                           "accent": "#ffcc00", "silhouette": "person:1"},
             "palette": {}, "lighting": {"description": "soft daylight"},
             "negative_prompt": "blurry"}
    portrait = portrait_plan(sheet, "1:1")
    backend = DiffusersKeyframes(keyframe_options(tiny_models))
    assert backend.save(portrait, in_workdir / "mara.png") == backend.size("1:1")
    from storyreel.stages.portraits import POSE

    assert diffusion.prompt_parts(portrait)[:2] == ["Mara, a girl in a red coat", POSE]
    assert backend.prompt(portrait).startswith("Mara, a girl in a red coat")


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


def test_best_of_n_candidates_go_through_the_pipeline_together(tiny_models, in_workdir):
    from storyreel.job.context import JobContext
    from storyreel.stages import candidates

    backend = DiffusersKeyframes(keyframe_options(tiny_models, batch=4))
    job = JobContext.alone("keyframes", "tiny", "sh001", results=in_workdir / "results")
    seen = []

    def embed(method, items):  # a scorer that likes the third candidate
        if method == "embed_texts":
            return [[1.0, 0.0]]
        seen.extend(items)
        return [[1.0, 0.0] if i == 2 else [0.0, 1.0] for i in range(len(items))]

    record = candidates.choose(plan(7), in_workdir / "k.png", {"candidates": 4, "gate_rounds": 0},
                               {"min_clip_score": None},
                               lambda p, path, peers: backend.save_shot(p, path, peers=peers),
                               embed, job)
    assert backend.batcher.calls == 1 and not backend.batcher.kept  # 4 candidates, one call
    assert len(record["candidates"]) == 4 and len(seen) == 4
    assert record["kept"] == candidates.seeds(plan(7), 0, 4)[2]


@pytest.mark.parametrize("name", ["sd15", "sdxl", "sd3", "flux"])
def test_each_text_to_image_family_renders_seeded_keyframes(tiny_models, in_workdir, name):
    backend = DiffusersKeyframes(keyframe_options(tiny_models, model=str(tiny_models[name]),
                                                  resolution=None, batch=2))
    w, h = backend.traits.native
    assert w * h <= 256 * 256  # native size read from the tiny model's own config
    gen = families.generation_size("16:9", backend.traits)
    assert gen[0] > gen[1] and gen[0] % backend.traits.multiple == 0
    shots = [plan(7, "sh001"), plan(7, "sh002"), plan(8, "sh003")]
    peers = [{"plan": p} for p in shots[1:]]
    info = backend.save_shot(shots[0], in_workdir / "a.png", peers=peers)
    assert backend.batcher.calls == 1 and len(backend.batcher.kept) == 1  # sh002 kept
    backend.save_shot(shots[1], in_workdir / "b.png", peers=peers[1:])  # from the batch
    backend.save_shot(shots[2], in_workdir / "c.png")
    assert backend.batcher.calls == 2 and not backend.batcher.kept
    data = [(in_workdir / f"{n}.png").read_bytes() for n in "abc"]
    assert data[0] != data[2]  # another seed, another picture
    assert info["size"] == list(backend.size("16:9"))


@pytest.mark.parametrize("name", ["svd", "ltx", "cogvideox", "wan"])
def test_each_image_to_video_family_fits_its_frames(tiny_models, in_workdir, name):
    from PIL import Image

    video = DiffusersVideo(video_options(tiny_models, model=str(tiny_models[name]),
                                         num_frames=6, batch=2))
    step = video.traits.frame_step
    assert video.num_frames == families.frame_count(6, step) and (video.num_frames - 1) % step == 0
    Image.new("RGB", (96, 64), "red").save(in_workdir / "k.png")
    output = load_config({})["output"]
    shot = plan(start=0.0, end=0.4)
    info = video.render_shot(in_workdir / "k.png", shot, in_workdir / "c.mp4", output, 0.0,
                             peers=[{"png": str(in_workdir / "k.png"),
                                     "plan": plan(9, "sh002", 0.4, 0.8)}])
    assert info["frames"] == ffmpeg.shot_frames(0.0, 0.4, 25) == ffmpeg.count_frames(
        in_workdir / "c.mp4")
    assert len(video.batcher.kept) == (1 if video.family.batch else 0)


@pytest.mark.parametrize("name", ["ltx", "cogvideox", "wan"])
def test_a_clip_prompt_fits_its_text_encoder_camera_move_kept(tiny_models, name):
    video = DiffusersVideo(video_options(tiny_models, model=str(tiny_models[name])))
    tokenizer, limit = video.budget
    long = {**plan(), "shot_prompt": "Mara lights the lamp", "prompt": "; ".join(
        ["storybook", "Mara, a girl in a red coat", "Mara lights the lamp"]
        + [f"detail {k} of the stormy night sea and the old stone tower" for k in range(80)])}
    prompt = video.prompt(long)
    assert len(tokenizer(prompt)["input_ids"]) <= limit
    assert prompt.startswith("Mara, a girl in a red coat; Mara lights the lamp; slow push in")
    assert "detail 79" not in prompt  # what does not fit is left out


def test_a_batch_out_of_memory_splits_then_degrades_shot_by_shot(tiny_models, in_workdir):
    backend = DiffusersKeyframes(keyframe_options(tiny_models, batch=4))
    shots = [plan(i, f"sh00{i}") for i in range(1, 5)]
    peers = [{"plan": p, "inject_oom": 99 if p["id"] == "sh003" else 0} for p in shots[1:]]
    backend.save_shot(shots[0], in_workdir / "1.png", peers=peers)
    # 4 ran out of memory -> [1, 2] in one call; [3, 4] too -> 3 alone with every saver (no
    # good: not kept, its own job degrades), 4 alone
    assert backend.batcher.limit == 1 and backend.batcher.calls == 2  # [1, 2] and [4]
    assert set(backend.batcher.kept) == {batching_key(shots[1]), batching_key(shots[3])}
    with pytest.raises(diffusion.ModelOutOfMemory):
        backend.save_shot(shots[2], in_workdir / "3.png", inject_oom=99)


def batching_key(shot: dict) -> str:
    from storyreel.models.batching import shot_key

    return shot_key(shot)


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
