"""Benchmark the model backends on the example stories and print the figures (not a test).

    python benchmarks/models.py [--stories config/stories.yaml] [--keep DIR] [--whisper DIR]

Needs the extras (``pip install -e '.[llm,whisper]'``). No model can be downloaded here, so the
model backends run **tiny random models built on the spot** (storyreel/models/tiny/: a two-layer
Llama, a two-layer Whisper converted with CTranslate2) on the CPU. Their time and memory show the
cost of the code path, the loading and the per-job reuse, not of a real model; a random Whisper
hears garbage, so its WER and cue timings are what they are (they show the fallback path:
interpolated timings over the sentence span), not what faster-whisper achieves with real weights.

1. One Snakemake run up to ``shotlist`` with the default backends gives every story's artifacts.
2. Each stage is then run once per backend and story as its own process, as a Snakemake job
   would be: wall time, peak RSS, and the number of model loads in that job (must be 1).
3. For asr, pocketsphinx and faster-whisper (the tiny random one, and with ``--whisper DIR``
   a real CTranslate2 Whisper folder if you have one) are compared on each example narration:
   the error of each sentence's first cue start against the voice's known sentence onset
   (median and 95th percentile, ms), the largest reading speed of any cue, and the WER against
   the script.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))

# (stage, backend, label, model key)
RUNS = [("script", "template", "template", None),
        ("script", "transformers", "transformers tiny", "llm"),
        ("vision", "embedded", "embedded", None),
        ("vision", "transformers", "transformers tiny", "llm"),
        ("asr", "pocketsphinx", "pocketsphinx", None),
        ("asr", "faster-whisper", "faster-whisper tiny", "whisper")]


def job(stage: str, backend: str, story: Path, model: str, out: Path) -> dict:
    """Run one stage for one story in this process; return its figures (the child side)."""
    from storyreel.core.artifacts import read_json
    from storyreel.core.config import load_config

    started = time.perf_counter()
    options: dict = {"backend": backend}
    if backend == "transformers":
        options.update({"model": model, "max_new_tokens": 48, "max_repairs": 1})
    if backend == "faster-whisper":
        options.update({"model": model, "device": "cpu", "beam_size": 1})
    options = load_config({"stages": {stage: options}})["stages"][stage]
    idea = read_json(story / "idea.json", "idea")
    loads = None
    record: dict = {}
    if stage == "script":
        from storyreel.stages.script import write_script

        script = write_script(idea, options, 160.0, {"sentence": 0.3, "scene": 0.7})
        usage = (script.get("generation") or {}).get("model_usage") or {}
        loads = usage.get("loads")
        record["fallback"] = "fallback" in script
    elif stage == "vision":
        from storyreel.stages.vision import plan_story

        style, _ = plan_story(idea, read_json(story / "shotlist.json", "shotlist"), options)
        loads = (style.get("generation") or {}).get("model_usage", {}).get("loads")
        record["fallback"] = "fallback" in style
    else:
        from storyreel.stages.asr import run_asr

        doc = run_asr(read_json(story / "revised.json", "revised"),
                      read_json(story / "voice.json", "voice"), story / "narration.wav",
                      options, out / "words.json", out / "subtitles.srt", out / "subtitles.vtt")
        loads = doc.get("model", {}).get("loads")
    from storyreel.models.peaks import peak_rss_mb

    record.update({"wall_s": time.perf_counter() - started, "loads": loads,
                   "peak_rss_mb": peak_rss_mb()})
    return record


def asr_quality(story: Path, out: Path) -> dict:
    """Cue-start error against the voice's sentence onsets, worst cue reading speed, WER."""
    import numpy as np

    from storyreel.core.artifacts import read_json
    from storyreel.media.subtitles import parse_subtitles

    voice = read_json(story / "voice.json", "voice")
    words = read_json(out / "words.json", "words")
    cues = parse_subtitles(out / "subtitles.srt")
    onsets = [s["start"] for s in voice["sentences"]]
    errors = [min(abs(c.start - onset) for c in cues) * 1000 for onset in onsets]
    cps = max(c.chars / max(1e-3, c.end - c.start) for c in cues)
    return {"cue_med_ms": float(np.median(errors)), "cue_p95_ms": float(np.percentile(errors, 95)),
            "max_cps": cps, "wer": words["wer"]["value"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", default=str(REPO / "config" / "stories.yaml"))
    parser.add_argument("--keep", help="keep the working directory here")
    parser.add_argument("--whisper", help="also a real CTranslate2 Whisper model folder (asr)")
    parser.add_argument("--job", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:  # child: one stage, one backend, one story
        stage, backend, story, model, out = args.job
        print(json.dumps(job(stage, backend, Path(story), model, Path(out))))
        return

    from storyreel.models.tiny import build_tiny_llm, build_tiny_whisper

    workdir = Path(args.keep or tempfile.mkdtemp(prefix="storyreel-models-", dir=REPO))
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "config.yaml", workdir / "config" / "config.yaml")
    shutil.copy(args.stories, workdir / "config" / "stories.yaml")
    models = {"llm": str(build_tiny_llm(workdir / "models" / "llm")),
              "whisper": str(build_tiny_whisper(workdir / "models" / "whisper" / "ct2"))}
    subprocess.run([str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                    "--cores", "2", "--until", "shotlist", "--quiet", "--rerun-incomplete"],
                   check=True)
    stories = sorted(p for p in (workdir / "results").iterdir() if p.is_dir())
    rows: list[tuple] = []
    quality: dict[str, list[dict]] = {}
    runs = list(RUNS)
    if args.whisper:
        models["real"] = str(Path(args.whisper).resolve())
        runs.append(("asr", "faster-whisper", f"faster-whisper {Path(args.whisper).name}",
                     "real"))
    for stage, backend, label, key in runs:
        for story in stories:
            out = workdir / "bench" / stage / label.replace(" ", "-") / story.name
            out.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run(
                [sys.executable, __file__, "--job", stage, backend, str(story),
                 models.get(key or "", "-"), str(out)], capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{stage}/{label} {story.name} failed:\n{proc.stderr[-2000:]}")
                continue
            figures = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append((f"{stage}/{label}", story.name, figures))
            if stage == "asr":
                quality.setdefault(label, []).append(
                    {"story": story.name, **asr_quality(story, out)})
    print(f"model backends on {len(stories)} example stories (tiny random models, CPU)")
    print(f"working directory: {workdir}")
    print()
    print(f"{'stage/backend':26} {'story':14} {'wall s':>7} {'peak RSS MB':>11} {'loads':>5} "
          f"{'fallback':>8}")
    for name, story, f in rows:
        print(f"{name:26} {story:14} {f['wall_s']:7.2f} {f['peak_rss_mb']:11.0f} "
              f"{'-' if f['loads'] is None else f['loads']:>5} "
              f"{str(f.get('fallback', '-')):>8}")
    print()
    print("asr against the voice's sentence onsets (cue start error, ms), reading speed, WER")
    print(f"{'backend':22} {'story':14} {'cue med':>7} {'cue p95':>7} {'max cps':>7} {'WER':>5}")
    for backend, items in quality.items():
        for q in items:
            print(f"{backend:22} {q['story']:14} {q['cue_med_ms']:7.0f} {q['cue_p95_ms']:7.0f} "
                  f"{q['max_cps']:7.1f} {q['wer']:5.2f}")
        if items:
            print(f"{backend:22} {'(median)':14} "
                  f"{statistics.median(q['cue_med_ms'] for q in items):7.0f} "
                  f"{statistics.median(q['cue_p95_ms'] for q in items):7.0f} "
                  f"{max(q['max_cps'] for q in items):7.1f} "
                  f"{statistics.median(q['wer'] for q in items):5.2f}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
