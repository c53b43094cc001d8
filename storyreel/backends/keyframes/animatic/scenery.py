"""Scenery layers, back to front: mountains, sea and headland, hills, buildings, forest, ground,
ponds, or a room with a window."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from storyreel.backends.keyframes.animatic.canvas import (
    Canvas,
    fill,
    land,
    mix,
    new_mask,
    ridge,
    scale,
)
from storyreel.backends.keyframes.animatic.sky import sky


def sea(canvas: Canvas) -> None:
    """The sea from the horizon down, with wave strokes and the light's reflection."""
    water = canvas.palette["water"]
    mask, draw = new_mask(canvas)
    draw.rectangle((0, canvas.horizon, canvas.w, canvas.h), fill=255)
    fill(canvas, mask, canvas.shade(water, 0.2))
    draw = ImageDraw.Draw(canvas.img)
    cx = canvas.sun_x * canvas.w
    for i in range(int(28 * canvas.h / canvas.u)):
        t = (i / (28 * canvas.h / canvas.u)) ** 1.6
        y = canvas.horizon + t * (canvas.h - canvas.horizon)
        length = canvas.u * (0.02 + 0.08 * t)
        x = canvas.rng.uniform(-0.05, 1.05) * canvas.w
        near = abs(x - cx) < canvas.u * (0.04 + 0.2 * t)
        colour = mix(canvas.shade(water, 0.0), canvas.light if near else canvas.haze,
                     0.7 if near else 0.35)
        draw.line((x - length, y, x + length, y), fill=colour, width=max(1, int(t * 4)))


def island(canvas: Canvas, side: float) -> tuple[float, float]:
    """A rocky headland running in from one side of the frame; returns where its top is."""
    w, hz, u = canvas.w, canvas.horizon, canvas.u
    direction = 1 if side < 0.5 else -1
    edge = -0.02 * w if direction == 1 else 1.02 * w
    top_y = hz - u * 0.17
    extent = w * 0.4
    profile = [(0.0, 0.0), (0.3, 0.02), (0.45, 0.12), (0.6, 0.45), (0.72, 0.8), (0.8, 1.0)]
    pts = [(edge, canvas.h)]
    for t, drop in profile:
        jitter = canvas.rng.uniform(-0.01, 0.01) * u
        pts.append((edge + direction * extent * t, top_y + drop * (hz + u * 0.03 - top_y) + jitter))
    pts += [(edge + direction * extent * 0.95, hz + u * 0.2),
            (edge + direction * extent * 1.1, canvas.h)]
    mask, draw = new_mask(canvas)
    draw.polygon(pts, fill=255)
    rock = mix(canvas.palette["stone"], canvas.palette["ink"], 0.35)
    fill(canvas, mask, canvas.shade(rock, 0.1), outline=1.0)
    grass, gdraw = new_mask(canvas)
    cap = pts[1:4]
    gdraw.polygon(cap + [(x, y + u * 0.035) for x, y in reversed(cap)], fill=255)
    fill(canvas, grass, canvas.shade(canvas.palette["land_near"], 0.1), outline=0.6)
    strata = ImageDraw.Draw(canvas.img)
    line = canvas.shade(mix(rock, canvas.palette["ink"], 0.4), 0.1)
    for k in range(6):
        y = top_y + u * (0.06 + 0.05 * k)
        x0 = edge + direction * extent * canvas.rng.uniform(0.05, 0.3)
        x1 = x0 + direction * extent * canvas.rng.uniform(0.1, 0.3)
        strata.line((x0, y, x1, y + u * 0.01), fill=line, width=max(1, int(u / 400)))
    return edge + direction * extent * 0.18, top_y


def ledge(canvas: Canvas) -> None:
    """A rocky foreground ledge across the bottom of a coastal frame, for figures to stand on."""
    rock = mix(canvas.palette["stone"], canvas.palette["ink"], 0.5)
    land(canvas, ridge(canvas, canvas.h * 0.88, canvas.u * 0.025, 4), rock, 0.0, outline=1.0)


def ground(canvas: Canvas, colour: tuple[int, int, int]) -> None:
    """The near ground from just below the horizon, gently rolling."""
    land(canvas, ridge(canvas, canvas.horizon + canvas.u * 0.08, canvas.u * 0.03, 3), colour, 0.0,
         outline=0.8)


