"""Ken Burns motion: an eased camera move over a still keyframe, encoded as a clip.

Frames are cut from the keyframe with a sub-pixel window (``Image.resize`` with a float ``box``:
area-weighted resampling of exactly that rectangle), so slow moves glide without the one-pixel
stepping of ffmpeg's ``zoompan``. The keyframe is converted once to BT.709 limited-range Y'CbCr
(chroma at half size), each plane is cut per frame, and the yuv420p frames are piped to ffmpeg
(half the pixels of RGB, no per-frame colour conversion), which encodes them with the film's own
settings (``storyreel.media.ffmpeg.x264_args``),
burning the subtitles that fall inside the shot at their narration times. Post joins the clips
by stream copy, so every frame of the film is encoded once (see docs/media.md).

Timing (see docs/media.md): a shot covering ``[start, end)`` of the narration gets
``round(end*fps) - round(start*fps)`` frames, so the clips of a story sum to exactly
``round(duration*fps)`` frames whatever the rounding of each shot. A shot whose transition is a
crossfade gets ``round(crossfade_s*fps)`` more frames (the camera keeps moving): post overlaps
them with the next shot's first frames, so the film keeps the narration's length.
"""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from storyreel.core.artifacts import atomic_path
from storyreel.core.vocabulary import CAMERA_MOVES
from storyreel.media.ffmpeg import (
    LINE_CHARS,
    SUBS_NAME,
    MediaError,
    ffmpeg_command,
    frame_size,
    install_subtitle_font,
    shot_frames,
    subtitle_filter,
    tail,
    x264_args,
)
from storyreel.media.subtitles import parse_subtitles

log = logging.getLogger(__name__)

TRAVEL = 0.85  # share of the available headroom a pan or tilt uses


def overlap_frames(plan: dict[str, Any], crossfade_s: float, fps: int) -> int:
    """Extra frames at the end of a clip whose transition into the next shot is a crossfade."""
    return round(crossfade_s * fps) if plan["transition"] == "crossfade" else 0


def cut_points(frames: int, overlap: int, fade: int) -> list[int]:
    """Frames of a clip where post may cut it without decoding (forced IDR frames).

    0 (the start), ``fade`` (where the body begins when a crossfade leads into this shot) and
    ``frames`` (where the overlap into the next shot begins, when there is one).
    """
    points = {0}
    if 0 < fade < frames:
        points.add(fade)
    if overlap:
        points.add(frames)
    return sorted(points)


# BT.709 R'G'B' -> Y'CbCr (rows: Y, Cb, Cr), then limited range: Y 16..235, Cb/Cr 16..240.
BT709_MATRIX = np.array([[0.2126, 0.7152, 0.0722],
                         [-0.2126 / 1.8556, -0.7152 / 1.8556, 0.5],
                         [0.5, -0.7152 / 1.5748, -0.0722 / 1.5748]], dtype=np.float32)


def yuv_planes(key: Any) -> tuple[Any, Any, Any]:
    """A keyframe (PIL RGB image) as BT.709 limited-range planes: Y at full size, Cb and Cr at
    half size (as yuv420p wants them), each an 8-bit PIL image."""
    from PIL import Image

    ycc = (np.asarray(key, dtype=np.float32) / 255.0) @ BT709_MATRIX.T
    scale, offset = np.array([219, 224, 224], np.float32), np.array([16, 128, 128], np.float32)
    planes = np.clip(np.rint(ycc * scale + offset), 0, 255).astype(np.uint8)
    half = (max(1, key.width // 2), max(1, key.height // 2))
    y, cb, cr = (Image.fromarray(np.ascontiguousarray(planes[..., i])) for i in range(3))
    return y, cb.resize(half, Image.BOX), cr.resize(half, Image.BOX)


def yuv420_frame(planes: tuple[Any, Any, Any], box: tuple[float, float, float, float],
                 size: tuple[int, int]) -> bytes:
    """One yuv420p frame of ``size``: each plane resampled over the same window."""
    from PIL import Image

    y, cb, cr = planes
    w, h = size
    sx, sy = cb.width / y.width, cb.height / y.height
    half = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    return b"".join((y.resize((w, h), Image.BILINEAR, box=box).tobytes(),
                     cb.resize((w // 2, h // 2), Image.BILINEAR, box=half).tobytes(),
                     cr.resize((w // 2, h // 2), Image.BILINEAR, box=half).tobytes()))


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


def encode_clip(frames: Iterable[bytes], plan: dict[str, Any], out: str | Path,
                output: dict[str, Any], crossfade_s: float, threads: int = 1,
                subtitles: str | Path | None = None) -> None:
    """Encode a shot's yuv420p frames (the film's size) into its clip, atomically.

    The one clip encoder of every video backend: the film's x264 settings
    (``storyreel.media.ffmpeg.x264_args``), forced key frames at post's cut points, and the
    subtitles that fall inside the shot burned at their narration times. ``frames`` must hold
    exactly the shot's frames plus its crossfade overlap.
    """
    fps = int(output["fps"])
    w, h = frame_size(plan["aspect"])
    body = shot_frames(plan["start"], plan["end"], fps)
    overlap = overlap_frames(plan, crossfade_s, fps)
    graph = "format=yuv420p"
    keys = "+".join(f"eq(n,{k})" for k in cut_points(body, overlap, round(crossfade_s * fps)))
    with tempfile.TemporaryDirectory(prefix="storyreel-clip-") as work, \
            atomic_path(out) as tmp:
        if subtitles:
            shutil.copyfile(subtitles, Path(work) / SUBS_NAME)
            font = install_subtitle_font(work)
            chars = max([LINE_CHARS, *(len(line) for cue in parse_subtitles(subtitles)
                                       for line in cue.lines)])
            start = round(float(plan["start"]) * fps)  # the clip's first frame on the film
            graph += (f",setpts=PTS+{start},{subtitle_filter((w, h), font, chars)},"
                      "setpts=PTS-STARTPTS")
        args = ["-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps),
                "-i", "-", "-vf", graph, *x264_args(output, threads),
                "-force_key_frames", f"expr:{keys}", "-an", "-f", "mp4",
                str(Path(tmp).resolve())]
        proc = subprocess.Popen(ffmpeg_command(args), stdin=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=work)
        try:
            for frame in frames:
                proc.stdin.write(frame)  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass
        err = proc.stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]
        if proc.wait() != 0:
            raise MediaError(f"ffmpeg failed to encode the clip of {plan['id']}:\n{tail(err)}")
