"""score: how well the pictures follow the story, and how steady its characters and clips stay.

Runs once a story's keyframes and clips exist (only with a scorer configured,
``stages.score.backend`` other than ``none``), and writes ``scores.json`` (schema ``scores``):

- **CLIP score** of each keyframe against its shot's prompt: ``100 * max(cos(image, text), 0)``
  of the scorer's embeddings (CLIPScore as torchmetrics reports it; Hessel et al. 2021 weigh the
  cosine by 2.5 instead of 100). The text is the shot list's own prompt (what the shot is
  about), not the enriched prompt with the style around it.
- **Character consistency**: for each character of the story's cast, the mean cosine similarity
  of the keyframes of the shots that show it, taken pairwise (the whole frame, as the scorer's
  processor centre-crops it: no crop of our own), and against its portrait when there is one.
- **Clip steadiness** (VBench's subject consistency, with the scorer's image embeddings where
  VBench uses DINO): for ``frames`` frames sampled evenly from a clip, the mean over frames
  ``t >= 1`` of ``(cos(f_t, f_0) + cos(f_t, f_{t-1})) / 2``; and the similarity of the clip's
  first frame to its keyframe.

A shot or a character below the configured thresholds (``min_clip_score``,
``min_consistency``, ``min_steadiness``) is flagged, never failed: the film is still made, and the
flags reach the manifest, the report and the end-of-run summary.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from storyreel.core.artifacts import read_json, write_json
from storyreel.job.context import JobContext
from storyreel.media.ffmpeg import sample_frames

log = logging.getLogger(__name__)

Embed = Callable[[str, list[str]], list[list[float]]]  # (method, items) -> unit vectors


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0 when either is zero)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y / norm) if norm else 0.0


def clip_score(image: Sequence[float], text: Sequence[float]) -> float:
    """CLIPScore: ``100 * max(cos(image, text), 0)``."""
    return round(100.0 * max(cosine(image, text), 0.0), 3)


def mean_pairwise(vectors: Sequence[Sequence[float]]) -> float | None:
    """Mean cosine similarity over every pair (None for fewer than two vectors)."""
    pairs = [cosine(vectors[i], vectors[j])
             for i in range(len(vectors)) for j in range(i + 1, len(vectors))]
    return round(float(np.mean(pairs)), 4) if pairs else None


def steadiness(frames: Sequence[Sequence[float]]) -> float | None:
    """VBench's subject consistency: mean of ``(cos(f_t, f_0) + cos(f_t, f_{t-1})) / 2`` over
    frames ``t >= 1`` (None for a single frame)."""
    terms = [(cosine(frames[t], frames[0]) + cosine(frames[t], frames[t - 1])) / 2
             for t in range(1, len(frames))]
    return round(float(np.mean(terms)), 4) if terms else None


def _below(value: float | None, floor: float | None) -> bool:
    return value is not None and floor is not None and value < floor


def score_story(plans: list[dict[str, Any]], keyframes: list[str], clips: list[str],
                cast: list[dict[str, Any]], options: dict[str, Any], embed: Embed,
                portraits: dict[str, str] | None = None) -> dict[str, Any]:
    """The scores of a story (the ``scores.json`` document, less its header): ``plans``,
    ``keyframes`` and ``clips`` in shot order, the style's ``cast``; ``embed(method, items)``
    is the scorer's ``embed_images`` or ``embed_texts``."""
    portraits = portraits or {}
    images = embed("embed_images", keyframes)
    texts = embed("embed_texts", [p.get("shot_prompt") or p["prompt"] for p in plans])
    shots = []
    with tempfile.TemporaryDirectory(prefix="storyreel-score-") as work:
        for plan, image, text, clip in zip(plans, images, texts, clips, strict=True):
            frames = [str(f) for f in sample_frames(clip, int(options["frames"]), work)]
            vectors = embed("embed_images", frames)
            entry = {"id": plan["id"], "clip_score": clip_score(image, text),
                     "steadiness": steadiness(vectors),
                     "first_frame": round(cosine(vectors[0], image), 4), "flags": []}
            if _below(entry["clip_score"], options["min_clip_score"]):
                entry["flags"].append("clip_score")
            if _below(entry["steadiness"], options["min_steadiness"]):
                entry["flags"].append("steadiness")
            shots.append(entry)
    by_id = dict(zip((p["id"] for p in plans), images, strict=True))
    characters = []
    for member in cast:
        shown = [p["id"] for p in plans if member["name"] in p.get("characters", [])]
        vectors = [by_id[s] for s in shown]
        portrait = portraits.get(member["name"])
        against = None
        if portrait and vectors:
            face = embed("embed_images", [portrait])[0]
            against = round(float(np.mean([cosine(face, v) for v in vectors])), 4)
        entry = {"name": member["name"], "shots": shown, "consistency": mean_pairwise(vectors),
                 "portrait": against, "flags": []}
        if _below(entry["consistency"], options["min_consistency"]):
            entry["flags"].append("consistency")
        characters.append(entry)
    return {"shots": shots, "characters": characters}


def flagged(scores: dict[str, Any]) -> list[str]:
    """``sh003: clip_score`` lines for every flag of a scores document."""
    lines = [f"{s['id']}: {', '.join(s['flags'])}" for s in scores["shots"] if s["flags"]]
    lines += [f"{c['name']}: {', '.join(c['flags'])}" for c in scores["characters"] if c["flags"]]
    return lines


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point (rule ``score``)."""
    from storyreel.models import worker
    from storyreel.models.diffusion import job_options
    from storyreel.stages.keyframes import read_plan

    options = job_options(dict(smk.params.options), dict(smk.config), "score")
    vision = bool(smk.config["stages"]["vision"]["enabled"])
    idea = read_json(smk.input.idea, "idea")
    plans = [read_plan(p, vision, idea, float(smk.params.crossfade_s)) for p in smk.input.plans]
    cast = list({c["name"]: c for p in plans for c in p["cast"]}.values())

    def embed(method: str, items: list[str]) -> list[list[float]]:
        if method == "embed_images":
            items = [str(Path(i).resolve()) for i in items]
        return worker.call("score", options, method, {
            ("paths" if method == "embed_images" else "texts"): items}, job.observe)

    drawn = {Path(p).stem: p for p in smk.input.portraits}
    portraits = {c["name"]: drawn[c["id"]] for c in cast if c.get("id") in drawn}
    scores = score_story(plans, list(smk.input.keyframes), list(smk.input.clips), cast,
                         options, embed, portraits)
    document = {"story": job.story, "scorer": {"backend": options["backend"],
                                               "model": options["model"]},
                "thresholds": {k: options[k] for k in
                               ("min_clip_score", "min_consistency", "min_steadiness")},
                **scores}
    write_json(smk.output.scores, document, "scores")
    for line in flagged(document):
        log.warning("flagged %s", line)
    log.info("scored %d shots and %d characters", len(scores["shots"]),
             len(scores["characters"]))
