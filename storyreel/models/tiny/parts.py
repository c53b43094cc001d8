"""Small components several tiny pipelines share: a VAE, CLIP text encoders, a T5 encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyreel.models.tiny.tokenizers import CLIP_BOS, CLIP_EOS, CLIP_VOCAB, t5_tokenizer

T5_DIM = 32  # the tiny T5/UMT5 encoders' width (the denoisers' text dimension)


def seeded(build: Any, *args: Any, **kwargs: Any) -> Any:
    """A component built right after ``torch.manual_seed(0)`` (the same weights every time)."""
    import torch

    torch.manual_seed(0)
    return build(*args, **kwargs)


def image_vae(latent_channels: int = 4, **extra: Any) -> Any:
    """A two-block image VAE (8 times smaller than SD's in channels, spatial factor 2)."""
    from diffusers import AutoencoderKL

    return seeded(AutoencoderKL, block_out_channels=(8, 16), in_channels=3, out_channels=3,
                  down_block_types=("DownEncoderBlock2D",) * 2,
                  up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=latent_channels,
                  norm_num_groups=4, sample_size=32, **extra)


def clip_text(hidden: int = 16, projection: bool = False) -> Any:
    """A two-layer CLIP text encoder (with a projection: SDXL's second, SD3's two)."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(bos_token_id=CLIP_BOS, eos_token_id=CLIP_EOS,
                            pad_token_id=CLIP_EOS, hidden_size=hidden,
                            intermediate_size=2 * hidden, layer_norm_eps=1e-05,
                            num_attention_heads=2, num_hidden_layers=2, vocab_size=CLIP_VOCAB,
                            projection_dim=hidden)
    return seeded(CLIPTextModelWithProjection if projection else CLIPTextModel, config)


def t5_encoder(umt5: bool = False) -> Any:
    """A two-layer T5 (or UMT5: Wan's) encoder and its tokenizer, in eval mode (no dropout)."""
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    tokenizer = t5_tokenizer()
    kind, model = (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    config = kind(vocab_size=len(tokenizer), d_model=T5_DIM, d_kv=8, d_ff=37, num_layers=2,
                  num_heads=4, relative_attention_num_buckets=8, pad_token_id=0,
                  eos_token_id=1, decoder_start_token_id=0)
    return seeded(model, config).eval(), tokenizer


def save(pipe: Any, out: Path) -> Path:
    """Save a tiny pipeline where the backends load it from (``save_pretrained``)."""
    pipe.save_pretrained(out)
    return out
