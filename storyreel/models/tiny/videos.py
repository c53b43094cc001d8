"""Tiny random image-to-video pipelines, one per family the video backend names: Stable Video
Diffusion, LTX-Video, CogVideoX and Wan 2.1, each of its real classes."""

from __future__ import annotations

from pathlib import Path

from storyreel.models.tiny.parts import T5_DIM, save, seeded, t5_encoder


def svd(out: Path) -> Path:
    """Stable Video Diffusion: a spatio-temporal UNet, a temporal-decoder VAE and a CLIP image
    encoder (SVD resizes the keyframe to 224 for it)."""
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor

    unet = seeded(  # its blocks need multiples of 32 channels
        UNetSpatioTemporalConditionModel, block_out_channels=(32, 64), layers_per_block=1,
        sample_size=16, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=16, num_attention_heads=4, num_frames=8,
        projection_class_embeddings_input_dim=3 * 8, addition_time_embed_dim=8)
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
        interpolation_type="linear", num_train_timesteps=1000, prediction_type="v_prediction",
        sigma_max=700.0, sigma_min=0.002, steps_offset=1, timestep_spacing="leading",
        timestep_type="continuous", use_karras_sigmas=True)
    vae = seeded(AutoencoderKLTemporalDecoder, block_out_channels=(32, 64), in_channels=3,
                 out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2, latent_channels=4)
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=_clip_vision(16, 224, 28),
                                        unet=unet, scheduler=scheduler,
                                        feature_extractor=CLIPImageProcessor(crop_size=224,
                                                                             size=224))
    return save(pipe, out)


def _clip_vision(hidden: int, image_size: int, patch: int,  # type: ignore[no-untyped-def]
                 projection: bool = True):
    from transformers import CLIPVisionConfig, CLIPVisionModel, CLIPVisionModelWithProjection

    kind = CLIPVisionModelWithProjection if projection else CLIPVisionModel
    return seeded(kind, CLIPVisionConfig(
        hidden_size=hidden, projection_dim=hidden, num_hidden_layers=2, num_attention_heads=2,
        image_size=image_size, intermediate_size=2 * hidden, patch_size=patch))


def ltx(out: Path) -> Path:
    """LTX-Video: a video transformer over a causal video VAE (here 4x in space and time, the
    real one 32x and 8x), a T5 encoder, flow matching."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXVideoTransformer3DModel,
    )

    transformer = seeded(LTXVideoTransformer3DModel, in_channels=8, out_channels=8,
                         patch_size=1, patch_size_t=1, num_attention_heads=2,
                         attention_head_dim=8, cross_attention_dim=16, num_layers=1,
                         caption_channels=T5_DIM)
    vae = seeded(AutoencoderKLLTXVideo, in_channels=3, out_channels=3, latent_channels=8,
                 block_out_channels=(8,) * 4, decoder_block_out_channels=(8,) * 4,
                 layers_per_block=(1,) * 5, decoder_layers_per_block=(1,) * 5,
                 spatio_temporal_scaling=(True, True, False, False),
                 decoder_spatio_temporal_scaling=(True, True, False, False),
                 decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4,
                 upsample_factor=(1,) * 4, timestep_conditioning=False, patch_size=1,
                 patch_size_t=1, encoder_causal=True, decoder_causal=False)
    vae.use_framewise_encoding = vae.use_framewise_decoding = False
    t5, tokenizer = t5_encoder()
    pipe = LTXImageToVideoPipeline(transformer=transformer, vae=vae, text_encoder=t5,
                                   tokenizer=tokenizer,
                                   scheduler=FlowMatchEulerDiscreteScheduler())
    return save(pipe, out)


def cogvideox(out: Path) -> Path:
    """CogVideoX image-to-video: a 3D transformer with learned positional embeddings (so, like
    CogVideoX-5b-I2V, it draws at its sample size only), a 3D VAE (8x in space, 4x in time),
    a T5 encoder, DDIM."""
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
        DDIMScheduler,
    )

    transformer = seeded(CogVideoXTransformer3DModel, num_attention_heads=2,
                         attention_head_dim=16, in_channels=8, out_channels=4,
                         time_embed_dim=2, text_embed_dim=T5_DIM, num_layers=1,
                         sample_width=4, sample_height=2, sample_frames=9, patch_size=2,
                         temporal_compression_ratio=4, max_text_seq_length=16,
                         use_rotary_positional_embeddings=True,
                         use_learned_positional_embeddings=True)
    vae = seeded(AutoencoderKLCogVideoX, in_channels=3, out_channels=3,
                 down_block_types=("CogVideoXDownBlock3D",) * 4,
                 up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8,) * 4,
                 latent_channels=4, layers_per_block=1, norm_num_groups=2,
                 temporal_compression_ratio=4)
    t5, tokenizer = t5_encoder()
    pipe = CogVideoXImageToVideoPipeline(tokenizer=tokenizer, text_encoder=t5, vae=vae,
                                         transformer=transformer, scheduler=DDIMScheduler())
    return save(pipe, out)


def wan(out: Path) -> Path:
    """Wan 2.1 image-to-video: a 3D transformer conditioned on the keyframe's CLIP image
    embedding and its VAE latents, a UMT5 encoder, flow matching."""
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import CLIPImageProcessor

    vae = seeded(AutoencoderKLWan, base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1],
                 num_res_blocks=1, temperal_downsample=[False, True, True])
    transformer = seeded(WanTransformer3DModel, patch_size=(1, 2, 2), num_attention_heads=2,
                         attention_head_dim=12, in_channels=16 + 4 + 16, out_channels=16,
                         text_dim=T5_DIM, freq_dim=256, ffn_dim=32, num_layers=2,
                         cross_attn_norm=True, qk_norm="rms_norm_across_heads",
                         rope_max_seq_len=32, image_dim=8)
    umt5, tokenizer = t5_encoder(umt5=True)
    pipe = WanImageToVideoPipeline(tokenizer=tokenizer, text_encoder=umt5, vae=vae,
                                   scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
                                   transformer=transformer,
                                   image_encoder=_clip_vision(8, 32, 4, projection=False),
                                   image_processor=CLIPImageProcessor(crop_size=32, size=32))
    return save(pipe, out)
