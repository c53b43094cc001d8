"""video: animate a shot's keyframe into a clip with its camera move.

The clip is exactly the shot's share of the narration timeline in frames, plus the crossfade
overlap when the shot crossfades into the next one (see storyreel.backends.video.kenburns and
docs/media.md for the arithmetic). Clips carry the burned subtitles and the film's encoding
settings, so post joins them without encoding them again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from storyreel import registry
from storyreel.config import load_config
from storyreel.fallback import with_fallback
from storyreel.stages.keyframes import read_plan
from storyreel.subtitles import parse_subtitles

log = logging.getLogger(__name__)


def crossfade_length(plan: dict[str, Any], given: float | None = None) -> float:
    """The crossfade length: the plan's (vision), else the one given, else the config default."""
    if "crossfade_s" in plan:
        return float(plan["crossfade_s"])
    if given is not None:
        return float(given)
    return float(load_config({})["stages"]["shotlist"]["crossfade_s"])


def render_clip(png: str | Path, plan: dict[str, Any], out: str | Path, options: dict[str, Any],
                output: dict[str, Any], crossfade_s: float, threads: int = 1,
                subtitles: str | Path | None = None) -> int:
    """Render one clip with the configured motion backend; returns its frame count."""
    return with_fallback(
        "video", options,
        lambda name: registry.create("video", {**options, "backend": name}).render(
            png, plan, out, output, crossfade_s, threads, subtitles),
        shot=plan.get("id"))


def burned_subtitles(srt: str | Path | None, burn: bool) -> str | Path | None:
    """The subtitle file to burn into the picture: None when off or when it has no cue."""
    return srt if srt and burn and parse_subtitles(srt) else None


def main(smk: Any) -> None:
    """Snakemake entry point (rule ``video``)."""
    plan = read_plan(smk.input.plan)
    crossfade = crossfade_length(plan, getattr(smk.params, "crossfade_s", None))
    subtitles = burned_subtitles(smk.input.srt, bool(smk.params.burn_subtitles))
    frames = render_clip(smk.input.png, plan, smk.output.clip, dict(smk.params.options),
                         dict(smk.params.output), crossfade, int(getattr(smk, "threads", 1)),
                         subtitles)
    log.info("clip %s: %d frames", plan["id"], frames)
