"""video: animate a shot's keyframe into a clip with its camera move.

The clip is exactly the shot's share of the narration timeline in frames, plus the crossfade
overlap when the shot crossfades into the next one (see storyreel.media.clip and
docs/media.md for the arithmetic). Clips carry the burned subtitles and the film's encoding
settings, so post joins them without encoding them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyreel.core.types import ShotPlan
from storyreel.job.context import JobContext
from storyreel.media.subtitles import parse_subtitles
from storyreel.models.diffusion import job_options
from storyreel.stages.keyframes import pending_peers, render_shot, shot_plan

log = logging.getLogger(__name__)


def render_clip(png: str | Path, plan: ShotPlan, out: str | Path, options: dict[str, Any],
                output: dict[str, Any], crossfade_s: float, threads: int = 1,
                subtitles: str | Path | None = None, job: JobContext | None = None,
                peers: Callable[[], list[dict[str, Any]]] | None = None) -> int:
    """Render one clip with the configured video backend (a warm worker when it holds a
    model, its fallbacks when it fails: :func:`storyreel.stages.keyframes.render_shot`);
    returns its frame count."""
    job = job or JobContext.alone("video", plan["story"], plan["id"])
    info = render_shot(job, options, "render_shot", {
        "png": str(Path(png).resolve()), "plan": plan, "out": str(Path(out).resolve()),
        "output": output, "crossfade_s": crossfade_s, "threads": threads,
        "subtitles": str(Path(subtitles).resolve()) if subtitles else None},
        lambda backend: {"frames": backend.render(png, plan, out, output, crossfade_s,
                                                  threads, subtitles)}, peers)
    return int(info["frames"])


def burned_subtitles(srt: str | Path | None, burn: bool) -> str | Path | None:
    """The subtitle file to burn into the picture: None when off or when it has no cue."""
    return srt if srt and burn and parse_subtitles(srt) else None


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point (rule ``video``)."""
    plan = shot_plan(smk)
    subtitles = burned_subtitles(smk.input.srt, bool(smk.params.burn_subtitles))
    options = job_options(dict(smk.params.options), dict(smk.config), "video")
    frames = render_clip(smk.input.png, plan, smk.output.clip, options,
                         dict(smk.params.output), float(plan["crossfade_s"]),
                         int(getattr(smk, "threads", 1)), subtitles, job,
                         lambda: pending_peers(smk, job, plan))
    log.info("clip %s: %d frames", plan["id"], frames)
