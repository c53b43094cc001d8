"""Tiny random models, built offline from configs (tests and benchmarks): a diffusion pipeline
of every family the diffusers backends name, an IP-Adapter, a causal language model and a
Whisper converted for faster-whisper.

The way diffusers' own tests do it: small components with fixed seeds, assembled into each
family's real classes, with tokenizers written or trained on the spot, and saved with
``save_pretrained``. The backends then load them through the same ``from_pretrained`` /
``WhisperModel`` path users take with a real model, without any download. Random weights draw
noise and write garbage: what is tested is the plumbing (loading, each family's sizes, frame
counts and text encoders, seeding, batching, frame fitting, warm workers, out-of-memory
degradation; parse, validate, repair and fall back for language models).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storyreel.models.tiny import images, videos
from storyreel.models.tiny.adapters import IP_ADAPTER_DIR, IP_ADAPTER_WEIGHTS, build_tiny_ip_adapter
from storyreel.models.tiny.language import CHAT_TEMPLATE, CORPUS, build_tiny_llm, build_tiny_whisper
from storyreel.models.tiny.tokenizers import byte_chars

# Family name -> builder, text-to-image first (the names of the backends' FAMILIES).
PIPELINES: dict[str, Callable[[Path], Path]] = {
    "sd15": images.sd15, "sdxl": images.sdxl, "sd3": images.sd3, "flux": images.flux,
    "svd": videos.svd, "ltx": videos.ltx, "cogvideox": videos.cogvideox, "wan": videos.wan,
}
TEXT_TO_IMAGE = ("sd15", "sdxl", "sd3", "flux")
IMAGE_TO_VIDEO = ("svd", "ltx", "cogvideox", "wan")


def build_tiny_pipeline(family: str, root: str | Path) -> Path:
    """The tiny pipeline of ``family`` under ``root`` (``root/tiny-<family>``), built once."""
    out = Path(root) / f"tiny-{family}"
    if not (out / "model_index.json").exists():
        PIPELINES[family](out)
    return out


def build_tiny_sd(root: str | Path) -> Path:
    """The tiny Stable Diffusion 1.5 pipeline under ``root``."""
    return build_tiny_pipeline("sd15", root)


def build_tiny_svd(root: str | Path) -> Path:
    """The tiny Stable Video Diffusion pipeline under ``root``."""
    return build_tiny_pipeline("svd", root)


__all__ = ["CHAT_TEMPLATE", "CORPUS", "IMAGE_TO_VIDEO", "IP_ADAPTER_DIR", "IP_ADAPTER_WEIGHTS",
           "PIPELINES", "TEXT_TO_IMAGE", "build_tiny_ip_adapter", "build_tiny_llm",
           "build_tiny_pipeline", "build_tiny_sd", "build_tiny_svd", "build_tiny_whisper",
           "byte_chars"]
