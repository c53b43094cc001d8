"""revise: make the script speakable and fit it to the target length.

The reviser backend (``rules``) turns each scene's narration into plain sentences that a TTS
voice and a subtitle renderer handle: no markup, symbols or digits (numbers, dates, times,
money, percentages and abbreviations become words), over-long sentences split at clause
boundaries. Sentences get ids ``scNN_MM``.

Fitting: the narration's length is estimated as ``words / words_per_minute * 60 *
length_scale`` plus the voice's pauses. ``length_scale`` is chosen within
``[min_length_scale, max_length_scale]`` to bring the estimate to ``duration_s``; if a written
script (a premise's) is still too long beyond the tolerance, whole sentences are trimmed (never
a scene's first sentence, middle scenes first). A text given verbatim is never cut: when no
pace in that range brings it within the tolerance of ``duration_s``, the story is refused with
one line saying which durations it fits. Every change, the pace and trims included, is recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from storyreel import text as tx
from storyreel.core import registry
from storyreel.core.artifacts import read_json, write_json
from storyreel.core.errors import ConfigError
from storyreel.core.types import Budget
from storyreel.job.context import JobContext
from storyreel.stages.script import budget_for

log = logging.getLogger(__name__)

SCENE_FIELDS = ("id", "beat", "visual", "setting", "time_of_day", "mood", "characters")


@dataclass
class Fit:
    """The outcome of fitting: pace, estimate, whether it fits, and trims made."""

    length_scale: float
    estimated_s: float
    fits: bool
    trimmed: list[tuple[str, str]]  # (scene id, sentence text)


def _counts(scenes: list[list[str]]) -> tuple[int, int, int]:
    words = sum(tx.word_count(s) for sentences in scenes for s in sentences)
    return words, sum(len(sentences) for sentences in scenes), len(scenes)


def best_scale(scenes: list[list[str]], budget: Budget, low: float, high: float) -> float:
    """The ``length_scale`` in ``[low, high]`` whose estimate is closest to the target."""
    words, sentences, count = _counts(scenes)
    speech = budget.estimate(words, 0, 0) - budget.estimate(0, 0, 0)  # speech alone
    pauses = budget.estimate(0, sentences, count)
    if speech <= 0:
        return round(min(max(1.0, low), high), 3)
    return round(min(max((budget.duration_s - pauses) / speech, low), high), 3)


def _trim_candidates(scenes: list[list[str]]) -> list[tuple[int, int]]:
    """(scene, sentence) pairs that may be trimmed, best first: middle scenes first, and the
    last sentence of a scene before earlier ones; never a scene's first sentence."""
    middle = (len(scenes) - 1) / 2
    pairs = [(i, j) for i, sentences in enumerate(scenes) for j in range(1, len(sentences))]
    return sorted(pairs, key=lambda p: (abs(p[0] - middle), p[0], -p[1]))


def fit_length(scenes: list[list[str]], scene_ids: list[str], budget: Budget,
               tolerance: float, low: float, high: float, trim: bool = True) -> Fit:
    """Choose the pace and (with ``trim``) trim sentences in place until the estimate fits if
    possible."""
    limit = budget.duration_s * (1 + tolerance)
    trimmed: list[tuple[str, str]] = []
    while trim and budget.estimate(*_counts(scenes), length_scale=low) > limit:
        candidates = _trim_candidates(scenes)
        if not candidates:
            break
        i, j = candidates[0]
        trimmed.append((scene_ids[i], scenes[i].pop(j)))
    scale = best_scale(scenes, budget, low, high)
    estimate = round(budget.estimate(*_counts(scenes), length_scale=scale), 3)
    fits = abs(estimate - budget.duration_s) <= tolerance * budget.duration_s
    return Fit(scale, estimate, fits, trimmed)


