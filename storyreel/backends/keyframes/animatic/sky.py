"""The sky: gradient by time of day and mood, sun or moon, stars, clouds; and the finish
(light falloff, vignette, paper grain)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from storyreel.backends.keyframes.animatic.canvas import (
    Canvas,
    hex_rgb,
    mix,
    scale,
)


def sky(canvas: Canvas, lighting: dict[str, Any], tone: tuple[float, float, float]) -> None:
    """Vertical sky gradient with a glow around the sun or moon, and stars at night."""
    top = np.array(hex_rgb(lighting["sky_top"]), np.float32)
    bottom = np.array(hex_rgb(lighting["sky_horizon"]), np.float32)
    ys = np.clip(np.arange(canvas.h, dtype=np.float32) / max(1, canvas.horizon), 0, 1) ** 1.4
    grad = top[None, :] * (1 - ys[:, None]) + bottom[None, :] * ys[:, None]
    xs = np.arange(canvas.w, dtype=np.float32) / canvas.w
    cy = canvas.horizon * (1 - lighting["elevation"])
    dist = np.sqrt(((xs[None, :] - canvas.sun_x) * canvas.w / canvas.u) ** 2
                   + ((np.arange(canvas.h)[:, None] - cy) / canvas.u) ** 2)
    glow = np.exp(-dist * (3.0 if canvas.night else 2.2))[..., None] * (0.35 if canvas.night
                                                                        else 0.55)
    rgb = grad[:, None, :] * (1 - glow) + np.array(hex_rgb(lighting["light"]), np.float32) * glow
    rgb = rgb * tone[0]
    grey = rgb.mean(axis=2, keepdims=True)
    rgb = grey + (rgb - grey) * tone[1]
    canvas.img.paste(Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB"))
    if lighting["stars"]:
        stars(canvas)
    celestial(canvas, lighting, cy)


def stars(canvas: Canvas, rng: Any = None) -> None:
    """Scattered stars above the horizon, brighter toward the top (random choices from ``rng``,
    by default the canvas's)."""
    rng = canvas.rng if rng is None else rng
    draw = ImageDraw.Draw(canvas.img)
    n = int(canvas.w * canvas.horizon / 5000)
    xs = rng.uniform(0, canvas.w, n)
    ys = rng.uniform(0, canvas.horizon * 0.85, n) ** 1.0
    sizes = rng.random(n)
    for x, y, s in zip(xs, ys, sizes, strict=True):
        level = int(150 + 105 * s * (1 - y / canvas.horizon))
        r = 0.6 + 1.4 * s ** 3 * canvas.u / 900
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(level, level, min(255, level + 20)))


def celestial(canvas: Canvas, lighting: dict[str, Any], cy: float) -> None:
    """The sun (a bright disc) or the moon (a crescent) at the lighting's elevation."""
    cx = canvas.sun_x * canvas.w
    draw = ImageDraw.Draw(canvas.img)
    light = hex_rgb(lighting["light"])
    if lighting["celestial"] == "moon":
        r = canvas.u * 0.045
        off = r * 0.45
        sample = (int(min(canvas.w - 1, max(0, cx + off))), int(max(0, cy - r * 1.6)))
        shadow = canvas.img.getpixel(sample)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(240, 238, 222))
        draw.ellipse((cx - r + off, cy - r - off * 0.3, cx + r + off, cy + r - off * 0.3),
                     fill=shadow)
    else:
        r = canvas.u * (0.07 if lighting["elevation"] < 0.2 else 0.05)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=mix(light, (255, 255, 255), 0.4))


def day_moon(canvas: Canvas) -> None:
    """A pale moon in a sky lit by the sun, high on the side away from it."""
    r = canvas.u * 0.03
    cx, cy = (1 - canvas.sun_x) * canvas.w, canvas.horizon * 0.3
    behind = canvas.img.getpixel((int(min(canvas.w - 1, max(0, cx))), int(max(0, cy))))
    ImageDraw.Draw(canvas.img).ellipse((cx - r, cy - r, cx + r, cy + r),
                                       fill=mix(behind, (255, 255, 255), 0.45))


def clouds(canvas: Canvas, amount: float, dark: bool) -> None:
    """Soft cloud banks; more and darker for tense moods and storms."""
    n = int(2 + amount * 6)
    layer = Image.new("L", (canvas.w // 4, canvas.h // 4), 0)
    draw = ImageDraw.Draw(layer)
    for _ in range(n):
        cx = canvas.rng.uniform(-0.1, 1.1) * layer.width
        cy = canvas.rng.uniform(0.08, 0.7) * canvas.horizon / 4
        width = canvas.rng.uniform(0.15, 0.35) * layer.width
        for _ in range(6):
            dx = canvas.rng.uniform(-0.5, 0.5) * width
            rx = canvas.rng.uniform(0.15, 0.35) * width
            ry = rx * canvas.rng.uniform(0.35, 0.6)
            draw.ellipse((cx + dx - rx, cy - ry, cx + dx + rx, cy + ry * 0.6), fill=200)
    mask = layer.filter(ImageFilter.GaussianBlur(canvas.u / 300)).resize((canvas.w, canvas.h))
    base = (70, 74, 86) if dark else (250, 246, 240)
    colour = mix(scale(base, 0.4 + 0.6 * canvas.ambient), canvas.haze, 0.35)
    canvas.img.paste(colour, mask=mask.point(lambda v: int(v * (0.8 if dark else 0.6))))


def finish(canvas: Canvas, light_side: float, seed: int) -> Any:
    """Light falloff from the light's side, a soft vignette and paper grain; returns the image."""
    arr = np.asarray(canvas.img, dtype=np.float32)
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
