"""What the diffusers backends share: imports, device and dtype, model family, load records,
out-of-memory detection, memory savers and test fault injection.

Nothing here imports torch or diffusers at module level: ``import storyreel`` stays light, and a
missing extra becomes one :class:`MissingExtraError` line naming ``pip install
'storyreel[diffusers]'``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.core.errors import MissingExtraError, PermanentError, StoryreelError
from storyreel.models import families, peaks

log = logging.getLogger(__name__)

# Memory savers, tried one after another (cumulatively) when a shot runs out of GPU memory.
SAVERS = ("attention_slicing", "vae_tiling", "cpu_offload", "smaller_size")
SMALLER = 0.5  # "smaller_size": render at this share of the size, then upscale
LOADS_LOG = Path("logs") / "models" / "loads.jsonl"  # one line per model load (workdir-relative)
INJECT_ENV = "STORYREEL_INJECT_OOM"  # tests: "stage:shot[:n]" raises CUDA OOM n times (all)


class ModelOutOfMemory(PermanentError):
    """A shot ran out of GPU memory even with every memory saver (a retry would not help: the
    shot falls back at once, see ``storyreel.job.fallback``)."""


def require(backend: str) -> tuple[Any, Any]:
    """(torch, diffusers), or :class:`MissingExtraError` naming the extra."""
    try:
        import diffusers
        import torch
    except ModuleNotFoundError as exc:
        raise MissingExtraError(backend, exc.name or "diffusers", "diffusers") from exc
    return torch, diffusers


def resolve_device(option: str) -> str:
    """``auto`` is CUDA when present, else Apple MPS, else CPU; anything else as given."""
    import torch

    if option != "auto":
        return option
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(option: str, device: str) -> Any:
    """``auto`` is bfloat16 on a CUDA card that has it, float16 on other accelerators, float32
    on the CPU."""
    import torch

    if option != "auto":
        return getattr(torch, option)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32


def model_index(model: str) -> dict[str, Any]:
    """The model's ``model_index.json`` (a local folder, or a hub id through the hub's cache)."""
    path = Path(model).expanduser()
    if path.is_dir():
        index = path / "model_index.json"
        if not index.exists():
            raise StoryreelError(f"{model}: no model_index.json (not a diffusers pipeline folder)")
        return json.loads(index.read_text(encoding="utf-8"))
    from huggingface_hub import hf_hub_download

    return json.loads(Path(hf_hub_download(model, "model_index.json")).read_text("utf-8"))


def family(model: str, table: dict[str, Any], what: str) -> tuple[str, Any]:
    """(pipeline class name, family) of a model, from its ``model_index.json``."""
    name = str(model_index(model).get("_class_name", ""))
    if name not in table:
        raise StoryreelError(f"{model}: a {name or 'unknown'} pipeline is not a supported {what} "
                             f"model; supported: {', '.join(sorted(table))}")
    return name, table[name]


@dataclass(frozen=True)
class Loaded:
    """A pipeline on its device, the family it belongs to and what its config says it needs."""

    pipe: Any
    family: families.Family
    traits: families.Traits
    device: str


def load_pipeline(stage: str, options: dict[str, Any], table: dict[str, families.Family],
                  what: str) -> Loaded:
    """The pipeline ``options["model"]`` names (a hub id or a folder), of the class its
    ``model_index.json`` names (one of ``table``), on the configured device and dtype; the
    load is recorded in ``logs/models/loads.jsonl``. Both diffusers backends load through here."""
    _, diffusers = require(f"{stage}/diffusers")
    started = time.perf_counter()
    device = resolve_device(options["device"])
    dtype = resolve_dtype(options["dtype"], device)
    class_name, kind = family(options["model"], table, what)
    pipe = getattr(diffusers, class_name).from_pretrained(options["model"], dtype=dtype)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    seconds = time.perf_counter() - started
    record_load(stage, options["model"], seconds)
    traits = families.traits(pipe, kind)
    log.info("loaded %s (%s, %s) on %s as %s in %.2f s: %s", options["model"], class_name,
             kind.name, device, str(dtype).removeprefix("torch."), seconds, traits)
    return Loaded(pipe, kind, traits, device)


def batch_limit(options: dict[str, Any], family: families.Family) -> int | None:
    """Shots per pipeline call: 1 for a family whose pipeline takes one at a time, else
    ``batch`` (None: measured at the first shot, see ``storyreel.models.batching``)."""
    return options["batch"] if family.batch else 1


def memory_budget_mb(options: dict[str, Any], device: str) -> float:
    """The memory the declared resources give a model: ``vram_mb`` on a GPU, else
    ``mem_mb``."""
    return float(options["vram_mb"] if device.startswith(("cuda", "mps")) else options["mem_mb"])


def record_load(stage: str, model: str, seconds: float) -> None:
    """Append one line to ``logs/models/loads.jsonl`` (how many loads a story cost; on a
    cluster, the batch job it happened in: loads per group job)."""
    LOADS_LOG.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"stage": stage, "model": model, "pid": os.getpid(),
                       "seconds": round(seconds, 3), "time": round(time.time(), 3),
                       "slurm_job": os.environ.get("SLURM_JOB_ID")})
    with LOADS_LOG.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def loads(workdir: str | Path, stage: str | None = None) -> list[dict[str, Any]]:
    """Model loads recorded under ``workdir`` (of one stage, or all)."""
    path = Path(workdir) / LOADS_LOG
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if stage is None or r["stage"] == stage]


def count_loads(workdir: str | Path, stage: str | None = None) -> int:
    """How many model loads were recorded under ``workdir`` (of one stage, or all)."""
    return len(loads(workdir, stage))


def is_oom(exc: BaseException) -> bool:
    """Whether an exception is an accelerator out-of-memory error."""
    try:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return True
    except ImportError:  # pragma: no cover - callers have torch
        pass
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def injected_ooms(stage: str, shot: str) -> int:
    """How many CUDA OOMs a test asked to inject into this shot (``STORYREEL_INJECT_OOM``:
    ``stage:shot[:n]``, comma-separated; no ``n`` means every attempt)."""
    for item in os.environ.get(INJECT_ENV, "").split(","):
        parts = item.strip().split(":")
        if len(parts) >= 2 and parts[0] == stage and parts[1] == shot:
            return int(parts[2]) if len(parts) > 2 else 99
    return 0


def raise_oom(shot: str) -> None:
    """Raise the error torch raises when CUDA runs out of memory (injected by tests)."""
    import torch

    raise torch.cuda.OutOfMemoryError(f"CUDA out of memory (injected for {shot})")


def memory_mark(device: str) -> float:
    """Memory in use now, in MB, and a new peak from here: CUDA's allocator on a CUDA device,
    else this process's resident memory (Linux resets its high-water mark on request)."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
        return torch.cuda.memory_allocated(device) / 2**20
    import psutil

    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return float(psutil.Process().memory_info().rss / 2**20)


