"""A small backend registry.

Backends are named ``<kind>/<name>`` and registered lazily as ``module:attribute`` strings, so
listing or validating backends never imports a heavy dependency. ``get`` imports on demand;
an unknown name fails with the list of known ones.

Kinds map to stages: ``writer`` (script), ``editor`` (revise), ``tts`` (voice), ``asr`` (asr),
``planner`` (vision), ``image`` (keyframes), ``motion`` (video), ``post`` (post).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from storyreel.errors import MissingExtraError, UnknownBackendError


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend lives and what it needs."""

    kind: str
    name: str
    target: str  # "module:attribute"
    gpu: bool = False  # whether the backend wants a GPU (declared as resources: gpu=1)
    extra: str | None = None  # the pip extra that installs its dependencies
    summary: str = ""
    words_per_minute: float | None = None  # tts only: measured speaking rate at length_scale 1
    uses_model: bool = False  # whether the stage's `model` option means anything to it


# The backend kind each stage's `backend` option names.
STAGE_KINDS = {
    "script": "writer",
    "revise": "editor",
    "voice": "tts",
    "asr": "asr",
    "vision": "planner",
    "keyframes": "image",
    "video": "motion",
    "post": "post",
}


_REGISTRY: dict[str, dict[str, BackendSpec]] = {}


def register(spec: BackendSpec) -> BackendSpec:
    """Add a backend; re-registering the same name replaces it (useful in tests)."""
    _REGISTRY.setdefault(spec.kind, {})[spec.name] = spec
    return spec


def known(kind: str) -> list[str]:
    """Sorted names of the backends of a kind."""
    return sorted(_REGISTRY.get(kind, {}))


def kinds() -> list[str]:
    return sorted(_REGISTRY)


def spec(kind: str, name: str) -> BackendSpec:
    """The spec of a backend, or :class:`UnknownBackendError` naming the known ones."""
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        raise UnknownBackendError(
            f"unknown {kind} backend '{name}'; known {kind} backends: {', '.join(known(kind))}"
        ) from None


def stage_spec(stage: str, options: dict[str, Any]) -> BackendSpec | None:
    """The spec of the backend a stage's options name (None for stages without backends)."""
    kind = STAGE_KINDS.get(stage)
    if kind is None:
        return None
    return spec(kind, str(options.get("backend", known(kind)[0])))


def get(kind: str, name: str) -> Any:
    """Import and return the backend object (a class or factory).

    A backend whose optional dependency is missing raises :class:`MissingExtraError`, which
    names the pip extra to install.
    """
    entry = spec(kind, name)
    module_name, _, attribute = entry.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        if entry.extra and missing.split(".")[0] != "storyreel":
            raise MissingExtraError(f"{kind}/{name}", missing, entry.extra) from exc
        raise
    return getattr(module, attribute)


def _builtin() -> None:
    for entry in (
        BackendSpec("writer", "template", "storyreel.backends.writer.template:TemplateWriter",
                    summary="deterministic embedded story writer (offline)"),
        BackendSpec("writer", "openai", "storyreel.backends.writer.openai_compat:OpenAIWriter",
                    summary="any OpenAI-compatible server: Ollama, vLLM, llama.cpp",
                    uses_model=True),
        BackendSpec("editor", "rules", "storyreel.backends.editor.rules:RuleEditor",
                    summary="embedded rule-based text normaliser (offline)"),
        BackendSpec("tts", "piper", "storyreel.backends.tts.piper:PiperTTS",
                    summary="Piper neural TTS with a voice shipped as a Python package",
                    words_per_minute=210.3),
        BackendSpec("tts", "espeak", "storyreel.backends.tts.espeak:EspeakTTS",
                    summary="espeak-ng through espeakng-loader (fallback)", words_per_minute=207.2),
        BackendSpec("asr", "pocketsphinx", "storyreel.backends.asr.sphinx:SphinxAligner",
                    summary="pocketsphinx forced alignment and free recognition (offline)"),
        BackendSpec("planner", "embedded", "storyreel.backends.vision.embedded:EmbeddedPlanner",
                    summary="deterministic style bible and prompt enrichment (offline)"),
        BackendSpec("image", "animatic", "storyreel.backends.image.animatic:AnimaticRenderer",
                    summary="procedural storyboard renderer (Pillow, offline)"),
        BackendSpec("motion", "kenburns", "storyreel.backends.motion.kenburns:KenBurns",
                    summary="eased camera moves over a still keyframe"),
        BackendSpec("post", "ffmpeg", "storyreel.backends.post.ffmpeg:FfmpegPost",
                    summary="ffmpeg edit, loudness, subtitles and mux"),
    ):
        register(entry)


_builtin()
