"""Keyframes from a diffusers text-to-image pipeline (SD 1.5, SDXL, SD3, FLUX families).

The pipeline class is chosen by the model's ``model_index.json``, from a hub id or a local
folder (``stages.keyframes.model``); what the family needs (its native size, multiples, text
length, guidance) is read from the loaded pipeline in ``storyreel.models.families``. Each shot is
generated at the model's native pixel budget at the output preset's aspect (or with its longest
side ``resolution`` pixels when set), then resized to the keyframe size: the preset times
``headroom``, exactly as the animatic does, so the video stage's camera has room. The noise is
seeded from the shot's seed on a CPU generator (the same picture on any device), the negative
prompt and guidance come from the config (else the pipeline's own default guidance), and the
vision plan's character sheet (each cast member's ``descriptors``) leads every prompt verbatim,
so a character is described in the same words in every shot. Each prompt is built within the
token budget of the pipeline's longest text encoder, counted with its own tokenizer (77 CLIP
tokens for SD 1.5 and SDXL, the T5's sequence length for SD3 and FLUX), most important first:
who, doing what, where, then the look; what did not fit is left out, logged, and written into
the keyframe PNG's text chunks (``prompt``, ``left_out``) beside the prompt that was read. An
IP-Adapter conditions each shot when configured: on one reference picture for every shot
(``ip_adapter.image``), or on the portrait of the first character the shot shows
(``stages.portraits``), a shot drawn alone then.

Several shots go through the pipeline in one call where the job names pending peers
(``storyreel.models.batching``); on an out-of-memory error a batch splits, then each shot is
retried with memory savers switched on one after another (``storyreel.models.diffusion``); the
savers stay on for later shots of the same worker.

The model is loaded once per process; the keyframes stage keeps that process warm across
shots (``storyreel.models.worker``).
"""

from __future__ import annotations

import inspect
import json
import logging
from pathlib import Path
from typing import Any

from storyreel.core.artifacts import atomic_path
from storyreel.media.ffmpeg import even, frame_size
from storyreel.models import batching, diffusion, families

log = logging.getLogger(__name__)

FAMILIES = families.TEXT_TO_IMAGE


