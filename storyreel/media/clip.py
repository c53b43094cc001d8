"""A shot's clip from its frames: the one clip encoder of every video backend.

Frames arrive as yuv420p (BT.709 limited range, chroma at half size: half the pixels of RGB, no
per-frame colour conversion) and are piped to ffmpeg, which encodes them with the film's own
settings (:func:`storyreel.media.ffmpeg.x264_args`), forces IDR frames at the points where post
may cut, and burns the subtitles that fall inside the shot at their narration times. Post joins
the clips by stream copy, so every frame of the film is encoded once (see docs/media.md).

Timing: a shot covering ``[start, end)`` of the narration gets ``round(end*fps) -
round(start*fps)`` frames (:func:`storyreel.media.ffmpeg.shot_frames`), so the clips of a story
sum to exactly ``round(duration*fps)`` frames; a shot whose transition is a crossfade gets
``round(crossfade_s*fps)`` more (:func:`overlap_frames`), which post overlaps with the next
shot's first frames.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from storyreel.core.artifacts import atomic_path
from storyreel.media.ffmpeg import (
    LINE_CHARS,
    SUBS_NAME,
    ffmpeg_command,
    ffmpeg_failure,
    frame_size,
    shot_frames,
    subtitle_filter,
    x264_args,
)
from storyreel.media.fonts import install_subtitle_font, line_width
from storyreel.media.subtitles import parse_subtitles


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
            lines = [line for cue in parse_subtitles(subtitles) for line in cue.lines]
            font = install_subtitle_font(work, "\n".join(lines))
            chars = max([LINE_CHARS, *(round(line_width(line)) for line in lines)])
            start = round(float(plan["start"]) * fps)  # the clip's first frame on the film
            graph += (f",setpts=PTS+{start},{subtitle_filter((w, h), font, chars)},"
                      "setpts=PTS-STARTPTS")
        args = ["-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps),
                "-i", "-", "-vf", graph, *x264_args(output, threads),
                "-force_key_frames", f"expr:{keys}", "-an", "-f", "mp4",
                str(Path(tmp).resolve())]
        # stderr goes to a file: a pipe nobody reads while the frames are written fills up
        # (libass warns per frame) and blocks ffmpeg, and so this writer
        with open(Path(work) / "ffmpeg.log", "w+b") as log_file:
            proc = subprocess.Popen(ffmpeg_command(args), stdin=subprocess.PIPE,
                                    stderr=log_file, cwd=work)
            try:
                for frame in frames:
                    proc.stdin.write(frame)  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
            status = proc.wait()
            log_file.seek(0)
            err = log_file.read().decode("utf-8", "replace")
        if status != 0:
            raise ffmpeg_failure(f"encode the clip of {plan['id']}", status, err, out)
