"""Best of N keyframes on a tiny SD 1.5 pipeline and a tiny CLIP, on this machine's CPU (issue 18).

For N = 1, 2 and 4 candidates per shot, each shot's candidates go through the pipeline in one
batched call (``batch: N``) or one call each (``batch: 1``), then the CLIP scorer embeds them
and the shot's prompt. Prints, per N and mode, the median seconds per shot of rendering and of
scoring (the scoring overhead), the pipeline calls and the model loads (each model is loaded
once in this process, as the warm workers load it once per stage and story)::

    python benchmarks/candidates.py [--shots 8] [--repeats 3] [--models DIR]

Needs the diffusers and llm extras; builds the tiny models offline under ``--models``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from storyreel.core.config import options_for
from storyreel.job.context import JobContext
from storyreel.stages import candidates


def plan(shot: int) -> dict:
    return {"id": f"sh{shot:03d}", "story": "bench", "seed": 11 * shot, "aspect": "16:9",
            "prompt": "storybook; a red fox on a hill at night; the fox looks at the moon",
            "shot_prompt": "the fox looks at the moon", "negative_prompt": "blurry", "cast": []}


def run(sd: Path, scorer, count: int, batch: int, shots: int, work: Path) -> dict:
    from storyreel.backends.keyframes.diffusers import DiffusersKeyframes

    started = time.perf_counter()
    backend = DiffusersKeyframes(options_for("keyframes", backend="diffusers", model=str(sd),
                                             steps=4, resolution=64, batch=batch))
    load_s = time.perf_counter() - started
    timing = {"render": [], "score": []}

    def embed(method: str, items: list[str]) -> list[list[float]]:
        began = time.perf_counter()
        out = getattr(scorer, method)(items)
        timing["score"][-1] += time.perf_counter() - began
        return out

    def render(p: dict, path: Path, peers: list[dict]) -> None:
        began = time.perf_counter()
        backend.save_shot(p, path, peers=peers)
        timing["render"][-1] += time.perf_counter() - began

    for shot in range(1, shots + 1):
        timing["render"].append(0.0)
        timing["score"].append(0.0)
        job = JobContext.alone("keyframes", "bench", f"sh{shot:03d}", results=work)
        candidates.choose(plan(shot), work / f"sh{shot:03d}.png",
                          {"candidates": count, "gate_rounds": 0}, {"min_clip_score": None},
                          render, embed, job)
    return {"render_s": statistics.median(timing["render"]),
            "score_s": statistics.median(timing["score"]),
            "calls": backend.batcher.calls, "load_s": load_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", type=Path, default=Path(tempfile.gettempdir()) / "sr-bench")
    args = parser.parse_args()
    from storyreel.backends.score.clip import ClipScorer
    from storyreel.models.tiny import build_tiny_pipeline
    from storyreel.models.tiny.clip import build_tiny_clip

    sd = build_tiny_pipeline("sd15", args.models)
    started = time.perf_counter()
    scorer = ClipScorer({"model": str(build_tiny_clip(args.models)), "batch_size": 8,
                         "device": "cpu", "dtype": "auto"})
    print(f"models: tiny SD 1.5 ({sd}), tiny CLIP loaded in "
          f"{time.perf_counter() - started:.2f} s; {args.shots} shots, median of "
          f"{args.repeats} runs; 1 load of each model per run")
    print("| N | mode | render s/shot | scoring s/shot | pipeline calls | s/shot vs N=1 |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    base = None
    for count in (1, 2, 4):
        for mode, batch in (("one call each", 1), ("batched", count)):
            if count == 1 and mode == "batched":
                continue
            rows = []
            for _ in range(args.repeats):
                with tempfile.TemporaryDirectory() as tmp:
                    rows.append(run(sd, scorer, count, batch, args.shots, Path(tmp)))
            render = statistics.median(r["render_s"] for r in rows)
            score = statistics.median(r["score_s"] for r in rows)
            base = base or render + score
            print(f"| {count} | {mode} | {render:.3f} | {score:.3f} | {rows[0]['calls']} | "
                  f"{(render + score) / base:.2f}× |")


if __name__ == "__main__":
    main()
