"""``storyreel doctor``: whether this machine can run this config, in a few lines.

One line per check, each failed one naming its fix:

- **extras**: every configured backend (and fallback) has its pip extra installed (the
  registry's specs name it);
- **models**: every configured model is on this machine (a folder, or a hub id in the Hugging
  Face cache); with ``--offline`` (or ``HF_HUB_OFFLINE=1``) also that nothing will reach the
  network: the hubs switched off, language-model servers on this machine;
- **disk**: free space for the films still to make;
- **gpu**: a GPU, with the memory the configured models declare (``vram_mb``), when a configured
  backend wants one;
- **fonts**: a font for every character of the stories' titles and text (the subtitle font, else
  one fontconfig finds, as libass does);
- **ffmpeg**: the ffmpeg binary runs.

The Snakefile's ``onstart`` runs the same checks (:func:`preflight`) once the DAG is known and
before the first job: a no-op or dry run pays nothing.
"""

from __future__ import annotations

import importlib.metadata
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from storyreel.core import pipeline, registry
from storyreel.core.errors import StoryreelError
from storyreel.media import ffmpeg
from storyreel.ops import runconfig

# Disk a film takes with its intermediates, per second of narration at 1280x720 (the tiny
# story, embedded backends: 5.0 MB for 8 s = 0.63 MB/s), with room to spare.
DISK_MB_PER_S = 1.0
HD_PIXELS = 1280 * 720
# The Hugging Face hub client (transformers, diffusers and faster-whisper load through it)
# stays offline with either; HF_HUB_OFFLINE is the one to set.
HUB_OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
# The file a hub model's cache must hold, by the kind that loads it.
HUB_FILE = {"diffusers": "model_index.json", "transformers": "config.json",
            "faster-whisper": "model.bin"}
FONT_PACKAGES = "apt-get install fonts-dejavu-core fonts-noto-core"


@dataclass
class Check:
    name: str
    ok: bool
    text: str
    fix: str | None = None

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"{mark} {self.name:7} {self.text}" + (f": {self.fix}" if self.fix else "")


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    stories: int = 0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def _truthy(value: str | None) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def run_stages(rules: set[str]) -> set[str]:
    """The stages a run's jobs cover: the pipeline is a chain, so every stage between the first
    and the last of its rules (the per-shot stages are not in the DAG before the shot list)."""
    orders = [pipeline.order(r) for r in rules if r in pipeline.NAMES]
    if not orders:
        return set()
    return {s.name for s in pipeline.STAGES if min(orders) <= pipeline.order(s.name)
            <= max(orders)}


def _backends(config: dict[str, Any], stages: set[str] | None = None
              ) -> list[tuple[str, registry.BackendSpec]]:
    """(stage, spec) of every configured backend and fallback of the stages that run."""
    found = []
    for stage in pipeline.BACKEND_KINDS:
        options = config["stages"][stage]
        if pipeline.stage(stage).optional and not options.get("enabled", True):
            continue
        if stages is not None and stage not in stages:
            continue
        for name in [options["backend"], *(options.get("fallback") or [])]:
            found.append((stage, registry.spec(stage, str(name))))
    return found


def missing_packages(extra: str) -> list[str]:
    """The distributions of storyreel's ``extra`` that are not installed."""
    from packaging.requirements import Requirement

    missing = []
    for text in importlib.metadata.requires("storyreel") or []:
        req = Requirement(text)
        if req.marker is None or not req.marker.evaluate({"extra": extra}) \
                or req.marker.evaluate({"extra": ""}):
            continue
        try:
            importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(req.name)
    return missing


def check_extras(config: dict[str, Any], stages: set[str] | None = None) -> Check:
    problems, extras = [], []
    for _, spec in _backends(config, stages):
        missing = missing_packages(spec.extra) if spec.extra else []
        if missing and spec.extra not in extras:
            problems.append(f"{spec.id} needs storyreel[{spec.extra}] (missing: "
                            f"{', '.join(missing)})")
            extras.append(spec.extra)
    if not problems:
        return Check("extras", True, "every configured backend's extra is installed")
    return Check("extras", False, "; ".join(problems),
                 f"pip install 'storyreel[{','.join(extras)}]'")


