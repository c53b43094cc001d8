"""Artifact integrity: is a file what the rule that made it wrote?

Used twice: by the runner, which checks every input of a job before the stage runs (so a
corrupt file fails fast with one line naming it and the rule that makes it, and is not
retried), and by ``storyreel verify`` (:mod:`storyreel.recovery.verify`), which checks every
artifact of every story and removes what is corrupt together with what depends on it.

Checks: JSON against its schema; WAV header, frame count and size (and the duration
``voice.json`` records); PNG fully decoded; MP4 fully decoded, with the frame count its shot
asks for (clips) or the narration's length (the final film).
"""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

from storyreel.core import pipeline
from storyreel.core.artifacts import validate
from storyreel.core.errors import ArtifactError, CorruptInputError, StoryreelError


def producer(path: str | Path) -> tuple[str | None, str | None]:
    """(rule, schema) of a results file; (None, None) when no rule writes it."""
    found = pipeline.producer(path)
    return (found[0].name, found[1].schema) if found else (None, None)


def corrupt(path: str | Path, reason: str) -> CorruptInputError:
    """The one-line error for a corrupt file, naming the rule that makes it."""
    rule, _ = producer(path)
    made_by = f"made by rule '{rule}'" if rule else "an input"
    error = CorruptInputError(
        f"corrupt input {path} ({made_by}): {reason}; run `storyreel resume` (or `storyreel "
        "verify`) to remove it and what depends on it, so that the next run remakes them")
    error.path, error.reason = str(path), reason
    return error


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# -- checks ---------------------------------------------------------------------------------

def check_json(path: str | Path, schema: str | None = None) -> Any:
    """The parsed JSON, validated against ``schema`` (default: the file's own)."""
    schema = schema or producer(path)[1]
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise corrupt(path, f"not readable JSON ({_first_line(exc)})") from None
    if schema:
        try:
            validate(data, schema, str(path))
        except ArtifactError as exc:
            raise corrupt(path, _first_line(exc).split(": ", 1)[-1]) from None
    return data


def check_wav(path: str | Path, expected_s: float | None = None, tolerance_s: float = 0.05
              ) -> float:
    """The WAV's duration, after checking its header, frame count and size."""
    try:
        with wave.open(str(path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
            width, channels = wav.getsampwidth(), wav.getnchannels()
            data = wav.readframes(frames)
    except (OSError, EOFError, wave.Error) as exc:
        raise corrupt(path, f"bad WAV header ({_first_line(exc)})") from None
    if rate <= 0 or frames <= 0:
        raise corrupt(path, f"WAV has {frames} frames at {rate} Hz")
    if len(data) != frames * width * channels:
        raise corrupt(path, f"WAV header says {frames} frames, the file holds "
                            f"{len(data) // max(1, width * channels)}")
    seconds = frames / rate
    if expected_s is not None and abs(seconds - expected_s) > tolerance_s:
        raise corrupt(path, f"WAV lasts {seconds:.3f} s, voice.json says {expected_s:.3f} s")
    return seconds


def check_png(path: str | Path) -> tuple[int, int]:
    """The image's size, after decoding every pixel."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            size = img.size
    except Exception as exc:  # noqa: BLE001 (Pillow raises many kinds for a bad file)
        raise corrupt(path, f"image does not decode ({_first_line(exc)})") from None
    return size


def check_mp4(path: str | Path, min_frames: int | None = None, max_frames: int | None = None,
              ) -> int:
    """The video's frame count, after decoding every frame (errors are fatal)."""
    from storyreel.media import ffmpeg

    if not Path(path).is_file() or Path(path).stat().st_size == 0:
        raise corrupt(path, "empty or missing video")
    result = ffmpeg.run_ffmpeg(["-v", "error", "-xerror", "-i", str(path), "-map", "0:v:0",
                               "-f", "null", "-"], f"decode {path}", check=False)
    errors = result.stderr.strip()
    if result.returncode != 0 or errors:
        reason = (errors.splitlines() or [f"ffmpeg exit {result.returncode}"])[-1]
        raise corrupt(path, f"video does not decode ({reason})")
    try:
        frames = ffmpeg.count_frames(path)
    except StoryreelError as exc:
        raise corrupt(path, f"video frames cannot be counted ({_first_line(exc)})") from None
    if min_frames is not None and frames < min_frames:
        raise corrupt(path, f"video has {frames} frames, expected at least {min_frames}")
    if max_frames is not None and frames > max_frames:
        raise corrupt(path, f"video has {frames} frames, expected at most {max_frames}")
    return frames


def check_subtitles(path: str | Path) -> None:
    from storyreel.media.subtitles import parse_subtitles

    try:
        text = Path(path).read_text(encoding="utf-8")
        parse_subtitles(path)
    except Exception as exc:  # noqa: BLE001
        raise corrupt(path, f"subtitles do not parse ({_first_line(exc)})") from None
    if Path(path).suffix == ".vtt" and not text.startswith("WEBVTT"):
        raise corrupt(path, "WebVTT file lacks its WEBVTT header")


# -- a story's expectations ------------------------------------------------------------------

def _shot_frames(story_dir: Path, shot: str, fps: int) -> tuple[int, int] | None:
    """(min, max) frames a clip of the shot may have, from its shot file."""
    from storyreel.media.ffmpeg import shot_frames

    try:
        data = json.loads(pipeline.plan_path(story_dir, shot, vision=False).read_text("utf-8"))
        frames = shot_frames(float(data["start"]), float(data["end"]), fps)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return frames, frames + 3 * fps  # the crossfade overlap is at most 2 s


def _narration_seconds(story_dir: Path) -> float | None:
    """The narration's length as the voice stage recorded it (None when unknown)."""
    try:
        meta = pipeline.path(story_dir, "voice", "meta").read_text(encoding="utf-8")
        return float(json.loads(meta)["duration_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_file(path: str | Path, fps: int | None = None) -> None:
    """Check one artifact of the stage table by its kind (a folder: every JSON file in it)."""
    path = Path(path)
    found = pipeline.producer(path)
    if found is None:
        return
    _, artifact = found
    story_dir = path.parents[1] if artifact.per_shot else path.parent
    if path.is_dir():
        for child in sorted(path.glob("*.json")):
            check_json(child)
    elif artifact.kind in ("json", "folder"):
        check_json(path)
    elif artifact.kind == "wav":
        check_wav(path, _narration_seconds(story_dir))
    elif artifact.kind in ("png", "jpg"):
        check_png(path)
    elif artifact.kind == "mp4":
        bounds = _shot_frames(story_dir, path.stem, fps) if artifact.per_shot and fps else None
        check_mp4(path, *(bounds or (1, None)))
    elif artifact.kind in ("srt", "vtt"):
        check_subtitles(path)


def check_inputs(paths: list[str], fps: int | None = None) -> None:
    """Check a job's input files (the runner calls this before the stage runs)."""
    for path in paths:
        if Path(path).exists():
            check_file(path, fps)
