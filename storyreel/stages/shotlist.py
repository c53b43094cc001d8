"""shotlist: cut the narration into shots on sentence boundaries.

Each sentence becomes one shot, or several when it is longer than ``max_shot_s`` (split at word
boundaries, preferring a pause after punctuation). Cuts are placed from the aligned word
timings, inside the pause: just before the first word of the next sentence, or for a crossfade
between scenes, early enough that the fade is over when the next sentence starts. Shots tile the
narration timeline ``[0, duration]`` with no gap, so the video is exactly as long as the voice.

Outputs ``shotlist.json`` and one ``shots/{shot}.json`` per shot. The per-shot files depend only
on their own shot, so a downstream keyframe or clip reruns only when its shot changes.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.core.artifacts import read_json, write_json
from storyreel.core.errors import ConfigError
from storyreel.core.types import stable_seed
from storyreel.core.vocabulary import CAMERA_MOVES
from storyreel.job.context import JobContext

log = logging.getLogger(__name__)

# Moves that suit a mood best come first; the seeded choice favours them.
MOOD_MOVES = {
    "tense": ("push_in", "tilt_up", "pan_left"),
    "mysterious": ("push_in", "pan_right", "tilt_down"),
    "triumphant": ("tilt_up", "pull_out", "push_in"),
    "somber": ("pull_out", "tilt_down", "hold"),
    "joyful": ("pan_right", "tilt_up", "pull_out"),
    "calm": ("pan_left", "pan_right", "hold"),
}
LEAD_IN_S = 0.15  # a cut comes this long before the next sentence's first word (at most)
PROMPT_WORDS = 24


@dataclass(frozen=True)
class Span:
    """A stretch of words that becomes one shot."""

    scene: str
    sentence: str
    first: int  # index into the words list
    last: int  # inclusive


def split_cost(words: list[dict[str, Any]], index: int, ideal: float) -> float:
    """How bad a cut before words[index] is: distance from the ideal time, less a pause bonus."""
    pause_bonus = 0.4 if words[index - 1]["text"][-1:] in ",;:" else 0.0
    return abs(words[index]["start"] - ideal) - pause_bonus


def split_sentence(words: list[dict[str, Any]], first: int, last: int,
                   max_shot_s: float) -> list[tuple[int, int]]:
    """Split words[first..last] into runs no longer than ``max_shot_s`` where possible.

    Split points are word starts; a word that follows punctuation is preferred.
    """
    span = words[last]["end"] - words[first]["start"]
    pieces = max(1, int(span // max_shot_s) + (1 if span % max_shot_s > 1e-9 else 0))
    if pieces == 1 or last == first:
        return [(first, last)]
    runs: list[tuple[int, int]] = []
    start = first
    for k in range(1, pieces):
        ideal = words[first]["start"] + span * k / pieces
        candidates = range(start + 1, last + 1)
        if not candidates:
            break

        cut = min(candidates, key=lambda i, at=ideal: split_cost(words, i, at))
        runs.append((start, cut - 1))
        start = cut
    runs.append((start, last))
    return [run for run in runs if run[0] <= run[1]]


def plan_spans(words: list[dict[str, Any]], sentence_scene: dict[str, str],
               max_shot_s: float) -> list[Span]:
    """Group words into shot spans: per sentence, split when too long."""
    spans: list[Span] = []
    index = 0
    while index < len(words):
        sentence = words[index]["sentence"]
        end = index
        while end + 1 < len(words) and words[end + 1]["sentence"] == sentence:
            end += 1
        for first, last in split_sentence(words, index, end, max_shot_s):
            spans.append(Span(sentence_scene[sentence], sentence, first, last))
        index = end + 1
    return spans


def cut_times(words: list[dict[str, Any]], spans: list[Span], duration: float,
              crossfade_s: float = 0.0) -> list[float]:
    """Boundaries between shots: 0, one cut before each span's first word, the duration.

    A plain cut comes just before the next first word. A crossfade (between scenes) starts at
    the cut and lasts ``crossfade_s``, so its cut comes that much earlier, inside the pause,
    and the picture settles as the next sentence begins (never before the speech ends).
    """
    cuts = [0.0]
    for prev, span in zip(spans, spans[1:], strict=False):
        speech_end = words[prev.last]["end"]
        next_start = words[span.first]["start"]
        gap = max(0.0, next_start - speech_end)
        lead = min(crossfade_s, gap) if span.scene != prev.scene else min(LEAD_IN_S, gap / 2)
        cuts.append(max(cuts[-1] + 0.04, next_start - lead))
    cuts.append(max(duration, cuts[-1] + 0.04))
    return cuts


def choose_camera(rng: random.Random, mood: str, previous: str | None, first: bool,
                  last: bool) -> str:
    """A camera move: open by pushing in, close by pulling out, never the same move twice."""
    if first:
        return "push_in"
    if last and previous != "pull_out":
        return "pull_out"
    preferred = [m for m in MOOD_MOVES.get(mood, CAMERA_MOVES) if m != previous]
    others = [m for m in CAMERA_MOVES if m != previous and m not in preferred and m != "hold"]
    pool = preferred * 3 + others
    return rng.choice(pool)


def shot_prompt(visual: str, narration: str) -> str:
    """The scene's visual description, focused by what is said during the shot."""
    said = narration.split()
    focus = " ".join(said[:PROMPT_WORDS]) + ("..." if len(said) > PROMPT_WORDS else "")
    return f"{visual.rstrip('. ')}. {focus}".strip()


