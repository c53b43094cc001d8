"""The report's own pieces: a contact sheet of a story's keyframes (annotated with their scores
when a scorer runs) and a stage table (with the scores of every shot and character).

Rules ``contactsheet`` and ``stagetable`` (rules/report.smk) run these; Snakemake's report
(``storyreel report``) shows them beside the film, poster, subtitles and manifest.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from storyreel.core import pipeline
from storyreel.core.artifacts import atomic_path, read_json, write_text
from storyreel.job.context import JobContext

THUMB_W = 320
COLUMNS = 4
PAD = 8
LABEL_H = 22


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow
        return ImageFont.load_default()


def score_label(score: dict[str, Any] | None) -> str:
    """A keyframe's scores as its caption shows them: ``CLIP 31.2`` and its flags."""
    if not score:
        return ""
    label = f"CLIP {score['clip_score']:.1f}"
    if score.get("steadiness") is not None:
        label += f"  steady {score['steadiness']:.2f}"
    return label + ("  FLAGGED: " + ", ".join(score["flags"]) if score.get("flags") else "")


def contact_sheet(keyframes: list[Path], shots: list[dict[str, Any]], out: Path,
                  scores: dict[str, Any] | None = None) -> None:
    """A grid of the keyframes, in shot order, each captioned with its shot id, start time and
    camera move, and (with ``scores``, scores.json) its scores, a flagged shot framed red."""
    if not keyframes:
        raise ValueError("contact sheet: no keyframes")
    with Image.open(keyframes[0]) as first:
        ratio = first.height / first.width
    thumb_h = max(1, round(THUMB_W * ratio))
    cols = min(COLUMNS, len(keyframes))
    rows = math.ceil(len(keyframes) / cols)
    label_h = LABEL_H * (2 if scores else 1)
    sheet = Image.new("RGB", (PAD + cols * (THUMB_W + PAD),
                              PAD + rows * (thumb_h + label_h + PAD)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = _font(14)
    by_id = {s["id"]: s for s in shots}
    scored = {s["id"]: s for s in (scores or {}).get("shots", [])}
    for i, path in enumerate(keyframes):
        x = PAD + (i % cols) * (THUMB_W + PAD)
        y = PAD + (i // cols) * (thumb_h + label_h + PAD)
        with Image.open(path) as img:
            sheet.paste(img.convert("RGB").resize((THUMB_W, thumb_h), Image.LANCZOS), (x, y))
        shot = by_id.get(path.stem, {})
        label = path.stem
        if shot:
            label += f"  {shot.get('start', 0):.1f}s  {shot.get('camera', '')}"
        draw.text((x + 2, y + thumb_h + 3), label, fill=(230, 230, 230), font=font)
        score = scored.get(path.stem)
        if score:
            flagged = bool(score.get("flags"))
            draw.text((x + 2, y + thumb_h + 3 + LABEL_H), score_label(score), font=font,
                      fill=(255, 110, 110) if flagged else (170, 220, 170))
            if flagged:
                draw.rectangle((x - 3, y - 3, x + THUMB_W + 2, y + thumb_h + 2),
                               outline=(220, 40, 40), width=3)
    with atomic_path(out) as tmp:
        sheet.save(tmp, "JPEG", quality=88)


def _bench(path: Path) -> dict[str, float] | None:
    try:
        with path.open(encoding="utf-8") as fh:
            row = next(csv.DictReader(fh, delimiter="\t"))
    except (OSError, StopIteration):
        return None
    out = {}
    for key in ("s", "max_rss", "cpu_time"):
        try:
            out[key] = float(row.get(key, "") or 0)
        except ValueError:
            out[key] = 0.0
    return out


def stage_rows(benchmarks: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Per stage: jobs, total and longest job time, peak memory."""
    rows = []
    for stage, paths in benchmarks.items():
        values = [b for b in (_bench(Path(p)) for p in paths) if b]
        if not values:
            continue
        rows.append({"stage": stage, "jobs": len(values),
                     "wall_s": round(sum(v["s"] for v in values), 2),
                     "longest_s": round(max(v["s"] for v in values), 2),
                     "cpu_s": round(sum(v["cpu_time"] for v in values), 2),
                     "max_rss_mb": round(max(v["max_rss"] for v in values), 1)})
    return rows


def _table(head: list[str], rows: list[list[Any]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _unit(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def score_tables(manifest: dict[str, Any]) -> str:
    """The manifest's scores as HTML (empty without a scorer): a row per shot (CLIP score,
    steadiness, first frame, the candidates tried and the seed kept, flags), a row per
    character (its shots, consistency, likeness to its portrait, flags)."""
    scores = manifest.get("scores")
    if not scores:
        return ""
    tried = {c["shot"]: c for c in manifest.get("candidates", [])}
    shots = _table(["shot", "CLIP score", "steadiness", "first frame", "candidates (seed kept)",
                    "flags"],
                   [[s["id"], f"{s['clip_score']:.1f}", _unit(s["steadiness"]),
                     _unit(s["first_frame"]),
                     (f"{len(tried[s['id']]['candidates'])} ({tried[s['id']]['kept']})"
                      if s["id"] in tried else ""), ", ".join(s["flags"])]
                    for s in scores["shots"]])
    people = _table(["character", "shots", "consistency", "portrait", "flags"],
                    [[c["name"], " ".join(c["shots"]), _unit(c["consistency"]),
                      _unit(c["portrait"]), ", ".join(c["flags"])]
                     for c in scores["characters"]])
    scorer = scores["scorer"]
    limits = ", ".join(f"{k} {v}" for k, v in scores["thresholds"].items() if v is not None)
    return (f"<h2>Scores ({html.escape(scorer['backend'])} "
            f"{html.escape(str(scorer['model'] or ''))}; gate: "
            f"{html.escape(limits or 'none')})</h2>{shots}<h2>Characters</h2>{people}")


def _thumbnail(path: Path, height: int = 120) -> str:
    """An ``<img>`` of a picture, embedded (the report is one file)."""
    with Image.open(path) as img:
        small = img.convert("RGB")
        small.thumbnail((height * 4, height))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=80)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/jpeg;base64,{data}">'


def cast_section(story: Path) -> str:
    """Per character with a portrait: the portrait, then the keyframes of the shots that show
    it (empty without portraits)."""
    rows = []
    plans = [read_json(p) for p in sorted(pipeline.path(story, "vision").glob(pipeline.SHOT_GLOB))]
    for character in pipeline.character_ids_in(story):
        portrait = pipeline.path(story, "portraits", character=character)
        sheet = pipeline.path(story, "vision", "sheets") / f"{character}.json"
        if not portrait.exists():
            continue
        name = read_json(sheet, "sheet")["character"]["name"]
        shown = [p["id"] for p in plans if name in p["characters"]]
        frames = [pipeline.path(story, "keyframes", shot=s) for s in shown]
        pictures = " ".join(_thumbnail(f) for f in frames if f.exists())
        rows.append(f"<tr><th>{html.escape(name)}<br>{' '.join(shown)}</th>"
                    f"<td>{_thumbnail(portrait)}</td><td>{pictures}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Cast: each portrait and the shots that show it</h2><table><thead><tr>"
            "<th>character</th><th>portrait</th><th>its shots</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def stage_table(manifest_path: Path, benchmarks: dict[str, list[str]], out: Path) -> None:
    """An HTML page: the time and memory of every stage, then the manifest's provenance, the
    scores and the cast."""
    manifest = read_json(manifest_path, "manifest")
    rows = stage_rows(benchmarks)
    total = sum(r["wall_s"] for r in rows)
    timing = _table(["stage", "jobs", "job time (s)", "longest job (s)", "CPU time (s)",
                     "peak RSS (MB)"],
                    [[r["stage"], r["jobs"], r["wall_s"], r["longest_s"], r["cpu_s"],
                      r["max_rss_mb"]] for r in rows]
                    + [["all stages", sum(r["jobs"] for r in rows), round(total, 2), "", "", ""]])
    stages = manifest.get("stages", {})
    prov_rows = []
    for stage, info in stages.items():
        if isinstance(info, dict):
            settings = {k: v for k, v in info.items() if k not in ("backend", "model", "seed")}
            prov_rows.append([stage, info.get("backend", ""), info.get("model", "") or "",
                              info.get("seed", ""), json.dumps(settings, sort_keys=True)[:300]])
    provenance = _table(["stage", "backend", "model", "seed", "settings"], prov_rows)
    tools = _table(["tool", "version"], sorted(manifest.get("tools", {}).items()))
    quality = _table(["figure", "value"], sorted(
        (k, v) for k, v in manifest.get("quality", {}).items()
        if isinstance(v, (int, float, str, bool))))
    scores = score_tables(manifest) + cast_section(manifest_path.parent)
    title = html.escape(str(manifest.get("title") or manifest.get("story")))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: stages</title>
<style>body{{font:14px system-ui,sans-serif;margin:1em}}table{{border-collapse:collapse;
margin-bottom:1.5em}}td,th{{border:1px solid #ddd;padding:3px 8px;text-align:left}}
th{{background:#f3f3f3}}</style></head><body>
<h1>{title}</h1>
<h2>Time and memory per stage</h2>{timing}
<h2>Provenance: backends, models, seeds</h2>{provenance}
<h2>Tools</h2>{tools}
<h2>Quality figures</h2>{quality}{scores}
</body></html>
"""
    write_text(out, page)


def main_contactsheet(smk: Any, job: JobContext) -> None:
    shotlist = read_json(smk.input.shotlist, "shotlist")
    scores = list(getattr(smk.input, "scores", []))
    contact_sheet([Path(p) for p in smk.input.keyframes], shotlist["shots"],
                  Path(smk.output.sheet), read_json(scores[0], "scores") if scores else None)


def main_stagetable(smk: Any, job: JobContext) -> None:
    """The stage table of a finished story. Its jobs' benchmark files are found from the stage
    table and the shot list here, not handed over as params: params that depend on a checkpoint
    are unknown while Snakemake builds the DAG, which made every no-op run rerun the target."""
    shots = [s["id"] for s in read_json(smk.input.shotlist, "shotlist")["shots"]]
    files = pipeline.job_files(pipeline.benchmark_of, str(job.story), shots,
                               smk.config["stages"], final=True, characters=[
                                   Path(p).stem for p in smk.input.portraits])
    benchmarks = {k: [v] if isinstance(v, str) else list(v) for k, v in files.items()}
    stage_table(Path(smk.input.manifest), benchmarks, Path(smk.output.html))
