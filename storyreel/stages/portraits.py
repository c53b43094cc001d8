"""portraits: one reference portrait per character of the story's cast.

The vision stage writes a sheet per character (``vision/characters/{id}.json``, schema
``sheet``); this stage draws it as ``characters/{id}.png`` with the keyframes backend (in its
warm worker when it holds a model): the character alone, whole, facing the viewer, on a plain
ground in the story's palette and daylight, from a seed of its own. Keyframe jobs of the shots
that show a character take its portrait as an input, so a diffusion backend with an IP-Adapter
conditions them on it, and editing one character (config key ``characters``) reruns its portrait
and only those shots.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from storyreel.core.artifacts import read_json
from storyreel.core.types import ShotPlan, stable_seed
from storyreel.job.context import JobContext
from storyreel.models.diffusion import job_options
from storyreel.stages.keyframes import render_keyframe

log = logging.getLogger(__name__)

POSE = "character portrait, whole figure, facing the viewer, plain background"


def portrait_plan(sheet: dict[str, Any], aspect: str) -> ShotPlan:
    """What the keyframes backend draws for a character's sheet: a plan of one shot showing
    that character alone (no place, no props), at ``aspect``."""
    member = sheet["character"]
    prompt = "; ".join([member["descriptors"], POSE, f"{sheet['style']} style",
                        sheet["lighting"]["description"]])
    return {
        "story": sheet["story"], "id": f"portrait-{sheet['id']}", "index": 0, "scene": "sc00",
        "sentences": [], "start": 0.0, "end": 1.0, "duration": 1.0, "narration": "",
        "prompt": prompt, "shot_prompt": POSE, "setting": "", "time_of_day": "day",
        "mood": "calm", "characters": [member["name"]], "camera": "hold",
        "transition": "cut", "seed": stable_seed(sheet["style_seed"], "portrait", member["name"]),
        "aspect": aspect, "negative_prompt": sheet["negative_prompt"], "style": sheet["style"],
        "style_seed": sheet["style_seed"], "palette": sheet["palette"],
        "lighting": sheet["lighting"], "place": None, "cast": [member],
        "elements": {"scenery": ["hills"], "props": [], "figures": []}, "crossfade_s": 0.0,
        "references": []}


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point (rule ``portraits``)."""
    sheet = read_json(smk.input.sheet, "sheet")
    plan = portrait_plan(sheet, str(smk.params.options["aspect"]))
    options = job_options(dict(smk.params.keyframes), dict(smk.config), "keyframes")
    seconds = render_keyframe(plan, Path(smk.output.png), options, job)
    log.info("portrait of %s drawn in %.2f s", sheet["character"]["name"], seconds)
