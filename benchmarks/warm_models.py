"""Benchmark the diffusers backends: warm model workers against loading the model in every shot;
batched pipeline calls against one shot per call, per family; SLURM groups against one job per
shot.

    python benchmarks/warm_models.py [--cores 2] [--keep DIR]   # warm against per-shot loads
    python benchmarks/warm_models.py --families [--batch 4]      # per family: 1 shot vs batched
    python benchmarks/warm_models.py --slurm                     # local SLURM: grouped vs not

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

``--families``: for each tiny family (8, storyreel.models.tiny), a fresh process loads the
backend and renders the 12 shots at 32 pixels (clips: 5 frames), once one shot per pipeline
call and once with each job's pending peers (``batch``): seconds per shot after the load, and
the process's peak RSS.

``--slurm`` (a running SLURM: ``make bench-slurm`` starts the local one): the same story through
profiles/slurm from its finished vision stage, once grouped (the profile's default, 12 shots per
group job) and once one job per shot (``--group-components shots-keyframes=1
shots-video=1``): wall time, submissions and model loads per stage.
"""

from __future__ import annotations

import argparse
import json
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
CACHE = REPO / ".cache" / "tiny-pipelines"
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


def snakemake(workdir: Path, *args: str, profile: str = "test") -> tuple[float, str]:
    command = [str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
               "--workflow-profile", str(REPO / "profiles" / profile), *args]
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
        self.trace: list[tuple[float, bool]] = []  # (time, busy) per sample
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
            busy = self.nvml.nvmlDeviceGetUtilizationRates(handle).gpu > 0
            self.busy += busy
            self.trace.append((time.time(), busy))
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


def plans(n: int) -> list[dict]:
    """``n`` shot plans of one 16:9 story (what keyframe and clip backends render from)."""
    cameras = ["push_in", "pan_left", "hold", "tilt_up"]
    return [{"id": f"sh{i:03d}", "story": STORY["id"], "seed": 100 + i, "aspect": "16:9",
             "camera": cameras[i % 4], "transition": "cut", "start": (i - 1) * 1.0,
             "end": i * 1.0, "prompt": f"storybook; Mara, a girl in a red coat; shot {i}",
             "negative_prompt": "blurry", "cast": [{"descriptors": "Mara, a girl in a red coat"}]}
            for i in range(1, n + 1)]


def one_family(name: str, batch: int, shots: int = 12) -> dict:
    """One family in this process: load, then ``shots`` shots, each job naming its pending
    peers (with ``batch`` 1 they are ignored)."""
    from PIL import Image

    from storyreel.backends.keyframes.diffusers import DiffusersKeyframes
    from storyreel.backends.video.diffusers import DiffusersVideo
    from storyreel.core.config import load_config, options_for
    from storyreel.models.peaks import peak_rss_mb
    from storyreel.models.tiny import TEXT_TO_IMAGE, build_tiny_pipeline

    work = Path(tempfile.mkdtemp(prefix="storyreel-bench-family-"))
    settings = {"backend": "diffusers", "model": str(build_tiny_pipeline(name, CACHE)),
                "steps": 2, "resolution": 32, "batch": batch}
    todo = plans(shots)
    started = time.perf_counter()
    if name in TEXT_TO_IMAGE:
        backend = DiffusersKeyframes(options_for("keyframes", **settings))
        loaded = time.perf_counter()
        for i, plan in enumerate(todo):
            backend.save_shot(plan, work / f"{plan['id']}.png",
                              peers=[{"plan": p} for p in todo[i + 1:]])
    else:
        backend = DiffusersVideo(options_for("video", num_frames=5, **settings))
        loaded = time.perf_counter()
        Image.new("RGB", (96, 64), "red").save(work / "key.png")
        output = load_config({})["output"]
        for i, plan in enumerate(todo):
            backend.render_shot(work / "key.png", plan, work / f"{plan['id']}.mp4", output, 0.0,
                                peers=[{"plan": p, "png": str(work / "key.png")}
                                       for p in todo[i + 1:]])
    done = time.perf_counter()
    shutil.rmtree(work, ignore_errors=True)
    return {"load_s": loaded - started, "s_per_shot": (done - loaded) / shots,
            "calls": backend.batcher.calls, "peak_rss_mb": peak_rss_mb()}


def families(batch: int) -> None:
    from storyreel.models.tiny import PIPELINES

    print(f"12 shots per family, tiny random pipelines at 32 px, CPU; batched: up to {batch} "
          "shots per call (each job names its pending peers)")
    print(f"{'family':10} {'s/shot 1/call':>13} {'s/shot batched':>14} {'calls':>6} "
          f"{'peak RSS MB 1/call':>18} {'batched':>8}")
    for name in PIPELINES:
        runs = []
        for size in (1, batch):
            out = subprocess.run([sys.executable, __file__, "--one", name, "--batch", str(size)],
                                 capture_output=True, text=True, check=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{name:10} {runs[0]['s_per_shot']:13.2f} {runs[1]['s_per_shot']:14.2f} "
              f"{runs[0]['calls']:>2}/{runs[1]['calls']:<3} {runs[0]['peak_rss_mb']:18.0f} "
              f"{runs[1]['peak_rss_mb']:8.0f}")


def slurm(base: Path, root: Path) -> None:
    """Grouped (profiles/slurm) against one job per shot, from the finished vision stage."""
    from storyreel.models import diffusion

    rows = {}
    for mode, extra in (("grouped", []), ("per shot", [
            "--group-components", "shots-keyframes=1", "shots-video=1"])):
        work = root / f"slurm-{mode.replace(' ', '-')}"
        shutil.copytree(base, work, symlinks=True)
        wall, out = snakemake(work, "--slurm-status-command", "squeue",
                              "--slurm-init-seconds-before-status-checks", "1", *extra,
                              profile="slurm")
        rows[mode] = (wall, out.count("submitted with SLURM jobid"),
                      {s: diffusion.count_loads(work, s) for s in ("keyframes", "video")})
    print(f"\nlocal SLURM, {STORY['id']} from its vision stage (keyframes and clips):")
    print(f"{'mode':9} {'wall s':>7} {'submissions':>11} {'loads kf/vid':>12}")
    for mode, (wall, jobs, loads) in rows.items():
        print(f"{mode:9} {wall:7.1f} {jobs:>11} {loads['keyframes']:>6}/{loads['video']:<5}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", default="2")
    parser.add_argument("--keep", help="keep the working directories here")
    parser.add_argument("--families", action="store_true", help="per family: batched or not")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # one family, in a fresh process
    parser.add_argument("--slurm", action="store_true", help="grouped or not on SLURM")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_family(args.one, args.batch)))
        return
    if args.families:
        families(args.batch)
        return

    from storyreel.core.artifacts import read_json
    from storyreel.models import diffusion, worker
    from storyreel.models.tiny import build_tiny_sd, build_tiny_svd

    models = {"sd": build_tiny_sd(CACHE), "svd": build_tiny_svd(CACHE)}
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
    if args.slurm:
        slurm(base, root)
        return
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
