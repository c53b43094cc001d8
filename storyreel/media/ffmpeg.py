"""ffmpeg in one place: the binary, a safe runner, output presets, probing and measurements.

Files are probed, their packets counted and their audio decoded with PyAV (FFmpeg's libraries,
bundled in the wheel): no text report is parsed. Loudness comes from ``loudnorm``'s JSON report
and black stretches from ``blackdetect``, both run with imageio-ffmpeg's ffmpeg binary, which
also encodes everything. Every ffmpeg call uses an argument list (never a shell) and a failure
raises :class:`MediaError` with the command's last lines of stderr, so the user sees why ffmpeg
refused.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from storyreel.core.errors import ResourceError, StoryreelError, disk_full, no_permission

log = logging.getLogger(__name__)

# Output presets: the frame size of each aspect ratio.
PRESETS: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720),
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
}
TITLE_SAFE = 0.9  # the title-safe area: the central 90 % of width and height


class MediaError(StoryreelError):
    """ffmpeg failed, or a media file is not what it should be."""


BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
         "-color_range", "tv"]
SUBS_NAME = "subs.srt"  # the subtitle file's name inside ffmpeg's work folder (no escaping)
SUBS_FONTS = "fonts"  # the subtitle font folder's name there
CHAR_WIDTH = 0.64  # average advance of bold sans text, in ems, with room for the outline
LINE_CHARS = 42  # the subtitle line the font is sized for, at least (stages.asr.max_line_chars)


def x264_args(output: dict[str, object], threads: int = 1) -> list[str]:
    """The film's video encoding: H.264 High, yuv420p, BT.709, CRF and preset from ``output``.

    Clips and crossfades are encoded with exactly these settings, so post can join them by
    stream copy (one encode per frame). ``cabac=1:8x8dct=1`` keeps High even at ``ultrafast``;
    ``forced-idr`` makes forced keyframes IDR frames, where a clip can be cut without decoding.
    """
    return ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p",
            "-preset", str(output["x264_preset"]),
            "-crf", str(output["crf"]), *BT709,
            "-x264-params", "cabac=1:8x8dct=1", "-forced-idr", "1", "-threads", str(threads)]


def subtitle_style(size: tuple[int, int], chars: int = LINE_CHARS) -> dict[str, int]:
    """libass style in frame pixels: font size, outline, shadow and margins per preset.

    The font is 5.5 % of the height, but never so large that a line of ``chars`` characters
    (the subtitles' longest line) overflows the width between the margins: libass would wrap it, and
    a two-line cue would become four on a vertical frame. The side margins are 7 % of the width
    and the bottom margin 8 % of the height (12 % for vertical video, whose players overlay
    controls at the bottom): all inside the 5 % title-safe border.
    """
    w, h = size
    usable = w * (1 - 2 * 0.07)
    font = round(min(0.055 * h, 0.052 * w, usable / (max(1, chars) * CHAR_WIDTH)))
    safe_x, safe_y = (1 - TITLE_SAFE) / 2 * w, (1 - TITLE_SAFE) / 2 * h
    outline = max(2, round(font * 0.08))
    return {
        "PlayResX": w, "PlayResY": h, "FontSize": font, "Outline": outline,
        "Shadow": max(1, round(font * 0.04)),
        "MarginL": round(max(0.07 * w, safe_x + 2 * outline)),
        "MarginR": round(max(0.07 * w, safe_x + 2 * outline)),
        "MarginV": round(max((0.12 if h > w else 0.08) * h, safe_y + 2 * outline)),
    }


def subtitle_filter(size: tuple[int, int], font: str = "DejaVu Sans", chars: int = LINE_CHARS,
                    name: str = SUBS_NAME) -> str:
    """The ``subtitles`` filter for a subtitle file ``name`` in ffmpeg's working folder, drawn
    with ``font`` from the folder ``fonts`` there (see
    :func:`storyreel.media.fonts.install_subtitle_font`).

    The names are fixed, plain names (the files are copied there), so no user path ever passes
    through filter-argument escaping.
    """
    style = subtitle_style(size, chars)
    fields = [f"{k}={v}" for k, v in style.items()] + [
        f"FontName={font}", "Bold=1", "PrimaryColour=&H00FFFFFF", "OutlineColour=&H00101010",
        "BackColour=&H80000000", "BorderStyle=1", "Alignment=2", "WrapStyle=0",
        "ScaledBorderAndShadow=1"]
    return (f"subtitles=filename={name}:fontsdir={SUBS_FONTS}:"
            f"force_style='{','.join(fields)}'")


def frame_size(aspect: str) -> tuple[int, int]:
    """(width, height) of the output preset for an aspect ratio such as ``"16:9"``."""
    try:
        return PRESETS[aspect]
    except KeyError:
        raise MediaError(f"unknown aspect '{aspect}'; known: {', '.join(PRESETS)}") from None


def shot_frames(start: float, end: float, fps: int) -> int:
    """Frames of a shot covering ``[start, end)`` of the narration timeline.

    Boundaries are rounded to frames (not durations), so the shots of a story sum to exactly
    ``round(duration * fps)`` frames, whatever the rounding of each one.
    """
    return max(1, round(end * fps) - round(start * fps))


def even(value: float) -> int:
    """The nearest even integer (H.264 with yuv420p needs even frame sizes)."""
    return max(2, int(round(value / 2.0)) * 2)


@cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped with imageio-ffmpeg."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MediaError("imageio-ffmpeg is not installed: pip install imageio-ffmpeg") from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg_command(args: Sequence[str]) -> list[str]:
    """The full ffmpeg command line for ``args`` (quiet banner, no prompts)."""
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", *map(str, args)]


def run_ffmpeg(args: Sequence[str], what: str, cwd: str | Path | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg with ``args``; on failure raise :class:`MediaError` naming ``what``.

    stderr is returned (ffmpeg writes its reports there), decoded as UTF-8 with replacement.
    """
    cmd = ffmpeg_command(args)
    log.debug("ffmpeg (%s): %s", what, " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, cwd=cwd, check=False)
    result = subprocess.CompletedProcess(
        cmd, proc.returncode, proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"))
    if check and proc.returncode != 0:
        outputs = [a for a in map(str, args) if not a.startswith("-")]
        output = Path(cwd or ".") / outputs[-1] if outputs else None
        raise ffmpeg_failure(what, proc.returncode, result.stderr, output)
    return result


DISK_FULL = ("No space left on device", "Disk quota exceeded", "File too large")
NO_PERMISSION = ("Permission denied", "Read-only file system", "Operation not permitted")


def ffmpeg_failure(what: str, returncode: int, stderr: str, output: str | Path | None = None
                   ) -> StoryreelError:
    """The error for a failed ffmpeg: a full disk or a file it may not write said as such
    (ffmpeg's own last lines are its encoder's statistics and "Conversion failed!"), a process
    killed for memory as out of memory, anything else with ffmpeg's last lines."""
    for needle in DISK_FULL:
        if needle in stderr:
            return disk_full(output)
    for needle in NO_PERMISSION:
        if needle in stderr:
            return no_permission(output, f"ffmpeg: {needle}")
    if returncode in (-9, 137):
        return ResourceError(f"ffmpeg was killed while it tried to {what} (out of memory?); "
                             "lower --cores or free memory, then run `storyreel resume`")
    return MediaError(f"ffmpeg failed to {what} (exit {returncode}):\n" + tail(stderr))


def tail(text: str, lines: int = 15) -> str:
    """The last ``lines`` lines of a tool's output, for error messages."""
    return "\n".join(text.strip().splitlines()[-lines:])


def ffmpeg_version() -> str:
    """The version string of the bundled ffmpeg, e.g. ``n9.0.2-17-g2a571b6068``."""
    out = run_ffmpeg(["-version"], "report its version").stdout
    match = re.search(r"ffmpeg version (\S+)", out)
    return match.group(1) if match else "unknown"


# -- probing --------------------------------------------------------------------------------

@dataclass
class Stream:
    """One stream of a media file."""

    index: int
    kind: str  # video | audio | subtitle | data
    codec: str
    profile: str = ""
    pix_fmt: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    sample_rate: int = 0
    channels: str = ""  # the channel layout: mono, stereo, ...


@dataclass
class MediaInfo:
    """What a media file holds."""

    path: str
    format: str  # the demuxer's first name, e.g. "mov"
    duration: float
    streams: list[Stream] = field(default_factory=list)

    def first(self, kind: str) -> Stream | None:
        """The first stream of a kind, or None."""
        return next((s for s in self.streams if s.kind == kind), None)


def _open(path: str | Path) -> Any:
    """An open PyAV container, or :class:`MediaError` naming the file."""
    import av

    if not Path(path).exists():
        raise MediaError(f"{path}: no such file")
    try:
        return av.open(str(path))
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError(f"{path}: not a media file ffmpeg can read: {exc}") from None


def _stream(stream: Any) -> Stream:
    context = getattr(stream, "codec_context", None)
    info = Stream(stream.index, stream.type, getattr(context, "name", "") or "",
                  getattr(context, "profile", "") or "")
    if stream.type == "video":
        info.pix_fmt = context.format.name if context.format else ""
        info.width, info.height = int(context.width), int(context.height)
        rate = stream.average_rate or stream.guessed_rate
        info.fps = float(rate) if rate else 0.0
    elif stream.type == "audio":
        info.sample_rate = int(context.sample_rate)
        channels = int(context.channels)
        name = context.layout.name if context.layout else ""
        info.channels = {1: "mono", 2: "stereo"}.get(channels, name) if name.endswith(
            "channels") else name  # a layout without a channel order is named by its count
    return info


def probe(path: str | Path) -> MediaInfo:
    """Streams, codecs, sizes and duration of a media file."""
    import av

    with _open(path) as container:
        duration = container.duration / av.time_base if container.duration else 0.0
        return MediaInfo(str(path), container.format.name.split(",")[0], float(duration),
                         [_stream(s) for s in container.streams])


def has_faststart(path: str | Path) -> bool:
    """True when the MP4 ``moov`` box comes before ``mdat`` (playable while downloading).

    The top-level box headers are read here: PyAV (FFmpeg's demuxer) reads the boxes but does
    not tell their order, and this is all a faststart check needs."""
    with open(path, "rb") as fh:
        while True:
            header = fh.read(8)
            if len(header) < 8:
                return False
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = int.from_bytes(fh.read(8), "big") - 8
            if size < 8:
                return False
            fh.seek(size - 8, 1)


# -- measurements -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Loudness:
    """EBU R128 figures of a file's audio."""

    integrated_lufs: float
    true_peak_db: float
    lra: float


def measure_loudness(path: str | Path) -> Loudness:
    """Integrated loudness (LUFS), true peak (dBTP) and loudness range of a file's first audio
    stream, from the JSON report of ffmpeg's ``loudnorm`` (EBU R128, true peak oversampled)."""
    err = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-af", "loudnorm=print_format=json",
                      "-f", "null", "-"], f"measure the loudness of {path}").stderr
    start, end = err.rfind("{"), err.rfind("}")
    try:
        report = json.loads(err[start:end + 1]) if 0 <= start < end else {}
        return Loudness(integrated_lufs=float(report["input_i"]),
                        true_peak_db=float(report["input_tp"]), lra=float(report["input_lra"]))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise MediaError(f"could not read the loudness of {path} from ffmpeg's report:\n"
                         + tail(err, 8)) from None


def detect_black(path: str | Path, min_s: float = 0.5, pix_th: float = 0.10) -> list[
        tuple[float, float]]:
    """Black stretches of at least ``min_s`` seconds, as (start, end) pairs (``blackdetect``)."""
    err = run_ffmpeg(["-i", str(path), "-map", "0:v:0",
                      "-vf", f"blackdetect=d={min_s}:pix_th={pix_th}", "-f", "null", "-"],
                     f"detect black frames in {path}").stderr
    return [(float(a), float(b))
            for a, b in re.findall(r"black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)", err)]


def count_frames(path: str | Path) -> int:
    """Number of video frames in a file (its first video stream's packets, not decoded)."""
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path}: no video stream")
        return sum(1 for packet in container.demux(container.streams.video[0]) if packet.size)


