"""Each diffusion family's quirks, read from a pipeline's config (models/families.py): native
size and pixel budget, multiples, fixed sizes, frame rules and text length, with the configs of
the real checkpoints the docs name (no torch needed) and property tests."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyreel.media.ffmpeg import PRESETS, frame_size
from storyreel.models import families
from storyreel.models.families import IMAGE_TO_VIDEO, TEXT_TO_IMAGE, Traits


class Pipe:
    """A stand-in pipeline: the attributes and ``__call__`` defaults a family reads."""

    def __init__(self, denoiser: str, config: dict, **attributes: object) -> None:
        setattr(self, denoiser, type("Denoiser", (), {"config": config})())
        for key, value in attributes.items():
            setattr(self, key, value)


class DefaultsPipe(Pipe):
    def __call__(self, height: int = 480, width: int = 832, num_frames: int = 81,
                 guidance_scale: float = 5.0, max_sequence_length: int = 512) -> None: ...


class LTXPipe(Pipe):
    def __call__(self, height: int = 512, width: int = 704, num_frames: int = 161,
                 guidance_scale: float = 3.0) -> None: ...


class SVDPipe(Pipe):
    def __call__(self, height: int = 576, width: int = 1024, num_frames: int | None = None,
                 max_guidance_scale: float = 3.0) -> None: ...


class ImagePipe(Pipe):
    def __call__(self, height: int | None = None, width: int | None = None,
                 guidance_scale: float = 7.0, max_sequence_length: int = 256) -> None: ...


# The real checkpoints' configs (the parts the families read), from their config.json files.
REAL = {
    "StableDiffusionPipeline": ImagePipe("unet", {"sample_size": 64}, vae_scale_factor=8),
    "StableDiffusionXLPipeline": ImagePipe("unet", {"sample_size": 128}, vae_scale_factor=8,
                                           default_sample_size=128),
    "StableDiffusion3Pipeline": ImagePipe("transformer", {"sample_size": 128, "patch_size": 2},
                                          vae_scale_factor=8, default_sample_size=128),
    "FluxPipeline": ImagePipe("transformer", {"patch_size": 1}, vae_scale_factor=8,
                              default_sample_size=128),
    "StableVideoDiffusionPipeline": SVDPipe("unet", {"sample_size": 96, "num_frames": 25},
                                            vae_scale_factor=8),
    "LTXImageToVideoPipeline": LTXPipe("transformer", {"patch_size": 1, "patch_size_t": 1},
                                       vae_spatial_compression_ratio=32,
                                       vae_temporal_compression_ratio=8),
    "CogVideoXImageToVideoPipeline": DefaultsPipe(
        "transformer", {"sample_width": 90, "sample_height": 60, "sample_frames": 49,
                        "patch_size": 2, "max_text_seq_length": 226,
                        "use_learned_positional_embeddings": True},
        vae_scale_factor_spatial=8, vae_scale_factor_temporal=4),
    "WanImageToVideoPipeline": DefaultsPipe("transformer", {"patch_size": [1, 2, 2]},
                                            vae_scale_factor_spatial=8,
                                            vae_scale_factor_temporal=4),
}
# native (w, h), multiple, fixed, frame step, frames, 16:9 size, 9:16 size
EXPECTED = {
    "StableDiffusionPipeline": ((512, 512), 8, False, 1, 0, (680, 384), (384, 680)),
    "StableDiffusionXLPipeline": ((1024, 1024), 8, False, 1, 0, (1360, 768), (768, 1360)),
    "StableDiffusion3Pipeline": ((1024, 1024), 16, False, 1, 0, (1360, 768), (768, 1360)),
    "FluxPipeline": ((1024, 1024), 16, False, 1, 0, (1360, 768), (768, 1360)),
    "StableVideoDiffusionPipeline": ((768, 768), 8, False, 1, 25, (1024, 576), (576, 1024)),
    "LTXImageToVideoPipeline": ((704, 512), 32, False, 8, 161, (800, 448), (448, 800)),
    "CogVideoXImageToVideoPipeline": ((720, 480), 16, True, 4, 49, (720, 480), (720, 480)),
    "WanImageToVideoPipeline": ((832, 480), 16, False, 4, 81, (832, 464), (464, 832)),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_checkpoints_native_sizes_and_frame_rules(name):
    family = {**TEXT_TO_IMAGE, **IMAGE_TO_VIDEO}[name]
    traits = families.traits(REAL[name], family)
    native, multiple, fixed, step, frames, wide, tall = EXPECTED[name]
    assert (traits.native, traits.multiple, traits.fixed) == (native, multiple, fixed)
    assert (traits.frame_step, traits.frames) == (step, frames)
    assert families.generation_size("16:9", traits) == wide
    assert families.generation_size("9:16", traits) == tall
    assert families.frame_count(traits.frames or 1, step) == (traits.frames or 1)
    if name == "CogVideoXImageToVideoPipeline":
        assert traits.text_length == 226
        assert families.generation_size("16:9", traits, resolution=1024) == (720, 480)


def test_guidance_is_the_pipelines_own_unless_configured():
    flux = families.traits(REAL["FluxPipeline"], TEXT_TO_IMAGE["FluxPipeline"])
    assert families.call_settings(REAL["FluxPipeline"], flux, {"guidance_scale": None}) == {
        "guidance_scale": 7.0}
    assert families.call_settings(REAL["FluxPipeline"], flux, {"guidance_scale": 3.5}) == {
        "guidance_scale": 3.5}
    svd = REAL["StableVideoDiffusionPipeline"]
    assert families.call_settings(svd, families.traits(svd, IMAGE_TO_VIDEO[
        "StableVideoDiffusionPipeline"]), {"guidance_scale": None}) == {
        "min_guidance_scale": 1.0, "max_guidance_scale": 3.0}
    cog = REAL["CogVideoXImageToVideoPipeline"]
    settings = families.call_settings(cog, families.traits(cog, IMAGE_TO_VIDEO[
        "CogVideoXImageToVideoPipeline"]), {"guidance_scale": 6.0})
    assert settings["max_sequence_length"] == 226


def test_resolution_overrides_the_longest_side():
    traits = Traits((512, 512), 8, False, 1, 0, None)
    assert families.generation_size("16:9", traits, 1024) == (1024, 576)
    assert families.generation_size("9:16", Traits((1, 1), 16, False, 1, 0, None), 1024) == (
        576, 1024)
    assert families.generation_size("1:1", Traits((1, 1), 16, False, 1, 0, None), 30) == (32, 32)
    assert families.generation_size("16:9", traits, None, 0.5) == (336, 192)  # smaller_size


@given(st.integers(64, 2048), st.integers(64, 2048), st.sampled_from([8, 16, 32, 64]),
       st.sampled_from(sorted(PRESETS)))
def test_native_budget_is_kept_in_multiples_at_the_aspect(nw, nh, multiple, aspect):
    traits = Traits((nw, nh), multiple, False, 1, 0, None)
    w, h = families.generation_size(aspect, traits)
    assert w % multiple == 0 and h % multiple == 0 and w >= multiple and h >= multiple
    if w > multiple and h > multiple:
        assert w * h <= nw * nh  # within the model's pixel (token) budget
    fw, fh = frame_size(aspect)
    assert abs(math.log((w / h) / (fw / fh))) < math.log((w + multiple) / max(w - multiple, 1)
                                                         ) + math.log((h + multiple) / max(
                                                             h - multiple, 1))


@given(st.integers(1, 500), st.sampled_from([1, 4, 8]))
def test_frame_counts_follow_the_rule(wanted, step):
    n = families.frame_count(wanted, step)
    assert (n - 1) % step == 0 and n >= 1
    if step > 1:
        assert n >= step + 1 and abs(n - wanted) <= step / 2 + step * (wanted < step)
    else:
        assert n == wanted
