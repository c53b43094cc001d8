"""Constrained decoding for local models: the answer's JSON schema compiled into a grammar that
masks the model's logits at every step, so that any causal LM, however small, returns JSON that
parses and follows the schema (field names, enums, array sizes). What a schema cannot say (the
narration's length and language, the premise's nouns) is still checked after, and repaired in a
further turn (:mod:`.structured`).

The library is xgrammar (Apache-2.0; the MLC team's structured-generation engine, the default of
vLLM, SGLang and TensorRT-LLM), through its transformers ``LogitsProcessor``. Measured against
the two other maintained candidates on SmolLM2's 49 152-token vocabulary and the script's schema
(docs/models.md, "Constrained decoding"): xgrammar compiles the schema in 0.05 s and masks a step
in 0.16 ms (median), far below a forward pass of even a 135M model on a CPU; outlines-core needed
74 s and 2.3 GB to build its index for the same schema (with string-length bounds); and
lm-format-enforcer 0.11.3 does not import with transformers 5 (``transformers.tokenization_utils``
is gone) and its JSON parser refused a valid token (``."``,) of a valid answer.

The grammar keeps the order of the schema's properties, and its string and list bounds
(``minLength``, ``maxLength``, ``maxItems``: 0.3-1.1 s of compilation per schema on this
machine), so that a small model that rambles fills each field to its bound and still closes its
JSON within the answer's token budget. Whitespace outside strings is not allowed
(``any_whitespace=False``), so a model cannot spend its budget on blank lines.
"""

from __future__ import annotations

import json
from typing import Any

import xgrammar

from storyreel.models.chat.local import Loaded

COMPILER = "compiler"  # the key of the model's grammar compiler in Loaded.grammars


def vocab_size(loaded: Loaded) -> int:
    """The width of the model's logits (which may exceed the tokenizer's vocabulary)."""
    head = loaded.model.get_output_embeddings()
    if head is not None and getattr(head, "weight", None) is not None:
        return int(head.weight.shape[0])
    return int(loaded.model.config.vocab_size)


def stop_tokens(loaded: Loaded) -> list[int]:
    """The ids that end an answer: the generation config's end-of-sequence ids and the
    tokenizer's."""
    ids = loaded.model.generation_config.eos_token_id
    found = list(ids) if isinstance(ids, list | tuple) else ([ids] if ids is not None else [])
    if loaded.tokenizer.eos_token_id is not None:
        found.append(loaded.tokenizer.eos_token_id)
    return sorted({int(i) for i in found})


def compiler(loaded: Loaded) -> Any:
    """The model's grammar compiler (built once per loaded model; it caches what it compiles)."""
    if COMPILER not in loaded.grammars:
        info = xgrammar.TokenizerInfo.from_huggingface(
            loaded.tokenizer, vocab_size=vocab_size(loaded), stop_token_ids=stop_tokens(loaded))
        loaded.grammars[COMPILER] = xgrammar.GrammarCompiler(info)
    return loaded.grammars[COMPILER]


def grammar(loaded: Loaded, schema: dict[str, Any]) -> Any:
    """``schema`` compiled for the model's tokenizer (once per schema and model)."""
    key = json.dumps(schema)  # in the schema's own order: the grammar keeps properties' order
    if key not in loaded.grammars:
        loaded.grammars[key] = compiler(loaded).compile_json_schema(
            key, any_whitespace=False, strict_mode=True)
    return loaded.grammars[key]


def processor(loaded: Loaded, schema: dict[str, Any]) -> Any:
    """A fresh logits processor for one ``generate`` call under ``schema`` (xgrammar's
    processor keeps the matcher's state, so it serves one call only)."""
    from xgrammar.contrib.hf import LogitsProcessor

    return LogitsProcessor(grammar(loaded, schema))
