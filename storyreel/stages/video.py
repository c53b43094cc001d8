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

from storyreel.core import registry
from storyreel.job.fallback import record, with_fallback
from storyreel.media.subtitles import parse_subtitles
from storyreel.models import worker
from storyreel.models.diffusion import injected_ooms, job_options
from storyreel.stages.keyframes import read_plan

log = logging.getLogger(__name__)


def crossfade_length(plan: dict[str, Any], configured: float) -> float:
    """The crossfade length: the plan's (vision writes it), else the shotlist stage's setting
    (a bare shot)."""
    return float(plan.get("crossfade_s", configured))


def render_clip(png: str | Path, plan: dict[str, Any], out: str | Path, options: dict[str, Any],
                output: dict[str, Any], crossfade_s: float, threads: int = 1,
                subtitles: str | Path | None = None) -> int:
    """Render one clip with the configured video backend; returns its frame count.

    A backend that holds a model renders in its warm worker (``storyreel.models.worker``); when it
    runs out of GPU memory even with its memory savers, the shot falls back to the next backend of
    ``fallback`` and is flagged (``storyreel.job.fallback``).
    """
    def call(backend: str) -> dict[str, Any]:
        opts = {**options, "backend": backend}
        if registry.spec("video", backend).gpu:
            return worker.call("video", opts, "render_shot", {
                "png": str(Path(png).resolve()), "plan": plan, "out": str(Path(out).resolve()),
                "output": output, "crossfade_s": crossfade_s, "threads": threads,
                "subtitles": str(Path(subtitles).resolve()) if subtitles else None,
                "inject_oom": injected_ooms("video", plan["id"])})
        frames = registry.create("video", opts).render(png, plan, out, output, crossfade_s,
                                                        threads, subtitles)
        return {"frames": frames, "oom": None}

    info = with_fallback("video", options, call, shot=plan["id"])
    if info["oom"]:
        record("video", options["backend"],
               f"{info['oom']}; rendered with {', '.join(info['savers'])}", shot=plan["id"])
    return int(info["frames"])


def burned_subtitles(srt: str | Path | None, burn: bool) -> str | Path | None:
    """The subtitle file to burn into the picture: None when off or when it has no cue."""
    return srt if srt and burn and parse_subtitles(srt) else None


def main(smk: Any) -> None:
    """Snakemake entry point (rule ``video``)."""
    plan = read_plan(smk.input.plan)
    crossfade = crossfade_length(plan, float(smk.params.crossfade_s))
    subtitles = burned_subtitles(smk.input.srt, bool(smk.params.burn_subtitles))
    options = job_options(dict(smk.params.options), dict(smk.config), "video")
    frames = render_clip(smk.input.png, plan, smk.output.clip, options,
                         dict(smk.params.output), crossfade, int(getattr(smk, "threads", 1)),
                         subtitles)
    log.info("clip %s: %d frames", plan["id"], frames)
