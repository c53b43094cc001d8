"""A tiny random IP-Adapter for the tiny SD 1.5 pipeline, in the hub's file layout."""

from __future__ import annotations

from pathlib import Path

IP_ADAPTER_DIR = "tiny-ip-adapter"
IP_ADAPTER_WEIGHTS = "ip-adapter_tiny.safetensors"


def build_tiny_ip_adapter(root: str | Path, sd: str | Path) -> Path:
    """A tiny random IP-Adapter for the tiny SD pipeline ``sd``, in the layout of the hub's
    ``h94/IP-Adapter``: ``models/image_encoder/`` (a CLIP vision model) and
    ``models/ip-adapter_tiny.safetensors`` (image projection and the cross-attention key/value
    projections, keyed as diffusers' ``load_ip_adapter`` reads them)."""
    import torch
    from diffusers import UNet2DConditionModel
    from diffusers.models.attention_processor import IPAdapterAttnProcessor
    from diffusers.models.embeddings import ImageProjection
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    out = Path(root) / IP_ADAPTER_DIR
    if (out / "models" / IP_ADAPTER_WEIGHTS).exists():
        return out
    unet = UNet2DConditionModel.from_pretrained(Path(sd) / "unet")
    dim = unet.config.cross_attention_dim
    channels = list(unet.config.block_out_channels)
    torch.manual_seed(0)
    weights: dict[str, torch.Tensor] = {}
    cross = [n for n in unet.attn_processors if not n.endswith("attn1.processor")]
    for key_id, name in enumerate(cross):  # diffusers numbers them 1, 3, 5, ...
        block = int(name.split(".")[1]) if not name.startswith("mid_block") else -1
        hidden = channels[-1] if block < 0 else (
            channels[::-1][block] if name.startswith("up_blocks") else channels[block])
        proc = IPAdapterAttnProcessor(hidden_size=hidden, cross_attention_dim=dim).state_dict()
        weights[f"ip_adapter.{2 * key_id + 1}.to_k_ip.weight"] = proc["to_k_ip.0.weight"]
        weights[f"ip_adapter.{2 * key_id + 1}.to_v_ip.weight"] = proc["to_v_ip.0.weight"]
    projection = ImageProjection(cross_attention_dim=dim, image_embed_dim=dim,
                                 num_image_text_embeds=4).state_dict()
    weights.update({"image_proj.proj.weight": projection["image_embeds.weight"],
                    "image_proj.proj.bias": projection["image_embeds.bias"],
                    "image_proj.norm.weight": projection["norm.weight"],
                    "image_proj.norm.bias": projection["norm.bias"]})
    torch.manual_seed(0)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=dim, num_hidden_layers=2, num_attention_heads=2,
        image_size=32, intermediate_size=24, patch_size=8))
    encoder.save_pretrained(out / "models" / "image_encoder")
    save_file({k: v.contiguous() for k, v in weights.items()}, out / "models" / IP_ADAPTER_WEIGHTS)
    return out
