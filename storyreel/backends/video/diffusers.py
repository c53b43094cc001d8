"""Clips from a diffusers image-to-video pipeline (Stable Video Diffusion, LTX-Video, CogVideoX,
Wan), animated from the shot's keyframe.

The pipeline class is chosen by the model's ``model_index.json``; what the family needs (native
size, multiples, frame counts such as 8k+1 or 4k+1, text length, guidance) is read from the
loaded pipeline in ``storyreel.models.families``. The model generates at its native pixel budget
at the preset's aspect (``resolution`` overrides the longest side), its native frame rate and
length (``native_fps`` and ``num_frames``, or the family's defaults, fitted to the family's
frame rule); the frames are then fitted to the shot's exact frame count at the film's fps
(:func:`fit_plan`):

- when the generated motion lasts at least as long as the shot, it plays in real time and the
  end is trimmed;
- when it is shorter, it is slowed down to span the shot, the in-between frames interpolated by
  blending the two nearest generated frames.

Either way the clip has exactly ``shot_frames(start, end, fps)`` frames plus the crossfade
overlap (the same arithmetic as Ken Burns), so post's cut points, crossfades and subtitles stay
exact. Frames are scaled to the film's size and go through the one clip encoder
(``storyreel.media.clip.encode_clip``: the film's x264 settings, forced key frames
at the cut points, burned subtitles).

Several clips go through the pipeline in one call where the job names pending peers and the
family takes a batch of keyframes (``storyreel.models.batching``); on an out-of-memory error a
batch splits, then the shot is retried with memory savers (``storyreel.models.diffusion``).
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storyreel.media.clip import encode_clip, overlap_frames, yuv420_frame, yuv_planes
from storyreel.media.ffmpeg import frame_size, shot_frames
from storyreel.models import batching, diffusion, families

log = logging.getLogger(__name__)

FAMILIES = families.IMAGE_TO_VIDEO
CAMERA_WORDS = {"push_in": "slow push in", "pull_out": "slow pull out", "pan_left": "pan left",
                "pan_right": "pan right", "tilt_up": "tilt up", "tilt_down": "tilt down",
                "hold": "static camera, subtle motion"}


def fit_plan(generated: int, native_fps: float, wanted: int, fps: int) -> list[tuple[int, int,
                                                                                      float]]:
    """For each of ``wanted`` output frames: (frame a, frame b, weight of b) to blend.

    Real time and trimmed when the generated motion lasts long enough, else slowed down evenly
    over the shot (blending neighbours); the first output frame is always the first generated.
    """
    if generated < 1 or wanted < 1:
        raise ValueError("fit_plan needs at least one generated and one wanted frame")
    if generated / native_fps >= wanted / fps:
        step = native_fps / fps
    else:
        step = (generated - 1) / (wanted - 1) if wanted > 1 else 0.0
    plan = []
    for k in range(wanted):
        pos = min(k * step, generated - 1)
        a = math.floor(pos + 1e-9)
        b = min(a + 1, generated - 1)
        weight = round(pos - a, 6)
        plan.append((a, b, 0.0 if b == a else weight))
    return plan


def fit_frames(frames: list[Any], native_fps: float, wanted: int, fps: int,
               size: tuple[int, int]) -> Iterator[bytes]:
    """The generated frames (PIL images) fitted to ``wanted`` yuv420p frames of ``size`` at
    ``fps``. Each generated frame is scaled and converted once; in-between frames are blended
    from the two converted neighbours."""
    import numpy as np

    converted: dict[int, Any] = {}

    def planes(i: int) -> Any:
        if i not in converted:
            picture = centre_crop(frames[i], size)  # a fixed-size model's frames: cropped
            converted[i] = np.frombuffer(yuv420_frame(yuv_planes(picture), (0, 0, *size), size),
                                         np.uint8)
        return converted[i]

    for a, b, weight in fit_plan(len(frames), native_fps, wanted, fps):
        if weight == 0.0:
            yield planes(a).tobytes()
        else:
            mixed = planes(a).astype(np.float32) * (1 - weight) + planes(b) * weight
            yield np.rint(mixed).astype(np.uint8).tobytes()


def centre_crop(image: Any, size: tuple[int, int]) -> Any:
    """The keyframe cropped to the frame's aspect around its centre, resized to ``size`` (the
    keyframe carries camera headroom the video model does not need)."""
    from PIL import Image

    w, h = size
    k = min(image.width / w, image.height / h)
    cw, ch = w * k, h * k
    x0, y0 = (image.width - cw) / 2, (image.height - ch) / 2
    return image.resize(size, Image.LANCZOS, box=(x0, y0, x0 + cw, y0 + ch))


class DiffusersVideo(batching.Batched):
    """An image-to-video pipeline, loaded once, rendering one clip per asked shot (several per
    pipeline call when peers are pending and the family takes them)."""

    name = "diffusers"
    stage = "video"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        loaded = diffusion.load_pipeline(self.stage, options, FAMILIES, "image-to-video")
        self.pipe, self.family, self.device = loaded.pipe, loaded.family, loaded.device
        self.traits = loaded.traits
        self.accepts = set(inspect.signature(self.pipe.__call__).parameters)
        self.budget = diffusion.prompt_budget(self.pipe) if self.family.prompt else None
        self.native_fps = float(options["native_fps"] or self.family.fps)
        self.num_frames = families.frame_count(
            int(options["num_frames"] or self.traits.frames), self.traits.frame_step)
        self.batcher = batching.Batcher(self.pipe, self.device, diffusion.batch_limit(
            options, self.family), diffusion.memory_budget_mb(options, self.device))
        log.info("%s makes %d frames at %g fps", options["model"], self.num_frames,
                 self.native_fps)

    def generate(self, shots: list[tuple[Any, dict[str, Any]]],
                 scale: float = 1.0) -> list[list[Any]]:
        """Each shot's frames (PIL images) from its keyframe, at the model's native rate and
        length, in one call; ``shots`` are (keyframe, plan) pairs of one aspect."""
        w, h = families.generation_size(shots[0][1]["aspect"], self.traits,
                                        self.options["resolution"], scale)
        kwargs: dict[str, Any] = {
            "image": [centre_crop(key, (w, h)) for key, _ in shots], "width": w, "height": h,
            "num_frames": self.num_frames, "num_inference_steps": int(self.options["steps"]),
            "generator": [diffusion.generator(plan["seed"]) for _, plan in shots],
            **families.call_settings(self.pipe, self.traits, self.options)}
        if len(shots) == 1:
            kwargs["image"] = kwargs["image"][0]  # Wan's pipeline takes a single picture only
        if self.family.name == "svd":
            kwargs.update(fps=max(1, round(self.native_fps)),  # the pipeline conditions on fps-1
                          motion_bucket_id=int(self.options["motion_bucket_id"]),
                          noise_aug_strength=float(self.options["noise_aug_strength"]),
                          decode_chunk_size=int(self.options["decode_chunk_size"]))
        if self.family.prompt:
            kwargs["prompt"] = [self.prompt(plan) for _, plan in shots]
            negatives = [diffusion.fit_within(self.budget, str(
                self.options["negative_prompt"] or plan.get("negative_prompt", "")).split(", "),
                ", ")[0] for _, plan in shots]
            if any(negatives) and "negative_prompt" in self.accepts:
                kwargs["negative_prompt"] = negatives
        if "frame_rate" in self.accepts:
            kwargs["frame_rate"] = round(self.native_fps)
        if "output_type" in self.accepts:
            kwargs["output_type"] = "pil"
        return [[f.convert("RGB") for f in video] for video in self.pipe(**kwargs).frames]

    def prompt(self, plan: dict[str, Any]) -> str:
        """A shot's prompt within the budget of the pipeline's text encoder (the T5's sequence
        length for LTX, CogVideoX and Wan), most important first, its camera move right after
        what the shot shows; what was left out is logged."""
        parts = diffusion.prompt_parts(plan)
        at = parts.index(plan["shot_prompt"]) + 1 if plan.get("shot_prompt") in parts else 0
        parts.insert(at, CAMERA_WORDS[plan["camera"]])
        prompt, left = diffusion.fit_within(self.budget, parts)
        if left:
            log.info("clip %s: over the text encoder's token budget, left out: %s", plan["id"],
                     " | ".join(left))
        return prompt

    def render(self, png: str | Path, plan: dict[str, Any], out: str | Path,
               output: dict[str, Any], crossfade_s: float, threads: int = 1,
               subtitles: str | Path | None = None) -> int:
        """Write the shot's clip to ``out`` (atomically); returns its frame count."""
        return int(self.render_shot(png, plan, out, output, crossfade_s, threads,
                                    subtitles)["frames"])

    def render_shot(self, png: str | Path, plan: dict[str, Any], out: str | Path,
                    output: dict[str, Any], crossfade_s: float, threads: int = 1,
                    subtitles: str | Path | None = None, inject_oom: int = 0,
                    peers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Write the shot's clip to ``out`` (atomically); returns its frame count and what it
        took (memory savers, the out-of-memory message). ``inject_oom`` (tests) raises that many
        CUDA out-of-memory errors first. ``peers``: other pending shots of the story whose
        keyframes exist (``{"png", "plan", "inject_oom"}``), generated in the same call and kept
        until their own jobs ask."""
        fps = int(output["fps"])
        size = frame_size(plan["aspect"])
        wanted = shot_frames(plan["start"], plan["end"], fps) + overlap_frames(plan, crossfade_s,
                                                                                fps)
        same = [_shot(q["png"], q["plan"], int(q.get("inject_oom", 0))) for q in peers or []
                if q["plan"]["aspect"] == plan["aspect"] and Path(q["png"]).exists()]
        generated, savers, oom = self.batcher.render(
            _shot(png, plan, inject_oom), same,
            lambda shots, scale: self.generate([_keyframe(s) for s in shots], scale))
        encode_clip(fit_frames(generated, self.native_fps, wanted, fps, size), plan, out, output,
                    crossfade_s, threads, subtitles)
        log.info("clip %s: %d frames from %d generated at %g fps", plan["id"], wanted,
                 len(generated), self.native_fps)
        return {"frames": wanted, "savers": savers, "oom": oom}


def _shot(png: str | Path, plan: dict[str, Any], inject: int) -> batching.Shot:
    """A clip to generate, keyed by its plan and its keyframe's bytes."""
    import hashlib

    digest = hashlib.sha256(Path(png).read_bytes()).hexdigest()
    return batching.Shot(plan["id"], (str(png), plan), batching.shot_key(plan, digest), inject)


def _keyframe(shot: batching.Shot) -> tuple[Any, dict[str, Any]]:
    from PIL import Image

    png, plan = shot.args
    with Image.open(png) as img:
        return img.convert("RGB"), plan
