"""The manifest of a finished story: every artifact's path, size and sha256, each stage's
settings (secrets dropped), tool versions, per-stage time and memory, and the quality figures.

Written by the post stage as ``results/{story}/manifest.json`` (schema ``manifest``).
"""

from __future__ import annotations

import csv
import importlib.metadata
import platform
import re
from pathlib import Path
from typing import Any

from storyreel import __version__
from storyreel.core import pipeline, registry
from storyreel.core.artifacts import sha256_file
from storyreel.media import ffmpeg
from storyreel.models.peaks import read_peaks

# a whole word of a key name (api_key, token, ...), so that `keyframes` is not taken for a secret
SECRET = re.compile(r"(?:^|_)(?:key|token|secret|password|credentials?)(?:$|_)", re.I)
TOOLS = {"snakemake": "snakemake", "piper": "piper-tts", "pocketsphinx": "pocketsphinx",
         "pillow": "pillow", "numpy": "numpy", "av": "av", "soxr": "soxr"}
SHOT_FILE = re.compile(pipeline.SHOT_ID)


def scrub(value: Any) -> Any:
    """A copy of a settings tree without any key that looks like a secret."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not SECRET.search(str(k))}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def read_benchmarks(benchmarks: dict[str, Any],
                    peaks: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Per-stage wall time (sum over jobs, s) and peak memory (MB) from benchmark TSVs; with
    ``peaks`` (per stage, the jobs' log files), the highest peak RSS and GPU memory that
    ``storyreel.models.peaks`` sampled (a warm model worker's included)."""
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
        logs = (peaks or {}).get(stage)
        if logs:
            timings[stage].update(read_peaks([logs] if isinstance(logs, str) else
                                                     list(logs)))
    return timings


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def tool_versions() -> dict[str, str]:
    """Versions of the tools that made the video."""
    versions = {"storyreel": __version__, "python": platform.python_version(),
                "ffmpeg": ffmpeg.ffmpeg_version()}
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
        if (shots is not None and parts[0] in pipeline.shot_folders()
                and SHOT_FILE.fullmatch(path.stem)
                and path.stem not in shots):
            continue
        entries.append({"path": path.relative_to(story_dir).as_posix(),
                        "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    return entries


def build_manifest(story_dir: Path, idea: dict[str, Any], provenance: dict[str, Any],
                   benchmarks: dict[str, Any], quality: dict[str, Any],
                   used: dict[str, dict[str, Any]], poster_shot_id: str,
                   exclude: set[Path], shots: set[str] | None = None,
                   peaks: dict[str, Any] | None = None,
                   degradations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The manifest document (schema ``manifest``)."""
    return {
        "story": idea["story"],
        "title": idea["title"],
        "seed": int(idea["seed"]),
        "artifacts": artifact_list(story_dir, exclude, shots),
        "stages": stage_records(provenance, idea, used),
        "output": scrub(provenance.get("output", {})),
        "tools": tool_versions(),
        "timings": read_benchmarks(benchmarks, peaks),
        "quality": quality,
        "poster_shot": poster_shot_id,
        "language": {"tag": idea["language"], "detected": idea.get("detected_language"),
                     "voice": f"{used['voice']['backend']}/{used['voice']['voice']}",
                     "aligner": used["asr"]["backend"]},
        "degradations": list(degradations or []),
    }
