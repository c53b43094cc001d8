"""Voice stage: speak the revised narration into one WAV and record where each sentence lies.

Each sentence is synthesised on its own, its leading and trailing silence trimmed, and the
sentences are joined with ``sentence_pause_s`` of silence (``scene_pause_s`` between scenes)
plus a short lead-in and lead-out, so ``voice.json`` holds exact sentence boundaries.

Length kept: revise chose the pace from an estimate; a voice speaks some texts faster or slower
than any estimate says. When the narration comes out more than :data:`REFIT` away from the
target (``revised.json["target_s"]``), it is spoken once more with the pace corrected by what
was measured (by at most :data:`MAX_REFIT` either way); ``voice.json`` records the pace used.

When the configured backend cannot load (missing or corrupt model, sha256 mismatch, missing
library) the configured fallback speaks instead; ``voice.json`` records the backend actually
used and why. An unknown voice name is a user error and never falls back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from storyreel.backends.voice import VoiceBackend
from storyreel.core import registry
from storyreel.core.artifacts import read_json, write_json
from storyreel.core.errors import StoryreelError
from storyreel.core.types import LEAD_S
from storyreel.job.context import JobContext
from storyreel.job.fallback import chain as fallback_chain
from storyreel.job.fallback import with_fallback
from storyreel.media.audio import TTSLoadError, silence, trim_silence, write_wav

log = logging.getLogger(__name__)

KEEP_S = 0.02  # silence kept around each sentence's speech when trimming
REFIT = 0.05  # a narration further than this from its target is spoken again, re-paced
MAX_REFIT = 0.15  # the most that second pass changes the pace revise chose


@dataclass(frozen=True)
class Narration:
    """The spoken narration: samples, their rate, and each sentence's span in seconds."""

    samples: np.ndarray
    sample_rate: int
    sentences: list[dict[str, Any]]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate)


def load_speaker(options: dict[str, Any], voice: str | None, seed: int = 0,
                 job: JobContext | None = None) -> tuple[VoiceBackend, str | None]:
    """The configured TTS backend, or the first of its fallbacks that loads, and the reason.

    A fallback speaks with its own default voice. An unknown voice name is a user error and
    never falls back (validation refuses it before any job runs).
    """
    primary = str(options["backend"])
    if not fallback_chain(options)[1:]:
        try:
            return registry.create("voice", {**options, "voice": voice, "seed": seed}), None
        except TTSLoadError as exc:
            raise StoryreelError(f"{exc} (no fallback TTS backend configured)") from exc
    reasons: list[str] = []

    def load(name: str) -> VoiceBackend:
        try:
            return registry.create("voice", {**options, "backend": name, "seed": seed,
                                             "voice": voice if name == primary else None})
        except TTSLoadError as exc:
            reasons.append(str(exc))
            raise

    speaker = with_fallback(job or JobContext.alone("voice"), options, load)
    if speaker.name != primary:
        log.warning("%s; fell back to the %s backend with its default voice",
                    "; ".join(reasons) or "primary backend failed", speaker.name)
        return speaker, "; ".join(reasons) or f"{primary} failed"
    return speaker, None


def speak_sentence(speaker: VoiceBackend, text: str, length_scale: float) -> np.ndarray:
    """One sentence's speech, its own leading/trailing silence trimmed."""
    audio = trim_silence(speaker.synthesize(text, length_scale), speaker.sample_rate, KEEP_S)
    if len(audio) == 0:
        raise StoryreelError(f"{speaker.name}: no audio for the sentence '{text}'")
    return audio


def narrate(revised: dict[str, Any], speaker: VoiceBackend, sentence_pause_s: float,
            scene_pause_s: float, length_scale: float | None = None) -> Narration:
    """Speak every sentence of ``revised`` and join them with the configured pauses (at
    revised.json's pace unless ``length_scale`` is given)."""
    rate = speaker.sample_rate
    length_scale = float(revised["length_scale"] if length_scale is None else length_scale)
    parts: list[np.ndarray] = [silence(LEAD_S, rate)]
    cursor = len(parts[0])
    sentences: list[dict[str, Any]] = []
    for s_index, scene in enumerate(revised["scenes"]):
        for t_index, sentence in enumerate(scene["sentences"]):
            if s_index or t_index:
                pause = silence(scene_pause_s if t_index == 0 else sentence_pause_s, rate)
                parts.append(pause)
                cursor += len(pause)
            audio = speak_sentence(speaker, sentence["text"], length_scale)
            sentences.append({"id": sentence["id"], "scene": scene["id"],
                              "text": sentence["text"], "start": round(cursor / rate, 3),
                              "end": round((cursor + len(audio)) / rate, 3)})
            parts.append(audio)
            cursor += len(audio)
    parts.append(silence(LEAD_S, rate))
    return Narration(np.concatenate(parts).astype(np.float32), rate, sentences)


def refit_scale(revised: dict[str, Any], narration: Narration) -> float | None:
    """The pace that brings the narration to its target (None when it is within
    :data:`REFIT` already): the speech, pauses left aside, scaled by what it lacks."""
    target, spoken = float(revised.get("target_s") or 0), narration.duration_s
    if not target or abs(spoken / target - 1) <= REFIT:
        return None
    speech = sum(s["end"] - s["start"] for s in narration.sentences)
    if speech <= 0:
        return None
    factor = (speech + target - spoken) / speech
    factor = min(max(factor, 1 - MAX_REFIT), 1 + MAX_REFIT)
    return round(float(revised["length_scale"]) * factor, 3)


def voice_meta(revised: dict[str, Any], speaker: VoiceBackend, narration: Narration, wav_name: str,
               fallback_reason: str | None, length_scale: float | None = None) -> dict[str, Any]:
    """The ``voice.json`` document."""
    return {
        "story": revised["story"],
        "backend": speaker.name,
        "voice": speaker.voice,
        "model_sha256": speaker.model_sha256,
        "fallback_reason": fallback_reason,
        "sample_rate": narration.sample_rate,
        "duration_s": round(narration.duration_s, 3),
        "length_scale": float(revised["length_scale"] if length_scale is None
                              else length_scale),
        "wav": wav_name,
        "sentences": narration.sentences,
    }


def run_voice(revised: dict[str, Any], options: dict[str, Any], voice: str | None,
              wav_path: str | Path, meta_path: str | Path,
              job: JobContext | None = None) -> dict[str, Any]:
    """Synthesise the narration, write the WAV and ``voice.json``; return the metadata."""
    job = job or JobContext.alone("voice", revised.get("story"))
    speaker, reason = load_speaker(options, voice, job=job)
    pauses = float(options["sentence_pause_s"]), float(options["scene_pause_s"])
    narration = narrate(revised, speaker, *pauses)
    scale = refit_scale(revised, narration)
    if scale is not None:
        log.info("%s: %.2f s for a target of %.2f s: speaking again at length_scale %.3f",
                 revised["story"], narration.duration_s, revised["target_s"], scale)
        narration = narrate(revised, speaker, *pauses, length_scale=scale)
    write_wav(wav_path, narration.samples, narration.sample_rate)
    meta = voice_meta(revised, speaker, narration, Path(wav_path).name, reason, scale)
    write_json(meta_path, meta, "voice")
    log.info("%s: %d sentences, %.2f s with %s/%s%s", revised["story"],
             len(narration.sentences), narration.duration_s, speaker.name, speaker.voice,
             f" (fallback: {reason})" if reason else "")
    return meta


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point (rule ``voice``)."""
    revised = read_json(smk.input.revised, "revised")
    run_voice(revised, dict(smk.params.options), smk.params.voice, smk.output.wav,
              smk.output.meta, job)
