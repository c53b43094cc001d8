"""Props that stand in the scenery: lighthouse, boat, tree, castle or mill, rain."""

from __future__ import annotations

import math

from PIL import ImageDraw

from storyreel.backends.keyframes.animatic.canvas import (
    Canvas,
    fill,
    glow,
    mix,
    new_mask,
    scale,
)


def lighthouse(canvas: Canvas, x: float, base: float) -> None:
    """A tapered, striped lighthouse standing at (x, base), with a beam at night."""
    u = canvas.u
    hgt, bw, tw = u * 0.32, u * 0.055, u * 0.035
    top = base - hgt
    mask, draw = new_mask(canvas)
    draw.polygon([(x - bw, base), (x - tw, top), (x + tw, top), (x + bw, base)], fill=255)
    draw.rectangle((x - tw * 1.35, top - u * 0.012, x + tw * 1.35, top), fill=255)
    draw.rectangle((x - tw * 0.8, top - u * 0.06, x + tw * 0.8, top - u * 0.012), fill=255)
    draw.polygon([(x - tw, top - u * 0.06), (x, top - u * 0.09), (x + tw, top - u * 0.06)],
                 fill=255)
    fill(canvas, mask, canvas.shade((236, 230, 218), 0.05), outline=1.0)
    stripes = ImageDraw.Draw(canvas.img)
    red = canvas.shade(canvas.palette["roof"], 0.05)
    for k in (0.25, 0.6):
        y0, y1 = base - hgt * k, base - hgt * (k + 0.15)
        half0 = bw + (tw - bw) * k
        half1 = bw + (tw - bw) * (k + 0.15)
        stripes.polygon([(x - half0, y0), (x - half1, y1), (x + half1, y1), (x + half0, y0)],
                        fill=red)
    lamp_y = top - u * 0.036
    if canvas.night or canvas.ambient < 0.75:
        beam, bdraw = new_mask(canvas)
        reach = canvas.w * 0.9 * (1 if x < canvas.w / 2 else -1)
        bdraw.polygon([(x, lamp_y), (x + reach, lamp_y - u * 0.12), (x + reach, lamp_y + u * 0.1)],
                      fill=70)
        fill(canvas, beam, (255, 236, 170), soften=u / 60)
        glow(canvas, x, lamp_y, u * 0.08, (255, 232, 160), 0.9)


def boat(canvas: Canvas, x: float, y: float, size: float) -> None:
    """A small sailing boat: hull, mast and sail, a lantern at night."""
    mask, draw = new_mask(canvas)
    s = size
    draw.polygon([(x - s, y - s * 0.18), (x + s, y - s * 0.18), (x + s * 0.7, y + s * 0.12),
                  (x - s * 0.75, y + s * 0.12)], fill=255)
    fill(canvas, mask, canvas.shade(scale(canvas.palette["roof"], 0.7), 0.1), outline=1.0)
    sail, sdraw = new_mask(canvas)
    sdraw.polygon([(x + s * 0.05, y - s * 1.5), (x + s * 0.05, y - s * 0.25),
                   (x + s * 0.75, y - s * 0.25)], fill=255)
    sdraw.polygon([(x - s * 0.05, y - s * 1.3), (x - s * 0.05, y - s * 0.25),
                   (x - s * 0.6, y - s * 0.25)], fill=255)
    fill(canvas, sail, canvas.shade((232, 222, 200), 0.1), outline=1.0)
    if canvas.night:
        glow(canvas, x - s * 0.6, y - s * 0.3, s * 0.35, (255, 210, 130), 0.9)


def tree(canvas: Canvas, x: float, base: float, size: float) -> None:
    """A broad-leaved tree with a round, lumpy crown."""
    mask, draw = new_mask(canvas)
    draw.rectangle((x - size * 0.06, base - size * 0.6, x + size * 0.06, base), fill=255)
    for _ in range(7):
        dx, dy = canvas.rng.uniform(-0.3, 0.3) * size, canvas.rng.uniform(-0.25, 0.1) * size
        r = size * canvas.rng.uniform(0.22, 0.32)
        cy = base - size * 0.8 + dy
        draw.ellipse((x + dx - r, cy - r, x + dx + r, cy + r), fill=255)
    fill(canvas, mask, canvas.shade(scale(canvas.palette["foliage"], 1.1), 0.0), outline=1.0)


def castle(canvas: Canvas, x: float, base: float, size: float, mill: bool) -> None:
    """A tower with battlements (castle) or a windmill with sails (mill)."""
    mask, draw = new_mask(canvas)
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
    fill(canvas, mask, canvas.shade(canvas.palette["stone"], 0.2), outline=1.0)
    if mill:
        draw = ImageDraw.Draw(canvas.img)
        hub = (x, base - size * 1.05)
        for k in range(4):
            a = math.radians(25 + 90 * k)
            draw.line((hub, (hub[0] + math.cos(a) * size * 0.7, hub[1] + math.sin(a) * size * 0.7)),
                      fill=canvas.ink, width=max(2, int(size * 0.05)))


def rain(canvas: Canvas) -> None:
    """Diagonal rain streaks over everything."""
    draw = ImageDraw.Draw(canvas.img)
    colour = mix(canvas.haze, (220, 225, 235), 0.5)
    for _ in range(int(canvas.w * canvas.h / 9000)):
        x, y = canvas.rng.uniform(0, canvas.w), canvas.rng.uniform(0, canvas.h)
        length = canvas.u * canvas.rng.uniform(0.02, 0.05)
        draw.line((x, y, x - length * 0.35, y + length), fill=colour, width=1)
