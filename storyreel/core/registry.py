"""The backend registry: each kind's built-in backends plus the ``storyreel.backends``
entry-point group.

A backend kind is named after its stage (:data:`storyreel.core.pipeline.BACKEND_KINDS`); a
backend is ``<kind>/<name>`` (``keyframes/animatic``), and a stage's config option
``stages.<stage>.backend`` gives the name. Each kind's package ``storyreel/backends/<kind>/``
holds its interface (a Protocol, see :func:`interface`) and ``SPECS``, the specs of its built-in
backends; an installed package adds backends the same way, through an entry point whose value
is a :class:`BackendSpec` (or a list of them, or a callable returning either)::

    [project.entry-points."storyreel.backends"]
    keyframes-sdxl = "storyreel_sdxl:SPEC"

A spec carries everything storyreel needs to know of a backend without importing it: where it
lives (a lazy ``module:attribute`` target), whether it wants a GPU, the pip extra it needs, the
settings it adds to its stage's config block (JSON Schema properties, validated and documented
like the built-in settings), the languages it handles and, for voices, the voices it offers
and their languages, whether it reports each word's time, and its speaking rate per language. The
table is built once per process and never changes; an unknown name fails with one line naming
the known ones; a backend whose optional dependency is missing raises
:class:`~storyreel.core.errors.MissingExtraError`, naming the pip extra (see
docs/architecture.md).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

from storyreel.core.errors import MissingExtraError, StoryreelError, UnknownBackendError
from storyreel.core.pipeline import BACKEND_KINDS

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "storyreel.backends"
# Extras pyproject.toml defines (a spec may only name one of these).
EXTRAS = ("llm", "whisper", "diffusers", "slurm", "monitor", "notify")


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend lives and what it needs and offers."""

    kind: str  # the stage it serves
    name: str
    target: str  # "module:attribute", the class built as Backend(options)
    gpu: bool = False  # whether the backend wants a GPU (declared as resources: gpu=1)
    extra: str | None = None  # the pip extra that installs its dependencies
    summary: str = ""
    uses_model: bool = False  # whether the stage's `model` option means anything to it
    # the settings it adds to stages.<kind> (JSON Schema properties, each with a default)
    options: Mapping[str, Any] = field(default_factory=dict)
    # voice backends: measured speaking rate at length_scale 1, the default voice, and a lazy
    # "module:attribute" of {voice: (languages, ...)} (or a callable returning it)
    words_per_minute: float | None = None
    default_voice: str | None = None
    voices: str | None = None
    # the languages it handles: BCP 47 tags (``pt`` covers ``pt-BR``), or a lazy
    # "module:attribute" of them (or of a callable returning them); None: any language (a
    # backend the language does not concern). Voice backends: the languages of their voices.
    languages: tuple[str, ...] | str | None = None
    # voice backends: it reports each word's time as it speaks (recorded in voice.json);
    # asr backends: it aligns from those timings rather than from the audio
    word_timings: bool = False
    # voice backends: a lazy "module:attribute" of {language: words per minute at
    # length_scale 1} measured per language (others speak at words_per_minute)
    rates: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"


def _checked(spec: Any) -> BackendSpec:
    if not isinstance(spec, BackendSpec):
        raise TypeError(f"not a storyreel.core.registry.BackendSpec: {spec!r}")
    if spec.kind not in BACKEND_KINDS:
        raise StoryreelError(f"backend {spec.id}: unknown kind '{spec.kind}' "
                             f"(kinds are the stages: {', '.join(BACKEND_KINDS)})")
    if spec.extra is not None and spec.extra not in EXTRAS:
        raise StoryreelError(f"backend {spec.id}: extra '{spec.extra}' is not one of "
                             f"{', '.join(EXTRAS)}")
    return spec


def specs_of(value: Any) -> list[BackendSpec]:
    """The specs an entry point's value gives: a spec, a list of them, or a callable."""
    if callable(value) and not isinstance(value, BackendSpec):
        value = value()
    values: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
    return [_checked(item) for item in values]


