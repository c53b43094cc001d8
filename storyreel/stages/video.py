"""video: animate a shot's keyframe into a clip with its camera move.

The clip is exactly the shot's share of the narration timeline in frames, plus the crossfade
overlap when the shot crossfades into the next one (see storyreel.backends.motion.kenburns and
docs/media.md for the arithmetic). Clips are a fast, nearly lossless intermediate; post makes
the one real encode.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from storyreel import registry
from storyreel.config import load_config
from storyreel.stages.keyframes import read_plan

log = logging.getLogger(__name__)


def crossfade_length(plan: dict[str, Any], given: float | None = None) -> float:
    """The crossfade length: the plan's (vision), else the one given, else the config default."""
    if "crossfade_s" in plan:
        return float(plan["crossfade_s"])
    if given is not None:
        return float(given)
    return float(load_config({})["stages"]["shotlist"]["crossfade_s"])


def render_clip(png: str | Path, plan: dict[str, Any], out: str | Path, options: dict[str, Any],
                output: dict[str, Any], crossfade_s: float, threads: int = 1) -> int:
    """Render one clip with the configured motion backend; returns its frame count."""
    motion = registry.get("motion", options.get("backend", "kenburns"))(options)
    return motion.render(png, plan, out, int(output["fps"]), crossfade_s, threads)


def main(smk: Any) -> None:
    """Snakemake entry point (rule ``video``)."""
    plan = read_plan(smk.input.plan)
    crossfade = crossfade_length(plan, getattr(smk.params, "crossfade_s", None))
    frames = render_clip(smk.input.png, plan, smk.output.clip, dict(smk.params.options),
                         dict(smk.params.output), crossfade, int(getattr(smk, "threads", 1)))
    log.info("clip %s: %d frames", plan["id"], frames)
