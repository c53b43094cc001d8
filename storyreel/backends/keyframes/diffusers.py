"""Keyframes from a diffusers text-to-image pipeline (SD 1.5, SDXL, SD3, FLUX families).

The pipeline class is chosen by the model's ``model_index.json`` through
``AutoPipelineForText2Image``, from a hub id or a local folder (``stages.keyframes.model``).
Each shot is rendered at the output preset's aspect, its longest side ``resolution`` pixels (a
multiple of what the family needs), then resized to the keyframe size: the preset times
``headroom``, exactly as the animatic does, so the video stage's camera has room. The noise is
seeded from the shot's seed on a CPU generator (the same picture on any device), the negative
prompt and guidance come from the config, and the vision plan's character sheet (each cast
member's ``descriptors``) leads every prompt verbatim, so a character is described in the same
words in every shot. An IP-Adapter with a reference image is used when configured.

On an out-of-memory error the shot is retried with memory savers switched on one after another
(``storyreel.models.diffusion.with_savers``); the savers stay on for later shots of the same worker.

The model is loaded once per process; the keyframes stage keeps that process warm across
shots (``storyreel.models.worker``).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.core.artifacts import atomic_path
from storyreel.media.ffmpeg import even, frame_size
from storyreel.models import diffusion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Family:
    """What a text-to-image model family needs."""

    name: str
    multiple: int  # width and height must be multiples of this
    negative: bool  # whether the pipeline uses a negative prompt


FAMILIES = {
    "StableDiffusionPipeline": Family("sd15", 8, True),
    "StableDiffusionXLPipeline": Family("sdxl", 8, True),
    "StableDiffusion3Pipeline": Family("sd3", 16, True),
    "FluxPipeline": Family("flux", 16, False),
}


class DiffusersKeyframes:
    """A text-to-image pipeline, loaded once, rendering one keyframe per call."""

    name = "diffusers"
    stage = "keyframes"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        loaded = diffusion.load_pipeline(self.stage, options, FAMILIES, "text-to-image")
        self.pipe, self.family, self.device = loaded.pipe, loaded.family, loaded.device
        adapter = options["ip_adapter"]
        self.reference = None
        if adapter:
            from PIL import Image

            self.pipe.load_ip_adapter(adapter["model"], subfolder=adapter["subfolder"],
                                      weight_name=adapter["weight_name"])
            self.pipe.set_ip_adapter_scale(float(adapter["scale"]))
            with Image.open(adapter["image"]) as img:
                self.reference = img.convert("RGB")
        self.accepts = set(inspect.signature(self.pipe.__call__).parameters)
        self.savers: list[str] = []
        self.on_oom: Any = None  # set by a warm worker: frees the card of other workers' models

    def size(self, aspect: str) -> tuple[int, int]:
        """Keyframe size: the output preset times the headroom (even numbers)."""
        w, h = frame_size(aspect)
        headroom = float(self.options["headroom"])
        return even(w * headroom), even(h * headroom)

    def generate(self, plan: dict[str, Any], scale: float = 1.0) -> Any:
        """The pipeline's picture for a plan, at the generation size times ``scale``."""
        w, h = diffusion.generation_size(plan["aspect"],
                               max(self.family.multiple, round(self.options["resolution"] * scale)),
                               self.family.multiple)
        kwargs: dict[str, Any] = {
            "prompt": diffusion.shot_prompt(plan), "width": w, "height": h,
            "num_inference_steps": int(self.options["steps"]),
            "guidance_scale": float(self.options["guidance_scale"]),
            "generator": diffusion.generator(plan["seed"]),
        }
        negative = self.options["negative_prompt"] or plan.get("negative_prompt", "")
        if self.family.negative and negative and "negative_prompt" in self.accepts:
            kwargs["negative_prompt"] = negative
        if self.reference is not None:
            kwargs["ip_adapter_image"] = self.reference
        return self.pipe(**kwargs).images[0]

    def render(self, plan: dict[str, Any], inject_oom: int = 0) -> tuple[Any, dict[str, Any]]:
        """(keyframe as a PIL image at the keyframe size, what it took: savers, OOM reason)."""
        from PIL import Image

        image, savers, oom = diffusion.with_savers(lambda scale: self.generate(plan, scale),
                                                   self.pipe, self.device, plan["id"],
                                                   inject_oom, self.savers, self.on_oom)
        image = image.convert("RGB").resize(self.size(plan["aspect"]), Image.LANCZOS)
        return image, {"savers": savers, "oom": oom}

    def save_shot(self, plan: dict[str, Any], path: str | Path,
                  inject_oom: int = 0) -> dict[str, Any]:
        """Render a plan to a PNG at ``path`` (atomically); returns its size and what it took
        (memory savers, the out-of-memory message). ``inject_oom`` (tests) raises that many
        CUDA out-of-memory errors first."""
        image, info = self.render(plan, inject_oom)
        with atomic_path(path) as tmp:
            image.save(tmp, "PNG")
        return {"size": list(image.size), **info}

    def save(self, plan: dict[str, Any], path: str | Path) -> tuple[int, int]:
        """Render a plan to a PNG at ``path`` (atomically); returns its size."""
        w, h = self.save_shot(plan, path)["size"]
        return w, h
