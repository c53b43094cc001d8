"""Tiny random language and speech models (tests and benchmarks): a two-layer Llama with a
byte-level BPE tokenizer and a chat template, and a 2+2-layer Whisper converted for
faster-whisper. Random weights write garbage: what is tested is parse, validate, repair and fall
back, loading and timing."""

from __future__ import annotations

from pathlib import Path

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
