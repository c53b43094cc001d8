"""Which layers a plan gets, in which order, and the renderer itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from storyreel.backends.keyframes.animatic.canvas import Canvas, glow, hex_rgb, land, ridge
from storyreel.backends.keyframes.animatic.creatures import dragon, garden, robot, train, whale
from storyreel.backends.keyframes.animatic.figures import bird, person, quadruped
from storyreel.backends.keyframes.animatic.props import boat, castle, lighthouse, rain, tree
from storyreel.backends.keyframes.animatic.scenery import (
    buildings,
    forest,
    ground,
    interior,
    island,
    ledge,
    pond,
    sea,
)
from storyreel.backends.keyframes.animatic.sky import (
    celestial,
    clouds,
    day_moon,
    finish,
    sky,
    stars,
)
from storyreel.core.artifacts import atomic_path
from storyreel.media.ffmpeg import even, frame_size

log = logging.getLogger(__name__)

MOOD_TONE = {  # (brightness, saturation, cloudiness) per mood
    "calm": (1.0, 1.0, 0.3), "joyful": (1.08, 1.12, 0.2), "tense": (0.82, 0.8, 0.8),
    "somber": (0.8, 0.7, 0.6), "mysterious": (0.85, 0.9, 0.5), "triumphant": (1.05, 1.1, 0.3),
}
LAMP = (255, 214, 140)


def mountains(canvas: Canvas) -> None:
    """Sharp far peaks behind everything else."""
    u, hz = canvas.u, canvas.horizon
    land(canvas, ridge(canvas, hz - u * 0.12, u * 0.14, 4, sharp=True),
         canvas.palette["land_far"], 0.8)


def hills(canvas: Canvas) -> None:
    """Rolling far hills on the horizon (every landscape that is not coastal has them)."""
    u, hz = canvas.u, canvas.horizon
    land(canvas, ridge(canvas, hz - u * 0.05, u * 0.06, 3), canvas.palette["land_far"], 0.6)


# What draws each subject a vision plan may name (storyreel.core.vocabulary.DRAWABLE). Subjects that
# change a layer rather than add one: desert and snow colour the ground; moon and stars are drawn
# by the sky (at night always, by day when the plan names them).
DRAWINGS: dict[str, dict[str, Callable[..., Any]]] = {
    "scenery": {"interior": interior, "sea": sea, "island": island, "mountains": mountains,
                "hills": hills, "forest": forest, "city": buildings, "village": buildings,
                "water": pond, "desert": ground, "snow": ground},
    "props": {"lighthouse": lighthouse, "boat": boat, "tree": tree, "lamp": glow, "rain": rain,
              "castle": castle, "mill": castle, "moon": celestial, "stars": stars,
              "train": train, "garden": garden},
    "figures": {"fox": quadruped, "dog": quadruped, "cat": quadruped, "deer": quadruped,
                "small": quadruped, "bird": bird, "person": person, "whale": whale,
                "robot": robot, "dragon": dragon},
}
LANDSCAPE = ("sea", "island", "city", "village", "forest", "desert", "mountains", "hills",
             "water")  # scenery that makes a landscape; with none of it: hills and forest


def landscape(canvas: Canvas, elements: dict[str, list[str]]) -> None:
    """Scenery layers back to front, then the props that stand in them."""
    scenery, props = elements["scenery"], elements["props"]
    pal, u, hz = canvas.palette, canvas.u, canvas.horizon
    if not any(s in scenery for s in LANDSCAPE):
        scenery = ["hills", "forest"]
    if "mountains" in scenery:
        mountains(canvas)
    coastal = "sea" in scenery or "island" in scenery or "boat" in props or \
        "lighthouse" in props
    anchor = (canvas.w * 0.5, hz + u * 0.08)
    if coastal:
        sea(canvas)
        side = 0.12 if canvas.rng.random() < 0.5 else 0.88
        anchor = island(canvas, side)
        ledge(canvas)
    else:
        hills(canvas)
        if "city" in scenery or "village" in scenery:
            buildings(canvas, "city" in scenery)
        if "forest" in scenery:
            forest(canvas, hz + u * 0.02, 0.45, 26)
        colour = pal["stone"] if "desert" in scenery else (240, 242, 248) if "snow" in scenery \
            else pal["land_near"]
        ground(canvas, colour)
        if "water" in scenery:
            pond(canvas)
    base = hz + u * 0.1
    if "lighthouse" in props:
        lighthouse(canvas, anchor[0], anchor[1] + u * 0.01)
    if "castle" in props or "mill" in props:
        castle(canvas, canvas.w * canvas.rng.uniform(0.6, 0.8), base - u * 0.01, u * 0.2,
               "mill" in props)
    if "train" in props and not coastal:
        train(canvas, hz + u * 0.16, u * 0.16)
    if "tree" in props or "forest" in scenery:
        for k in range(2):
            tree(canvas, canvas.w * (0.08 + 0.84 * k) + canvas.rng.uniform(-1, 1) * u * 0.05,
                 canvas.h * 0.97, u * 0.4)
    if "boat" in props and coastal:
        bx = canvas.w * (0.62 if anchor[0] < canvas.w / 2 else 0.38)
        boat(canvas, bx, hz + (canvas.h - hz) * 0.35, u * 0.07)
    if "lamp" in props and not coastal:
        glow(canvas, canvas.w * 0.3, base - u * 0.1, u * 0.12, LAMP, 0.7)


def night_sky_by_day(canvas: Canvas, lighting: dict[str, Any], props: list[str],
                     seed: int) -> None:
    """The moon and stars a plan names where its lighting would not show them: a pale moon
    in a sunlit sky, stars in the half-light of dawn and dusk (from their own random
    numbers, so the rest of the frame is drawn as without them)."""
    if "stars" in props and not lighting["stars"] and float(lighting["ambient"]) < 1.0:
        stars(canvas, np.random.default_rng(seed + 2))
    if "moon" in props and lighting["celestial"] != "moon":
        day_moon(canvas)


def figures(canvas: Canvas, plan: dict[str, Any]) -> None:
    """The cast (fixed colours from the style) and any other creatures named."""
    cast = list(plan.get("cast") or [])
    kinds = {c["kind"] for c in cast}
    extra = [k for k in plan["elements"]["figures"] if k not in kinds and k != "person"]
    if not cast and "person" in plan["elements"]["figures"]:
        cast = [{"kind": "person", "colour": "#6b4a3a", "silhouette": "person:0"}]
    slots = [0.3, 0.68, 0.5, 0.15, 0.85]
    ground_y = canvas.h * (0.9 if canvas.h > canvas.w else 0.92)
    size = canvas.u * 0.36
    for i, member in enumerate(cast[:4] + [{"kind": k, "colour": "#5a4636",
                                              "silhouette": f"{k}:0"} for k in extra[:2]]):
        kind = member["kind"]
        x = canvas.w * slots[i % len(slots)]
        colour = hex_rgb(member["colour"])
        variant = int(member["silhouette"].split(":")[-1])
        facing = 1 if x < canvas.w / 2 else -1
        if kind == "person":
            person(canvas, x, ground_y, size, colour, variant)
        elif kind == "robot":
            robot(canvas, x, ground_y, size, colour, variant)
        elif kind == "whale":
            whale(canvas, x, canvas.horizon + (canvas.h - canvas.horizon) * 0.3, size * 0.6,
                  colour, facing)
        elif kind == "dragon":
            dragon(canvas, x, ground_y, size * 0.8, colour, facing)
        elif kind == "bird":
            perched = i < len(cast) or canvas.night
            bird(canvas, x, ground_y if perched else canvas.horizon * 0.4, size * 0.5,
                 perched, colour)
        else:
            quadruped(canvas, x, ground_y, size * (0.7 if kind == "deer" else 0.5), colour,
                      kind, facing)


class AnimaticRenderer:
    """Procedural storyboard-animatic keyframes (Pillow + numpy), deterministic per seed."""

    name = "animatic"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.headroom = float(options["headroom"])

    def size(self, aspect: str) -> tuple[int, int]:
        """Keyframe size: the output preset times the headroom (even numbers)."""
        w, h = frame_size(aspect)
        return even(w * self.headroom), even(h * self.headroom)

    def render(self, plan: dict[str, Any], size: tuple[int, int] | None = None) -> Any:
        """Render a plan to a PIL image, at ``size`` or the keyframe size."""
        w, h = size or self.size(plan["aspect"])
        seed = int(plan["seed"])
        rng = np.random.default_rng(seed)
        lighting = plan["lighting"]
        tone = MOOD_TONE.get(plan["mood"], MOOD_TONE["calm"])
        elements = plan["elements"]
        storm = "rain" in elements["props"] or plan["mood"] == "tense"
        palette = {k: hex_rgb(v) for k, v in plan["palette"].items()}
        horizon_frac = 0.58 if h <= w else 0.6
        canvas = Canvas(Image.new("RGB", (w, h)), rng, w, h, int(h * horizon_frac),
                        hex_rgb(lighting["sky_horizon"]), palette["ink"],
                        float(lighting["ambient"]) * tone[0], palette, hex_rgb(lighting["light"]),
                        lighting["celestial"] == "moon", float(rng.uniform(0.2, 0.8)))
        if "interior" in elements["scenery"]:
            interior(canvas, lighting, tone)
        else:
            sky(canvas, lighting, tone)
            night_sky_by_day(canvas, lighting, elements["props"], seed)
            clouds(canvas, max(tone[2], 0.9 if storm else 0.0), storm)
            landscape(canvas, elements)
        if "garden" in elements["props"]:  # a flower bed, outdoors or in a greenhouse
            garden(canvas, canvas.u)
        figures(canvas, plan)
        if "rain" in elements["props"]:
            rain(canvas)
        return finish(canvas, canvas.sun_x, seed + 1)

    def save(self, plan: dict[str, Any], path: str | Path) -> tuple[int, int]:
        """Render and write a PNG atomically; returns its size."""
        image = self.render(plan)
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG", compress_level=1)
        log.info("keyframe %s: %dx%d", plan.get("id"), *image.size)
        return image.size
