"""post: the finished video, its subtitles, a poster and the manifest.

The post backend joins the clips, masters the audio and makes the one final encode (the edit).
This module then copies the story's subtitles beside the video (the film's timeline is the
narration's), takes a poster frame from the most representative shot, measures the result
(:mod:`storyreel.media.quality`) and writes ``manifest.json`` (:mod:`storyreel.stages.manifest`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PIL import Image

from storyreel.core import pipeline, redact, registry
from storyreel.core.artifacts import atomic_path, read_json, write_json
from storyreel.core.types import EditJob
from storyreel.job import fallback
from storyreel.job.context import JobContext
from storyreel.media import ffmpeg
from storyreel.media.quality import check_quality, measure
from storyreel.stages import candidates
from storyreel.stages.manifest import build_manifest
from storyreel.stages.score import flagged

log = logging.getLogger(__name__)

USED_FROM = {"voice": ("backend", "voice", "model_sha256", "fallback_reason"),
             "asr": ("backend",)}


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
    index = poster_shot(shots)
    with Image.open(keyframes[index]) as img, atomic_path(out) as tmp:
        img.convert("RGB").resize(size, Image.LANCZOS).save(tmp, "JPEG", quality=92)
    return shots[index]["id"]


def make_video(job: EditJob, options: dict[str, Any]) -> dict[str, Any]:
    """Run the configured post backend to write ``job.out``; returns the edit's figures."""
    return registry.create("post", options).run(job)


def model_records(smk: Any, words: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What the model stages used: the script's writer (and its fallback, with the reason),
    attempts and model loads/peak memory; the same for vision; the asr model's loads."""
    used: dict[str, dict[str, Any]] = {}
    if "model" in words:
        used["asr"] = {"backend": words["backend"], "wer": words["wer"]["value"],
                       "wer_status": words["wer"]["status"], "model": words["model"]}
    sources = []
    if hasattr(smk.input, "script"):
        sources.append(("script", Path(smk.input.script), "script"))
    style = pipeline.path(Path(smk.output.manifest).parent, "vision", "style")
    if style.is_file():
        sources.append(("vision", style, "style"))
    for stage, path, schema in sources:
        doc = read_json(path, schema)
        record = {k: doc[k] for k in ("generation", "fallback") if k in doc}
        if record:
            used[stage] = {"backend": doc.get("backend", record.get("generation", {}).get(
                "backend")), **record}
    return used


def degradations(story_dir: Path, shotlist: dict[str, Any], meta: dict[str, Any]
                 ) -> list[dict[str, Any]]:
    """The film's degradations: the stages' and shots' fallback records
    (``storyreel.job.fallback``), and a voice that fell back while loading."""
    records = fallback.gather(story_dir, {s["id"] for s in shotlist["shots"]})
    voice_reason = meta.get("fallback_reason")
    if voice_reason and not any(d["stage"] == "voice" for d in records):
        records.insert(0, {"stage": "voice", "shot": None, "backend": meta["backend"],
                           "reason": voice_reason})
    return records


def main(smk: Any, job: JobContext) -> None:
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
                          ffmpeg.frame_size(shotlist["aspect"]))
    quality = measure(smk.output.mp4, float(options["loudness_lufs"]),
                      float(options["true_peak_db"]))
    quality["frames"] = edit["frames"]
    quality["picture_stream_copied"] = bool(edit.get("stream_copy", False))
    for problem in check_quality(quality):
        log.warning("quality: %s", problem)
    used = {"voice": {k: meta.get(k) for k in USED_FROM["voice"]},
            "asr": {"backend": words["backend"], "wer": words["wer"]["value"],
                    "wer_status": words["wer"]["status"]}}
    used.update(model_records(smk, words))
    manifest = build_manifest(Path(smk.output.manifest).parent, idea,
                              dict(smk.params.provenance), dict(smk.params.benchmarks), quality,
                              used, poster, {Path(smk.output.manifest).resolve()},
                              {shot["id"] for shot in shotlist["shots"]},
                              dict(getattr(smk.params, "peaks", {})),
                              degradations(Path(smk.output.manifest).parent, shotlist, meta))
    scores = list(getattr(smk.input, "scores", []))
    if scores:  # a scorer ran: the story's scores, its flags and the keyframes' candidates
        manifest["scores"] = {**read_json(scores[0], "scores"),
                              "flagged": flagged(read_json(scores[0], "scores"))}
        manifest["scores"].pop("story")
        manifest["candidates"] = candidates.gather(Path(smk.output.manifest).parent,
                                                   {shot["id"] for shot in shotlist["shots"]})
    for record in manifest["degradations"]:
        log.warning("degraded %s%s: %s", record["stage"],
                    f" shot {record['shot']}" if record["shot"] else "", record["reason"])
    write_json(smk.output.manifest, redact.redact_data(manifest), "manifest")
    log.info("final video: %.2f LUFS, %.2f dBTP, A/V diff %.3f s", quality["integrated_lufs"],
             quality["true_peak_db"], quality["av_diff_s"])
