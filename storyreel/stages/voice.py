"""Voice stage: speak the revised narration into one WAV and record where each sentence lies.

Each sentence is synthesised on its own, its leading and trailing silence trimmed, and the
sentences are joined with ``sentence_pause_s`` of silence (``scene_pause_s`` between scenes)
plus a short lead-in and lead-out, so ``voice.json`` holds exact sentence boundaries.

The story's language picks the backend and the voice (:func:`storyreel.core.languages.pick_voice`:
the story's ``voice``, else ``voices`` for the language, else the first backend of the chain
with a voice for it). When that backend cannot load (missing or corrupt model, sha256 mismatch,
missing library) the next backend of the chain with a voice for the language speaks instead;
``voice.json`` records the backend actually used and why. An unknown voice name is a user error
and never falls back. A backend that reports word timings (``word_timings`` in its spec) has
them recorded with each sentence, shifted by the silence trimmed before the speech.

Length kept: revise chose the pace from an estimate; a voice speaks some texts faster or slower
than any estimate says. When the narration comes out more than :data:`REFIT` away from the
target (``revised.json["target_s"]``), it is spoken once more with the pace corrected by what
was measured (by at most :data:`MAX_REFIT` either way); ``voice.json`` records the pace used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from storyreel.backends.voice import VoiceBackend
from storyreel.core import languages, registry
from storyreel.core.artifacts import read_json, write_json
from storyreel.core.errors import ConfigError, StoryreelError
from storyreel.core.types import LEAD_S
from storyreel.job.context import JobContext
from storyreel.job.fallback import with_fallback
from storyreel.media.audio import TTSLoadError, silence, speech_span, trim_silence, write_wav

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


def speakers(options: dict[str, Any], language: str, voice: str | None
             ) -> dict[str, str]:
    """Each backend that may speak a story in ``language``, in the order tried, with its voice:
    the chosen one first (:func:`storyreel.core.languages.pick_voice`), then the others of the
    chain that have a voice for the language (their best one)."""
    chosen, name = languages.pick_voice(language, options, voice)
    voices = {chosen: name}
    for backend in languages.chain(options):
        best = languages.best_voice(language, registry.voices(backend),
                                    registry.spec("voice", backend).default_voice)
        if best and backend not in voices:
            voices[backend] = best
    return voices


def load_speaker(options: dict[str, Any], voice: str | None, seed: int = 0,
                 job: JobContext | None = None, language: str = "en"
                 ) -> tuple[VoiceBackend, str | None]:
    """The backend and voice for the story's language, or the first of its fallbacks that
    loads, and the reason.

    An unknown voice name is a user error and never falls back (validation refuses it before
    any job runs).
    """
    try:
        voices = speakers(options, language, voice)
    except ValueError as exc:
        raise ConfigError(f"voice: {exc}") from None
    names = list(voices)
    primary = names[0]

    def build(name: str) -> VoiceBackend:
        return registry.create("voice", {**options, "backend": name, "voice": voices[name],
                                         "seed": seed, "language": language})

    if not options["fallback"] or len(names) == 1:
        try:
            return build(primary), None
        except TTSLoadError as exc:
            raise StoryreelError(f"{exc} (no fallback TTS backend configured)") from exc
    reasons: list[str] = []

    def load(name: str) -> VoiceBackend:
        try:
            return build(name)
        except TTSLoadError as exc:
            reasons.append(str(exc))
            raise

    chained = {**options, "backend": primary, "fallback": names[1:]}
    speaker = with_fallback(job or JobContext.alone("voice"), chained, load)
    if speaker.name != primary:
        log.warning("%s; fell back to the %s backend with its voice %s",
                    "; ".join(reasons) or "primary backend failed", speaker.name, speaker.voice)
        return speaker, "; ".join(reasons) or f"{primary} failed"
    return speaker, None


def speak_sentence(speaker: VoiceBackend, text: str, length_scale: float
                   ) -> tuple[np.ndarray, list[dict[str, Any]] | None]:
    """One sentence's speech, its own leading/trailing silence trimmed (keeping ``KEEP_S``),
    and the words the voice reported, timed from the first sample kept (None when the backend
    reports none)."""
    timed = registry.spec("voice", speaker.name).word_timings
    if timed:
        raw, words = speaker.synthesize_words(text, length_scale)  # type: ignore[attr-defined]
    else:
        raw, words = speaker.synthesize(text, length_scale), []
    first, last = speech_span(raw, speaker.sample_rate, KEEP_S)
    audio = trim_silence(raw, speaker.sample_rate, KEEP_S)
    if len(audio) == 0:
        raise StoryreelError(f"{speaker.name}: no audio for the sentence '{text}'")
    if not timed:
        return audio, None
    shift, length = first / speaker.sample_rate, len(audio) / speaker.sample_rate
    return audio, [{"text": piece, "start": min(max(0.0, a - shift), length),
                    "end": min(max(0.0, b - shift), length)} for piece, a, b in words]


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
            audio, words = speak_sentence(speaker, sentence["text"], length_scale)
            record = {"id": sentence["id"], "scene": scene["id"], "text": sentence["text"],
                      "start": round(cursor / rate, 3),
                      "end": round((cursor + len(audio)) / rate, 3)}
            if words is not None:
                record["words"] = [{"text": w["text"], "start": round(cursor / rate + w["start"],
                                                                       3),
                                    "end": round(cursor / rate + w["end"], 3)} for w in words]
            sentences.append(record)
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
        "language": revised["language"],
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
    speaker, reason = load_speaker(options, voice, job=job, language=revised["language"])
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
