"""post: the finished video, its subtitles, a poster and the manifest.

The post backend joins the clips, masters the audio and makes the one final encode. This module
then copies the story's subtitles beside the video (the film's timeline is the narration's), takes
a poster frame from the most representative shot, measures the result (loudness, true peak, A/V
difference, black stretches, codecs, faststart) and writes ``manifest.json``: every artifact's
path and sha256, each stage's settings, tool versions, per-stage time and memory, and the figures.
"""

from __future__ import annotations

import csv
import importlib.metadata
import logging
import platform
import re
from pathlib import Path
from typing import Any

from storyreel import __version__, fallback, media, redact, registry
from storyreel.artifacts import atomic_path, read_json, sha256_file, write_json
from storyreel.types import EditJob

log = logging.getLogger(__name__)

SECRET = re.compile(r"key|token|secret|password|credential", re.I)
TOOLS = {"snakemake": "snakemake", "piper": "piper-tts", "pocketsphinx": "pocketsphinx",
         "pillow": "pillow", "numpy": "numpy"}
USED_FROM = {"voice": ("backend", "voice", "model_sha256", "fallback_reason"),
             "asr": ("backend",)}


def scrub(value: Any) -> Any:
    """A copy of a settings tree without any key that looks like a secret."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not SECRET.search(str(k))}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def copy_file(src: str | Path, dst: str | Path) -> None:
    """Copy a file atomically."""
    with atomic_path(dst) as tmp:
        tmp.write_bytes(Path(src).read_bytes())


def poster_shot(shots: list[dict[str, Any]]) -> int:
    """Index of the poster's shot: the longest one in the middle half of the story."""
    n = len(shots)
    middle = list(range(n // 4, max(n // 4 + 1, n - n // 4)))
    return max(middle, key=lambda i: (shots[i]["duration"], -i))


def write_poster(keyframes: list[str], shots: list[dict[str, Any]], out: str | Path,
                 size: tuple[int, int]) -> str:
    """A JPEG poster: the representative shot's keyframe at the film's size (no subtitles);
    returns the shot id."""
    from PIL import Image

    index = poster_shot(shots)
    with Image.open(keyframes[index]) as img, atomic_path(out) as tmp:
        img.convert("RGB").resize(size, Image.LANCZOS).save(tmp, "JPEG", quality=92)
    return shots[index]["id"]


def read_benchmarks(benchmarks: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-stage wall time (sum over jobs, s) and peak memory (MB) from benchmark TSVs."""
    timings: dict[str, dict[str, Any]] = {}
    for stage, paths in benchmarks.items():
        files = [paths] if isinstance(paths, str) else list(paths)
        rows = []
        for path in files:
            if Path(path).exists():
                with open(path, encoding="utf-8") as fh:
                    rows += list(csv.DictReader(fh, delimiter="\t"))
        if not rows:
            continue
        timings[stage] = {
            "jobs": len(rows),
            "wall_s": round(sum(_number(r.get("s")) for r in rows), 3),
            "max_rss_mb": round(max(_number(r.get("max_rss")) for r in rows), 3),
        }
    return timings


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def tool_versions() -> dict[str, str]:
    """Versions of the tools that made the video."""
    versions = {"storyreel": __version__, "python": platform.python_version(),
                "ffmpeg": media.ffmpeg_version()}
    for name, dist in TOOLS.items():
        try:
            versions[name] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def stage_records(provenance: dict[str, Any], idea: dict[str, Any],
                  used: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each stage's backend, model, seed and parameters (secrets dropped)."""
    records = {}
    for stage, options in scrub(provenance.get("stages", {})).items():
        params = {k: v for k, v in options.items() if k not in ("backend", "model")}
        backend = registry.stage_spec(stage, options)
        model = options.get("model") if backend and backend.uses_model else None
        record = {"backend": options.get("backend"), "model": model,
                  "seed": int(idea["seed"]), "params": params}
        if stage in used:
            record["used"] = used[stage]
        records[stage] = record
    return records


SHOT_FOLDERS = ("shots", "vision", "keyframes", "clips")  # where files are named by shot id
SHOT_FILE = re.compile(r"sh\d{3}")


def artifact_list(story_dir: Path, exclude: set[Path], shots: set[str] | None = None
                  ) -> list[dict[str, Any]]:
    """Every file under the story's results folder: relative path, size and sha256.

    With ``shots`` (the current shot ids), per-shot files of shots the story no longer has
    (left by an earlier run with more shots) are not listed: they are not part of this film.
    """
    entries = []
    for path in sorted(p for p in story_dir.rglob("*") if p.is_file()):
        parts = path.relative_to(story_dir).parts
        if path.resolve() in exclude or any(part.startswith(".") for part in parts):
            continue
        if (shots is not None and parts[0] in SHOT_FOLDERS and SHOT_FILE.fullmatch(path.stem)
                and path.stem not in shots):
            continue
        entries.append({"path": path.relative_to(story_dir).as_posix(),
                        "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    return entries


def measure(video: str | Path, loudness_target: float, true_peak_target: float
            ) -> dict[str, Any]:
    """The figures the manifest records, measured on the finished file."""
    info = media.probe(video)
    v, a = info.first("video"), info.first("audio")
    if v is None or a is None:
        raise media.MediaError(f"{video}: the final video lacks a video or audio stream")
    loud = media.measure_loudness(video)
    video_s, audio_s = media.video_duration(video), media.audio_duration(video)
    return {
        "integrated_lufs": loud.integrated_lufs, "true_peak_db": loud.true_peak_db,
        "loudness_range_lu": loud.lra, "target_lufs": loudness_target,
        "target_true_peak_db": true_peak_target,
        "video_duration_s": round(video_s, 3), "audio_duration_s": round(audio_s, 3),
        "av_diff_s": round(abs(video_s - audio_s), 3),
        "black_segments": [[round(s, 3), round(e, 3)] for s, e in media.detect_black(video)],
        "video": {"codec": v.codec, "profile": v.profile, "pix_fmt": v.pix_fmt,
                  "width": v.width, "height": v.height, "fps": v.fps},
        "audio": {"codec": a.codec, "sample_rate": a.sample_rate, "channels": a.channels},
        "subtitle_tracks": sum(1 for s in info.streams if s.kind == "subtitle"),
        "faststart": media.has_faststart(video),
    }


def check_quality(q: dict[str, Any]) -> list[str]:
    """Quality floors the figures miss (empty when all are met)."""
    problems = []
    if abs(q["integrated_lufs"] - q["target_lufs"]) > 1.0:
        problems.append(f"integrated loudness {q['integrated_lufs']} LUFS is off target")
    if q["true_peak_db"] > q["target_true_peak_db"]:
        problems.append(f"true peak {q['true_peak_db']} dBTP is above the ceiling")
    if q["av_diff_s"] > 0.1:
        problems.append(f"audio and video lengths differ by {q['av_diff_s']} s")
    if q["black_segments"]:
        problems.append(f"black stretches: {q['black_segments']}")
    return problems


def make_video(job: EditJob, options: dict[str, Any]) -> dict[str, Any]:
    """Run the configured post backend to write ``job.out``; returns the edit's figures."""
    return registry.create("post", options).run(job)


def build_manifest(story_dir: Path, idea: dict[str, Any], provenance: dict[str, Any],
                   benchmarks: dict[str, Any], quality: dict[str, Any],
                   used: dict[str, dict[str, Any]], poster_shot_id: str,
                   exclude: set[Path], shots: set[str] | None = None) -> dict[str, Any]:
    """The manifest document (schema ``manifest``)."""
    return {
        "story": idea["story"],
        "title": idea["title"],
        "seed": int(idea["seed"]),
        "artifacts": artifact_list(story_dir, exclude, shots),
        "stages": stage_records(provenance, idea, used),
        "output": scrub(provenance.get("output", {})),
        "tools": tool_versions(),
        "timings": read_benchmarks(benchmarks),
        "quality": quality,
        "poster_shot": poster_shot_id,
    }


def main(smk: Any) -> None:
    """Snakemake entry point (rule ``post``)."""
    options, output = dict(smk.params.options), dict(smk.params.output)
    idea = read_json(smk.input.idea, "idea")
    shotlist = read_json(smk.input.shotlist, "shotlist")
    meta = read_json(smk.input.meta, "voice")
    words = read_json(smk.input.words, "words")
    music = list(smk.input.music)
    job = EditJob(clips=[Path(c) for c in smk.input.clips], shotlist=shotlist,
                  narration=Path(smk.input.wav), subtitles=Path(smk.input.srt),
                  music=Path(music[0]) if music else None, language=idea["language"],
                  output=output, out=Path(smk.output.mp4),
                  threads=int(getattr(smk, "threads", 2)))
    edit = make_video(job, options)
    copy_file(smk.input.srt, smk.output.srt)
    copy_file(smk.input.vtt, smk.output.vtt)
    poster = write_poster(list(smk.input.keyframes), shotlist["shots"], smk.output.poster,
                          media.frame_size(shotlist["aspect"]))
    quality = measure(smk.output.mp4, float(options["loudness_lufs"]),
                      float(options["true_peak_db"]))
    quality["frames"] = edit["frames"]
    quality["picture_stream_copied"] = bool(edit.get("stream_copy", False))
    for problem in check_quality(quality):
        log.warning("quality: %s", problem)
    used = {"voice": {k: meta.get(k) for k in USED_FROM["voice"]},
            "asr": {"backend": words["backend"], "wer": words["wer"]["value"],
                    "wer_status": words["wer"]["status"]}}
    manifest = build_manifest(Path(smk.output.manifest).parent, idea,
                              dict(smk.params.provenance), dict(smk.params.benchmarks), quality,
                              used, poster, {Path(smk.output.manifest).resolve()},
                              {shot["id"] for shot in shotlist["shots"]})
    story_dir = Path(smk.output.manifest).parent
    manifest["degradations"] = fallback.gather(story_dir, {s["id"] for s in shotlist["shots"]})
    voice_reason = meta.get("fallback_reason")
    if voice_reason and not any(d["stage"] == "voice" for d in manifest["degradations"]):
        manifest["degradations"].insert(0, {"stage": "voice", "shot": None,
                                            "backend": meta["backend"], "reason": voice_reason})
    write_json(smk.output.manifest, redact.redact_data(manifest), "manifest")
    log.info("final video: %.2f LUFS, %.2f dBTP, A/V diff %.3f s", quality["integrated_lufs"],
             quality["true_peak_db"], quality["av_diff_s"])
