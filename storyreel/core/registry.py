"""The backend registry: built-in backends plus the ``storyreel.backends`` entry-point group.

A backend kind is named after its stage (``script``, ``revise``, ``voice``, ``asr``, ``vision``,
``keyframes``, ``video``, ``post``); a backend is ``<stage>/<name>`` (``keyframes/animatic``), and
a stage's config option ``stages.<stage>.backend`` gives the name. Each kind's interface is a
Protocol in ``storyreel/backends/<stage>/__init__.py`` (see :func:`interface`).

Targets are lazy ``module:attribute`` strings, so listing or validating backends never imports a
heavy dependency; :func:`get` imports on demand. An unknown name fails with one line naming the
known ones; a backend whose optional dependency is missing raises
:class:`~storyreel.core.errors.MissingExtraError`, naming the pip extra.

A separate package adds a backend by declaring an entry point whose value is a
:class:`BackendSpec` (or a callable returning one or a list of them)::

    [project.entry-points."storyreel.backends"]
    keyframes-sdxl = "storyreel_sdxl:SPEC"

(see docs/architecture.md).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storyreel.core.errors import MissingExtraError, StoryreelError, UnknownBackendError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "storyreel.backends"
# Backend kinds: the stages that have backends, in workflow order.
KINDS = ("script", "revise", "voice", "asr", "vision", "keyframes", "video", "post")
# Extras pyproject.toml defines (a spec may only name one of these).
EXTRAS = ("llm", "whisper", "diffusers", "slurm", "monitor", "notify")


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend lives and what it needs."""

    kind: str  # the stage it serves
    name: str
    target: str  # "module:attribute", the class built as Backend(options)
    gpu: bool = False  # whether the backend wants a GPU (declared as resources: gpu=1)
    extra: str | None = None  # the pip extra that installs its dependencies
    summary: str = ""
    words_per_minute: float | None = None  # voice only: measured speaking rate at length_scale 1
    uses_model: bool = False  # whether the stage's `model` option means anything to it

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"


_REGISTRY: dict[str, dict[str, BackendSpec]] = {}
_loaded_entry_points = False


def register(spec: BackendSpec) -> BackendSpec:
    """Add a backend; re-registering the same name replaces it (useful in tests)."""
    if spec.kind not in KINDS:
        raise StoryreelError(f"backend {spec.id}: unknown kind '{spec.kind}' "
                             f"(kinds are the stages: {', '.join(KINDS)})")
    if spec.extra is not None and spec.extra not in EXTRAS:
        raise StoryreelError(f"backend {spec.id}: extra '{spec.extra}' is not one of "
                             f"{', '.join(EXTRAS)}")
    _REGISTRY.setdefault(spec.kind, {})[spec.name] = spec
    return spec


def _specs_of(value: Any) -> Iterable[BackendSpec]:
    if callable(value) and not isinstance(value, BackendSpec):
        value = value()
    values = value if isinstance(value, list | tuple) else [value]
    for item in values:
        if not isinstance(item, BackendSpec):
            raise TypeError(f"not a storyreel.core.registry.BackendSpec: {item!r}")
        yield item


def load_entry_points(force: bool = False) -> None:
    """Register the backends that installed packages declare in the ``storyreel.backends``
    entry-point group (once; ``force`` reads the group again). A broken entry point is logged and
    skipped: it must not break the built-in backends."""
    global _loaded_entry_points
    if _loaded_entry_points and not force:
        return
    _loaded_entry_points = True
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            for spec in _specs_of(entry.load()):
                register(spec)
        except Exception as exc:  # a third-party package's bug
            log.warning("storyreel backend entry point %s (%s) ignored: %s", entry.name,
                        entry.value, exc)


def known(kind: str) -> list[str]:
    """Sorted names of the backends of a kind."""
    load_entry_points()
    return sorted(_REGISTRY.get(kind, {}))


def kinds() -> list[str]:
    """The kinds that have at least one backend, in workflow order."""
    load_entry_points()
    return [kind for kind in KINDS if _REGISTRY.get(kind)]


def spec(kind: str, name: str) -> BackendSpec:
    """The spec of a backend, or :class:`UnknownBackendError` naming the known ones."""
    load_entry_points()
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        raise UnknownBackendError(
            f"unknown {kind} backend '{name}'; known {kind} backends: {', '.join(known(kind))}"
        ) from None


def stage_spec(stage: str, options: dict[str, Any]) -> BackendSpec | None:
    """The spec of the backend a stage's options name (None for stages without backends)."""
    if stage not in KINDS:
        return None
    return spec(stage, str(options["backend"]))


