"""A local Hugging Face causal language model as a chat model (``script/transformers`` and
``vision/transformers``).

Any model id or local folder that ``AutoModelForCausalLM.from_pretrained`` loads. The prompt goes
through the tokenizer's chat template when it has one (instruction-tuned models), else a plain
``System:/User:/Assistant:`` transcript. Device and dtype are chosen automatically (CUDA with
bfloat16 or float16 when there is a GPU, else CPU with float32) and can be set with
``device_map`` and ``torch_dtype``. Sampling is seeded (``transformers.set_seed``), so a seed
gives the same script on the same machine and library versions.

The model is loaded once per process (per job) and reused for every call inside it:
:func:`load` caches it by (model, device, dtype) and counts loads; :func:`usage` reports the
loads, the load time and the peak memory for the stage's artifact and the manifest.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import torch
import transformers

from storyreel.core.errors import StoryreelError
from storyreel.models.peaks import LoadStats

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    device: str
    dtype: str


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


def load(model_id: str, device_map: str = "auto", torch_dtype: str = "auto") -> Loaded:
    """The model and tokenizer, loaded on the first call of a process and reused after."""
    device = pick_device(device_map)
    dtype = pick_dtype(torch_dtype, device)
    key = (model_id, device, dtype)
    if key in _CACHE:
        return _CACHE[key]
    started = time.perf_counter()
    log.info("transformers: loading %s on %s (%s)", model_id, device, dtype)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_id)
        kwargs: dict[str, Any] = {"dtype": DTYPES[dtype]}
        if device_map != "auto" and not device_map.startswith(("cpu", "cuda")):
            kwargs["device_map"] = device_map  # e.g. "balanced" across GPUs (accelerate)
        model = transformers.AutoModelForCausalLM.from_pretrained(model_id, **kwargs)
    except (OSError, ValueError) as exc:
        raise StoryreelError(f"transformers: cannot load model '{model_id}': "
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

    Options: model, device_map, torch_dtype, temperature, max_new_tokens.
    """

    name = "transformers"

    def __init__(self, options: dict[str, Any]) -> None:
        self.model = str(options["model"])
        self.temperature = float(options["temperature"])
        self.max_new_tokens = int(options["max_new_tokens"])
        self.loaded = load(self.model, str(options["device_map"]), str(options["torch_dtype"]))

    def chat(self, messages: list[dict[str, str]], schema: dict[str, Any] | None,
             seed: int) -> str:
        """Generate the assistant's answer (``schema`` is stated in the prompt only)."""
        tokenizer, model = self.loaded.tokenizer, self.loaded.model
        if getattr(tokenizer, "chat_template", None):
            inputs = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        else:
            inputs = tokenizer(plain_prompt(messages), return_tensors="pt")
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        transformers.set_seed(seed)
        sampling = self.temperature > 0
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (
            tokenizer.eos_token_id)
        with torch.inference_mode():
            output = model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=sampling,
                temperature=self.temperature if sampling else None,
                top_p=0.95 if sampling else None, pad_token_id=pad)
        new = output[0, inputs["input_ids"].shape[1]:]
        return str(tokenizer.decode(new, skip_special_tokens=True))