def _loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _in_hub_cache(model: str, loader: str) -> bool | None:
    """Whether a hub id's files are in the Hugging Face cache (None: cannot tell here)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo = model
    if loader == "faster-whisper" and "/" not in model:
        repo = f"Systran/faster-whisper-{model}"  # faster-whisper's names for its models
    found = try_to_load_from_cache(repo, HUB_FILE[loader])
    return isinstance(found, str)


def _loader(spec: registry.BackendSpec) -> str:
    return spec.name if spec.name in HUB_FILE else "transformers"


def check_models(config: dict[str, Any], offline: bool,
                 stages: set[str] | None = None) -> list[Check]:
    problems, fixes, notes = [], [], []
    for stage, spec in _backends(config, stages):
        options = config["stages"][stage]
        model = options.get("model")
        if not spec.uses_model or not model or spec.name != options["backend"]:
            continue
        key = f"stages.{stage}.model"
        if "base_url" in options and spec.extra is None:  # a model served over HTTP
            if offline and not _loopback(str(options["base_url"])):
                problems.append(f"{spec.id} asks {options['base_url']} (offline mode)")
                fixes.append(f"serve {model} on this machine and set stages.{stage}.base_url")
            continue
        path = Path(str(model)).expanduser()
        if path.exists() or str(model).startswith(("/", ".", "~")):
            gguf = path.suffix.lower() == ".gguf"  # a single-file model (transformers reads it)
            if not (path.is_file() if gguf else path.is_dir()):
                kind = "file" if gguf else "folder"
                problems.append(f"{key}: {model} is not a {kind} here")
                fixes.append(f"copy the model to {model} or name another {kind} in {key}")
            continue
        cached = _in_hub_cache(str(model), _loader(spec))
        if cached is False:
            problems.append(f"{key}: {model} is not in the Hugging Face cache")
            fixes.append(f"hf download {model} (on a machine online; then copy the cache "
                         f"folder ~/.cache/huggingface)")
        elif cached is None:
            notes.append(f"{model} (checked once storyreel[{spec.extra}] is installed)")
    checks = [Check("models", not problems, "; ".join(problems) or (
        "every configured model is on this machine" + (f"; not yet: {', '.join(notes)}"
                                                       if notes else "")),
        "; ".join(fixes) or None)]
    if offline:
        off = any(_truthy(os.environ.get(name)) for name in HUB_OFFLINE)
        checks.append(Check("offline", off, "the model hub is switched off" if off else
                            f"{HUB_OFFLINE[0]} is not set: a missing file would be downloaded",
                            None if off else f"export {HUB_OFFLINE[0]}=1"))
    return checks


def planned_films(workdir: Path, stories: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Story id -> MB of disk its film and intermediates will take, for the stories whose film
    is still to make (not archived)."""
    planned = {}
    for story, entry in stories.items():
        folder = pipeline.story_dir(workdir, story)
        if (folder / pipeline.ARCHIVED).exists() or pipeline.path(
                folder, pipeline.FINAL.name).exists():
            continue
        try:
            w, h = ffmpeg.frame_size(str(entry.get("aspect", "16:9")))
        except StoryreelError:
            w, h = 1280, 720
        planned[story] = float(entry.get("duration_s") or 60) * DISK_MB_PER_S * w * h / HD_PIXELS
    return planned


def _size(mb: float) -> str:
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def check_disk(workdir: Path, stories: dict[str, dict[str, Any]],
               stages: set[str] | None = None) -> Check:
    planned = planned_films(workdir, stories)
    pictures = stages is None or bool(stages & set(pipeline.PER_SHOT))
    need = sum(planned.values()) * (1.0 if pictures else 0.1)  # text and audio: a tenth
    where = workdir if workdir.exists() else Path.cwd()
    free = shutil.disk_usage(where).free / 2**20
    films = f"{len(planned)} film{'' if len(planned) == 1 else 's'} to make"
    text = f"{_size(free)} free, {films} need about {_size(need)}"
    if free >= need:
        return Check("disk", True, text)
    return Check("disk", False, text, f"free {_size(need - free)} on {where} "
                 "(`storyreel clean` removes finished stories' intermediates)")


def gpus() -> list[tuple[str, float]] | None:
    """(name, memory MB) of each NVIDIA GPU, from nvidia-smi; None without nvidia-smi."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader,"
                              "nounits"], capture_output=True, text=True, timeout=10,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        name, _, memory = line.rpartition(",")
        try:
            found.append((name.strip(), float(memory)))
        except ValueError:
            continue
    return found


def check_gpu(config: dict[str, Any], stages: set[str] | None = None) -> Check:
    wanted = sorted({stage for stage, spec in _backends(config, stages)
                     if spec.gpu and spec.name == config["stages"][stage]["backend"]
                     and config["stages"][stage].get("device") != "cpu"},
                    key=pipeline.order)
    if not wanted:
        return Check("gpu", True, "no configured backend needs one")
    cards = gpus() or []
    if not cards:
        told = [s for s in wanted if str(config["stages"][s].get("device", "auto"))
                .startswith("cuda")]
        if not told:  # `auto`: the model runs on the CPU, slowly
            return Check("gpu", True, f"none found: {', '.join(wanted)} will run on the CPU "
                         "(slow)")
        return Check("gpu", False, f"{', '.join(told)}: the device is cuda and no GPU was "
                     "found (nvidia-smi)", "run on a machine with one, or set the stage's "
                     "device to auto or cpu")
    largest = max(mb for _, mb in cards)
    short = [f"stages.{s}.vram_mb is {config['stages'][s]['vram_mb']} MB" for s in wanted
             if config["stages"][s].get("vram_mb", 0) > largest]
    text = f"{len(cards)} GPU(s), the largest {cards[0][0]} with {largest:.0f} MB"
    if not short:
        return Check("gpu", True, text)
    return Check("gpu", False, f"{text}; {'; '.join(short)}",
                 "choose a smaller model, or lower vram_mb with the model's memory savers")


def _fontconfig_has(char: str) -> bool:
    """Whether fontconfig (which libass asks for a missing glyph) knows a font with ``char``."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    out = subprocess.run([fc_list, f":charset={ord(char):x}", "family"], capture_output=True,
                         text=True, timeout=20, check=False).stdout
    return bool(out.strip())


