"""``video/kenburns``: an eased camera move over a still keyframe, encoded as a clip.

Frames are cut from the keyframe with a sub-pixel window (``Image.resize`` with a float ``box``:
area-weighted resampling of exactly that rectangle), so slow moves glide without the one-pixel
stepping of ffmpeg's ``zoompan``. The keyframe is converted once to BT.709 limited-range Y'CbCr
planes, each plane is cut per frame, and the frames go to the one clip encoder
(:mod:`storyreel.media.clip`), which gives the clip the shot's exact frame count (plus the
crossfade overlap, during which the camera keeps moving).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.core.vocabulary import CAMERA_MOVES
from storyreel.media.clip import encode_clip, overlap_frames, yuv420_frame, yuv_planes
from storyreel.media.ffmpeg import MediaError, frame_size, shot_frames

log = logging.getLogger(__name__)

TRAVEL = 0.85  # share of the available headroom a pan or tilt uses


def ease(t: float) -> float:
    """Ease in and out: mostly smoothstep, with a little linear so the camera never stops dead."""
    t = min(1.0, max(0.0, t))
    return 0.25 * t + 0.75 * (t * t * (3 - 2 * t))


@dataclass(frozen=True)
class View:
    """A camera view: window centre (fractions of the keyframe) and zoom (1 = whole keyframe)."""

    cx: float
    cy: float
    zoom: float


def camera_path(move: str, headroom: float) -> tuple[View, View]:
    """Start and end views of a camera move over a keyframe ``headroom`` times the frame."""
    if move not in CAMERA_MOVES:
        raise MediaError(f"unknown camera move '{move}'; known: {', '.join(CAMERA_MOVES)}")
    wide, close = 1.0, 1.0 + 0.8 * (headroom - 1.0)
    free = (1 - 1 / headroom) / 2 * TRAVEL  # how far the centre may move at zoom = headroom
    centre = View(0.5, 0.48, wide)
    if move == "push_in":
        return centre, View(0.5, 0.46, close)
    if move == "pull_out":
        return View(0.5, 0.46, close), centre
    if move == "hold":
        return centre, View(0.5, 0.48, 1.0 + 0.12 * (headroom - 1.0))
    sign = {"pan_left": -1, "pan_right": 1, "tilt_up": -1, "tilt_down": 1}[move]
    if move.startswith("pan"):
        return View(0.5 - sign * free, 0.5, headroom), View(0.5 + sign * free, 0.5, headroom)
    return View(0.5, 0.5 - sign * free, headroom), View(0.5, 0.5 + sign * free, headroom)


def window(view: View, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The crop box of a view in keyframe pixels, kept inside the keyframe."""
    kw, kh = size
    ww, wh = kw / view.zoom, kh / view.zoom
    x0 = min(max(view.cx * kw - ww / 2, 0.0), kw - ww)
    y0 = min(max(view.cy * kh - wh / 2, 0.0), kh - wh)
    return x0, y0, x0 + ww, y0 + wh


def interpolate(a: View, b: View, t: float) -> View:
    """A view between two (zoom interpolated geometrically, so zoom speed looks even)."""
    zoom = math.exp(math.log(a.zoom) + (math.log(b.zoom) - math.log(a.zoom)) * t)
    return View(a.cx + (b.cx - a.cx) * t, a.cy + (b.cy - a.cy) * t, zoom)


def boxes(move: str, frames: int, size: tuple[int, int], headroom: float) -> list[
        tuple[float, float, float, float]]:
    """The crop box of every frame of a move."""
    start, end = camera_path(move, headroom)
    span = max(1, frames - 1)
    return [window(interpolate(start, end, ease(k / span)), size) for k in range(frames)]


class KenBurns:
    """Eased pan and zoom over a keyframe, piped to ffmpeg."""

    name = "kenburns"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def render(self, png: str | Path, plan: dict[str, Any], out: str | Path,
               output: dict[str, Any], crossfade_s: float, threads: int = 1,
               subtitles: str | Path | None = None) -> int:
        """Write the shot's clip to ``out`` (atomically); returns its frame count.

        ``subtitles`` (an SRT on the narration timeline) are burned where they fall in the shot.
        """
        from PIL import Image

        fps = int(output["fps"])
        w, h = frame_size(plan["aspect"])
        frames = shot_frames(plan["start"], plan["end"], fps) + overlap_frames(plan, crossfade_s,
                                                                                fps)
        with Image.open(png) as img:
            key = img.convert("RGB")
        headroom = min(key.width / w, key.height / h)
        if headroom < 1.0:
            key = key.resize((w, h), Image.LANCZOS)
            headroom = 1.0
        planes = yuv_planes(key)
        encode_clip((yuv420_frame(planes, box, (w, h))
                     for box in boxes(plan["camera"], frames, key.size, headroom)),
                    plan, out, output, crossfade_s, threads, subtitles)
        log.info("clip %s: %d frames (%s, %.3f s at %d fps)", plan["id"], frames, plan["camera"],
                 frames / fps, fps)
        return frames


