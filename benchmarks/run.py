"""Benchmark the workflow on the example stories and print the figures (not a test).

    python benchmarks/run.py [--stories config/stories.yaml] [--cores 1] [--repeats 3]

Everything is measured side by side in one fresh working directory:

1. a cold run up to ``shotlist`` (wall time, jobs, per-job orchestration overhead =
   (wall - sum of job times) / jobs, which is exact at ``--cores 1``);
2. no-op reruns (median of ``--repeats``);
3. the rest of the run, up to ``final.mp4``;
4. peak RSS of the Snakemake process itself (orchestration memory, jobs excluded);
5. per-stage job times from the benchmark files (median over stories or shots);
6. the unavoidable work, measured in the same run: the TTS and alignment jobs, and one x264 encode
   of a video of each final's length and settings (a re-encode of final.mp4 minus its decode
   time), and the ratio of the whole run's wall time to it;
7. the quality of each final video, from its manifest and artifacts: loudness, true peak, A/V
   difference, WER of the narration, subtitle cue starts against the aligned words (median and
   95th percentile), how far shot cuts lie outside the pauses between sentences, black stretches,
   and whether post joined the clips by stream copy.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from watched import run_watched

from storyreel.ops import joblog

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STAGES = ["idea", "script", "revise", "voice", "asr", "shotlist", "vision", "keyframes", "video",
          "post"]


def snakemake(workdir: Path, *args: str) -> tuple[float, float, str]:
    """Run Snakemake; return (wall seconds, peak RSS MB of the Snakemake process, output)."""
    command = [str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
               "--workflow-profile", str(REPO / "profiles" / "default"), *args]
    result = run_watched(command)
    return result.wall_s, result.peak_rss_mb, result.output


def jobs_in(output: str) -> int:
    return len(joblog.jobs(output))


def stage_times(workdir: Path) -> dict[str, list[tuple[float, float]]]:
    """(seconds, max_rss MB) of every job, per stage, from the benchmark files."""
    times: dict[str, list[tuple[float, float]]] = {}
    for stage in STAGES:
        for tsv in sorted((workdir / "benchmarks" / stage).rglob("*.tsv")):
            with tsv.open() as fh:
                row = next(csv.DictReader(fh, delimiter="\t"))
            rss = float(row["max_rss"]) if row["max_rss"] not in ("", "-", "NA") else 0.0
            times.setdefault(stage, []).append((float(row["s"]), rss))
    return times


def stage_peaks(workdir: Path, stage: str) -> dict[str, float | None]:
    """Highest peak RSS and GPU memory of a stage's jobs (storyreel.models.peaks's peak files)."""
    from storyreel.models.peaks import read_peaks

    return read_peaks([str(p) for p in (workdir / "logs" / stage).rglob("*.log")])


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def x264_encode_seconds(final: Path, crf: int, preset: str, threads: int) -> float:
    """Time of one x264 encode of a video like ``final`` (re-encode minus decode), with as many
    threads as the measured run had cores."""
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    base = [ffmpeg, "-v", "error", "-y", "-threads", str(threads), "-i", str(final),
            "-threads", str(threads), "-filter_threads", str(threads)]
    decode = timed([*base, "-f", "null", "-"])
    encode = timed([*base, "-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p",
                    "-preset", preset, "-crf", str(crf), "-c:a", "aac", "-ar", "48000",
                    "-f", "mp4", "-movflags", "+faststart", str(final.with_suffix(".bench.mp4"))])
    final.with_suffix(".bench.mp4").unlink()
    return max(0.0, encode - decode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", default=str(REPO / "config" / "stories.yaml"))
    parser.add_argument("--cores", default="1", help="cores for the measured runs (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="no-op reruns to take a median of")
    parser.add_argument("--keep", help="keep the working directory here")
    args = parser.parse_args()

    workdir = Path(args.keep or tempfile.mkdtemp(prefix="storyreel-bench-"))
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "config.yaml", workdir / "config" / "config.yaml")
    shutil.copy(args.stories, workdir / "config" / "stories.yaml")
    cores = ["--cores", args.cores]

    wall_shot, rss_shot, out = snakemake(workdir, *cores, "--until", "shotlist")
    jobs_shot = jobs_in(out)
    job_sum_shot = sum(s for stage in STAGES[:6] for s, _ in stage_times(workdir).get(stage, []))
    noop_shot = [snakemake(workdir, *cores, "--until", "shotlist")[0] for _ in range(args.repeats)]

    wall_rest, rss_rest, out = snakemake(workdir, *cores)
    jobs_total = jobs_shot + jobs_in(out)
    noop_all = [snakemake(workdir, *cores)[0] for _ in range(args.repeats)]
    times = stage_times(workdir)
    job_sum = sum(s for runs in times.values() for s, _ in runs)
    wall_total = wall_shot + wall_rest

    import yaml

    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text()) or {}
    output = config.get("output", {})
    finals = sorted((workdir / "results").glob("*/final.mp4"))
    threads = os.cpu_count() or 1 if args.cores == "all" else int(args.cores)
    encode = sum(statistics.median(
        x264_encode_seconds(f, output.get("crf", 20), output.get("x264_preset", "veryfast"),
                            threads) for _ in range(args.repeats)) for f in finals)
    speech = sum(s for stage in ("voice", "asr") for s, _ in times.get(stage, []))
    unavoidable = encode + speech

    print(f"storyreel benchmark — {len(finals)} stories from {args.stories}, --cores {args.cores}")
    print(f"working directory: {workdir}")
    print()
    print(f"cold run to shotlist      {wall_shot:8.2f} s  ({jobs_shot} jobs)")
    print(f"  orchestration overhead  {(wall_shot - job_sum_shot) / max(jobs_shot, 1):8.2f} s/job")
    print(f"no-op rerun to shotlist   {statistics.median(noop_shot):8.2f} s  (median of "
          f"{args.repeats})")
    print(f"rest of the run to final  {wall_rest:8.2f} s")
    print(f"whole run                 {wall_total:8.2f} s  ({jobs_total} jobs)")
    print(f"  orchestration overhead  {(wall_total - job_sum) / max(jobs_total, 1):8.2f} s/job")
    print(f"no-op rerun, everything   {statistics.median(noop_all):8.2f} s  (median of "
          f"{args.repeats})")
    print(f"peak RSS of Snakemake     {max(rss_shot, rss_rest):8.1f} MB")
    print()
    print(f"{'stage':10} {'jobs':>5} {'median s':>9} {'total s':>8} {'max RSS MB':>10} "
          f"{'peak RSS MB':>11} {'peak GPU MB':>11}")
    for stage in STAGES:
        runs = times.get(stage, [])
        if runs:
            peaks = stage_peaks(workdir, stage)  # storyreel.models.peaks, beside each job's log
            gpu = f"{peaks['peak_gpu_mb']:11.0f}" if peaks["peak_gpu_mb"] is not None else \
                f"{'-':>11}"
            print(f"{stage:10} {len(runs):5d} {statistics.median(s for s, _ in runs):9.2f} "
                  f"{sum(s for s, _ in runs):8.2f} {max(r for _, r in runs):10.0f} "
                  f"{peaks['peak_rss_mb'] or 0:11.0f} {gpu}")
    print()
    print("unavoidable work, measured in this run:")
    print(f"  TTS + alignment jobs    {speech:8.2f} s")
    print(f"  one x264 encode/final   {encode:8.2f} s  (median of {args.repeats} per story)")
    print(f"  total                   {unavoidable:8.2f} s")
    if unavoidable > 0:
        print(f"whole run / unavoidable   {wall_total / unavoidable:8.2f}")
    quality_report(workdir)


def quality_report(workdir: Path) -> None:
    """Per story: the figures the issue's floors name, measured on the finished artifacts."""
    import numpy as np

    from storyreel.core.artifacts import read_json
    from storyreel.media.quality import cue_start_errors, cut_offsets
    from storyreel.media.subtitles import parse_subtitles

    print()
    print(f"{'story':14} {'LUFS':>6} {'dBTP':>6} {'A/V s':>6} {'WER':>5} {'cue ms med/p95':>15} "
          f"{'align ms med/p95':>16} {'cut off s':>9} {'black':>5} {'copy':>5}")
    for story in sorted((workdir / "results").iterdir()):
        manifest = read_json(story / "manifest.json", "manifest")
        q = manifest["quality"]
        words = read_json(story / "words.json", "words")
        errors = np.array(cue_start_errors(parse_subtitles(story / "final.srt"),
                                           words["words"])) * 1000
        # alignment against ground truth: each sentence's first aligned word vs the sentence's
        # speech onset, which the voice stage knows exactly (it joins the sentences itself)
        voice = read_json(story / "voice.json", "voice")
        onsets = {x["id"]: x["start"] for x in voice["sentences"]}
        firsts: dict[str, float] = {}
        for word in words["words"]:
            firsts.setdefault(word["sentence"], word["start"])
        align = np.array([abs(firsts[k] - onsets[k]) for k in firsts]) * 1000
        shots = read_json(story / "shotlist.json", "shotlist")["shots"]
        offsets = cut_offsets(shots, words["words"])
        print(f"{story.name:14} {q['integrated_lufs']:6.1f} {q['true_peak_db']:6.1f} "
              f"{q['av_diff_s']:6.3f} {words['wer']['value']:5.2f} "
              f"{np.median(errors):7.0f}/{np.percentile(errors, 95):<7.0f} "
              f"{np.median(align):8.0f}/{np.percentile(align, 95):<7.0f} "
              f"{max(offsets, default=0.0):9.2f} {len(q['black_segments']):5d} "
              f"{str(q.get('picture_stream_copied', '-')):>5}")


if __name__ == "__main__":
    main()
