"""A tiny CLIP built offline (tests and benchmarks): random, or trained for a few seconds on
drawn shapes and colour words so that its scores mean something.

Saved with ``save_pretrained`` (model and processor, with the byte-level CLIP tokenizer written on
the spot), so the ``score/clip`` backend loads it through the same ``from_pretrained`` path a user's
CLIP takes.
"""

from __future__ import annotations

import random
from pathlib import Path

from storyreel.models.tiny.tokenizers import clip_tokenizer

CLIP_DIR = "tiny-clip"
SIZE = 16  # pixels of the tiny model's input square
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 70, 220)}
SHAPES = ("circle", "square")


def draw(colour: str, shape: str, size: int = 64, jitter: random.Random | None = None):  # noqa: ANN201
    """A picture of one coloured shape on white (PIL image)."""
    from PIL import Image, ImageDraw

    rng = jitter or random.Random(0)  # noqa: S311
    image = Image.new("RGB", (size, size), (245, 245, 245))
    pen = ImageDraw.Draw(image)
    r = size * rng.uniform(0.22, 0.34)
    cx, cy = size * rng.uniform(0.4, 0.6), size * rng.uniform(0.4, 0.6)
    box = (cx - r, cy - r, cx + r, cy + r)
    (pen.ellipse if shape == "circle" else pen.rectangle)(box, fill=COLOURS[colour])
    return image


def caption(colour: str, shape: str) -> str:
    return f"a {colour} {shape}"


def build_tiny_clip(root: str | Path, train_steps: int = 0, seed: int = 0) -> Path:
    """A tiny CLIP (2 layers, 32 wide, 32-pixel input) under ``root``; with ``train_steps``,
    trained contrastively on :func:`draw`'s pictures and their :func:`caption` first."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    out = Path(root) / (CLIP_DIR + (f"-trained{train_steps}" if train_steps else ""))
    if (out / "config.json").exists():
        return out
    tokenizer = clip_tokenizer()
    special = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
               "pad_token_id": tokenizer.eos_token_id}
    config = CLIPConfig(
        text_config=dict(hidden_size=32, intermediate_size=64, num_attention_heads=4,
                         num_hidden_layers=2, vocab_size=len(tokenizer),
                         max_position_embeddings=77, projection_dim=32, **special),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_attention_heads=4,
                           num_hidden_layers=2, image_size=SIZE, patch_size=4,
                           projection_dim=32),
        projection_dim=32)
    torch.manual_seed(seed)
    model = CLIPModel(config)
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(
        size={"shortest_edge": SIZE}, crop_size={"height": SIZE, "width": SIZE}),
        tokenizer=tokenizer)
    if train_steps:
        _train(model, processor, train_steps, seed)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def _train(model, processor, steps: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Contrastive training on every colour and shape, a batch of all six a step."""
    import torch

    rng = random.Random(seed)  # noqa: S311
    pairs = [(c, s) for c in COLOURS for s in SHAPES]
    texts = processor(text=[caption(c, s) for c, s in pairs], padding=True, return_tensors="pt")
    optimiser = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    for _ in range(steps):
        images = [draw(c, s, jitter=rng) for c, s in pairs]
        pixels = processor(images=images, return_tensors="pt")["pixel_values"]
        loss = model(input_ids=texts["input_ids"], attention_mask=texts["attention_mask"],
                     pixel_values=pixels, return_loss=True).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