def verbatim_refusal(story: str, scenes: list[list[str]], budget: Budget, tolerance: float,
                     low: float, high: float) -> ConfigError:
    """The one line refusing a verbatim text that no allowed pace fits to ``duration_s``."""
    fastest = budget.estimate(*_counts(scenes), length_scale=low)
    slowest = budget.estimate(*_counts(scenes), length_scale=high)
    short, long = fastest / (1 + tolerance), slowest / (1 - tolerance)
    verb = "shorten" if fastest > budget.duration_s else "lengthen"
    return ConfigError(
        f"story '{story}': duration_s {budget.duration_s:g} cannot be kept: its text, given "
        f"verbatim, takes {fastest:.1f} to {slowest:.1f} s at the narration's pace "
        f"({budget.words_per_minute:g} words per minute, length_scale {low:g} to {high:g}: "
        f"stages.revise.min_length_scale and max_length_scale); set duration_s between "
        f"{short:.1f} and {long:.1f}, or {verb} the text")


def _change(kind: str, scene: str | None, before: str, after: str) -> dict[str, Any]:
    return {"kind": kind, "scene": scene, "before": before, "after": after}


def revise_script(script: dict[str, Any], idea: dict[str, Any], options: dict[str, Any],
                  words_per_minute: float, pauses: dict[str, float],
                  voice_rate: float | None = None) -> dict[str, Any]:
    """The revised.json document: speakable sentences, fitted pace, every change.

    ``words_per_minute`` is the narration pace the text is fitted to; ``voice_rate`` the
    voice's natural rate at length_scale 1 (default: the pace). The length_scale asked of the
    voice is the fitted scale relative to the pace times ``voice_rate / words_per_minute``.
    """
    reviser = registry.create("revise", {**options, "language": idea["language"]})
    budget = budget_for(idea, words_per_minute, pauses)
    changes: list[dict[str, Any]] = []
    sentences: list[list[str]] = []
    for scene in script["scenes"]:
        edited, found = reviser.edit(scene["narration"])
        changes += [_change(c.kind, scene["id"], c.before, c.after) for c in found]
        sentences.append(edited)
    kept = [i for i, s in enumerate(sentences) if s]
    scenes = [script["scenes"][i] for i in kept]
    sentences = [sentences[i] for i in kept]
    verbatim = script.get("kind") == "text"
    bounds = (float(options["tolerance"]), float(options["min_length_scale"]),
              float(options["max_length_scale"]))
    fit = fit_length(sentences, [s["id"] for s in scenes], budget, *bounds, trim=not verbatim)
    if verbatim and not fit.fits:
        raise verbatim_refusal(script["story"], sentences, budget, *bounds)
    changes += [_change("trim", scene_id, text, "") for scene_id, text in fit.trimmed]
    length_scale = round(fit.length_scale * (voice_rate or words_per_minute) / words_per_minute,
                         3)
    if length_scale != 1.0:
        changes.append(_change("pace", None, "length_scale 1.0",
                               f"length_scale {length_scale}"))
    if not fit.fits:
        log.warning("%s: estimated %.1f s for a target of %.1f s (tolerance %.0f %%): the "
                    "narration does not fit", script["story"], fit.estimated_s,
                    budget.duration_s, 100 * float(options["tolerance"]))
    return {
        "story": script["story"],
        "title": script["title"],
        "language": script["language"],
        "target_s": budget.duration_s,
        "words_per_minute": round(budget.words_per_minute, 3),
        "estimated_s": fit.estimated_s,
        "length_scale": length_scale,
        "fits": fit.fits,
        "scenes": [
            {**{key: scene[key] for key in SCENE_FIELDS},
             "sentences": [{"id": f"{scene['id']}_{n:02d}", "text": text}
                           for n, text in enumerate(texts, start=1)]}
            for scene, texts in zip(scenes, sentences, strict=True)
        ],
        "changes": changes,
    }


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point: script.json + idea.json -> revised.json."""
    script = read_json(smk.input.script, "script")
    idea = read_json(smk.input.idea, "idea")
    voice_rate = getattr(smk.params, "voice_rate", None)
    revised = revise_script(script, idea, dict(smk.params.options),
                            float(smk.params.words_per_minute), dict(smk.params.pauses),
                            float(voice_rate) if voice_rate else None)
    write_json(smk.output.revised, revised, "revised")
    log.info("%s: %d sentences, estimated %.2f s for %.2f s at length_scale %.3f, fits=%s",
             revised["story"], sum(len(s["sentences"]) for s in revised["scenes"]),
             revised["estimated_s"], revised["target_s"], revised["length_scale"],
             revised["fits"])
