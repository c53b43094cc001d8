"""``score/clip``: a CLIP-family model through transformers (CLIP, SigLIP, any checkpoint with
``get_image_features`` and ``get_text_features``), by hub id or local folder.

Pictures go through the model's own processor (resized and centre-cropped to its input square:
the whole frame is scored, no crop of our own); texts are cut to the text encoder's token budget
(77 tokens for CLIP). Embeddings come back as unit vectors. The model is loaded once per process;
the stages call it in its warm worker (:mod:`storyreel.models.worker`), one load per stage.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from storyreel.models import diffusion
from storyreel.models.peaks import LoadStats

log = logging.getLogger(__name__)


def _features(output: Any) -> Any:
    """The projected embeddings: transformers 5 returns them as ``pooler_output``."""
    return getattr(output, "pooler_output", output)


class ClipScorer:
    """Unit-length picture and text embeddings from a CLIP-family model."""

    name = "clip"

    def __init__(self, options: dict[str, Any]) -> None:
        import torch
        import transformers

        self.torch = torch
        self.model = str(options["model"])
        self.batch = int(options["batch_size"])
        self.stats = LoadStats()
        started = time.perf_counter()
        self.device = diffusion.resolve_device(options["device"])
        dtype = diffusion.resolve_dtype(options["dtype"], self.device)
        self.net = transformers.AutoModel.from_pretrained(self.model, dtype=dtype)
        self.net.to(self.device).eval()
        self.processor = transformers.AutoProcessor.from_pretrained(self.model)
        config = getattr(self.net.config, "text_config", None)
        self.max_tokens = int(getattr(config, "max_position_embeddings", 77) or 77)
        self.stats.add(time.perf_counter() - started)
        log.info("loaded the scorer %s on %s in %.2f s", self.model, self.device,
                 self.stats.load_s)

    def _unit(self, tensor: Any) -> list[list[float]]:
        tensor = tensor.float()
        tensor = tensor / tensor.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return [[round(float(x), 6) for x in row] for row in tensor.cpu()]

    def embed_images(self, paths: list[str]) -> list[list[float]]:
        from PIL import Image

        out: list[list[float]] = []
        for start in range(0, len(paths), self.batch):
            images = []
            for path in paths[start:start + self.batch]:
                with Image.open(path) as img:
                    images.append(img.convert("RGB"))
            pixels = self.processor(images=images, return_tensors="pt")["pixel_values"]
            with self.torch.inference_mode():
                features = self.net.get_image_features(
                    pixel_values=pixels.to(self.device, self.net.dtype))
            out += self._unit(_features(features))
        return out

    def embed_texts(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch):
            tokens = self.processor(text=texts[start:start + self.batch], padding=True,
                                    truncation=True, max_length=self.max_tokens,
                                    return_tensors="pt")
            inputs = {k: v.to(self.device) for k, v in tokens.items()
                      if k in ("input_ids", "attention_mask")}
            with self.torch.inference_mode():
                features = self.net.get_text_features(**inputs)
            out += self._unit(_features(features))
        return out
