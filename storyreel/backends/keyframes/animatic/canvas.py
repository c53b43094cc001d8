"""The canvas of an animatic frame and the drawing primitives every layer uses."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFilter


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """A colour (``#rrggbb`` or any name Pillow knows) as an (r, g, b) tuple."""
    r, g, b = ImageColor.getrgb(colour)[:3]
    return r, g, b


def mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, int, int]:
    """Linear blend of two RGB colours (t=0 gives a, t=1 gives b)."""
    t = min(1.0, max(0.0, t))
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))  # type: ignore


def scale(c: tuple[int, ...], k: float) -> tuple[int, int, int]:
    """An RGB colour times ``k`` (clipped)."""
    return tuple(int(min(255, max(0, round(x * k)))) for x in c)  # type: ignore


@dataclass
class Canvas:
    """The picture being drawn, and everything the drawing functions share for it."""

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


def new_mask(canvas: Canvas) -> tuple[Any, Any]:
    """A blank L mask the size of the frame, and a drawing context on it."""
    mask = Image.new("L", (canvas.w, canvas.h), 0)
    return mask, ImageDraw.Draw(mask)


def fill(canvas: Canvas, mask: Any, colour: tuple[int, int, int], outline: float = 0.0,
         soften: float = 0.0) -> None:
    """Paint ``colour`` through ``mask``; optionally soften it and ink its outline."""
    if soften:
        mask = mask.filter(ImageFilter.GaussianBlur(soften))
    canvas.img.paste(colour, mask=mask)
    if outline:
        edges = mask.filter(ImageFilter.FIND_EDGES).point(lambda v: min(255, int(v * outline)))
        canvas.img.paste(canvas.ink, mask=edges)


def ridge(canvas: Canvas, base: float, amp: float, waves: int, sharp: bool = False) -> list[
        tuple[float, float]]:
    """A ridge line across the frame (sum of sines; ``sharp`` gives mountain peaks)."""
    rng = canvas.rng
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
        pts.append((x * canvas.w, base - amp * v))
    return pts


def land(canvas: Canvas, pts: list[tuple[float, float]], colour: tuple[int, int, int],
         depth: float, outline: float = 0.6) -> None:
    """Fill below a ridge line with a colour at a depth."""
    mask, draw = new_mask(canvas)
    draw.polygon(pts + [(canvas.w, canvas.h), (0, canvas.h)], fill=255)
    fill(canvas, mask, canvas.shade(colour, depth), outline=outline * (1 - depth), soften=0.6)


def glow(canvas: Canvas, x: float, y: float, radius: float, colour: tuple[int, int, int],
         strength: float = 0.6) -> None:
    """A warm radial light (lamp, window, beacon)."""
    r = int(radius)
    x0, y0 = int(x) - r, int(y) - r
    yy, xx = np.mgrid[-r:r, -r:r].astype(np.float32)
    alpha = np.clip(1 - np.sqrt(xx ** 2 + yy ** 2) / r, 0, 1) ** 2 * strength * 255
    canvas.img.paste(colour, (x0, y0), Image.fromarray(alpha.astype(np.uint8), "L"))
