"""Clips from a diffusers image-to-video pipeline (Stable Video Diffusion, LTX-Video, CogVideoX,
Wan), animated from the shot's keyframe.

The pipeline class is chosen by the model's ``model_index.json``. The model generates at its
native frame rate and length (``native_fps`` and ``num_frames``, or the family's defaults); the
frames are then fitted to the shot's exact frame count at the film's fps (:func:`fit_plan`):

- when the generated motion lasts at least as long as the shot, it plays in real time and the
  end is trimmed;
- when it is shorter, it is slowed down to span the shot, the in-between frames interpolated by
  blending the two nearest generated frames.

Either way the clip has exactly ``shot_frames(start, end, fps)`` frames plus the crossfade
overlap (the same arithmetic as Ken Burns), so post's cut points, crossfades and subtitles stay
exact. Frames are scaled to the film's size and go through the one clip encoder
(``storyreel.media.clip.encode_clip``: the film's x264 settings, forced key frames
at the cut points, burned subtitles).

On an out-of-memory error the shot is retried with memory savers (``storyreel.models.diffusion``).
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.media.clip import encode_clip, overlap_frames, yuv420_frame, yuv_planes
from storyreel.media.ffmpeg import frame_size, shot_frames
from storyreel.models import diffusion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Family:
    """What an image-to-video model family needs and makes by default."""

    name: str
    fps: int  # native frame rate
    frames: int  # native length in frames
    multiple: int  # width and height must be multiples of this
    prompt: bool  # whether it takes a text prompt


FAMILIES = {
    "StableVideoDiffusionPipeline": Family("svd", 7, 25, 8, False),
    "LTXImageToVideoPipeline": Family("ltx", 24, 121, 32, True),
    "LTXConditionPipeline": Family("ltx", 24, 121, 32, True),
    "CogVideoXImageToVideoPipeline": Family("cogvideox", 8, 49, 16, True),
    "WanImageToVideoPipeline": Family("wan", 16, 81, 16, True),
}
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
    from PIL import Image

    converted: dict[int, Any] = {}

    def planes(i: int) -> Any:
        if i not in converted:
            picture = frames[i].resize(size, Image.LANCZOS)
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


class DiffusersVideo:
    """An image-to-video pipeline, loaded once, rendering one clip per call."""

    name = "diffusers"
    stage = "video"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        loaded = diffusion.load_pipeline(self.stage, options, FAMILIES, "image-to-video")
        self.pipe, self.family, self.device = loaded.pipe, loaded.family, loaded.device
        self.accepts = set(inspect.signature(self.pipe.__call__).parameters)
        self.native_fps = float(options["native_fps"] or self.family.fps)
        model_frames = getattr(getattr(self.pipe, "unet", None), "config", {})
        default = getattr(model_frames, "num_frames", None) or self.family.frames
        self.num_frames = int(options["num_frames"] or default)
        self.savers: list[str] = []
        self.on_oom: Any = None  # set by a warm worker: frees the card of other workers' models
        log.info("%s makes %d frames at %g fps", options["model"], self.num_frames,
                 self.native_fps)

    def generate(self, image: Any, plan: dict[str, Any], scale: float = 1.0) -> list[Any]:
        """The model's frames (PIL images) from a keyframe, at its native rate and length."""
        multiple = self.family.multiple
        w, h = diffusion.generation_size(plan["aspect"],
                               max(multiple, round(self.options["resolution"] * scale)), multiple)
        kwargs: dict[str, Any] = {
            "image": centre_crop(image, (w, h)), "width": w, "height": h,
            "num_frames": self.num_frames, "num_inference_steps": int(self.options["steps"]),
            "generator": diffusion.generator(plan["seed"]),
        }
        if self.family.name == "svd":
            kwargs.update(fps=max(1, round(self.native_fps)),  # the pipeline conditions on fps-1
                          motion_bucket_id=int(self.options["motion_bucket_id"]),
                          noise_aug_strength=float(self.options["noise_aug_strength"]),
                          min_guidance_scale=1.0,
                          max_guidance_scale=float(self.options["guidance_scale"]),
                          decode_chunk_size=int(self.options["decode_chunk_size"]))
        else:
            kwargs["guidance_scale"] = float(self.options["guidance_scale"])
        if self.family.prompt:
            kwargs["prompt"] = f"{diffusion.shot_prompt(plan)}; {CAMERA_WORDS[plan['camera']]}"
            negative = self.options["negative_prompt"] or plan.get("negative_prompt", "")
            if negative and "negative_prompt" in self.accepts:
                kwargs["negative_prompt"] = negative
        if "frame_rate" in self.accepts:
            kwargs["frame_rate"] = round(self.native_fps)
        if "output_type" in self.accepts:
            kwargs["output_type"] = "pil"
        frames = self.pipe(**kwargs).frames[0]
        return [f.convert("RGB") for f in frames]

    def render(self, png: str | Path, plan: dict[str, Any], out: str | Path,
               output: dict[str, Any], crossfade_s: float, threads: int = 1,
               subtitles: str | Path | None = None) -> int:
        """Write the shot's clip to ``out`` (atomically); returns its frame count."""
        return int(self.render_shot(png, plan, out, output, crossfade_s, threads,
                                    subtitles)["frames"])

    def render_shot(self, png: str | Path, plan: dict[str, Any], out: str | Path,
                    output: dict[str, Any], crossfade_s: float, threads: int = 1,
                    subtitles: str | Path | None = None, inject_oom: int = 0) -> dict[str, Any]:
        """Write the shot's clip to ``out`` (atomically); returns its frame count and what it
        took (memory savers, the out-of-memory message). ``inject_oom`` (tests) raises that many
        CUDA out-of-memory errors first."""
        from PIL import Image

        fps = int(output["fps"])
        size = frame_size(plan["aspect"])
        wanted = shot_frames(plan["start"], plan["end"], fps) + overlap_frames(plan, crossfade_s,
                                                                                fps)
        with Image.open(png) as img:
            key = img.convert("RGB")
        generated, savers, oom = diffusion.with_savers(
            lambda scale: self.generate(key, plan, scale), self.pipe, self.device, plan["id"],
            inject_oom, self.savers, self.on_oom)
        encode_clip(fit_frames(generated, self.native_fps, wanted, fps, size), plan, out, output,
                    crossfade_s, threads, subtitles)
        log.info("clip %s: %d frames from %d generated at %g fps", plan["id"], wanted,
                 len(generated), self.native_fps)
        return {"frames": wanted, "savers": savers, "oom": oom}
