"""Animatic renderer: an illustrated storyboard frame per shot, drawn procedurally (Pillow).

A frame is built like a storyboard artist's animatic panel: a sky graded by the time of day and
mood (sun, moon, stars, clouds), layered scenery chosen from what the plan names (mountains,
hills, sea, islands, dunes, forest, city, village, ponds, or a room with a window), props
(lighthouse, boat, trees, castle, mill, lamp light, rain) and silhouettes of the cast and other
figures, with ink outlines, atmospheric perspective (far layers fade into the horizon haze), a
soft vignette and paper grain. Colours come from the story's palette, so shots hold one look.

Deterministic: every random choice comes from ``numpy.random.default_rng(plan["seed"])``.
The image is rendered at the output preset's size times ``headroom`` so that the camera move
of the video stage has room.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.artifacts import atomic_path
from storyreel.media import even, frame_size

log = logging.getLogger(__name__)

MOOD_TONE = {  # (brightness, saturation, cloudiness) per mood
    "calm": (1.0, 1.0, 0.3), "joyful": (1.08, 1.12, 0.2), "tense": (0.82, 0.8, 0.8),
    "somber": (0.8, 0.7, 0.6), "mysterious": (0.85, 0.9, 0.5), "triumphant": (1.05, 1.1, 0.3),
}


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` to an (r, g, b) tuple."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, int, int]:
    """Linear blend of two RGB colours (t=0 gives a, t=1 gives b)."""
    t = min(1.0, max(0.0, t))
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))  # type: ignore


def scale(c: tuple[int, ...], k: float) -> tuple[int, int, int]:
    """An RGB colour times ``k`` (clipped)."""
    return tuple(int(min(255, max(0, round(x * k)))) for x in c)  # type: ignore


@dataclass
class Scene:
    """Everything the drawing helpers share for one frame."""

    img: Any  # PIL.Image.Image, RGB
    rng: Any  # numpy Generator
    w: int
    h: int
    horizon: int
    haze: tuple[int, int, int]
    ink: tuple[int, int, int]
    ambient: float
    palette: dict[str, tuple[int, int, int]]
    light: tuple[int, int, int]
    night: bool
    sun_x: float

    @property
    def u(self) -> float:
        """The drawing unit: the shorter side of the frame."""
        return float(min(self.w, self.h))

    def shade(self, colour: tuple[int, int, int], depth: float) -> tuple[int, int, int]:
        """A colour lit by the ambient light and faded toward the haze by depth (0 near, 1 far)."""
        lit = scale(colour, 0.35 + 0.65 * self.ambient)
        return mix(lit, self.haze, depth * 0.75)


def new_mask(scene: Scene) -> tuple[Any, Any]:
    """A blank L mask the size of the frame, and a drawing context on it."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", (scene.w, scene.h), 0)
    return mask, ImageDraw.Draw(mask)


def fill(scene: Scene, mask: Any, colour: tuple[int, int, int], outline: float = 0.0,
         soften: float = 0.0) -> None:
    """Paint ``colour`` through ``mask``; optionally soften it and ink its outline."""
    from PIL import ImageFilter

    if soften:
        mask = mask.filter(ImageFilter.GaussianBlur(soften))
    scene.img.paste(colour, mask=mask)
    if outline:
        edges = mask.filter(ImageFilter.FIND_EDGES).point(lambda v: min(255, int(v * outline)))
        scene.img.paste(scene.ink, mask=edges)


def ridge(scene: Scene, base: float, amp: float, waves: int, sharp: bool = False) -> list[
        tuple[float, float]]:
    """A ridge line across the frame (sum of sines; ``sharp`` gives mountain peaks)."""
    rng = scene.rng
    phases = rng.uniform(0, 2 * math.pi, waves)
    freqs = rng.uniform(0.6, 1.4, waves) * (1 + rng.integers(0, 3, waves))
    weights = 1.0 / (1 + rng.random(waves) * 2)
    pts = []
    steps = 96
    for i in range(steps + 1):
        x = i / steps
        v = sum(wt * math.sin(2 * math.pi * f * x + p) for f, p, wt in zip(freqs, phases, weights,
                                                                           strict=True))
        v /= max(1e-6, weights.sum())
        if sharp:
            v = 1 - abs(v) * 2
        pts.append((x * scene.w, base - amp * v))
    return pts


def land(scene: Scene, pts: list[tuple[float, float]], colour: tuple[int, int, int],
         depth: float, outline: float = 0.6) -> None:
    """Fill below a ridge line with a colour at a depth."""
    mask, draw = new_mask(scene)
    draw.polygon(pts + [(scene.w, scene.h), (0, scene.h)], fill=255)
    fill(scene, mask, scene.shade(colour, depth), outline=outline * (1 - depth), soften=0.6)


