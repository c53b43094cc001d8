"""The diffusion model families, and every quirk of theirs, in one place.

Both diffusers backends pick a family by the pipeline class their model's ``model_index.json``
names (:data:`FAMILIES`). What a pipeline needs is then read from the loaded pipeline itself
(:func:`traits`), never assumed from a model name:

- **native size**: the denoiser's sample size times the VAE's spatial factor (SD 1.5, SDXL, SD3,
  SVD, CogVideoX), else the pipeline's default sample size (FLUX), else the defaults of its
  ``__call__`` (LTX-Video, Wan). By default a shot is generated at the native size's pixel
  budget, at the preset's aspect (:func:`generation_size`), then scaled to the keyframe or frame
  size; ``resolution`` overrides it (the longest side);
- **multiples**: width and height are multiples of the VAE's spatial factor times the
  transformer's patch (FLUX: times 2, its latents are packed 2x2), and of what the pipeline's
  own input check insists on (8 for SD 1.5, SDXL, SVD and CogVideoX, 32 for LTX-Video, 16 for
  Wan);
- **fixed size**: a transformer with learned positional embeddings (CogVideoX-5b-I2V) draws at
  its sample size only; the keyframe is cropped to it and the frames cropped back to the preset;
- **frame counts**: a VAE that compresses time by ``t`` needs ``k*t + 1`` frames (LTX-Video
  8k+1, CogVideoX and Wan 4k+1); the native length is the denoiser's (SVD, CogVideoX) or the
  pipeline's default;
- **text length**: a denoiser trained on a fixed text length (CogVideoX) gets exactly it;
- **guidance and prompts**: FLUX is guidance-distilled and takes no negative prompt; SVD takes no
  text and ramps its guidance from 1 to ``guidance_scale`` over the frames.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

from storyreel.media.ffmpeg import frame_size


@dataclass(frozen=True)
class Family:
    """What a model family is, beyond what its pipeline's config says."""

    name: str
    negative: bool = True  # takes a negative prompt
    prompt: bool = True  # takes a text prompt (image-to-video)
    fps: int = 0  # native frame rate (image-to-video)
    pack: int = 1  # latents packed pack x pack into tokens (FLUX: 2)
    checks: int = 1  # the multiple its pipeline's own input check insists on, whatever the VAE
    batch: bool = True  # takes several shots (prompts, or keyframes) in one call


TEXT_TO_IMAGE = {
    "StableDiffusionPipeline": Family("sd15", checks=8),
    "StableDiffusionXLPipeline": Family("sdxl", checks=8),
    "StableDiffusion3Pipeline": Family("sd3"),
    "FluxPipeline": Family("flux", negative=False, pack=2),
}
IMAGE_TO_VIDEO = {
    "StableVideoDiffusionPipeline": Family("svd", negative=False, prompt=False, fps=7, checks=8),
    "LTXImageToVideoPipeline": Family("ltx", fps=24, checks=32),
    "CogVideoXImageToVideoPipeline": Family("cogvideox", fps=8, checks=8),
    # its input check takes one keyframe, not a list: one shot per call
    "WanImageToVideoPipeline": Family("wan", fps=16, checks=16, batch=False),
}


@dataclass(frozen=True)
class Traits:
    """What a loaded pipeline needs, read from its own config."""

    native: tuple[int, int]  # (width, height) it was trained at
    multiple: int  # width and height are multiples of this
    fixed: bool  # draws at ``native`` only
    frame_step: int  # frame counts are k * frame_step + 1
    frames: int  # native length in frames (0: not a video model)
    text_length: int | None  # the text length its denoiser was trained on, when fixed


def _first(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return default


def _call_default(pipe: Any, name: str) -> Any:
    param = inspect.signature(pipe.__call__).parameters.get(name)
    return None if param is None or param.default is inspect.Parameter.empty else param.default


def traits(pipe: Any, family: Family) -> Traits:
    """A loaded pipeline's sizes, frame rule and text length (see the module's docstring)."""
    denoiser = _first(pipe, "unet", "transformer")
    config = denoiser.config
    spatial = int(_first(pipe, "vae_spatial_compression_ratio", "vae_scale_factor_spatial",
                         "vae_scale_factor", default=8))
    patch = config.get("patch_size") or 1
    patch = int(patch[-1] if isinstance(patch, (list, tuple)) else patch)
    if config.get("sample_height") and config.get("sample_width"):
        native = (config["sample_width"] * spatial, config["sample_height"] * spatial)
    elif getattr(pipe, "default_sample_size", None):
        native = (pipe.default_sample_size * spatial,) * 2
    elif isinstance(config.get("sample_size"), int):
        native = (config["sample_size"] * spatial,) * 2
    else:
        native = (int(_call_default(pipe, "width")), int(_call_default(pipe, "height")))
    frames = config.get("num_frames") or config.get("sample_frames") or _call_default(
        pipe, "num_frames") or 0
    text = config.get("max_text_seq_length")
    return Traits(native=native, multiple=math.lcm(spatial * patch * family.pack, family.checks),
                  fixed=bool(config.get("use_learned_positional_embeddings")),
                  frame_step=int(_first(pipe, "vae_temporal_compression_ratio",
                                        "vae_scale_factor_temporal", default=1)),
                  frames=int(frames), text_length=int(text) if text else None)


def generation_size(aspect: str, traits: Traits, resolution: int | None = None,
                    scale: float = 1.0) -> tuple[int, int]:
    """(width, height) to generate a shot at: the preset's aspect within the model's native
    pixel budget (or with its longest side ``resolution``), times ``scale`` (the
    ``smaller_size`` memory saver), each side a multiple of the model's; a fixed-size model's
    native size."""
    if traits.fixed:
        return traits.native
    w, h = frame_size(aspect)
    m = traits.multiple
    if resolution:
        k = resolution * scale / max(w, h)
        return max(m, round(w * k / m) * m), max(m, round(h * k / m) * m)
    area = traits.native[0] * traits.native[1] * scale * scale
    k = math.sqrt(area / (w * h))
    return max(m, math.floor(w * k / m) * m), max(m, math.floor(h * k / m) * m)


def frame_count(wanted: int, step: int) -> int:
    """The nearest count of the form ``k * step + 1`` (at least ``step + 1``) to ``wanted``."""
    if step <= 1:
        return max(1, wanted)
    return max(1, round((wanted - 1) / step)) * step + 1


def call_settings(pipe: Any, traits: Traits, options: dict[str, Any]) -> dict[str, Any]:
    """The guidance and text length a pipeline call takes: ``guidance_scale`` as configured,
    else the pipeline's own default (FLUX 3.5, SD3 7, SDXL 5, LTX-Video 3, Wan 5, CogVideoX 6;
    SVD's ramp from 1 to 3); a fixed text length where the denoiser has one."""
    accepts = inspect.signature(pipe.__call__).parameters
    configured = options["guidance_scale"]
    settings: dict[str, Any] = {}
    if "max_guidance_scale" in accepts:  # SVD: frame-wise guidance, from 1 up to this
        settings["min_guidance_scale"] = 1.0
        settings["max_guidance_scale"] = float(
            configured if configured is not None else _call_default(pipe, "max_guidance_scale"))
    elif "guidance_scale" in accepts:
        settings["guidance_scale"] = float(
            configured if configured is not None else _call_default(pipe, "guidance_scale"))
    if traits.text_length and "max_sequence_length" in accepts:
        settings["max_sequence_length"] = traits.text_length
    return settings