def audio_duration(path: str | Path) -> float:
    """Exact length of a file's first audio stream in seconds: decoded samples / rate, no
    longer than the stream's declared duration (an MP4's edit list cuts the encoder's padding
    off the last AAC frame, as a player does)."""
    with _open(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{path}: no audio stream")
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        seconds = samples / float(stream.codec_context.sample_rate)
        if stream.duration and stream.time_base:
            seconds = min(seconds, float(stream.duration * stream.time_base))
        return seconds


def video_duration(path: str | Path) -> float:
    """Length of a file's first video stream in seconds (frame count / frame rate)."""
    stream = probe(path).first("video")
    if stream is None or stream.fps <= 0:
        raise MediaError(f"{path}: no video stream with a frame rate")
    return count_frames(path) / stream.fps


def sample_frames(path: str | Path, count: int, out_dir: str | Path) -> list[Path]:
    """Up to ``count`` frames of a video, evenly spaced from the first to the last, decoded with
    PyAV and saved as PNG files in ``out_dir``, in order."""
    total = count_frames(path)
    if total < 1:
        raise MediaError(f"{path}: no video frames")
    picks = sorted({round(i * (total - 1) / max(1, count - 1)) for i in range(count)})
    out = []
    with _open(path) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in picks:
                target = Path(out_dir) / f"{Path(path).stem}-{index:05d}.png"
                frame.to_image().save(target, "PNG")
                out.append(target)
    return out