# -- sky ---------------------------------------------------------------------------------------

def sky(scene: Scene, lighting: dict[str, Any], tone: tuple[float, float, float]) -> None:
    """Vertical sky gradient with a glow around the sun or moon, and stars at night."""
    import numpy as np
    from PIL import Image

    top = np.array(hex_rgb(lighting["sky_top"]), np.float32)
    bottom = np.array(hex_rgb(lighting["sky_horizon"]), np.float32)
    ys = np.clip(np.arange(scene.h, dtype=np.float32) / max(1, scene.horizon), 0, 1) ** 1.4
    grad = top[None, :] * (1 - ys[:, None]) + bottom[None, :] * ys[:, None]
    xs = np.arange(scene.w, dtype=np.float32) / scene.w
    cy = scene.horizon * (1 - lighting["elevation"])
    dist = np.sqrt(((xs[None, :] - scene.sun_x) * scene.w / scene.u) ** 2
                   + ((np.arange(scene.h)[:, None] - cy) / scene.u) ** 2)
    glow = np.exp(-dist * (3.0 if scene.night else 2.2))[..., None] * (0.35 if scene.night
                                                                        else 0.55)
    rgb = grad[:, None, :] * (1 - glow) + np.array(hex_rgb(lighting["light"]), np.float32) * glow
    rgb = rgb * tone[0]
    grey = rgb.mean(axis=2, keepdims=True)
    rgb = grey + (rgb - grey) * tone[1]
    scene.img.paste(Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB"))
    if lighting["stars"]:
        stars(scene)
    celestial(scene, lighting, cy)


def stars(scene: Scene) -> None:
    """Scattered stars above the horizon, brighter toward the top."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(scene.img)
    n = int(scene.w * scene.horizon / 5000)
    xs = scene.rng.uniform(0, scene.w, n)
    ys = scene.rng.uniform(0, scene.horizon * 0.85, n) ** 1.0
    sizes = scene.rng.random(n)
    for x, y, s in zip(xs, ys, sizes, strict=True):
        level = int(150 + 105 * s * (1 - y / scene.horizon))
        r = 0.6 + 1.4 * s ** 3 * scene.u / 900
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(level, level, min(255, level + 20)))


def celestial(scene: Scene, lighting: dict[str, Any], cy: float) -> None:
    """The sun (a bright disc) or the moon (a crescent) at the lighting's elevation."""
    from PIL import ImageDraw

    cx = scene.sun_x * scene.w
    draw = ImageDraw.Draw(scene.img)
    light = hex_rgb(lighting["light"])
    if lighting["celestial"] == "moon":
        r = scene.u * 0.045
        off = r * 0.45
        sample = (int(min(scene.w - 1, max(0, cx + off))), int(max(0, cy - r * 1.6)))
        shadow = scene.img.getpixel(sample)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(240, 238, 222))
        draw.ellipse((cx - r + off, cy - r - off * 0.3, cx + r + off, cy + r - off * 0.3),
                     fill=shadow)
    else:
        r = scene.u * (0.07 if lighting["elevation"] < 0.2 else 0.05)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=mix(light, (255, 255, 255), 0.4))


