"""Figures: people, four-legged animals and birds, as inked silhouettes."""

from __future__ import annotations

from PIL import ImageDraw

from storyreel.backends.keyframes.animatic.canvas import (
    Canvas,
    fill,
    new_mask,
)


def person(canvas: Canvas, x: float, base: float, size: float, colour: tuple[int, int, int],
           variant: int) -> None:
    """A standing figure in a coat: head, coat, legs; a hood or hat by variant."""
    mask, draw = new_mask(canvas)
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
    fill(canvas, mask, canvas.shade(colour, 0.0), outline=1.2)


def quadruped(canvas: Canvas, x: float, base: float, size: float, colour: tuple[int, int, int],
              kind: str, facing: int) -> None:
    """A four-legged animal in profile; fox, dog, cat, deer, small ones and dragons differ in
    build."""
    build = {"fox": (0.55, 0.2, 0.16, 0.55), "dog": (0.55, 0.28, 0.25, 0.4),
             "cat": (0.45, 0.22, 0.2, 0.7), "deer": (0.6, 0.26, 0.55, 0.15),
             "small": (0.4, 0.28, 0.06, 0.1), "dragon": (0.7, 0.3, 0.22, 0.9)}[kind]
    length, body_h, leg, tail = (v * size for v in build)
    mask, draw = new_mask(canvas)
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
    fill(canvas, mask, canvas.shade(colour, 0.0), outline=1.2)
    if kind == "fox" and tip:
        white, wdraw = new_mask(canvas)
        r = body_h * 0.22
        cx = tip[0] + facing * r * 0.9
        wdraw.ellipse((cx - r, tip[1] - r * 0.6, cx + r, tip[1] + r * 0.9), fill=255)
        wdraw.polygon([(cx - r, tip[1]), (tip[0] - facing * r * 0.2, tip[1]),
                       (cx + r, tip[1] + r * 0.5)], fill=255)
        fill(canvas, white, canvas.shade((246, 240, 228), 0.0))


def bird(canvas: Canvas, x: float, y: float, size: float, perched: bool,
         colour: tuple[int, int, int]) -> None:
    """An owl-like perched bird, or a flying bird as a 'v' stroke."""
    if not perched:
        draw = ImageDraw.Draw(canvas.img)
        w = max(2, int(size * 0.04))
        draw.line([(x - size * 0.3, y - size * 0.1), (x, y), (x + size * 0.3, y - size * 0.12)],
                  fill=canvas.ink, width=w, joint="curve")
        return
    mask, draw = new_mask(canvas)
    draw.ellipse((x - size * 0.16, y - size * 0.5, x + size * 0.16, y), fill=255)
    draw.polygon([(x - size * 0.15, y - size * 0.42), (x - size * 0.12, y - size * 0.58),
                  (x - size * 0.04, y - size * 0.45)], fill=255)
    draw.polygon([(x + size * 0.15, y - size * 0.42), (x + size * 0.12, y - size * 0.58),
                  (x + size * 0.04, y - size * 0.45)], fill=255)
    fill(canvas, mask, canvas.shade(colour, 0.0), outline=1.2)
    eyes = ImageDraw.Draw(canvas.img)
    for dx in (-0.06, 0.06):
        r = size * 0.04
        eyes.ellipse((x + dx * size - r, y - size * 0.38 - r, x + dx * size + r,
                      y - size * 0.38 + r), fill=(250, 220, 120))
