"""Tokenizers written on the spot (no download): CLIP's byte-level BPE and T5's Unigram."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

CLIP_VOCAB = 520  # the tiny CLIP text encoders' vocabulary (514 tokens used)
CLIP_BOS, CLIP_EOS = 512, 513
T5_WORDS = ("the a and of in on at to is mara lamp tower boat light sea night girl red coat "
            "storm wave rock home slow push pull pan tilt static camera motion").split()


def byte_chars() -> list[str]:
    """The 256 printable stand-ins of bytes in byte-level BPE (GPT-2's table)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
            *range(ord("®"), ord("ÿ") + 1)]
    extra = iter(range(256, 512))
    return [chr(b) if b in keep else chr(next(extra)) for b in range(256)]


def clip_tokenizer() -> Any:
    """A CLIP tokenizer with a byte-level vocabulary and no merges (every byte one token)."""
    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory() as tmp:  # read at once; the pipeline saves its own
        return _clip_tokenizer(Path(tmp), CLIPTokenizer)


def _clip_tokenizer(folder: Path, kind: Any) -> Any:
    chars = byte_chars()
    vocab = {c: i for i, c in enumerate(chars)}
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return kind(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def t5_tokenizer(max_length: int = 512) -> Any:
    """A T5 (and UMT5) tokenizer: a Unigram vocabulary of single characters, with and without
    the word-start mark, plus a few whole words; ``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2."""
    from transformers import T5Tokenizer

    chars = string.ascii_letters + string.digits + string.punctuation
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -5.0) for c in chars] + [("\u2581" + c, -4.0) for c in chars]
    pieces += [("\u2581" + w, -1.0) for w in T5_WORDS]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=max_length)
