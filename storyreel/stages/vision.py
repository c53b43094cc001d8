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
from storyreel.core.types import character_ids
from storyreel.job import fallback
from storyreel.job.context import JobContext

log = logging.getLogger(__name__)


def edit_cast(style: dict[str, Any], edits: dict[str, dict[str, Any]]) -> list[str]:
    """Give every character of the style its id (:func:`character_ids`) and apply the config's
    ``characters`` edits of this story (by name or id: ``descriptors``, ``kind``, ``colour``),
    in place. Returns a line for each edit that names no character."""
    cast = style["characters"]
    ids = character_ids([c["name"] for c in cast])
    for member in cast:
        member["id"] = ids[member["name"]]
        edit = edits.get(member["name"]) or edits.get(member["id"]) or {}
        member.update(edit)
        if "kind" in edit:  # the animatic's drawing: same variant, the new kind
            member["silhouette"] = f"{edit['kind']}:{member['silhouette'].split(':')[-1]}"
    known = {c["name"] for c in cast} | set(ids.values())
    names = ", ".join(c["name"] for c in cast) or "none"
    return [f"characters.{style['story']}.{key}: no such character (the cast: {names})"
            for key in edits if key not in known]


def sheets(style: dict[str, Any], negative_prompt: str) -> list[dict[str, Any]]:
    """One sheet per character: the character and what its portrait is drawn with (schema
    ``sheet``), so that a character's portrait depends on that character alone."""
    return [{"story": style["story"], "id": member["id"], "character": member,
             "style": style["style"], "style_seed": int(style["seed"]),
             "palette": dict(style["palette"]), "lighting": dict(style["lighting"]["day"]),
             "negative_prompt": negative_prompt} for member in style["characters"]]


def plan_story(idea: dict[str, Any], shotlist: dict[str, Any], options: dict[str, Any],
               edits: dict[str, dict[str, Any]] | None = None,
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(style, one plan per shot) for a story (pure: no I/O), with the ``characters`` edits
    of this story applied to its cast."""
    backend = registry.create("vision", options)
    shots = shotlist["shots"]
    style = backend.style(idea, shots)
    for line in edit_cast(style, edits or {}):
        log.warning("%s", line)
    crossfade = float(shotlist["crossfade_s"])
    return style, [backend.plan_shot(shot, style, crossfade) for shot in shots]


def write_plans(style: dict[str, Any], plans: list[dict[str, Any]], out_dir: str | Path) -> None:
    """Write the style, every ``{shot}.json`` and every character's sheet
    (``characters/{id}.json``) into ``out_dir``, the story's vision folder (atomically,
    validated)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / pipeline.inside("vision", "style"), style, "style")
    for plan in plans:
        write_json(out / f"{plan['id']}.json", plan, "plan")
    negative = plans[0]["negative_prompt"] if plans else ""
    folder = out / pipeline.inside("vision", "sheets")
    folder.mkdir(exist_ok=True)
    for sheet in sheets(style, negative):
        write_json(folder / f"{sheet['id']}.json", sheet, "sheet")


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
    style, plans = plan_story(idea, shotlist, options, dict(smk.params.characters))
    write_plans(style, plans, smk.output.plan)
    record_degradation(style, job)
    made_by = style["fallback"]["backend"] if style.get("fallback") else options["backend"]
    log.info("%s style: %d characters, %d places; %d shot plans", made_by,
             len(style["characters"]), len(style["places"]), len(plans))
