"""Best of N keyframes, and the quality gate on them.

With ``stages.keyframes.candidates: N`` (N > 1) or a gate (``stages.score.min_clip_score``), a
keyframe job renders N candidates of its shot, each with its own seed (the first is the shot's
own seed, so N = 1 draws what it always drew; the others derive from it with sha256; on a
diffusion backend a round's candidates go through the pipeline together), asks the
scorer for each one's CLIP score against the shot's prompt, and keeps the best. When the best is
below the gate, it renders ``gate_rounds`` more rounds of new seeds, then keeps the best and
flags the shot (the film is never failed for it). Every candidate's seed and score, the one kept
and the flag go to a side record ``results/{story}/.candidates/{shot}.json``, which post gathers
into the manifest; the other candidates are not kept.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from storyreel.core import pipeline
from storyreel.core.types import ShotPlan, stable_seed
from storyreel.job.context import JobContext
from storyreel.stages.score import clip_score

CANDIDATES = ".candidates"  # results/{story}/.candidates/{shot}.json


def wanted(options: dict[str, Any], scorer: dict[str, Any]) -> bool:
    """Whether a keyframe is chosen among candidates (N > 1, or a gate on the CLIP score)."""
    return int(options["candidates"]) > 1 or scorer.get("min_clip_score") is not None


def seeds(plan: ShotPlan, round_: int, count: int) -> list[int]:
    """The seeds of one round of candidates: the shot's own first, then derived ones."""
    return [int(plan["seed"]) if round_ == 0 and k == 0 else
            stable_seed(plan["seed"], "candidate", round_ * count + k) for k in range(count)]


def side_record(job: JobContext) -> Path:
    return job.results / str(job.story) / CANDIDATES / f"{job.shot}.json"


def choose(plan: ShotPlan, out: str | Path, options: dict[str, Any], scorer: dict[str, Any],
           render: Any, embed: Any, job: JobContext) -> dict[str, Any]:
    """Render candidates with ``render(plan, path, peers)``, score them with
    ``embed(method, items)`` and move the best to ``out``; returns the record (also written
    beside the story). ``peers`` are the round's candidates still to render: a model's warm
    worker draws them in the same pipeline call, as many as its memory allows, and keeps them
    until asked (:mod:`storyreel.models.batching`)."""
    out = Path(out)
    work = out.with_name(f".{out.stem}.candidates")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    floor = scorer.get("min_clip_score")
    count, rounds = int(options["candidates"]), int(options["gate_rounds"])
    text = embed("embed_texts", [plan.get("shot_prompt") or plan["prompt"]])[0]
    tried: list[dict[str, Any]] = []
    try:
        for round_ in range(1 + (rounds if floor is not None else 0)):
            paths = []
            drawn = [{**plan, "seed": seed} for seed in seeds(plan, round_, count)]
            for k, candidate in enumerate(drawn):
                path = work / f"{candidate['seed']}.png"
                render(candidate, path, [{"plan": later} for later in drawn[k + 1:]])
                paths.append(path)
            vectors = embed("embed_images", [str(p.resolve()) for p in paths])
            tried += [{"seed": int(p.stem), "clip_score": clip_score(v, text), "path": p}
                      for p, v in zip(paths, vectors, strict=True)]
            best = max(tried, key=lambda c: (c["clip_score"], -tried.index(c)))
            if floor is None or best["clip_score"] >= floor:
                break
        os.replace(best["path"], out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = {"shot": plan["id"], "kept": best["seed"],
              "flagged": floor is not None and best["clip_score"] < floor,
              "candidates": [{k: c[k] for k in ("seed", "clip_score")} for c in tried]}
    side = side_record(job)
    side.parent.mkdir(parents=True, exist_ok=True)
    tmp = side.with_name(f".{side.name}.part")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(tmp, side)
    return record


def gather(story_dir: str | Path, shots: set[str]) -> list[dict[str, Any]]:
    """The story's candidate records, in shot order (those of shots it no longer has left out)."""
    records = []
    for path in sorted((Path(story_dir) / CANDIDATES).glob(pipeline.SHOT_GLOB)):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("shot") in shots:
            records.append(record)
    return records
