"""GPU check: the diffusers backends on an NVIDIA GPU, in one script (`make gpu-check`).

    python benchmarks/gpu.py [--device cuda] [--dtype float16] [--keep DIR]

Where no NVIDIA GPU is present it says so and exits 0. Otherwise, in under 8 minutes on one GPU:

1. every tiny family the docs name (SD 1.5, SDXL, SD3, FLUX, SVD, LTX-Video, CogVideoX, Wan),
   loaded through the backends on the GPU in half precision, renders two shots in one pipeline
   call: seconds, peak GPU memory (torch's allocator) and whether the output is finite;
2. a warm-worker film (a 12-shot story, keyframes on the tiny SD 1.5, clips on the tiny SVD,
   both on the GPU in half precision) through Snakemake with ``--resources gpu=1``: peak GPU
   memory per stage (NVML, from the manifest's timings), model loads per stage, and the share
   of the diffusion phase (first model load to last clip) in which the GPU was busy (NVML
   utilisation sampled every 0.1 s).

It installs what it needs (the diffusers extra) when something is missing. ``--device cpu``
runs the same steps on the CPU (to check the script itself on a machine without a GPU).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def nvidia_gpu() -> str | None:
    """The first NVIDIA GPU's name, from NVML or nvidia-smi; None when there is none."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return str(pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(0)))
    except Exception:  # noqa: BLE001 - no library, no driver or no device: look further
        pass
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.splitlines()[0].strip()
    return None


def ensure_extra() -> None:
    """Install the diffusers extra into this Python when it is missing."""
    if all(importlib.util.find_spec(m) for m in ("diffusers", "torch", "pynvml", "ftfy")):
        return
    print("installing the diffusers extra ...", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e",
                    f"{REPO}[diffusers]"], check=True)


def family_rows(device: str, dtype: str, cache: Path, work: Path) -> list[dict]:
    """Each tiny family: two shots in one call on ``device`` at ``dtype``."""
    import torch
    from PIL import Image
    from warm_models import plans

    from storyreel.backends.keyframes.diffusers import DiffusersKeyframes
    from storyreel.backends.video.diffusers import DiffusersVideo
    from storyreel.core.config import load_config, options_for
    from storyreel.models import worker
    from storyreel.models.tiny import TEXT_TO_IMAGE, build_tiny_pipeline

    rows = []
    output = load_config({})["output"]
    Image.new("RGB", (96, 64), "red").save(work / "key.png")
    shots = plans(2)
    for name in ("sd15", "sdxl", "sd3", "flux", "svd", "ltx", "cogvideox", "wan"):
        model = str(build_tiny_pipeline(name, cache))
        settings = {"backend": "diffusers", "model": model, "device": device, "dtype": dtype,
                    "steps": 2, "resolution": 64, "batch": 2}
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        try:
            if name in TEXT_TO_IMAGE:
                backend = DiffusersKeyframes(options_for("keyframes", **settings))
                backend.save_shot(shots[0], work / f"{name}.png",
                                  peers=[{"plan": shots[1]}])
                ok = backend.batcher.calls == 1
            else:
                backend = DiffusersVideo(options_for("video", num_frames=9, **settings))
                backend.render_shot(work / "key.png", shots[0], work / f"{name}.mp4", output,
                                    0.0, peers=[{"png": str(work / "key.png"),
                                                 "plan": shots[1]}])
                ok = backend.batcher.calls == 1
            error = "" if ok else "not batched"
        except Exception as exc:  # noqa: BLE001 - reported in the table, the check goes on
            error = f"{type(exc).__name__}: {exc}"[:60]
        peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
        rows.append({"family": name, "s": time.perf_counter() - started, "gpu_mb": peak,
                     "error": error})
        worker.stop_all(work)
    return rows


def film(device: str, dtype: str, cache: Path, root: Path) -> dict:
    """The warm-worker film with --resources gpu=1; GPU busy share of the diffusion phase."""
    import yaml
    from warm_models import STORY, GpuBusy, snakemake

    from storyreel.core.artifacts import read_json
    from storyreel.models import diffusion, worker
    from storyreel.models.tiny import build_tiny_pipeline

    work = root / "film"
    (work / "config").mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    common = {"backend": "diffusers", "device": device, "dtype": dtype, "resolution": 64,
              "idle_s": 600}
    config["stages"].update(
        keyframes={**common, "model": str(build_tiny_pipeline("sd15", cache)), "steps": 4},
        video={**common, "model": str(build_tiny_pipeline("svd", cache)), "steps": 4,
               "num_frames": 8, "guidance_scale": 1.0})
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    (work / "config" / "stories.yaml").write_text(yaml.safe_dump({"stories": [STORY]}))
    try:
        with GpuBusy() as gpu:
            wall, _ = snakemake(work, "--cores", "4", "--resources", "gpu=1")
    finally:
        worker.stop_all(work)
    manifest = read_json(work / "results" / STORY["id"] / "manifest.json", "manifest")
    loads = diffusion.loads(work)
    start = min(r["time"] - r["seconds"] for r in loads)
    end = max(p.stat().st_mtime for p in (work / "results" / STORY["id"] / "video").glob("*"))
    window = [busy for t, busy in gpu.trace if start <= t <= end]
    return {"wall": wall, "loads": {s: diffusion.count_loads(work, s) for s in
                                    ("keyframes", "video")},
            "peak_gpu_mb": {s: manifest["timings"][s]["peak_gpu_mb"] for s in
                            ("keyframes", "video")},
            "busy": sum(window) / len(window) if window else None, "phase_s": end - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="float16")
    parser.add_argument("--keep", help="keep the working directories here")
    args = parser.parse_args()
    if args.device.startswith("cuda"):
        name = nvidia_gpu()
        if not name:
            print("gpu-check: no NVIDIA GPU on this machine (no NVML device, no nvidia-smi): "
                  "nothing to check.")
            return 0
        print(f"gpu-check: {name}")
    ensure_extra()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"gpu-check: torch {torch.__version__} sees no CUDA device; install torch's "
              "CUDA wheel for this driver (https://pytorch.org/get-started/locally/).")
        return 1
    started = time.perf_counter()
    root = Path(args.keep or tempfile.mkdtemp(prefix="storyreel-gpu-check-"))
    root.mkdir(parents=True, exist_ok=True)
    cache = REPO / ".cache" / "tiny-pipelines"
    rows = family_rows(args.device, args.dtype, cache, root)
    print(f"\n{'family':10} {'2 shots, 1 call s':>17} {'peak GPU MB':>11}  result")
    for r in rows:
        peak = f"{r['gpu_mb']:.0f}" if r["gpu_mb"] is not None else "-"
        print(f"{r['family']:10} {r['s']:17.2f} {peak:>11}  {r['error'] or 'ok'}")
    result = film(args.device, args.dtype, cache, root)
    busy = f"{result['busy']:.0%}" if result["busy"] is not None else "- (no NVML)"
    print(f"\nwarm-worker film, 12 shots, --resources gpu=1: {result['wall']:.1f} s, loads "
          f"keyframes {result['loads']['keyframes']} / video {result['loads']['video']}")
    for stage, mb in result["peak_gpu_mb"].items():
        print(f"  peak GPU memory {stage}: {f'{mb:.0f} MB' if mb else '-'}")
    print(f"  GPU busy during the diffusion phase ({result['phase_s']:.1f} s): {busy}")
    print(f"\ngpu-check done in {time.perf_counter() - started:.0f} s")
    print(json.dumps({"families": rows, "film": result}, default=str), file=sys.stderr)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
