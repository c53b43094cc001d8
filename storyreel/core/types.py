"""Types that stages and backends exchange (both import this module; it imports neither).

Kept free of heavy dependencies: importing it costs nothing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

LEAD_S = 0.2  # silence the voice puts before the first and after the last sentence
MAX_SCENES = 8


def stable_seed(*parts: object) -> int:
    """A stable 31-bit integer from any values (sha256 of ``"a:b:…"``; never Python's salted
    ``hash()``): per-shot seeds, palettes, variants."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def character_ids(names: list[str]) -> dict[str, str]:
    """A file name for each character (``characters/{id}.png``), by name: the name's letters
    and digits folded to lower-case ASCII and joined by ``-`` (``Old Tom`` -> ``old-tom``,
    ``Zoë`` -> ``zoe``); a name with none (``李明``) gets ``character-`` and a stable hash; ids
    that would clash get ``-2``, ``-3`` in name order. Matches
    :data:`storyreel.core.pipeline.CHARACTER_ID`."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names)):
        ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
        base = "-".join(re.findall(r"[a-z0-9]+", ascii_))[:30].strip("-")
        base = base or f"character-{stable_seed('character', name) % 16**8:08x}"
        found, n = base, 1
        while found in taken:
            n += 1
            found = f"{base}-{n}"
        taken.add(found)
        ids[name] = found
    return ids


def estimate_seconds(words: int, sentences: int, scenes: int, words_per_minute: float,
                     sentence_pause_s: float, scene_pause_s: float,
                     length_scale: float = 1.0) -> float:
    """Narration length: ``words / wpm * 60 * length_scale`` plus a sentence pause between
    sentences of a scene, a scene pause between scenes, and the voice's lead-in and lead-out."""
    speech = words / words_per_minute * 60 * length_scale
    scene_gaps = max(0, scenes - 1)
    sentence_gaps = max(0, sentences - scenes)
    return speech + sentence_gaps * sentence_pause_s + scene_gaps * scene_pause_s + 2 * LEAD_S


@dataclass(frozen=True)
class Budget:
    """How long the narration should be, and how fast the voice speaks (what a script backend
    writes towards)."""

    duration_s: float
    words_per_minute: float
    sentence_pause_s: float = 0.3
    scene_pause_s: float = 0.7

    @property
    def scenes(self) -> int:
        """Scene count for a premise: 4 to 8, one per 15 s or so; under 20 s, one per 5 s (a
        story of a few seconds tells its beats together: one to three scenes)."""
        if self.duration_s < 20:
            return max(1, min(3, round(self.duration_s / 5)))
        return max(4, min(MAX_SCENES, round(self.duration_s / 15)))

    def estimate(self, words: int, sentences: int, scenes: int, length_scale: float = 1.0
                 ) -> float:
        """Seconds of narration: speech plus the pauses between sentences and scenes."""
        return estimate_seconds(words, sentences, scenes, self.words_per_minute,
                                self.sentence_pause_s, self.scene_pause_s, length_scale)

    def target_words(self, words_per_sentence: float = 12.0) -> int:
        """Words that fill ``duration_s`` once pauses are taken off."""
        words = self.duration_s * self.words_per_minute / 60
        for _ in range(3):
            sentences = max(self.scenes, words / words_per_sentence)
            pauses = self.estimate(0, round(sentences), self.scenes)
            words = max(1.0, (self.duration_s - pauses) * self.words_per_minute / 60)
        return round(words)


class ShotPlan(TypedDict):
    """What a keyframe and a clip are rendered from (schema ``plan``): the shot, its enriched
    prompt and the part of the story's style it needs. The vision stage writes one per shot;
    with vision off, the keyframes and video stages plan the bare shot when they read it
    (:func:`storyreel.stages.keyframes.read_plan`), so every renderer gets a plan."""

    story: str
    id: str
    index: int
    scene: str
    sentences: list[str]
    start: float
    end: float
    duration: float
    narration: str
    prompt: str
    setting: str
    time_of_day: str
    mood: str
    characters: list[str]
    camera: str
    transition: str
    seed: int
    aspect: str
    shot_prompt: str
    negative_prompt: str
    style: str
    style_seed: int
    palette: dict[str, str]
    lighting: dict[str, Any]
    place: dict[str, Any] | None
    cast: list[dict[str, Any]]
    elements: dict[str, list[str]]
    crossfade_s: float
    # set by the keyframes stage, never written: the portraits of the characters the shot
    # shows, in the order it names them (a diffusion backend's IP-Adapter pictures)
    references: NotRequired[list[str]]


@dataclass(frozen=True)
class EditJob:
    """What the post backend makes the finished film from (its one argument)."""

    clips: list[Path]  # one clip per shot, in shot order
    shotlist: dict[str, Any]  # the story's shotlist.json
    narration: Path  # the voice's WAV
    subtitles: Path | None  # the story's SRT (muxed as a soft track when it has cues)
    music: Path | None  # optional music bed
    language: str  # ISO 639-1 code of the narration (the subtitle track's language)
    output: dict[str, Any]  # the validated `output` config block (fps, crf, x264_preset)
    out: Path  # where the finished MP4 goes (written atomically)
    threads: int = 2