def memory_peak(device: str) -> float:
    """The peak memory since :func:`memory_mark`, in MB."""
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated(device) / 2**20
    return peaks.peak_rss_mb()


def free_memory() -> None:
    """Release cached accelerator memory after an out-of-memory error."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def apply_saver(pipe: Any, saver: str, device: str) -> None:
    """Switch one memory saver on (``smaller_size`` is the caller's)."""
    if saver == "attention_slicing" and hasattr(pipe, "enable_attention_slicing"):
        pipe.enable_attention_slicing()
    elif saver == "vae_tiling":
        vae = getattr(pipe, "vae", None)
        if vae is not None and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()
        elif hasattr(pipe, "enable_vae_tiling"):
            pipe.enable_vae_tiling()
    elif saver == "cpu_offload" and device.startswith("cuda"):
        pipe.enable_model_cpu_offload(device=device)


def with_savers(run: Any, pipe: Any, device: str, shot: str, inject: int = 0,
                active: list[str] | None = None,
                on_oom: Any = None) -> tuple[Any, list[str], str | None]:
    """Call ``run(scale)``; on out-of-memory, switch on the next memory saver and try again.

    ``active`` is the list of savers already on (kept on for later shots: it is updated in
    place). ``on_oom`` is called once, at the first out-of-memory error (a warm worker asks the
    other workers to free the card). Returns (result, savers used for this shot, the first OOM
    message or None); raises :class:`ModelOutOfMemory` when every saver is on and the shot still
    does not fit.
    """
    active = active if active is not None else []
    first: str | None = None
    attempt = 0
    while True:
        try:
            if attempt < inject:
                raise_oom(shot)
            scale = SMALLER if "smaller_size" in active else 1.0
            return run(scale), list(active), first
        except Exception as exc:
            if not is_oom(exc):
                raise
            if first is None and on_oom is not None:
                on_oom()
            first = first or str(exc).splitlines()[0][:200]
            free_memory()
            pending = [s for s in SAVERS if s not in active]
            if not pending:
                raise ModelOutOfMemory(
                    f"{shot}: out of GPU memory with every memory saver ({first})") from exc
            log.warning("%s: out of memory (%s); retrying with %s", shot, first, pending[0])
            apply_saver(pipe, pending[0], device)
            active.append(pending[0])
            attempt += 1


def character_sheet(plan: dict[str, Any]) -> list[str]:
    """The plan's cast descriptors, verbatim (empty for a bare shot)."""
    return [c["descriptors"] for c in plan.get("cast", [])]


def prompt_parts(plan: dict[str, Any]) -> list[str]:
    """The parts of a plan's enriched prompt, most important first: who (the character sheet,
    verbatim), doing what (who the narration names, the shot's own prompt), where (the place),
    then the look (style, light, mood); each once."""
    parts = [p for p in plan["prompt"].split("; ") if p]
    place = plan.get("place") or {}
    first = [*character_sheet(plan),
             *(p for p in parts if p.startswith("showing ")),
             *([plan["shot_prompt"]] if plan.get("shot_prompt") else []),
             *([place["descriptors"]] if place.get("descriptors") else [])]
    ordered = [*first, *(p for p in parts if p not in first)]
    return list(dict.fromkeys(p for p in ordered if p))


def shot_prompt(plan: dict[str, Any]) -> str:
    """The plan's enriched prompt, most important first (:func:`prompt_parts`)."""
    return "; ".join(prompt_parts(plan))


MAX_PROMPT_TOKENS = 512  # the longest text encoder read (T5 in SD3, FLUX, Wan)


def prompt_budget(pipe: Any) -> tuple[Any, int] | None:
    """The tokenizer of the pipeline's longest text encoder and its token limit (None without
    a tokenizer): SD 1.5 and SDXL read 77 CLIP tokens, SD3 and FLUX their T5's 256 or 512 (their
    CLIP encoders read the first 77, the most important first)."""
    found = [t for t in (getattr(pipe, name, None) for name in
                         ("tokenizer", "tokenizer_2", "tokenizer_3")) if t is not None]
    if not found:
        return None

    def limit(tokenizer: Any) -> int:
        return min(int(getattr(tokenizer, "model_max_length", 77) or 77), MAX_PROMPT_TOKENS)

    longest = max(found, key=limit)
    budget = limit(longest)
    if len(found) > 1:  # SD3, FLUX: the pipeline reads at most max_sequence_length of the T5
        import inspect

        default = inspect.signature(pipe.__call__).parameters.get("max_sequence_length")
        if default is not None and isinstance(default.default, int):
            budget = max(limit(found[0]), min(budget, default.default))
    return longest, budget


def fit_prompt(parts: list[str], tokenizer: Any, limit: int, sep: str = "; "
               ) -> tuple[str, list[str]]:
    """``parts`` joined, as many as the tokenizer's ``limit`` (its special tokens counted)
    holds, in their order (a part that does not fit is left out, later shorter ones may still
    be taken; the first is cut at a word when it alone is too long); and what was left out."""

    def count(text: str) -> int:
        return len(tokenizer(text, truncation=False, verbose=False)["input_ids"])

    kept: list[str] = []
    left: list[str] = []
    for part in parts:
        if count(sep.join([*kept, part])) <= limit:
            kept.append(part)
        elif not kept:
            words = part.split()
            while words and count(" ".join(words)) > limit:
                words.pop()
            kept.append(" ".join(words))
            left.append(" ".join(part.split()[len(words):]))
        else:
            left.append(part)
    return sep.join(p for p in kept if p), [p for p in left if p]


def fit_within(budget: tuple[Any, int] | None, parts: list[str], sep: str = "; "
               ) -> tuple[str, list[str]]:
    """``parts`` within a pipeline's :func:`prompt_budget` (all of them without one), and what
    was left out (:func:`fit_prompt`)."""
    if budget is None:
        return sep.join(parts), []
    return fit_prompt(parts, *budget, sep=sep)


def generator(seed: int) -> Any:
    """A CPU random generator seeded with the shot's seed (same noise on every device)."""
    import torch

    return torch.Generator(device="cpu").manual_seed(int(seed) % 2**63)


RUNTIME_KEYS = ("warm", "idle_s", "mem_mb", "vram_mb", "batch")  # how, not what: no rerun
MODEL_KEYS = ("model", "device", "dtype", "steps", "guidance_scale", "negative_prompt",
              "resolution", "ip_adapter", "num_frames", "native_fps", "motion_bucket_id",
              "noise_aug_strength", "decode_chunk_size")  # the diffusers backends' settings


def output_options(options: dict[str, Any], holds_model: bool) -> dict[str, Any]:
    """The part of a per-shot stage's config that shapes its output (the rule's params): the
    runtime keys are left out, and so are the model keys when the backend uses no model, so
    tuning the worker, or the model settings of an unused backend, reruns nothing."""
    drop = RUNTIME_KEYS if holds_model else RUNTIME_KEYS + MODEL_KEYS
    return {k: v for k, v in options.items() if k not in drop}


def job_options(params_options: dict[str, Any], config: dict[str, Any],
                stage: str) -> dict[str, Any]:
    """A per-shot job's full options: its params plus the runtime keys from the config."""
    block = config.get("stages", {}).get(stage, {})
    return {**params_options, **{k: block[k] for k in RUNTIME_KEYS if k in block}}
