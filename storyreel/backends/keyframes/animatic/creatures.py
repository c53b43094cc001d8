"""Figures that are neither people nor ordinary animals: whales, robots, dragons; and the two
props that fill a stretch of ground: a train and a garden bed."""

from __future__ import annotations

from PIL import ImageDraw

from storyreel.backends.keyframes.animatic.canvas import Canvas, fill, glow, mix, new_mask
from storyreel.backends.keyframes.animatic.figures import quadruped

SLATE = (72, 92, 116)  # whales are blue-grey whatever colour the cast gives them
BLOOMS = ((226, 92, 92), (240, 196, 80), (236, 140, 190), (250, 246, 236), (150, 120, 220))


def whale(canvas: Canvas, x: float, water: float, size: float, colour: tuple[int, int, int],
          facing: int) -> None:
    """A whale breaching at the water line ``water``: back, head, raised tail fluke and spout."""
    mask, draw = new_mask(canvas)
    length, height = size * 1.5, size * 0.42
    draw.ellipse((x - length / 2, water - height, x + length / 2, water + height * 0.6), fill=255)
    head = x + facing * length * 0.38
    draw.ellipse((head - size * 0.3, water - height * 0.85, head + size * 0.3,
                  water + height * 0.3), fill=255)
    end = x - facing * length * 0.42
    tip = (x - facing * length * 0.68, water - height * 1.4)
    draw.polygon([(end, water - height * 0.75), (end, water),
                  (tip[0] + facing * size * 0.05, tip[1] + height * 0.3)], fill=255)
    for side in (-1, 1):  # the two lobes of the fluke
        draw.polygon([tip, (tip[0] + side * size * 0.28, tip[1] - height * 0.25),
                      (tip[0] + side * size * 0.06, tip[1] + height * 0.15)], fill=255)
    mask.paste(0, (0, int(water), canvas.w, canvas.h))  # under the water line: not seen
    fill(canvas, mask, canvas.shade(mix(colour, SLATE, 0.6), 0.1), outline=1.2)
    spray = ImageDraw.Draw(canvas.img)
    foam = mix(canvas.shade((236, 244, 250), 0.0), canvas.light, 0.3)
    sx, sy = head - facing * size * 0.1, water - height * 0.9
    for dx in (-0.12, 0.0, 0.12):
        spray.line([(sx, sy), (sx + dx * size, sy - size * 0.35)], fill=foam,
                   width=max(2, int(size * 0.03)))
    spray.line([(x - length * 0.55, water), (x + length * 0.55, water)], fill=foam,
               width=max(2, int(size * 0.025)))


def robot(canvas: Canvas, x: float, base: float, size: float, colour: tuple[int, int, int],
          variant: int) -> None:
    """A boxy robot standing at (x, base): legs, torso, arms, a square head with an antenna
    (a dome head for variant 1) and two lit eyes."""
    mask, draw = new_mask(canvas)
    s = size
    draw.rectangle((x - s * 0.1, base - s * 0.2, x - s * 0.04, base), fill=255)
    draw.rectangle((x + s * 0.04, base - s * 0.2, x + s * 0.1, base), fill=255)
    draw.rounded_rectangle((x - s * 0.16, base - s * 0.55, x + s * 0.16, base - s * 0.18),
                           radius=s * 0.03, fill=255)
    for left in (x - s * 0.22, x + s * 0.17):  # the arms
        draw.rectangle((left, base - s * 0.52, left + s * 0.05, base - s * 0.3), fill=255)
    top = base - s * 0.8
    if variant == 1:
        draw.pieslice((x - s * 0.13, top, x + s * 0.13, top + s * 0.3), 180, 360, fill=255)
        draw.rectangle((x - s * 0.13, top + s * 0.15, x + s * 0.13, base - s * 0.57), fill=255)
    else:
        draw.rectangle((x - s * 0.12, top, x + s * 0.12, base - s * 0.57), fill=255)
    draw.line([(x, top), (x, top - s * 0.1)], fill=255, width=max(1, int(s * 0.015)))
    draw.ellipse((x - s * 0.025, top - s * 0.13, x + s * 0.025, top - s * 0.08), fill=255)
    fill(canvas, mask, canvas.shade(colour, 0.0), outline=1.2)
    eyes = ImageDraw.Draw(canvas.img)
    eye_y, r = top + s * 0.1, s * 0.03
    for dx in (-0.05, 0.05):
        eyes.ellipse((x + dx * s - r, eye_y - r, x + dx * s + r, eye_y + r), fill=(140, 230, 255))


