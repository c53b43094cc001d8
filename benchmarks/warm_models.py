"""Benchmark the diffusers backends: warm model workers against loading the model in every shot.

    python benchmarks/warm_models.py [--cores 2] [--keep DIR]

Needs the extra (pip install '.[diffusers]'); downloads nothing. One 12-shot story is made with
tiny random pipelines (storyreel.models.tiny: an SD 1.5-style text-to-image and a Stable Video
Diffusion image-to-video pipeline, built offline) on whatever device ``auto`` finds, in the same
invocation, twice from the same finished vision stage:

1. ``warm: true`` (the default): one worker per stage loads the model once and serves every shot;
2. ``warm: false``: every keyframe and clip job loads the model itself.

Printed per mode: wall time of the shot stages and post (keyframes, clips, final video), model
loads per stage (logs/models/loads.jsonl), the sum of the keyframe and clip job times, and the
highest peak RSS of a shot job (its process tree plus the model worker's during its request, from
storyreel.models.peaks) and of Snakemake's benchmark files. With an NVIDIA GPU: peak GPU memory, and
the share of the diffusion phase in which the GPU was busy (NVML utilisation sampled every 0.1 s).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

# Twelve sentences in three scenes: twelve shots (the shot list cuts on sentence boundaries).
STORY = {
    "id": "twelve", "title": "The Lamp", "duration_s": 40, "seed": 11,
    "idea": ("Mara climbed the tower. She found the old lamp. The wick was dry. "
             "She poured fresh oil.\n\n"
             "The storm rolled in. Waves broke on the rocks. A small boat lost its way. "
             "The sailors could not see.\n\n"
             "Mara lit the lamp. The light swept the sea. The boat turned toward it. "
             "They came safely home."),
}


def snakemake(workdir: Path, *args: str) -> tuple[float, str]:
    command = [str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
               "--workflow-profile", str(REPO / "profiles" / "test"), *args]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return time.perf_counter() - started, proc.stdout + proc.stderr


class GpuBusy:
    """Share of samples in which the GPU was busy, and peak GPU memory used (NVML)."""

    def __init__(self) -> None:
        from storyreel.models.peaks import _nvml

        self.nvml = _nvml()
        self.busy = self.samples = 0
        self.peak_mb = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> GpuBusy:
        if self.nvml:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        handle = self.nvml.nvmlDeviceGetHandleByIndex(0)
        while not self._stop.wait(0.1):
            self.samples += 1
            self.busy += self.nvml.nvmlDeviceGetUtilizationRates(handle).gpu > 0
            self.peak_mb = max(self.peak_mb, self.nvml.nvmlDeviceGetMemoryInfo(handle).used / 2**20)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.nvml:
            self._thread.join()


def job_times(workdir: Path, stage: str) -> list[float]:
    import csv

    times = []
    for tsv in sorted((workdir / "benchmarks" / stage).rglob("*.tsv")):
        with tsv.open() as fh:
            times.append(float(next(csv.DictReader(fh, delimiter="\t"))["s"]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", default="2")
    parser.add_argument("--keep", help="keep the working directories here")
    args = parser.parse_args()

    from storyreel.core.artifacts import read_json
    from storyreel.models import diffusion, worker
    from storyreel.models.tiny import build_tiny_sd, build_tiny_svd

    cache = REPO / ".cache" / "tiny-pipelines"
    models = {"sd": build_tiny_sd(cache), "svd": build_tiny_svd(cache)}
    root = Path(args.keep or tempfile.mkdtemp(prefix="storyreel-bench-diffusers-"))
    base = root / "base"
    (base / "config").mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["stages"].update(
        keyframes={"backend": "diffusers", "model": str(models["sd"]), "steps": 2,
                   "resolution": 32, "idle_s": 600},
        video={"backend": "diffusers", "model": str(models["svd"]), "steps": 1,
               "resolution": 32, "num_frames": 4, "guidance_scale": 1.0, "idle_s": 600})
    (base / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    (base / "config" / "stories.yaml").write_text(yaml.safe_dump({"stories": [STORY]}))
    cores = ["--cores", args.cores, "--resources", "gpu=1"]
    snakemake(base, *cores, "--until", "vision")
    shots = len(read_json(base / "results" / "twelve" / "shotlist.json", "shotlist")["shots"])

    rows = {}
    for mode, warm in (("warm", True), ("per-shot", False)):
        work = root / mode
        shutil.copytree(base, work, symlinks=True)
        cfg = yaml.safe_load((work / "config" / "config.yaml").read_text())
        for stage in ("keyframes", "video"):
            cfg["stages"][stage]["warm"] = warm
        (work / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
        try:
            with GpuBusy() as gpu:
                wall, _ = snakemake(work, *cores)
        finally:
            worker.stop_all(work)
        manifest = read_json(work / "results" / "twelve" / "manifest.json", "manifest")
        timings = manifest["timings"]
        rows[mode] = {
            "wall": wall,
            "loads": {s: diffusion.count_loads(work, s) for s in ("keyframes", "video")},
            "jobs_s": sum(job_times(work, "keyframes")) + sum(job_times(work, "video")),
            "peak_rss": max(timings[s]["peak_rss_mb"] or 0 for s in ("keyframes", "video")),
            "bench_rss": max(timings[s]["max_rss_mb"] for s in ("keyframes", "video")),
            "gpu_mb": max((timings[s]["peak_gpu_mb"] or 0) for s in ("keyframes", "video")),
            "gpu_busy": gpu.busy / gpu.samples if gpu.samples else None,
        }

    print(f"storyreel diffusers benchmark — one story, {shots} shots, tiny random pipelines, "
          f"--cores {args.cores} --resources gpu=1")
    print(f"working directories: {root}")
    print()
    print(f"{'mode':9} {'wall s':>7} {'loads kf/vid':>12} {'shot jobs s':>11} "
          f"{'peak RSS MB':>11} {'bench RSS MB':>12} {'GPU MB':>7} {'GPU busy':>8}")
    for mode, r in rows.items():
        busy = f"{r['gpu_busy']:.0%}" if r["gpu_busy"] is not None else "-"
        gpu_mb = f"{r['gpu_mb']:.0f}" if r["gpu_mb"] else "-"
        print(f"{mode:9} {r['wall']:7.1f} {r['loads']['keyframes']:>6}/{r['loads']['video']:<5} "
              f"{r['jobs_s']:11.1f} {r['peak_rss']:11.0f} {r['bench_rss']:12.0f} {gpu_mb:>7} "
              f"{busy:>8}")
    print(f"\nwarm / per-shot wall time: {rows['warm']['wall'] / rows['per-shot']['wall']:.2f}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