def clouds(scene: Scene, amount: float, dark: bool) -> None:
    """Soft cloud banks; more and darker for tense moods and storms."""
    from PIL import Image, ImageDraw, ImageFilter

    n = int(2 + amount * 6)
    layer = Image.new("L", (scene.w // 4, scene.h // 4), 0)
    draw = ImageDraw.Draw(layer)
    for _ in range(n):
        cx = scene.rng.uniform(-0.1, 1.1) * layer.width
        cy = scene.rng.uniform(0.08, 0.7) * scene.horizon / 4
        width = scene.rng.uniform(0.15, 0.35) * layer.width
        for _ in range(6):
            dx = scene.rng.uniform(-0.5, 0.5) * width
            rx = scene.rng.uniform(0.15, 0.35) * width
            ry = rx * scene.rng.uniform(0.35, 0.6)
            draw.ellipse((cx + dx - rx, cy - ry, cx + dx + rx, cy + ry * 0.6), fill=200)
    mask = layer.filter(ImageFilter.GaussianBlur(scene.u / 300)).resize((scene.w, scene.h))
    base = (70, 74, 86) if dark else (250, 246, 240)
    colour = mix(scale(base, 0.4 + 0.6 * scene.ambient), scene.haze, 0.35)
    scene.img.paste(colour, mask=mask.point(lambda v: int(v * (0.8 if dark else 0.6))))


# -- scenery -----------------------------------------------------------------------------------

def sea(scene: Scene) -> None:
    """The sea from the horizon down, with wave strokes and the light's reflection."""
    from PIL import ImageDraw

    water = scene.palette["water"]
    mask, draw = new_mask(scene)
    draw.rectangle((0, scene.horizon, scene.w, scene.h), fill=255)
    fill(scene, mask, scene.shade(water, 0.2))
    draw = ImageDraw.Draw(scene.img)
    cx = scene.sun_x * scene.w
    for i in range(int(28 * scene.h / scene.u)):
        t = (i / (28 * scene.h / scene.u)) ** 1.6
        y = scene.horizon + t * (scene.h - scene.horizon)
        length = scene.u * (0.02 + 0.08 * t)
        x = scene.rng.uniform(-0.05, 1.05) * scene.w
        near = abs(x - cx) < scene.u * (0.04 + 0.2 * t)
        colour = mix(scene.shade(water, 0.0), scene.light if near else scene.haze,
                     0.7 if near else 0.35)
        draw.line((x - length, y, x + length, y), fill=colour, width=max(1, int(t * 4)))


def island(scene: Scene, side: float) -> tuple[float, float]:
    """A rocky headland running in from one side of the frame; returns where its top is."""
    from PIL import ImageDraw

    w, hz, u = scene.w, scene.horizon, scene.u
    direction = 1 if side < 0.5 else -1
    edge = -0.02 * w if direction == 1 else 1.02 * w
    top_y = hz - u * 0.17
    extent = w * 0.4
    profile = [(0.0, 0.0), (0.3, 0.02), (0.45, 0.12), (0.6, 0.45), (0.72, 0.8), (0.8, 1.0)]
    pts = [(edge, scene.h)]
    for t, drop in profile:
        jitter = scene.rng.uniform(-0.01, 0.01) * u
        pts.append((edge + direction * extent * t, top_y + drop * (hz + u * 0.03 - top_y) + jitter))
    pts += [(edge + direction * extent * 0.95, hz + u * 0.2),
            (edge + direction * extent * 1.1, scene.h)]
    mask, draw = new_mask(scene)
    draw.polygon(pts, fill=255)
    rock = mix(scene.palette["stone"], scene.palette["ink"], 0.35)
    fill(scene, mask, scene.shade(rock, 0.1), outline=1.0)
    grass, gdraw = new_mask(scene)
    cap = pts[1:4]
    gdraw.polygon(cap + [(x, y + u * 0.035) for x, y in reversed(cap)], fill=255)
    fill(scene, grass, scene.shade(scene.palette["land_near"], 0.1), outline=0.6)
    strata = ImageDraw.Draw(scene.img)
    line = scene.shade(mix(rock, scene.palette["ink"], 0.4), 0.1)
    for k in range(6):
        y = top_y + u * (0.06 + 0.05 * k)
        x0 = edge + direction * extent * scene.rng.uniform(0.05, 0.3)
        x1 = x0 + direction * extent * scene.rng.uniform(0.1, 0.3)
        strata.line((x0, y, x1, y + u * 0.01), fill=line, width=max(1, int(u / 400)))
    return edge + direction * extent * 0.18, top_y


def ledge(scene: Scene) -> None:
    """A rocky foreground ledge across the bottom of a coastal frame, for figures to stand on."""
    rock = mix(scene.palette["stone"], scene.palette["ink"], 0.5)
    land(scene, ridge(scene, scene.h * 0.88, scene.u * 0.025, 4), rock, 0.0, outline=1.0)


def ground(scene: Scene, colour: tuple[int, int, int]) -> None:
    """The near ground from just below the horizon, gently rolling."""
    land(scene, ridge(scene, scene.horizon + scene.u * 0.08, scene.u * 0.03, 3), colour, 0.0,
         outline=0.8)


def forest(scene: Scene, base: float, depth: float, count: int) -> None:
    """A band of pine trees standing on a line at ``base``."""
    mask, draw = new_mask(scene)
    size = scene.u * (0.14 - 0.08 * depth)
    for x in sorted(scene.rng.uniform(-0.05, 1.05, count)):
        hgt = size * scene.rng.uniform(0.7, 1.3)
        px = x * scene.w
        y = base + scene.rng.uniform(-0.01, 0.01) * scene.u
        for tier in range(3):
            top = y - hgt * (1 - tier * 0.28)
            half = hgt * (0.18 + tier * 0.07)
            draw.polygon([(px, top), (px - half, y - hgt * 0.22 * (2 - tier)),
                          (px + half, y - hgt * 0.22 * (2 - tier))], fill=255)
        draw.rectangle((px - hgt * 0.03, y - hgt * 0.2, px + hgt * 0.03, y + hgt * 0.05), fill=255)
    fill(scene, mask, scene.shade(scene.palette["foliage"], depth), outline=1 - depth)


def buildings(scene: Scene, city: bool) -> None:
    """A skyline (city) or a row of houses (village) on the horizon, lit windows at night."""
    from PIL import ImageDraw

    mask, draw = new_mask(scene)
    windows = []
    n = 14 if city else 6
    x = scene.rng.uniform(0.0, 0.2) * scene.w
    base = scene.horizon + scene.u * (0.04 if city else 0.09)
    while x < scene.w and n > 0:
        bw = scene.u * (scene.rng.uniform(0.05, 0.1) if city else scene.rng.uniform(0.08, 0.12))
        bh = scene.u * (scene.rng.uniform(0.12, 0.35) if city else scene.rng.uniform(0.06, 0.09))
        draw.rectangle((x, base - bh, x + bw, base), fill=255)
        if not city:
            draw.polygon([(x - bw * 0.1, base - bh), (x + bw / 2, base - bh - bw * 0.5),
                          (x + bw * 1.1, base - bh)], fill=255)
        for wy in range(int(bh // (bw * 0.3))):
            if scene.rng.random() < 0.45:
                wx = x + bw * scene.rng.uniform(0.15, 0.7)
                yy = base - bh + bw * 0.15 + wy * bw * 0.3
                windows.append((wx, yy, wx + bw * 0.12, yy + bw * 0.12))
        x += bw * (1.1 if city else scene.rng.uniform(1.4, 3.0))
        n -= 1
    colour = scene.palette["stone"] if not city else scene.palette["land_far"]
    fill(scene, mask, scene.shade(colour, 0.35 if city else 0.15), outline=0.8)
    draw = ImageDraw.Draw(scene.img)
    lit = scene.palette["accent"] if scene.night else scale(scene.palette["ink"], 1.6)
    for box in windows:
        draw.rectangle(box, fill=lit)


def pond(scene: Scene) -> None:
    """A pond or river in the foreground that mirrors the sky's light."""
    mask, draw = new_mask(scene)
    cx = scene.rng.uniform(0.3, 0.7) * scene.w
    cy = scene.horizon + (scene.h - scene.horizon) * 0.55
    rx, ry = scene.w * 0.28, (scene.h - scene.horizon) * 0.16
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    fill(scene, mask, mix(scene.shade(scene.palette["water"], 0.1), scene.haze, 0.25),
         outline=0.9, soften=1.0)


def interior(scene: Scene, lighting: dict[str, Any], tone: tuple[float, float, float]) -> None:
    """A room: back wall, floor, a window onto the sky, a table with a warm lamp."""
    from PIL import Image, ImageDraw

    w, h = scene.w, scene.h
    win = (int(w * 0.56), int(h * 0.16), int(w * 0.86), int(h * 0.52))
    outside = Image.new("RGB", (w, h))
    sub = Scene(outside, scene.rng, w, h, win[3], scene.haze, scene.ink, scene.ambient,
                scene.palette, scene.light, scene.night, 0.71)
    sky(sub, lighting, tone)
    wall = scene.shade(scale(scene.palette["stone"], 0.8), 0.0)
    draw = ImageDraw.Draw(scene.img)
    draw.rectangle((0, 0, w, h), fill=wall)
    scene.img.paste(outside.crop(win), win[:2])
    frame = scene.shade(scene.palette["roof"], 0.0)
    draw.rectangle(win, outline=frame, width=int(scene.u * 0.015))
    draw.line(((win[0] + win[2]) / 2, win[1], (win[0] + win[2]) / 2, win[3]), fill=frame,
              width=int(scene.u * 0.01))
    floor_y = int(h * 0.72)
    draw.rectangle((0, floor_y, w, h), fill=scene.shade(scale(scene.palette["roof"], 0.7), 0.0))
    scene.horizon = floor_y


def glow(scene: Scene, x: float, y: float, radius: float, colour: tuple[int, int, int],
         strength: float = 0.6) -> None:
    """A warm radial light (lamp, window, beacon)."""
    import numpy as np
    from PIL import Image

    r = int(radius)
    x0, y0 = int(x) - r, int(y) - r
    yy, xx = np.mgrid[-r:r, -r:r].astype(np.float32)
    alpha = np.clip(1 - np.sqrt(xx ** 2 + yy ** 2) / r, 0, 1) ** 2 * strength * 255
    scene.img.paste(colour, (x0, y0), Image.fromarray(alpha.astype(np.uint8), "L"))


# -- props -------------------------------------------------------------------------------------

def lighthouse(scene: Scene, x: float, base: float) -> None:
    """A tapered, striped lighthouse standing at (x, base), with a beam at night."""
    from PIL import ImageDraw

    u = scene.u
    hgt, bw, tw = u * 0.32, u * 0.055, u * 0.035
    top = base - hgt
    mask, draw = new_mask(scene)
    draw.polygon([(x - bw, base), (x - tw, top), (x + tw, top), (x + bw, base)], fill=255)
    draw.rectangle((x - tw * 1.35, top - u * 0.012, x + tw * 1.35, top), fill=255)
    draw.rectangle((x - tw * 0.8, top - u * 0.06, x + tw * 0.8, top - u * 0.012), fill=255)
    draw.polygon([(x - tw, top - u * 0.06), (x, top - u * 0.09), (x + tw, top - u * 0.06)],
                 fill=255)
    fill(scene, mask, scene.shade((236, 230, 218), 0.05), outline=1.0)
    stripes = ImageDraw.Draw(scene.img)
    red = scene.shade(scene.palette["roof"], 0.05)
    for k in (0.25, 0.6):
        y0, y1 = base - hgt * k, base - hgt * (k + 0.15)
        half0 = bw + (tw - bw) * k
        half1 = bw + (tw - bw) * (k + 0.15)
        stripes.polygon([(x - half0, y0), (x - half1, y1), (x + half1, y1), (x + half0, y0)],
                        fill=red)
    lamp_y = top - u * 0.036
    if scene.night or scene.ambient < 0.75:
        beam, bdraw = new_mask(scene)
        reach = scene.w * 0.9 * (1 if x < scene.w / 2 else -1)
        bdraw.polygon([(x, lamp_y), (x + reach, lamp_y - u * 0.12), (x + reach, lamp_y + u * 0.1)],
                      fill=70)
        fill(scene, beam, (255, 236, 170), soften=u / 60)
        glow(scene, x, lamp_y, u * 0.08, (255, 232, 160), 0.9)


def boat(scene: Scene, x: float, y: float, size: float) -> None:
    """A small sailing boat: hull, mast and sail, a lantern at night."""
    mask, draw = new_mask(scene)
    s = size
    draw.polygon([(x - s, y - s * 0.18), (x + s, y - s * 0.18), (x + s * 0.7, y + s * 0.12),
                  (x - s * 0.75, y + s * 0.12)], fill=255)
    fill(scene, mask, scene.shade(scale(scene.palette["roof"], 0.7), 0.1), outline=1.0)
    sail, sdraw = new_mask(scene)
    sdraw.polygon([(x + s * 0.05, y - s * 1.5), (x + s * 0.05, y - s * 0.25),
                   (x + s * 0.75, y - s * 0.25)], fill=255)
    sdraw.polygon([(x - s * 0.05, y - s * 1.3), (x - s * 0.05, y - s * 0.25),
                   (x - s * 0.6, y - s * 0.25)], fill=255)
    fill(scene, sail, scene.shade((232, 222, 200), 0.1), outline=1.0)
    if scene.night:
        glow(scene, x - s * 0.6, y - s * 0.3, s * 0.35, (255, 210, 130), 0.9)


def tree(scene: Scene, x: float, base: float, size: float) -> None:
    """A broad-leaved tree with a round, lumpy crown."""
    mask, draw = new_mask(scene)
    draw.rectangle((x - size * 0.06, base - size * 0.6, x + size * 0.06, base), fill=255)
    for _ in range(7):
        dx, dy = scene.rng.uniform(-0.3, 0.3) * size, scene.rng.uniform(-0.25, 0.1) * size
        r = size * scene.rng.uniform(0.22, 0.32)
        cy = base - size * 0.8 + dy
        draw.ellipse((x + dx - r, cy - r, x + dx + r, cy + r), fill=255)
    fill(scene, mask, scene.shade(scale(scene.palette["foliage"], 1.1), 0.0), outline=1.0)


def castle(scene: Scene, x: float, base: float, size: float, mill: bool) -> None:
    """A tower with battlements (castle) or a windmill with sails (mill)."""
    from PIL import ImageDraw

    mask, draw = new_mask(scene)
    bw = size * 0.18
    draw.polygon([(x - bw, base), (x - bw * 0.8, base - size), (x + bw * 0.8, base - size),
                  (x + bw, base)], fill=255)
    if mill:
        draw.polygon([(x - bw, base - size), (x, base - size * 1.25), (x + bw, base - size)],
                     fill=255)
    else:
        for k in range(-2, 3):
            draw.rectangle((x + k * bw * 0.36 - bw * 0.12, base - size * 1.08,
                            x + k * bw * 0.36 + bw * 0.12, base - size), fill=255)
    fill(scene, mask, scene.shade(scene.palette["stone"], 0.2), outline=1.0)
    if mill:
        draw = ImageDraw.Draw(scene.img)
        hub = (x, base - size * 1.05)
        for k in range(4):
            a = math.radians(25 + 90 * k)
            draw.line((hub, (hub[0] + math.cos(a) * size * 0.7, hub[1] + math.sin(a) * size * 0.7)),
                      fill=scene.ink, width=max(2, int(size * 0.05)))


def rain(scene: Scene) -> None:
    """Diagonal rain streaks over everything."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(scene.img)
    colour = mix(scene.haze, (220, 225, 235), 0.5)
    for _ in range(int(scene.w * scene.h / 9000)):
        x, y = scene.rng.uniform(0, scene.w), scene.rng.uniform(0, scene.h)
        length = scene.u * scene.rng.uniform(0.02, 0.05)
        draw.line((x, y, x - length * 0.35, y + length), fill=colour, width=1)


# -- figures -----------------------------------------------------------------------------------

def person(scene: Scene, x: float, base: float, size: float, colour: tuple[int, int, int],
           variant: int) -> None:
    """A standing figure in a coat: head, coat, legs; a hood or hat by variant."""
    mask, draw = new_mask(scene)
    s = size
    head_r = s * 0.085
    neck = base - s * 0.82
    draw.ellipse((x - head_r, neck - head_r * 2, x + head_r, neck), fill=255)
    draw.polygon([(x - s * 0.11, neck + s * 0.02), (x + s * 0.11, neck + s * 0.02),
                  (x + s * 0.17, base - s * 0.16), (x - s * 0.17, base - s * 0.16)], fill=255)
    draw.rectangle((x - s * 0.09, base - s * 0.18, x - s * 0.03, base), fill=255)
    draw.rectangle((x + s * 0.03, base - s * 0.18, x + s * 0.09, base), fill=255)
    draw.ellipse((x - s * 0.13, neck, x + s * 0.13, neck + s * 0.12), fill=255)
    for side in (-1, 1):
        draw.polygon([(x + side * s * 0.1, neck + s * 0.03), (x + side * s * 0.16, neck + s * 0.05),
                      (x + side * s * 0.2, base - s * 0.42), (x + side * s * 0.15, base - s * 0.4)],
                     fill=255)
    if variant == 1:
        draw.polygon([(x - head_r * 1.3, neck + s * 0.02), (x, neck - head_r * 2.6),
                      (x + head_r * 1.3, neck + s * 0.02)], fill=255)
    elif variant == 2:
        draw.ellipse((x - head_r * 2, neck - head_r * 1.9, x + head_r * 2, neck - head_r * 1.4),
                     fill=255)
        draw.rectangle((x - head_r, neck - head_r * 2.6, x + head_r, neck - head_r * 1.6),
                       fill=255)
    fill(scene, mask, scene.shade(colour, 0.0), outline=1.2)


def quadruped(scene: Scene, x: float, base: float, size: float, colour: tuple[int, int, int],
              kind: str, facing: int) -> None:
    """A four-legged animal in profile; fox, dog, cat, deer and small ones differ in build."""
    build = {"fox": (0.55, 0.2, 0.16, 0.55), "dog": (0.55, 0.28, 0.25, 0.4),
             "cat": (0.45, 0.22, 0.2, 0.7), "deer": (0.6, 0.26, 0.55, 0.15),
             "small": (0.4, 0.28, 0.06, 0.1)}[kind]
    length, body_h, leg, tail = (v * size for v in build)
    mask, draw = new_mask(scene)
    top = base - leg - body_h
    draw.ellipse((x - length / 2, top, x + length / 2, top + body_h), fill=255)
    for k in (-0.38, -0.25, 0.25, 0.38):
        lx = x + k * length
        draw.rectangle((lx - size * 0.025, top + body_h * 0.5, lx + size * 0.025, base), fill=255)
    hx = x + facing * length * 0.55
    hy = top - body_h * (0.9 if kind == "deer" else 0.25)
    hr = body_h * 0.5
    draw.polygon([(x + facing * length * 0.3, top + body_h * 0.3), (hx, hy + hr),
                  (hx, hy - hr * 0.3)], fill=255)
    draw.ellipse((hx - hr, hy - hr * 0.8, hx + hr, hy + hr * 0.8), fill=255)
    draw.polygon([(hx + facing * hr * 0.6, hy - hr * 0.4), (hx + facing * hr * 1.6, hy + hr * 0.2),
                  (hx + facing * hr * 0.4, hy + hr * 0.5)], fill=255)
    ear = hr * (1.4 if kind in ("fox", "cat", "deer") else 0.8)
    for e in (-0.5, 0.3):
        ex = hx + e * hr
        draw.polygon([(ex - hr * 0.3, hy - hr * 0.5), (ex, hy - hr * 0.5 - ear),
                      (ex + hr * 0.3, hy - hr * 0.5)], fill=255)
    tip = None
    if tail > size * 0.05:
        tx, ty = x - facing * length * 0.45, top + body_h * 0.35
        tip = (tx - facing * tail, ty - body_h * (0.6 if kind == "fox" else 0.3))
        thick = body_h * (0.55 if kind == "fox" else 0.18)
        mid = ((tx + tip[0]) / 2, (ty + tip[1]) / 2 + body_h * 0.4)
        draw.polygon([(tx, ty - thick * 0.3), (mid[0], mid[1] - thick), tip,
                      (mid[0], mid[1] + thick * 0.4), (tx, ty + thick * 0.5)], fill=255)
    fill(scene, mask, scene.shade(colour, 0.0), outline=1.2)
    if kind == "fox" and tip:
        white, wdraw = new_mask(scene)
        r = body_h * 0.22
        cx = tip[0] + facing * r * 0.9
        wdraw.ellipse((cx - r, tip[1] - r * 0.6, cx + r, tip[1] + r * 0.9), fill=255)
        wdraw.polygon([(cx - r, tip[1]), (tip[0] - facing * r * 0.2, tip[1]),
                       (cx + r, tip[1] + r * 0.5)], fill=255)
        fill(scene, white, scene.shade((246, 240, 228), 0.0))


def bird(scene: Scene, x: float, y: float, size: float, perched: bool,
         colour: tuple[int, int, int]) -> None:
    """An owl-like perched bird, or a flying bird as a 'v' stroke."""
    from PIL import ImageDraw

    if not perched:
        draw = ImageDraw.Draw(scene.img)
        w = max(2, int(size * 0.04))
        draw.line([(x - size * 0.3, y - size * 0.1), (x, y), (x + size * 0.3, y - size * 0.12)],
                  fill=scene.ink, width=w, joint="curve")
        return
    mask, draw = new_mask(scene)
    draw.ellipse((x - size * 0.16, y - size * 0.5, x + size * 0.16, y), fill=255)
    draw.polygon([(x - size * 0.15, y - size * 0.42), (x - size * 0.12, y - size * 0.58),
                  (x - size * 0.04, y - size * 0.45)], fill=255)
    draw.polygon([(x + size * 0.15, y - size * 0.42), (x + size * 0.12, y - size * 0.58),
                  (x + size * 0.04, y - size * 0.45)], fill=255)
    fill(scene, mask, scene.shade(colour, 0.0), outline=1.2)
    eyes = ImageDraw.Draw(scene.img)
    for dx in (-0.06, 0.06):
        r = size * 0.04
        eyes.ellipse((x + dx * size - r, y - size * 0.38 - r, x + dx * size + r,
                      y - size * 0.38 + r), fill=(250, 220, 120))


# -- finishing ---------------------------------------------------------------------------------

def finish(scene: Scene, light_side: float, seed: int) -> Any:
    """Light falloff from the light's side, a soft vignette and paper grain; returns the image."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(scene.img, dtype=np.float32)
    h, w = arr.shape[:2]
    ys = (np.arange(h, dtype=np.float32)[:, None] / h - 0.5) * 2
    xs = (np.arange(w, dtype=np.float32)[None, :] / w - 0.5) * 2
    vignette = 1 - 0.28 * np.clip((xs ** 2 + ys ** 2) / 2, 0, 1) ** 1.3
    side = 1 - 0.08 * np.abs(xs - (light_side - 0.5) * 2) / 2
    rng = np.random.default_rng(seed)
    small = rng.normal(0, 1, (h // 8 + 1, w // 8 + 1)).astype(np.float32)
    blotch = np.asarray(Image.fromarray(small).resize((w, h), Image.BILINEAR), dtype=np.float32)
    fine = rng.normal(0, 1, (h, w)).astype(np.float32)
    grain = 1 + 0.018 * blotch + 0.022 * fine
    arr *= (vignette * side * grain)[..., None]
    paper = np.array(hex_rgb("#f3ead8"), np.float32) / 255
    arr = arr * (0.92 + 0.08 * paper)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


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

    def render(self, plan: dict[str, Any]) -> Any:
        """Render a plan (or a bare shot) to a PIL image."""
        import numpy as np
        from PIL import Image

        if "palette" not in plan:
            from storyreel.backends import options_for
            from storyreel.backends.vision.embedded import EmbeddedPlanner

            plan = EmbeddedPlanner(options_for("vision")).fallback_plan(plan)
        w, h = self.size(plan["aspect"])
        rng = np.random.default_rng(int(plan["seed"]))
        lighting = plan["lighting"]
        tone = MOOD_TONE.get(plan["mood"], MOOD_TONE["calm"])
        elements = plan["elements"]
        storm = "rain" in elements["props"] or plan["mood"] == "tense"
        palette = {k: hex_rgb(v) for k, v in plan["palette"].items()}
        horizon_frac = 0.58 if h <= w else 0.6
        scene = Scene(Image.new("RGB", (w, h)), rng, w, h, int(h * horizon_frac),
                      hex_rgb(lighting["sky_horizon"]), palette["ink"],
                      float(lighting["ambient"]) * tone[0], palette, hex_rgb(lighting["light"]),
                      lighting["celestial"] == "moon", float(rng.uniform(0.2, 0.8)))
        if "interior" in elements["scenery"]:
            interior(scene, lighting, tone)
        else:
            sky(scene, lighting, tone)
            clouds(scene, max(tone[2], 0.9 if storm else 0.0), storm)
            self.landscape(scene, elements)
        self.figures(scene, plan)
        if "rain" in elements["props"]:
            rain(scene)
        return finish(scene, scene.sun_x, int(plan["seed"]) + 1)

    def landscape(self, scene: Scene, elements: dict[str, list[str]]) -> None:
        """Scenery layers back to front, then the props that stand in them."""
        scenery, props = elements["scenery"], elements["props"]
        pal, u, hz = scene.palette, scene.u, scene.horizon
        if not any(s in scenery for s in ("sea", "island", "city", "village", "forest", "desert",
                                          "mountains", "hills", "water")):
            scenery = ["hills", "forest"]
        if "mountains" in scenery:
            land(scene, ridge(scene, hz - u * 0.12, u * 0.14, 4, sharp=True), pal["land_far"], 0.8)
        coastal = "sea" in scenery or "island" in scenery or "boat" in props or \
            "lighthouse" in props
        anchor = (scene.w * 0.5, hz + u * 0.08)
        if coastal:
            sea(scene)
            side = 0.12 if scene.rng.random() < 0.5 else 0.88
            anchor = island(scene, side)
            ledge(scene)
        else:
            land(scene, ridge(scene, hz - u * 0.05, u * 0.06, 3), pal["land_far"], 0.6)
            if "city" in scenery or "village" in scenery:
                buildings(scene, "city" in scenery)
            if "forest" in scenery:
                forest(scene, hz + u * 0.02, 0.45, 26)
            desert = "desert" in scenery
            colour = pal["stone"] if desert else (240, 242, 248) if "snow" in scenery \
                else pal["land_near"]
            ground(scene, colour)
            if "water" in scenery:
                pond(scene)
        base = hz + u * 0.1
        if "lighthouse" in props:
            lighthouse(scene, anchor[0], anchor[1] + u * 0.01)
        if "castle" in props or "mill" in props:
            castle(scene, scene.w * scene.rng.uniform(0.6, 0.8), base - u * 0.01, u * 0.2,
                   "mill" in props)
        if "tree" in props or "forest" in scenery:
            for k in range(2):
                tree(scene, scene.w * (0.08 + 0.84 * k) + scene.rng.uniform(-1, 1) * u * 0.05,
                     scene.h * 0.97, u * 0.4)
        if "boat" in props and coastal:
            bx = scene.w * (0.62 if anchor[0] < scene.w / 2 else 0.38)
            boat(scene, bx, hz + (scene.h - hz) * 0.35, u * 0.07)
        if "lamp" in props and not coastal:
            glow(scene, scene.w * 0.3, base - u * 0.1, u * 0.12, (255, 214, 140), 0.7)

    def figures(self, scene: Scene, plan: dict[str, Any]) -> None:
        """The cast (fixed colours from the style bible) and any other creatures named."""
        cast = list(plan.get("cast") or [])
        kinds = {c["kind"] for c in cast}
        extra = [k for k in plan["elements"]["figures"] if k not in kinds and k != "person"]
        if not cast and "person" in plan["elements"]["figures"]:
            cast = [{"kind": "person", "colour": "#6b4a3a", "silhouette": "person:0"}]
        slots = [0.3, 0.68, 0.5, 0.15, 0.85]
        ground_y = scene.h * (0.9 if scene.h > scene.w else 0.92)
        size = scene.u * 0.36
        for i, member in enumerate(cast[:4] + [{"kind": k, "colour": "#5a4636",
                                                  "silhouette": f"{k}:0"} for k in extra[:2]]):
            kind = member["kind"]
            x = scene.w * slots[i % len(slots)]
            colour = hex_rgb(member["colour"])
            variant = int(member["silhouette"].split(":")[-1])
            facing = 1 if x < scene.w / 2 else -1
            if kind == "person":
                person(scene, x, ground_y, size, colour, variant)
            elif kind == "bird":
                perched = i < len(cast) or scene.night
                bird(scene, x, ground_y if perched else scene.horizon * 0.4, size * 0.5,
                     perched, colour)
            else:
                quadruped(scene, x, ground_y, size * (0.7 if kind == "deer" else 0.5), colour,
                          kind, facing)

    def save(self, plan: dict[str, Any], path: str | Path) -> tuple[int, int]:
        """Render and write a PNG atomically; returns its size."""
        image = self.render(plan)
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG", compress_level=1)
        log.info("keyframe %s: %dx%d", plan.get("id"), *image.size)
        return image.size