def dragon(canvas: Canvas, x: float, base: float, size: float, colour: tuple[int, int, int],
           facing: int) -> None:
    """A four-legged dragon with a long tail, a spiked back and raised wings."""
    quadruped(canvas, x, base, size, colour, "dragon", facing)
    mask, draw = new_mask(canvas)
    length, body_h, leg = size * 0.7, size * 0.3, size * 0.22
    top = base - leg - body_h
    shoulder = x + facing * length * 0.12
    for lift, spread in ((1.0, 0.5), (0.8, 0.2)):
        tip = (shoulder - facing * size * spread, top - size * 0.75 * lift)
        draw.polygon([(shoulder, top + body_h * 0.2), tip,
                      (shoulder - facing * size * (spread + 0.15), top - size * 0.2),
                      (x - facing * length * 0.25, top + body_h * 0.1)], fill=255)
    for k in range(5):  # spikes along the back
        sx = x + (k - 2) * length * 0.15
        draw.polygon([(sx - size * 0.03, top + body_h * 0.1), (sx, top - size * 0.07),
                      (sx + size * 0.03, top + body_h * 0.1)], fill=255)
    fill(canvas, mask, canvas.shade(colour, 0.05), outline=1.2)


def train(canvas: Canvas, base: float, size: float) -> None:
    """A steam train on a line across the middle ground: engine, two carriages, lit windows."""
    draw_rails = ImageDraw.Draw(canvas.img)
    draw_rails.line([(0, base), (canvas.w, base)], fill=canvas.shade(canvas.ink, 0.2),
                    width=max(2, int(size * 0.04)))
    mask, draw = new_mask(canvas)
    h = size * 0.5
    start = canvas.w * canvas.rng.uniform(0.12, 0.3)
    cars = [(start + k * size * 1.25, size * 1.15) for k in range(1, 3)]
    engine = start + size * 0.05
    draw.rectangle((engine, base - h * 1.1, engine + size * 0.75, base - h * 0.2), fill=255)
    draw.rectangle((engine + size * 0.75, base - h * 1.5, engine + size * 1.1, base - h * 0.2),
                   fill=255)
    draw.rectangle((engine + size * 0.12, base - h * 1.6, engine + size * 0.24, base - h * 1.1),
                   fill=255)
    for left, width in cars:
        draw.rectangle((left + size * 0.1, base - h * 1.35, left + width, base - h * 0.2), fill=255)
    for cx in [engine + size * k for k in (0.2, 0.55, 0.9)] + \
            [left + size * k for left, _ in cars for k in (0.3, 0.95)]:
        draw.ellipse((cx - h * 0.22, base - h * 0.45, cx + h * 0.22, base), fill=255)
    fill(canvas, mask, canvas.shade(canvas.palette["roof"], 0.15), outline=1.2)
    windows = ImageDraw.Draw(canvas.img)
    lit = (255, 214, 140) if canvas.night else canvas.shade((200, 220, 235), 0.1)
    for left, width in cars:
        for k in range(3):
            wx = left + size * 0.25 + k * (width - size * 0.2) / 3
            windows.rectangle((wx, base - h * 1.15, wx + size * 0.18, base - h * 0.75), fill=lit)
    if canvas.night:
        glow(canvas, engine + size * 1.1, base - h * 0.8, size * 0.35, (255, 214, 140), 0.5)


def garden(canvas: Canvas, size: float) -> None:
    """A bed of flowers along the foot of the frame: stems, leaves and blooms."""
    draw = ImageDraw.Draw(canvas.img)
    rng = canvas.rng
    stem = canvas.shade(canvas.palette["foliage"], 0.0)
    count = int(canvas.w / (size * 0.05))
    for k in range(count):
        x = (k + rng.uniform(0.1, 0.9)) * canvas.w / count
        top = canvas.h - size * rng.uniform(0.06, 0.16)
        draw.line([(x, canvas.h), (x, top)], fill=stem, width=max(1, int(size * 0.006)))
        leaf = size * 0.02
        draw.ellipse((x, top + size * 0.04, x + leaf * 2, top + size * 0.04 + leaf), fill=stem)
        r = size * rng.uniform(0.012, 0.022)
        bloom = canvas.shade(BLOOMS[int(rng.integers(0, len(BLOOMS)))], 0.0)
        draw.ellipse((x - r, top - r, x + r, top + r), fill=bloom, outline=canvas.ink)
        draw.ellipse((x - r * 0.35, top - r * 0.35, x + r * 0.35, top + r * 0.35),
                     fill=canvas.shade((250, 214, 90), 0.0))
