"""Artifact integrity: is a file what the rule that made it wrote?

Used twice: by the runner, which checks every input of a job before the stage runs (so a
corrupt file fails fast with one line naming it and the rule that makes it, and is not
retried), and by ``storyreel verify`` (:mod:`storyreel.recovery.verify`), which checks every
artifact of every story and removes what is corrupt together with what depends on it.

Every kind of the stage table has its check (:func:`check_file`):

- ``json``: parsed and validated against its schema; ``folder``: every JSON file in it, and
  exactly one file per shot of ``shotlist.json`` (a missing or stray shot file is corrupt);
- ``wav``: header, frame count and size, and the duration ``voice.json`` records;
- ``png``/``jpg``: every pixel decoded;
- ``mp4``: every frame decoded, with the frame count its shot asks for (clips);
- ``srt``/``vtt``: parsed, and at least one cue when ``words.json`` holds words (an empty
  file is not a story's subtitles);
- ``html``: UTF-8, a whole document (``<html`` ... ``</html>``).

A file no byte of which may be missing or changed is also compared with the sha256 that
``manifest.json`` records for it, when the manifest is newer than the file (a file made again
since the manifest is not the one it describes): this catches what still parses (a garbage
``script.json`` of the right shape, a truncated file whose old time stamp was restored).
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


def check_image(path: str | Path) -> tuple[int, int]:
    """The image's size, after decoding every pixel (PNG, JPEG)."""
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


def check_subtitles(path: str | Path, words: int | None = None) -> int:
    """The number of cues, after parsing; none at all is corrupt when the narration has
    ``words``."""
    from storyreel.media.subtitles import parse_subtitles

    try:
        text = Path(path).read_text(encoding="utf-8")
        cues = parse_subtitles(path)
    except Exception as exc:  # noqa: BLE001
        raise corrupt(path, f"subtitles do not parse ({_first_line(exc)})") from None
    if Path(path).suffix == ".vtt" and not text.startswith("WEBVTT"):
        raise corrupt(path, "WebVTT file lacks its WEBVTT header")
    if not cues and words:
        raise corrupt(path, f"no subtitle cue, though words.json holds {words} words")
    return len(cues)


def check_html(path: str | Path) -> None:
    """A whole HTML document in UTF-8."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, ValueError) as exc:
        raise corrupt(path, f"not UTF-8 text ({_first_line(exc)})") from None
    if "<html" not in text[:500].lower() or not text.lower().endswith("</html>"):
        raise corrupt(path, "not a whole HTML document (no <html> ... </html>)")


def check_folder(path: Path, story_dir: Path, inside: tuple[str, ...] = ()) -> None:
    """Every JSON file of a per-shot folder valid, and one per shot of ``shotlist.json`` (plus
    the files written ``inside`` it, such as ``style.json``): no more, no fewer."""
    if not path.is_dir():
        raise corrupt(path, "not a folder")
    for child in sorted(path.glob("*.json")):
        check_against_manifest(child, story_dir)
        check_json(child)
    shots = _shot_ids(story_dir)
    if shots is None:
        return
    have = set(pipeline.shot_ids_in(path))
    missing = [f"{s}.json" for s in shots if s not in have]
    missing += [name for name in inside if not (path / name).is_file()]
    if missing:
        raise corrupt(path / missing[0], f"missing from {path.name}/, which "
                      f"{pipeline.path(story_dir, 'shotlist').name} says has {len(shots)} shots")
    stray = sorted(have - set(shots))
    if stray:
        raise corrupt(path / f"{stray[0]}.json", "a shot that shotlist.json does not list")


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


def _shot_ids(story_dir: Path) -> list[str] | None:
    """The shot ids ``shotlist.json`` lists (None when it cannot be read)."""
    try:
        data = json.loads(pipeline.path(story_dir, "shotlist").read_text(encoding="utf-8"))
        return [str(shot["id"]) for shot in data["shots"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _word_count(story_dir: Path) -> int | None:
    try:
        data = json.loads(pipeline.path(story_dir, "asr", "words").read_text(encoding="utf-8"))
        return len(data["words"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _manifest_hashes(story_dir: Path) -> tuple[float, dict[str, str]]:
    """(mtime, {story-relative path: sha256}) of the story's manifest ({} when unreadable)."""
    manifest = pipeline.path(story_dir, pipeline.FINAL.name, "manifest")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return manifest.stat().st_mtime, {str(a["path"]): str(a["sha256"])
                                          for a in data["artifacts"]}
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0, {}


def check_against_manifest(path: Path, story_dir: Path) -> None:
    """The file's sha256 against the one ``manifest.json`` records, when the manifest is newer
    than the file (see the module doc)."""
    from storyreel.core.artifacts import sha256_file

    made, hashes = _manifest_hashes(story_dir)
    rel = path.relative_to(story_dir).as_posix()
    if rel not in hashes or path.stat().st_mtime > made:
        return
    if sha256_file(path) != hashes[rel]:
        raise corrupt(path, "its sha256 differs from the one manifest.json records, and it "
                            "was not made again since (changed or damaged)")


def check_file(path: str | Path, fps: int | None = None) -> None:
    """Check one artifact of the stage table by its kind (see the module doc)."""
    path = Path(path)
    found = pipeline.producer(path)
    if found is None:
        return
    _, artifact = found
    story_dir = path.parents[1] if artifact.per_shot or artifact.per_character else path.parent
    if artifact.kind == "folder" and path.suffix != ".json":
        stage = pipeline.stage(found[0].name)
        check_folder(path, story_dir, tuple(pipeline.inside(stage.name, a.key)
                                            for a in stage.artifacts
                                            if a.inside and a.kind != "folder"))
        for folder in (pipeline.inside(stage.name, a.key) for a in stage.artifacts
                       if a.inside and a.kind == "folder"):  # vision/characters: its sheets
            for child in sorted((path / folder).glob("*.json")):
                check_json(child)
        return
    if not path.is_file():
        raise corrupt(path, "missing")
    if path.stat().st_size == 0 and artifact.kind != "srt":  # an SRT without cues is empty
        raise corrupt(path, "empty file (0 bytes)")
    check_against_manifest(path, story_dir)
    if artifact.kind in ("json", "folder"):
        check_json(path)
    elif artifact.kind == "wav":
        check_wav(path, _narration_seconds(story_dir))
    elif artifact.kind in ("png", "jpg"):
        check_image(path)
    elif artifact.kind == "mp4":
        bounds = _shot_frames(story_dir, path.stem, fps) if artifact.per_shot and fps else None
        check_mp4(path, *(bounds or (1, None)))
    elif artifact.kind in ("srt", "vtt"):
        check_subtitles(path, _word_count(story_dir))
    elif artifact.kind == "html":
        check_html(path)


def check_inputs(paths: list[str], fps: int | None = None) -> None:
    """Check a job's input files (the runner calls this before the stage runs)."""
    for path in paths:
        if Path(path).exists():
            check_file(path, fps)
