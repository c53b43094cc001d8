"""A local Hugging Face causal language model as a chat model (``script/transformers`` and
``vision/transformers``).

``model`` is anything ``AutoModelForCausalLM.from_pretrained`` loads (a hub id, a local folder),
or a GGUF file, or a folder holding one GGUF file (:func:`model_source`): transformers reads it
with ``gguf_file=`` (the ``gguf`` package) and dequantises the weights to the dtype asked for.
The prompt goes through the tokenizer's chat template when it has one (instruction-tuned
models), else a plain ``System:/User:/Assistant:`` transcript. Device and dtype are chosen
automatically (CUDA with bfloat16 or float16 when there is a GPU, else CPU with float32) and can
be set with ``device_map`` and ``torch_dtype``. Sampling is seeded (``transformers.set_seed``),
so a seed gives the same answer on the same machine and library versions.

With ``decoding: schema`` (the default) an answer asked for with a JSON schema is generated
under it (:mod:`.constrained`), so it parses and validates whatever the model. The answer's
token budget is the caller's (derived from the story's word budget) capped by
``max_new_tokens``.

The model is loaded once per process (per job) and reused for every call inside it:
:func:`load` caches it by (model, device, dtype) and counts loads; :func:`usage` reports the
loads, the load time and the peak memory; :class:`LocalChat` counts its answers, their tokens
and the seconds spent generating (tokens per second) for the stage's artifact.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import transformers

from storyreel.core.errors import MissingExtraError, PermanentError
from storyreel.models.peaks import LoadStats

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class ModelLoadError(PermanentError):
    """The model cannot be loaded (a wrong path, a file of another kind): no retry helps."""


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    device: str
    dtype: str
    grammars: dict[str, Any] = field(default_factory=dict)  # .constrained's per-model cache


_CACHE: dict[tuple[str, str, str], Loaded] = {}
_STATS = LoadStats()


def pick_device(device_map: str) -> str:
    """``auto`` → ``cuda`` when a GPU is there, else ``cpu``; anything else as given."""
    if device_map == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device_map


def pick_dtype(torch_dtype: str, device: str) -> str:
    """``auto`` → bfloat16 (or float16) on CUDA, float32 on CPU; anything else as given."""
    if torch_dtype != "auto":
        return torch_dtype
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float32"


def model_source(model_id: str) -> tuple[str, dict[str, Any]]:
    """Where ``from_pretrained`` loads ``model_id`` from, and the keyword naming its GGUF file:
    a ``.gguf`` file → (its folder, ``gguf_file``); a folder without ``config.json`` holding one
    ``.gguf`` file → the same; anything else (a hub id, a Hugging Face folder) as it is."""
    path = Path(model_id).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelLoadError(f"transformers: no GGUF file at {model_id}")
        return str(path.parent), {"gguf_file": path.name}
    if path.is_dir() and not (path / "config.json").is_file():
        found = sorted(p.name for p in path.glob("*.gguf"))
        if len(found) == 1:
            return str(path), {"gguf_file": found[0]}
        if found:
            raise ModelLoadError(
                f"transformers: {model_id} holds {len(found)} GGUF files "
                f"({', '.join(found[:4])}); name one as model: {model_id}/{found[0]}")
    return model_id, {}


def load(model_id: str, device_map: str = "auto", torch_dtype: str = "auto") -> Loaded:
    """The model and tokenizer, loaded on the first call of a process and reused after."""
    device = pick_device(device_map)
    dtype = pick_dtype(torch_dtype, device)
    key = (model_id, device, dtype)
    if key in _CACHE:
        return _CACHE[key]
    started = time.perf_counter()
    source, gguf = model_source(model_id)
    log.info("transformers: loading %s on %s (%s)", model_id, device, dtype)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, **gguf)
        kwargs: dict[str, Any] = {"dtype": DTYPES[dtype], **gguf}
        if device_map != "auto" and not device_map.startswith(("cpu", "cuda")):
            kwargs["device_map"] = device_map  # e.g. "balanced" across GPUs (accelerate)
        model = transformers.AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except ImportError as exc:  # transformers names the package GGUF files need
        if gguf and "gguf" in str(exc).lower():
            raise MissingExtraError("transformers", "gguf", "llm") from None
        raise
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"transformers: cannot load model '{model_id}': "
                             f"{str(exc).splitlines()[0]}") from None
    if "device_map" not in kwargs:
        model = model.to(device)
    model.eval()
    _STATS.add(time.perf_counter() - started)
    _CACHE[key] = Loaded(model, tokenizer, device, dtype)
    return _CACHE[key]


def usage() -> dict[str, Any]:
    """Model loads in this process, their time, and the peak memory (RSS, and GPU when used)."""
    record: dict[str, Any] = dict(_STATS.record())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        record["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return record


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """A transcript prompt for tokenizers without a chat template."""
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join(lines) + "\n\nAssistant:"


class LocalChat:
    """A local causal LM as a :class:`storyreel.models.chat.ChatModel`.

    Options: model, device_map, torch_dtype, temperature, max_new_tokens, decoding,
    repetition_penalty.
    """

    name = "transformers"

    def __init__(self, options: dict[str, Any]) -> None:
        self.model = str(options["model"])
        self.temperature = float(options["temperature"])
        self.max_new_tokens = int(options["max_new_tokens"])
        self.decoding = str(options["decoding"])
        self.repetition_penalty = float(options["repetition_penalty"])
        self.loaded = load(self.model, str(options["device_map"]), str(options["torch_dtype"]))
        self.counts = {"answers": 0, "new_tokens": 0, "prompt_tokens": 0, "generate_s": 0.0,
                       "grammar_s": 0.0}

    def stats(self) -> dict[str, Any]:
        """Answers, tokens and seconds of this chat's generations (for the artifact)."""
        counts = dict(self.counts)
        seconds = counts["generate_s"]
        counts["generate_s"] = round(seconds, 2)
        counts["grammar_s"] = round(counts["grammar_s"], 2)
        counts["tokens_per_s"] = round(counts["new_tokens"] / seconds, 2) if seconds else None
        counts["decoding"] = self.decoding
        return counts

    def _inputs(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        tokenizer = self.loaded.tokenizer
        if getattr(tokenizer, "chat_template", None):
            inputs = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        else:
            inputs = tokenizer(plain_prompt(messages), return_tensors="pt")
        return {k: v.to(self.loaded.model.device) for k, v in inputs.items()}

    def chat(self, messages: list[dict[str, str]], schema: dict[str, Any] | None, seed: int,
             temperature: float | None = None, max_tokens: int | None = None) -> str:
        """Generate the assistant's answer, under ``schema`` with ``decoding: schema``, in at
        most ``max_tokens`` (capped by ``max_new_tokens``) new tokens."""
        tokenizer, model = self.loaded.tokenizer, self.loaded.model
        inputs = self._inputs(messages)
        processors = None
        if schema is not None and self.decoding == "schema":
            from storyreel.models.chat import constrained

            started = time.perf_counter()
            processors = [constrained.processor(self.loaded, schema)]
            self.counts["grammar_s"] += time.perf_counter() - started
        transformers.set_seed(seed)
        heat = self.temperature if temperature is None else temperature
        sampling = heat > 0
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (
            tokenizer.eos_token_id)
        budget = min(self.max_new_tokens, max_tokens or self.max_new_tokens)
        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(
                **inputs, max_new_tokens=budget, do_sample=sampling,
                temperature=heat if sampling else None, top_p=0.95 if sampling else None,
                top_k=None, pad_token_id=pad, logits_processor=processors, use_cache=True,
                repetition_penalty=self.repetition_penalty)
        new = output[0, inputs["input_ids"].shape[1]:]
        self.counts["generate_s"] += time.perf_counter() - started
        self.counts["answers"] += 1
        self.counts["new_tokens"] += int(new.shape[0])
        self.counts["prompt_tokens"] += int(inputs["input_ids"].shape[1])
        return str(tokenizer.decode(new, skip_special_tokens=True))