def build_shotlist(idea: dict[str, Any], revised: dict[str, Any], words_doc: dict[str, Any],
                   options: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The shot list for one story (pure: no I/O)."""
    words = words_doc["words"]
    scenes = {scene["id"]: scene for scene in revised["scenes"]}
    sentence_scene = {
        s["id"]: scene["id"] for scene in revised["scenes"] for s in scene["sentences"]
    }
    duration = float(words_doc["duration_s"])
    spans = plan_spans(words, sentence_scene, float(options["max_shot_s"]))
    crossfade = float(options["crossfade_s"])
    cuts = cut_times(words, spans, duration, crossfade)
    rng = random.Random(f"shotlist:{idea['seed']}")
    shots: list[dict[str, Any]] = []
    previous: str | None = None
    for i, span in enumerate(spans):
        shot_id = f"sh{i + 1:03d}"
        scene = scenes[span.scene]
        narration = " ".join(w["text"] for w in words[span.first:span.last + 1])
        camera = choose_camera(rng, scene["mood"], previous, i == 0, i == len(spans) - 1)
        next_scene = spans[i + 1].scene if i + 1 < len(spans) else None
        start, end = round(cuts[i], 3), round(cuts[i + 1], 3)
        shot = {
            "story": idea["story"],
            "id": shot_id,
            "index": i + 1,
            "scene": span.scene,
            "sentences": [span.sentence],
            "start": start,
            "end": end,
            "duration": round(end - start, 3),
            "narration": narration,
            "prompt": shot_prompt(scene["visual"], narration),
            "setting": scene["setting"],
            "time_of_day": scene["time_of_day"],
            "mood": scene["mood"],
            "characters": list(scene["characters"]),
            "camera": camera,
            "transition": "crossfade" if next_scene not in (None, span.scene) and crossfade > 0
            else "cut",
            "seed": stable_seed(int(idea["seed"]), shot_id),
            "aspect": idea["aspect"],
        }
        shot.update(overrides.get(shot_id, {}))
        previous = shot["camera"]
        shots.append(shot)
    unknown = sorted(set(overrides) - {shot["id"] for shot in shots})
    if unknown:
        raise ConfigError(
            f"config: shots.{idea['story']}.{unknown[0]}: no such shot "
            f"(this story has {shots[0]['id']} to {shots[-1]['id']})"
        )
    return {
        "story": idea["story"],
        "aspect": idea["aspect"],
        "duration_s": round(duration, 3),
        "crossfade_s": crossfade,
        "shots": shots,
    }


def write_shotlist(shotlist: dict[str, Any], path: str | Path, shots_dir: str | Path) -> None:
    """Write per-shot files first, then shotlist.json (all atomically)."""
    shots_dir = Path(shots_dir)
    shots_dir.mkdir(parents=True, exist_ok=True)
    for shot in shotlist["shots"]:
        write_json(shots_dir / f"{shot['id']}.json", shot, "shot")
    write_json(path, shotlist, "shotlist")


def main(smk: Any, job: JobContext) -> None:
    idea = read_json(smk.input.idea, "idea")
    revised = read_json(smk.input.revised, "revised")
    words = read_json(smk.input.words, "words")
    shotlist = build_shotlist(idea, revised, words, dict(smk.params.options),
                              dict(smk.params.overrides))
    write_shotlist(shotlist, smk.output.shotlist, smk.output.shots)
    log.info("%d shots over %.2f s", len(shotlist["shots"]), shotlist["duration_s"])