class DiffusersKeyframes(batching.Batched):
    """A text-to-image pipeline, loaded once, rendering one keyframe per asked shot (several
    per pipeline call when peers are pending)."""

    name = "diffusers"
    stage = "keyframes"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        loaded = diffusion.load_pipeline(self.stage, options, FAMILIES, "text-to-image")
        self.pipe, self.family, self.device = loaded.pipe, loaded.family, loaded.device
        self.traits = loaded.traits
        self.adapter = options["ip_adapter"]
        self.reference = None  # one picture for every shot (ip_adapter.image), else per shot
        if self.adapter:
            self.pipe.load_ip_adapter(self.adapter["model"], subfolder=self.adapter["subfolder"],
                                      weight_name=self.adapter["weight_name"])
            if self.adapter["image"]:
                self.reference = _picture(self.adapter["image"])
        self.accepts = set(inspect.signature(self.pipe.__call__).parameters)
        self.budget = diffusion.prompt_budget(self.pipe)
        self.fitted: dict[str, tuple[str, list[str]]] = {}  # by shot: prompt read, left out
        self.batcher = batching.Batcher(self.pipe, self.device, diffusion.batch_limit(
            options, self.family), diffusion.memory_budget_mb(options, self.device))

    def size(self, aspect: str) -> tuple[int, int]:
        """Keyframe size: the output preset times the headroom (even numbers)."""
        w, h = frame_size(aspect)
        headroom = float(self.options["headroom"])
        return even(w * headroom), even(h * headroom)

    def fit(self, parts: list[str], sep: str = "; ") -> tuple[str, list[str]]:
        """``parts`` within the token budget of the pipeline's longest text encoder, and what
        was left out (:func:`storyreel.models.diffusion.fit_prompt`)."""
        return diffusion.fit_within(self.budget, parts, sep)

    def prompt(self, plan: dict[str, Any]) -> str:
        """A plan's prompt within the budget, most important first; what was left out is kept
        for the shot's record (:attr:`fitted`, taken by :meth:`render`)."""
        self.fitted[plan["id"]] = self.fit(diffusion.prompt_parts(plan))
        return self.fitted[plan["id"]][0]

    def generate(self, plans: list[dict[str, Any]], scale: float = 1.0) -> list[Any]:
        """The pipeline's pictures for plans of one aspect, in one call, at the generation
        size times ``scale``."""
        w, h = families.generation_size(plans[0]["aspect"], self.traits,
                                        self.options["resolution"], scale)
        prompts = [self.prompt(p) for p in plans]
        kwargs: dict[str, Any] = {
            "prompt": prompts, "width": w, "height": h,
            "num_inference_steps": int(self.options["steps"]),
            "generator": [diffusion.generator(p["seed"]) for p in plans],
            **families.call_settings(self.pipe, self.traits, self.options)}
        negatives = [self.fit(str(self.options["negative_prompt"] or p.get("negative_prompt", "")
                                  ).split(", "), ", ")[0] for p in plans]
        if self.family.negative and any(negatives) and "negative_prompt" in self.accepts:
            kwargs["negative_prompt"] = negatives
        if self.adapter:
            kwargs["ip_adapter_image"] = self.condition(plans[0])
        return list(self.pipe(**kwargs).images)

    def condition(self, plan: dict[str, Any]) -> Any:
        """The IP-Adapter's picture for a shot, its scale set: the configured reference, else
        the portrait of the first character the shot shows (``references``, set by the
        keyframes stage); a shot with neither gets a blank picture at scale 0 (diffusers asks
        for a picture once an adapter is loaded)."""
        from PIL import Image

        references = plan.get("references") or []
        picture = self.reference or (_picture(references[0]) if references else None)
        self.pipe.set_ip_adapter_scale(float(self.adapter["scale"]) if picture else 0.0)
        return picture or Image.new("RGB", (224, 224), (128, 128, 128))

    def render(self, plan: dict[str, Any], inject_oom: int = 0,
               peers: list[dict[str, Any]] | None = None) -> tuple[Any, dict[str, Any]]:
        """(keyframe as a PIL image at the keyframe size, what it took: savers, OOM reason).
        ``peers``: other pending shots of the story (``{"plan", "inject_oom"}``), rendered in
        the same call and kept until asked."""
        from PIL import Image

        def shot(p: dict[str, Any], inject: int) -> batching.Shot:
            return batching.Shot(p["id"], p, batching.shot_key(p), inject)

        # with an IP-Adapter a shot is drawn alone: its picture conditions the whole call
        same = [shot(q["plan"], int(q.get("inject_oom", 0))) for q in peers or []
                if q["plan"]["aspect"] == plan["aspect"] and not self.adapter]
        image, savers, oom = self.batcher.render(
            shot(plan, inject_oom), same,
            lambda shots, scale: self.generate([s.args for s in shots], scale))
        image = image.convert("RGB").resize(self.size(plan["aspect"]), Image.LANCZOS)
        prompt, left = self.fitted.pop(plan["id"], None) or self.fit(
            diffusion.prompt_parts(plan))  # popped: a warm worker keeps no shot's record
        return image, {"savers": savers, "oom": oom,
                       "prompt": prompt, "left_out": left}

    def save_shot(self, plan: dict[str, Any], path: str | Path, inject_oom: int = 0,
                  peers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Render a plan to a PNG at ``path`` (atomically); returns its size and what it took
        (memory savers, the out-of-memory message). ``inject_oom`` (tests) raises that many
        CUDA out-of-memory errors first."""
        from PIL.PngImagePlugin import PngInfo

        image, info = self.render(plan, inject_oom, peers)
        text = PngInfo()  # the prompt the model read and what its budget left out, in the file
        text.add_text("prompt", info["prompt"])
        text.add_text("left_out", json.dumps(info["left_out"]))
        with atomic_path(path) as tmp:
            image.save(tmp, "PNG", pnginfo=text)
        return {"size": list(image.size), **info}

    def save(self, plan: dict[str, Any], path: str | Path) -> tuple[int, int]:
        """Render a plan to a PNG at ``path`` (atomically); returns its size."""
        w, h = self.save_shot(plan, path)["size"]
        return w, h


def _picture(path: str | Path) -> Any:
    from PIL import Image

    with Image.open(path) as img:
        return img.convert("RGB")