def check_fonts(stories: dict[str, dict[str, Any]]) -> Check:
    """Every character of the stories drawn by a subtitle font (the packaged and system fonts
    storyreel installs for ffmpeg, :mod:`storyreel.media.fonts`), or by one fontconfig knows
    (libass asks it for a glyph the installed fonts lack)."""
    from storyreel.media import fonts

    lacking: dict[str, str] = {}
    for story, entry in stories.items():
        for char in sorted(fonts.missing_glyphs(f"{entry.get('title') or ''} "
                                                f"{entry.get('idea') or ''}")):
            lacking.setdefault(char, story)
    missing = {c: s for c, s in list(lacking.items())[:40] if not _fontconfig_has(c)}
    if not missing:
        names = ", ".join(f.family for f in fonts.subtitle_fonts())
        return Check("fonts", True, f"{names} draw every character of the stories")
    shown = ", ".join(f"'{c}' (U+{ord(c):04X}, {s})" for c, s in list(missing.items())[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return Check("fonts", False, f"no font here draws {shown}{more}",
                 f"{FONT_PACKAGES}, or change the text")


def check_ffmpeg() -> Check:
    try:
        exe = ffmpeg.ffmpeg_exe()
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    except (StoryreelError, OSError, subprocess.SubprocessError) as exc:
        return Check("ffmpeg", False, f"cannot run ffmpeg ({exc})",
                     "pip install --force-reinstall imageio-ffmpeg")
    version = (out.split() or ["?", "?", "?"])[2] if out.startswith("ffmpeg") else "?"
    return Check("ffmpeg", True, f"ffmpeg {version}")


def run_checks(workdir: Path, config: dict[str, Any], stories: dict[str, dict[str, Any]],
               offline: bool | None = None, local: bool = True,
               stages: set[str] | None = None) -> list[Check]:
    """Every check (``stages``: only those a run covers; ``local``: the GPU too)."""
    offline = _truthy(os.environ.get("HF_HUB_OFFLINE")) if offline is None else offline
    return [check_extras(config, stages), *check_models(config, offline, stages),
            check_disk(workdir, stories, stages),
            *([check_gpu(config, stages)] if local else []), check_fonts(stories),
            check_ffmpeg()]


def examine(workdir: Path, configfiles: Sequence[str] = (), config: Sequence[str] = (),
            offline: bool | None = None) -> Report:
    """Every check for the config a run in ``workdir`` with these options would use."""
    try:
        loaded = runconfig.load(workdir, configfiles, config)
        stories = runconfig.load_stories(workdir, loaded)
    except StoryreelError as exc:
        return Report([Check("config", False, str(exc), "fix the config (docs/config.md)")])
    return Report(run_checks(workdir, loaded, stories, offline), len(stories))


def render(report: Report) -> str:
    lines = [c.line() for c in report.checks]
    if report.ok:
        lines.append(f"storyreel doctor: this machine can run this config "
                     f"({report.stories} {'story' if report.stories == 1 else 'stories'})")
    else:
        lines.append(f"storyreel doctor: this machine cannot run this config yet: "
                     f"{len(report.failed())} check(s) failed")
    return "\n".join(lines)


def preflight(workflow: Any, config: dict[str, Any], stories: dict[str, dict[str, Any]]
              ) -> str | None:
    """The checks before a run's first job (the Snakefile's onstart), for the stages its jobs
    cover: the failed ones' lines with their fixes, or None when every check passed."""
    rules = {job.rule.name for job in workflow.dag.needrun_jobs()}
    failed = [c.line() for c in run_checks(Path.cwd(), config, stories,
                                           local=workflow.local_exec,
                                           stages=run_stages(rules)) if not c.ok]
    if not failed:
        return None
    return "storyreel preflight (`storyreel doctor` checks the same):\n  " + "\n  ".join(failed)