def get(kind: str, name: str) -> Any:
    """Import and return the backend class (or factory).

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
            raise MissingExtraError(entry.id, missing, entry.extra) from exc
        raise
    return getattr(module, attribute)


def create(stage: str, options: dict[str, Any]) -> Any:
    """The backend a stage's validated options name, built as ``Backend(options)``."""
    return get(stage, str(options["backend"]))(options)


def interface(kind: str) -> type:
    """The Protocol every backend of ``kind`` implements."""
    module = importlib.import_module(f"storyreel.backends.{kind}")
    return getattr(module, f"{kind.capitalize()}Backend")


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    names = [n for n, v in vars(protocol).items() if callable(v) and
             (not n.startswith("_") or n == "__init__")]
    return {n: inspect.signature(getattr(protocol, n)) for n in names}


def conformance(kind: str, backend: type) -> list[str]:
    """What ``backend`` (a class) lacks of its kind's interface: missing methods, or methods
    whose parameters differ by name or order (empty when it conforms)."""
    problems = []
    for name, wanted in _methods(interface(kind)).items():
        method = getattr(backend, name, None)
        if not callable(method):
            problems.append(f"no method {name}()")
            continue
        got = inspect.signature(method)
        want = [p.name for p in wanted.parameters.values()]
        have = [p.name for p in got.parameters.values()]
        if have[:len(want)] != want or any(
                p.default is inspect.Parameter.empty and p.kind not in
                (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in list(got.parameters.values())[
                    len(want):]):
            problems.append(f"{name}{got} does not match {name}{wanted}")
    return problems


def _builtin() -> None:
    for entry in (
        BackendSpec("script", "template", "storyreel.backends.script.template:TemplateWriter",
                    summary="deterministic embedded story writer (offline)"),
        BackendSpec("script", "openai", "storyreel.backends.script.openai_compat:OpenAIWriter",
                    summary="any OpenAI-compatible server: Ollama, vLLM, llama.cpp",
                    uses_model=True),
        BackendSpec("script", "transformers",
                    "storyreel.backends.script.transformers:TransformersWriter", gpu=True,
                    extra="llm", uses_model=True,
                    summary="local Hugging Face causal LM (model id or folder)"),
        BackendSpec("revise", "rules", "storyreel.backends.revise.rules:RuleEditor",
                    summary="embedded rule-based text normaliser (offline)"),
        BackendSpec("voice", "piper", "storyreel.backends.voice.piper:PiperTTS",
                    summary="Piper neural TTS with a voice shipped as a Python package",
                    words_per_minute=210.3),
        BackendSpec("voice", "espeak", "storyreel.backends.voice.espeak:EspeakTTS",
                    summary="espeak-ng through espeakng-loader (fallback)", words_per_minute=207.2),
        BackendSpec("asr", "pocketsphinx", "storyreel.backends.asr.sphinx:SphinxAligner",
                    summary="pocketsphinx forced alignment and free recognition (offline)"),
        BackendSpec("asr", "faster-whisper", "storyreel.backends.asr.faster_whisper:WhisperAligner",
                    gpu=True, extra="whisper", uses_model=True,
                    summary="faster-whisper word timestamps mapped onto the script's words"),
        BackendSpec("vision", "embedded", "storyreel.backends.vision.embedded:EmbeddedPlanner",
                    summary="deterministic style bible and prompt enrichment (offline)"),
        BackendSpec("vision", "openai", "storyreel.backends.vision.llm:OpenAIPlanner",
                    uses_model=True,
                    summary="character sheet, shot prompts: OpenAI-compatible server"),
        BackendSpec("vision", "transformers", "storyreel.backends.vision.llm:TransformersPlanner",
                    gpu=True, extra="llm", uses_model=True,
                    summary="character sheet and per-shot prompts from a local causal LM"),
        BackendSpec("keyframes", "animatic",
                    "storyreel.backends.keyframes.animatic:AnimaticRenderer",
                    summary="procedural storyboard renderer (Pillow, offline)"),
        BackendSpec("keyframes", "diffusers",
                    "storyreel.backends.keyframes.diffusers:DiffusersKeyframes", gpu=True,
                    extra="diffusers", uses_model=True,
                    summary="diffusers text-to-image (SD 1.5, SDXL, SD3, FLUX), warm worker"),
        BackendSpec("video", "kenburns", "storyreel.backends.video.kenburns:KenBurns",
                    summary="eased camera moves over a still keyframe"),
        BackendSpec("video", "diffusers", "storyreel.backends.video.diffusers:DiffusersVideo",
                    gpu=True, extra="diffusers", uses_model=True,
                    summary="diffusers image-to-video (SVD, LTX, CogVideoX, Wan), warm worker"),
        BackendSpec("post", "ffmpeg", "storyreel.backends.post.ffmpeg:FfmpegPost",
                    summary="ffmpeg edit, loudness, subtitles and mux"),
    ):
        register(entry)


_builtin()