def forest(canvas: Canvas, base: float, depth: float, count: int) -> None:
    """A band of pine trees standing on a line at ``base``."""
    mask, draw = new_mask(canvas)
    size = canvas.u * (0.14 - 0.08 * depth)
    for x in sorted(canvas.rng.uniform(-0.05, 1.05, count)):
        hgt = size * canvas.rng.uniform(0.7, 1.3)
        px = x * canvas.w
        y = base + canvas.rng.uniform(-0.01, 0.01) * canvas.u
        for tier in range(3):
            top = y - hgt * (1 - tier * 0.28)
            half = hgt * (0.18 + tier * 0.07)
            draw.polygon([(px, top), (px - half, y - hgt * 0.22 * (2 - tier)),
                          (px + half, y - hgt * 0.22 * (2 - tier))], fill=255)
        draw.rectangle((px - hgt * 0.03, y - hgt * 0.2, px + hgt * 0.03, y + hgt * 0.05), fill=255)
    fill(canvas, mask, canvas.shade(canvas.palette["foliage"], depth), outline=1 - depth)


def buildings(canvas: Canvas, city: bool) -> None:
    """A skyline (city) or a row of houses (village) on the horizon, lit windows at night."""
    mask, draw = new_mask(canvas)
    windows = []
    n = 14 if city else 6
    x = canvas.rng.uniform(0.0, 0.2) * canvas.w
    base = canvas.horizon + canvas.u * (0.04 if city else 0.09)
    while x < canvas.w and n > 0:
        bw = canvas.u * (canvas.rng.uniform(0.05, 0.1) if city else canvas.rng.uniform(0.08, 0.12))
        bh = canvas.u * (canvas.rng.uniform(0.12, 0.35) if city else canvas.rng.uniform(0.06, 0.09))
        draw.rectangle((x, base - bh, x + bw, base), fill=255)
        if not city:
            draw.polygon([(x - bw * 0.1, base - bh), (x + bw / 2, base - bh - bw * 0.5),
                          (x + bw * 1.1, base - bh)], fill=255)
        for wy in range(int(bh // (bw * 0.3))):
            if canvas.rng.random() < 0.45:
                wx = x + bw * canvas.rng.uniform(0.15, 0.7)
                yy = base - bh + bw * 0.15 + wy * bw * 0.3
                windows.append((wx, yy, wx + bw * 0.12, yy + bw * 0.12))
        x += bw * (1.1 if city else canvas.rng.uniform(1.4, 3.0))
        n -= 1
    colour = canvas.palette["stone"] if not city else canvas.palette["land_far"]
    fill(canvas, mask, canvas.shade(colour, 0.35 if city else 0.15), outline=0.8)
    draw = ImageDraw.Draw(canvas.img)
    lit = canvas.palette["accent"] if canvas.night else scale(canvas.palette["ink"], 1.6)
    for box in windows:
        draw.rectangle(box, fill=lit)


def pond(canvas: Canvas) -> None:
    """A pond or river in the foreground that mirrors the sky's light."""
    mask, draw = new_mask(canvas)
    cx = canvas.rng.uniform(0.3, 0.7) * canvas.w
    cy = canvas.horizon + (canvas.h - canvas.horizon) * 0.55
    rx, ry = canvas.w * 0.28, (canvas.h - canvas.horizon) * 0.16
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    fill(canvas, mask, mix(canvas.shade(canvas.palette["water"], 0.1), canvas.haze, 0.25),
         outline=0.9, soften=1.0)


def interior(canvas: Canvas, lighting: dict[str, Any], tone: tuple[float, float, float]) -> None:
    """A room: back wall, floor, a window onto the sky, a table with a warm lamp."""
    w, h = canvas.w, canvas.h
    win = (int(w * 0.56), int(h * 0.16), int(w * 0.86), int(h * 0.52))
    outside = Image.new("RGB", (w, h))
    sub = Canvas(outside, canvas.rng, w, h, win[3], canvas.haze, canvas.ink, canvas.ambient,
                canvas.palette, canvas.light, canvas.night, 0.71)
    sky(sub, lighting, tone)
    wall = canvas.shade(scale(canvas.palette["stone"], 0.8), 0.0)
    draw = ImageDraw.Draw(canvas.img)
    draw.rectangle((0, 0, w, h), fill=wall)
    canvas.img.paste(outside.crop(win), win[:2])
    frame = canvas.shade(canvas.palette["roof"], 0.0)
    draw.rectangle(win, outline=frame, width=int(canvas.u * 0.015))
    draw.line(((win[0] + win[2]) / 2, win[1], (win[0] + win[2]) / 2, win[3]), fill=frame,
              width=int(canvas.u * 0.01))
    floor_y = int(h * 0.72)
    draw.rectangle((0, floor_y, w, h), fill=canvas.shade(scale(canvas.palette["roof"], 0.7), 0.0))
    canvas.horizon = floor_y
