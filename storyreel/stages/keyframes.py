"""keyframes: render one picture per shot from its plan (or from the bare shot).

The input is ``vision/{shot}.json`` (schema ``plan``) when vision is enabled, else
``shots/{shot}.json`` (schema ``shot``); the renderer accepts both and derives what a bare shot
lacks (palette, lighting, what to draw) from the shot itself. The picture is the output preset's
size times ``headroom``, so that the camera move of the video stage has room.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from storyreel.core import registry
from storyreel.core.artifacts import read_json, validate
from storyreel.job.fallback import record, with_fallback
from storyreel.models import worker
from storyreel.models.diffusion import injected_ooms, job_options

log = logging.getLogger(__name__)


def read_plan(path: str | Path) -> dict[str, Any]:
    """Read a shot plan: a vision plan (schema ``plan``) or a bare shot (schema ``shot``)."""
    data = read_json(path)
    validate(data, "plan" if "palette" in data else "shot", str(path))
    return data


def render_keyframe(plan: dict[str, Any], out: str | Path, options: dict[str, Any]) -> float:
    """Render one keyframe PNG with the configured backend; returns the seconds it took.

    A backend that holds a model renders in its warm worker (``storyreel.models.worker``); when it
    runs out of GPU memory even with its memory savers, the shot falls back to the next backend of
    ``fallback`` and is flagged (``storyreel.job.fallback``).
    """
    started = time.perf_counter()
    def call(backend: str) -> dict[str, Any]:
        opts = {**options, "backend": backend}
        if registry.spec("keyframes", backend).gpu:
            return worker.call("keyframes", opts, "save_shot", {
                "plan": plan, "path": str(Path(out).resolve()),
                "inject_oom": injected_ooms("keyframes", plan["id"])})
        registry.create("keyframes", opts).save(plan, out)
        return {"oom": None}

    info = with_fallback("keyframes", options, call, shot=plan["id"])
    if info["oom"]:
        record("keyframes", options["backend"],
               f"{info['oom']}; rendered with {', '.join(info['savers'])}", shot=plan["id"])
    return time.perf_counter() - started


def main(smk: Any) -> None:
    """Snakemake entry point (rule ``keyframes``)."""
    plan = read_plan(smk.input.plan)
    options = job_options(dict(smk.params.options), dict(smk.config), "keyframes")
    seconds = render_keyframe(plan, smk.output.png, options)
    log.info("keyframe %s rendered in %.2f s", plan["id"], seconds)