@cache
def table() -> Mapping[str, Mapping[str, BackendSpec]]:
    """Every backend by kind and name: the built-ins, then those of installed packages (which
    may replace a built-in of the same name). Built once per process; a broken entry point is
    logged and skipped, so that it cannot break the built-in backends."""
    found: dict[str, dict[str, BackendSpec]] = {kind: {} for kind in BACKEND_KINDS}
    for kind in BACKEND_KINDS:
        for spec in specs_of(importlib.import_module(f"storyreel.backends.{kind}").SPECS):
            found[spec.kind][spec.name] = spec
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            for spec in specs_of(entry.load()):
                found[spec.kind][spec.name] = spec
        except Exception as exc:  # a third-party package's bug
            log.warning("storyreel backend entry point %s (%s) ignored: %s", entry.name,
                        entry.value, exc)
    return MappingProxyType({kind: MappingProxyType(specs) for kind, specs in found.items()})


def known(kind: str) -> list[str]:
    """Sorted names of the backends of a kind."""
    return sorted(table().get(kind, {}))


def kinds() -> list[str]:
    """The kinds that have at least one backend, in workflow order."""
    return [kind for kind in BACKEND_KINDS if table()[kind]]


def spec(kind: str, name: str) -> BackendSpec:
    """The spec of a backend, or :class:`UnknownBackendError` naming the known ones."""
    try:
        return table()[kind][name]
    except KeyError:
        raise UnknownBackendError(
            f"unknown {kind} backend '{name}'; known {kind} backends: {', '.join(known(kind))}"
        ) from None


def stage_spec(stage: str, options: Mapping[str, Any]) -> BackendSpec | None:
    """The spec of the backend a stage's options name (None for stages without backends)."""
    if stage not in BACKEND_KINDS:
        return None
    return spec(stage, str(options["backend"]))


def attribute(target: str) -> Any:
    """The object a lazy ``module:attribute`` target names."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def voices(name: str) -> dict[str, tuple[str, ...]]:
    """A voice backend's voices and the languages each speaks (empty when it lists none)."""
    entry = spec("voice", name)
    if not entry.voices:
        return {}
    catalogue = attribute(entry.voices)
    return dict(catalogue() if callable(catalogue) else catalogue)


def languages(kind: str, name: str) -> tuple[str, ...] | None:
    """The languages a backend handles (None: any); a voice backend's are its voices'."""
    entry = spec(kind, name)
    value: Any = entry.languages
    if value is None and entry.voices:  # a voice backend speaks the languages of its voices
        return tuple(sorted({lang for spoken in voices(name).values() for lang in spoken}))
    if isinstance(value, str):
        value = attribute(value)
        value = value() if callable(value) else value
    return None if value is None else tuple(value)


def get(kind: str, name: str) -> Any:
    """Import and return the backend class (or factory).

    A backend whose optional dependency is missing raises :class:`MissingExtraError`, which
    names the pip extra to install.
    """
    entry = spec(kind, name)
    try:
        return attribute(entry.target)
    except ModuleNotFoundError as exc:
        raise _missing(entry, exc) from exc


def _missing(entry: BackendSpec, exc: ModuleNotFoundError) -> Exception:
    """A missing module as :class:`MissingExtraError` when the backend's extra provides it (a
    missing module of storyreel itself is a bug, and stays what it is)."""
    missing = exc.name or "?"
    if entry.extra and missing.split(".")[0] != "storyreel":
        return MissingExtraError(entry.id, missing, entry.extra)
    return exc


def create(stage: str, options: Mapping[str, Any]) -> Any:
    """The backend a stage's validated options name, built as ``Backend(options)`` (a backend
    that imports its heavy libraries when built reports a missing extra the same way)."""
    entry = spec(stage, str(options["backend"]))
    factory = get(stage, entry.name)
    try:
        return factory(options)
    except ModuleNotFoundError as exc:
        raise _missing(entry, exc) from exc


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
