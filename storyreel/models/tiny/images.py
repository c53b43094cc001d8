"""Tiny random text-to-image pipelines, one per family the keyframes backend names: SD 1.5,
SDXL, SD3 and FLUX, each of its real classes (UNet or transformer, VAE, text encoders and
tokenizers, scheduler)."""

from __future__ import annotations

from pathlib import Path

from storyreel.models.tiny.parts import T5_DIM, clip_text, image_vae, save, seeded, t5_encoder
from storyreel.models.tiny.tokenizers import clip_tokenizer

# SD3's and FLUX's VAE: no quant convolutions, latents shifted and scaled
FLOW_VAE = {"use_quant_conv": False, "use_post_quant_conv": False, "shift_factor": 0.0609,
            "scaling_factor": 1.5}


def _unet(**extra: object):  # type: ignore[no-untyped-def]
    from diffusers import UNet2DConditionModel

    return seeded(UNet2DConditionModel, block_out_channels=(8, 16), layers_per_block=1,
                  sample_size=16, in_channels=4, out_channels=4,
                  down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                  up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), norm_num_groups=4,
                  **extra)


def sd15(out: Path) -> Path:
    """Stable Diffusion 1.5: a UNet, a VAE, one CLIP text encoder, DDIM."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline

    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              steps_offset=1, clip_sample=False, set_alpha_to_one=False)
    pipe = StableDiffusionPipeline(
        vae=image_vae(), text_encoder=clip_text(), tokenizer=clip_tokenizer(),
        unet=_unet(cross_attention_dim=16, attention_head_dim=2), scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    return save(pipe, out)


def sdxl(out: Path) -> Path:
    """SDXL: a UNet with text-and-time conditioning, two CLIP text encoders (the second with a
    projection: its pooled output and the six size numbers condition the UNet)."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline

    unet = _unet(cross_attention_dim=32, attention_head_dim=(2, 4), use_linear_projection=True,
                 addition_embed_type="text_time", addition_time_embed_dim=8,
                 projection_class_embeddings_input_dim=6 * 8 + 16)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, steps_offset=1,
                                       beta_schedule="scaled_linear", timestep_spacing="leading")
    tokenizer = clip_tokenizer()
    pipe = StableDiffusionXLPipeline(
        vae=image_vae(), text_encoder=clip_text(), text_encoder_2=clip_text(projection=True),
        tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet, scheduler=scheduler)
    return save(pipe, out)


def sd3(out: Path) -> Path:
    """Stable Diffusion 3: an MMDiT transformer, two CLIP encoders with projections and a T5
    encoder, flow matching."""
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        SD3Transformer2DModel,
        StableDiffusion3Pipeline,
    )

    transformer = seeded(SD3Transformer2DModel, sample_size=16, patch_size=2, in_channels=4,
                         out_channels=4, num_layers=1, attention_head_dim=8,
                         num_attention_heads=2, caption_projection_dim=16,
                         joint_attention_dim=T5_DIM, pooled_projection_dim=2 * 16,
                         pos_embed_max_size=64)
    t5, t5_tokenizer = t5_encoder()
    tokenizer = clip_tokenizer()
    pipe = StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=image_vae(**FLOW_VAE),
        text_encoder=clip_text(projection=True), tokenizer=tokenizer,
        text_encoder_2=clip_text(projection=True), tokenizer_2=tokenizer,
        text_encoder_3=t5, tokenizer_3=t5_tokenizer)
    return save(pipe, out)


def flux(out: Path) -> Path:
    """FLUX.1: a double- and single-stream transformer over 2x2-packed latents, a CLIP encoder
    (pooled) and a T5 encoder, flow matching."""
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

    transformer = seeded(FluxTransformer2DModel, patch_size=1, in_channels=4 * 4,
                         num_layers=1, num_single_layers=1, attention_head_dim=16,
                         num_attention_heads=2, joint_attention_dim=T5_DIM,
                         pooled_projection_dim=16, axes_dims_rope=[4, 4, 8])
    t5, t5_tokenizer = t5_encoder()
    pipe = FluxPipeline(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(),
                        vae=image_vae(**FLOW_VAE),
                        text_encoder=clip_text(), tokenizer=clip_tokenizer(),
                        text_encoder_2=t5, tokenizer_2=t5_tokenizer)
    return save(pipe, out)
