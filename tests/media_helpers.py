"""Media checks only the tests need: decoded pictures as small grey frames, and a hash of the
decoded content (frames and samples, not container bytes)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np

from storyreel.media import ffmpeg


def gray_frames(path: str | Path, region: float = 0.7, size: tuple[int, int] = (64, 36)
                ) -> tuple[float, np.ndarray]:
    """(fps, every frame as small grey levels, shape ``(frames, h, w)``) of a video.

    Only the top ``region`` share of the picture is kept, so that burned subtitles do not
    count when pictures are compared. For checking an edit against its clips.
    """
    stream = ffmpeg.probe(path).first("video")
    if stream is None or stream.fps <= 0:
        raise ffmpeg.MediaError(f"{path}: no video stream with a frame rate")
    w, h = size
    proc = subprocess.run(
        ffmpeg.ffmpeg_command(["-i", str(path), "-map", "0:v:0", "-vf",
                              f"crop=iw:ih*{region:.3f}:0:0,scale={w}:{h}:flags=area,format=gray",
                              "-f", "rawvideo", "-"]), capture_output=True, check=True)
    raw = proc.stdout[:len(proc.stdout) // (w * h) * (w * h)]
    return stream.fps, np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w)


def content_hash(path: str | Path) -> str:
    """sha256 of every stream's decoded content (frames and samples, not container bytes)."""
    out = ffmpeg.run_ffmpeg(["-i", str(path), "-map", "0:v", "-map", "0:a", "-f", "streamhash",
                            "-hash", "sha256", "-"], f"hash the streams of {path}").stdout
    return hashlib.sha256(out.encode()).hexdigest()
