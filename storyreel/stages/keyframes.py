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

from storyreel import registry
from storyreel.artifacts import read_json, validate
from storyreel.fallback import with_fallback

log = logging.getLogger(__name__)


def read_plan(path: str | Path) -> dict[str, Any]:
    """Read a shot plan: a vision plan (schema ``plan``) or a bare shot (schema ``shot``)."""
    data = read_json(path)
    validate(data, "plan" if "palette" in data else "shot", str(path))
    return data


def render_keyframe(plan: dict[str, Any], out: str | Path, options: dict[str, Any]) -> float:
    """Render one keyframe PNG with the configured backend; returns the seconds it took."""
    started = time.perf_counter()
    with_fallback("keyframes", options,
                  lambda name: registry.create("keyframes", {**options, "backend": name}
                                               ).save(plan, out),
                  shot=plan.get("id"))
    return time.perf_counter() - started


def main(smk: Any) -> None:
    """Snakemake entry point (rule ``keyframes``)."""
    plan = read_plan(smk.input.plan)
    seconds = render_keyframe(plan, smk.output.png, dict(smk.params.options))
    log.info("keyframe %s rendered in %.2f s", plan["id"], seconds)
