"""Tiny random models, built offline from configs (tests and benchmarks): diffusion pipelines,
a causal language model and a Whisper converted for faster-whisper.

The way diffusers' own tests do it: small components with fixed seeds (a UNet, a VAE, a CLIP
text or image encoder, a two-layer Llama, a 2+2-layer Whisper, and tokenizers written or trained
on the spot), assembled into the real classes and saved with ``save_pretrained``. The backends
then load them through the same ``from_pretrained`` / ``WhisperModel`` path users take with a
real model, without any download. Random weights draw noise and write garbage: what is tested
is the plumbing (loading, seeding, sizes, frame fitting, warm workers, out-of-memory
degradation, and parse, validate, repair and fall back for language models).
"""

from __future__ import annotations

import json
from pathlib import Path

SD_DIR = "tiny-sd"
SVD_DIR = "tiny-svd"


def byte_chars() -> list[str]:
    """The 256 printable stand-ins of bytes in byte-level BPE (GPT-2's table)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
            *range(ord("®"), ord("ÿ") + 1)]
    extra = iter(range(256, 512))
    return [chr(b) if b in keep else chr(next(extra)) for b in range(256)]


def _tokenizer(folder: Path):  # type: ignore[no-untyped-def]
    """A CLIP tokenizer with a byte-level vocabulary and no merges (no download)."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    chars = byte_chars()
    vocab = {c: i for i, c in enumerate(chars)}
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                         model_max_length=77)


def build_tiny_sd(root: str | Path) -> Path:
    """A tiny Stable Diffusion 1.5-style text-to-image pipeline saved under ``root``."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    out = Path(root) / SD_DIR
    if (out / "model_index.json").exists():
        return out
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=16,
        attention_head_dim=2, norm_num_groups=4)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              steps_offset=1, clip_sample=False, set_alpha_to_one=False)
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4,
                        norm_num_groups=4, sample_size=32)
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig(
        bos_token_id=512, eos_token_id=513, pad_token_id=513, hidden_size=16,
        intermediate_size=24, layer_norm_eps=1e-05, num_attention_heads=2, num_hidden_layers=2,
        vocab_size=520, projection_dim=16))
    tokenizer = _tokenizer(out.with_name(out.name + "-tok"))
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(out)
    return out


def build_tiny_svd(root: str | Path) -> Path:
    """A tiny Stable Video Diffusion image-to-video pipeline saved under ``root``."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    out = Path(root) / SVD_DIR
    if (out / "model_index.json").exists():
        return out
    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(  # its blocks need multiples of 32 channels
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=8,
        out_channels=4, down_block_types=("CrossAttnDownBlockSpatioTemporal",
                                          "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=16, num_attention_heads=4, num_frames=8,
        projection_class_embeddings_input_dim=3 * 8, addition_time_embed_dim=8)
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
        interpolation_type="linear", num_train_timesteps=1000, prediction_type="v_prediction",
        sigma_max=700.0, sigma_min=0.002, steps_offset=1, timestep_spacing="leading",
        timestep_type="continuous", use_karras_sigmas=True)
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=(32, 64), in_channels=3, out_channels=3,
                                       down_block_types=("DownEncoderBlock2D",) * 2,
                                       latent_channels=4)
    torch.manual_seed(0)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=16, num_hidden_layers=2, num_attention_heads=2,
        image_size=224, intermediate_size=24, patch_size=28))  # SVD resizes to 224
    features = CLIPImageProcessor(crop_size=224, size=224)
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=encoder, unet=unet,
                                        scheduler=scheduler, feature_extractor=features)
    pipe.save_pretrained(out)
    return out


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


CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
CORPUS = [
    "Mara keeps the lamp on the island. The boat comes home at dawn.",
    '{"scenes": [{"beat": "setup", "narration": "...", "visual": "..."}]}',
    "The keeper, the whale calf and the storm; a robot grows a garden on the station.",
]


def build_tiny_llm(path: Path, seed: int = 0) -> Path:
    """A two-layer random Llama with a byte-level BPE tokenizer written on the spot (with a
    chat template), saved with ``save_pretrained`` into ``path``."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=320, min_frequency=1,
                            special_tokens=["<s>", "</s>", "<pad>"])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>",
                                        eos_token="</s>", pad_token="<pad>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=8192, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    return path


WHISPER_SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>",
                    "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
                    "<|notimestamps|>"]


def build_tiny_whisper(path: Path, seed: int = 0, eot_bias: float = 0.0) -> Path:
    """A random English-only Whisper (2+2 layers, d_model 64) converted to CTranslate2 into
    ``path`` with its tokenizer and preprocessor config, as faster-whisper loads it."""
    import torch
    from ctranslate2.converters import TransformersConverter
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizerFast,
    )

    source = path.parent / (path.name + "-hf")
    words = sorted({w for line in CORPUS for w in line.replace(".", " .").split()})
    vocab = {w: i for i, w in enumerate(["!", *("\u2581" + w for w in words)])}
    first_special = len(vocab)
    for offset, token in enumerate(WHISPER_SPECIALS):
        vocab[token] = first_special + offset
    timestamp_begin = len(vocab)
    for k in range(1501):  # <|0.00|> … <|30.00|>
        vocab[f"<|{k * 0.02:.2f}|>"] = timestamp_begin + k
    model = Tokenizer(models.WordLevel(vocab, unk_token="!"))
    model.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    model.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="never")
    model.add_special_tokens(WHISPER_SPECIALS + [f"<|{k * 0.02:.2f}|>" for k in range(1501)])
    source.mkdir(parents=True, exist_ok=True)
    model.save(str(source / "tokenizer.json"))
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(source / "tokenizer.json"),
                                     unk_token="!", bos_token="<|endoftext|>",
                                     eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.save_pretrained(source)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(source)
    ids = {t: vocab[t] for t in WHISPER_SPECIALS}
    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=len(vocab), num_mel_bins=80, d_model=64, encoder_layers=2,
        decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=128, decoder_ffn_dim=128, max_source_positions=1500,
        max_target_positions=448, pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"],
        decoder_start_token_id=ids["<|startoftranscript|>"])
    hf = WhisperForConditionalGeneration(config)
    with torch.no_grad():  # lean towards ending the transcript soon (keeps tests fast)
        embedding = hf.model.decoder.embed_tokens.weight
        hf.model.decoder.layer_norm.bias += eot_bias * embedding[ids["<|endoftext|>"]] / (
            embedding[ids["<|endoftext|>"]].norm() ** 2)
    hf.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=ids["<|endoftext|>"], pad_token_id=ids["<|endoftext|>"],
        no_timestamps_token_id=ids["<|notimestamps|>"], suppress_tokens=[],
        begin_suppress_tokens=[ids["<|endoftext|>"]], alignment_heads=[[1, 0], [1, 1]],
        lang_to_id={}, is_multilingual=False, max_length=448)
    hf.save_pretrained(source)
    TransformersConverter(str(source), copy_files=["tokenizer.json",
                                                   "preprocessor_config.json"]).convert(
        str(path), force=True)
    return path
