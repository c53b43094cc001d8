"""vision: plan the look of a story (its style) and enrich every shot's prompt.

Writes ``vision/style.json`` (schema ``style``) and one ``vision/{shot}.json`` (schema ``plan``)
per shot. A plan holds the whole shot plus what rendering it needs from the style, so the
keyframe and video jobs read one file. Output is deterministic, and a shot's plan depends only
on that shot and the style (which shot overrides cannot change), so editing one shot
rewrites the same bytes for every other shot and only the edited shot reruns downstream.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from storyreel.core import pipeline, registry
from storyreel.core.artifacts import read_json, write_json
from storyreel.job import fallback
from storyreel.job.context import JobContext

log = logging.getLogger(__name__)


def plan_story(idea: dict[str, Any], shotlist: dict[str, Any],
               options: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(style, one plan per shot) for a story (pure: no I/O)."""
    backend = registry.create("vision", options)
    shots = shotlist["shots"]
    style = backend.style(idea, shots)
    crossfade = float(shotlist["crossfade_s"])
    return style, [backend.plan_shot(shot, style, crossfade) for shot in shots]


def write_plans(style: dict[str, Any], plans: list[dict[str, Any]], out_dir: str | Path) -> None:
    """Write the style and every ``{shot}.json`` into ``out_dir``, the story's vision folder
    (atomically, validated)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / pipeline.inside("vision", "style"), style, "style")
    for plan in plans:
        write_json(out / f"{plan['id']}.json", plan, "plan")


def record_degradation(style: dict[str, Any], job: JobContext) -> None:
    """A model backend that gave no usable answer (the embedded style kept) is a degradation
    of the job, listed in the manifest with the reason (every rejected answer's); a later
    run that got an answer removes the record."""
    kept = style.get("fallback")
    if kept:
        fallback.record(job, kept["backend"], f"{kept['from']}: {kept['reason']}")
        return
    side = fallback.side_file(job)
    if side is not None:
        side.unlink(missing_ok=True)


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point (checkpoint ``vision``)."""
    idea = read_json(smk.input.idea, "idea")
    shotlist = read_json(smk.input.shotlist, "shotlist")
    options = dict(smk.params.options)
    style, plans = plan_story(idea, shotlist, options)
    write_plans(style, plans, smk.output.plan)
    record_degradation(style, job)
    made_by = style["fallback"]["backend"] if style.get("fallback") else options["backend"]
    log.info("%s style: %d characters, %d places; %d shot plans", made_by,
             len(style["characters"]), len(style["places"]), len(plans))
