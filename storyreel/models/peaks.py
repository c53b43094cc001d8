"""Peak memory of a job while it runs: RSS of its process tree and, when an NVIDIA GPU is
present (``nvidia-ml-py``), the GPU memory its processes hold; and the model loads of a process
(:class:`LoadStats`), which the model backends report with their peak memory.

``runner.run`` wraps every stage in a :class:`Monitor`; the peaks go into the job's log, a small
JSON beside the log (``logs/.../{job}.peak.json``) that post gathers into the manifest's
timings, and the benchmark output. A job whose model lives in a warm worker
(``storyreel.models.worker``) adds the worker's peaks during its request with
:meth:`Monitor.observe`, so the model's memory is counted where it is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INTERVAL_S = 0.05
# reports another process's peaks (RSS MB, GPU MB) to a job's Monitor: a model worker's
Observer = Callable[[float | None, float | None], None]

def _nvml() -> Any:
    """The pynvml module, initialised, or None (no package, no driver, no GPU)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() == 0:
            return None
        return pynvml
    except Exception:
        return None


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def gpu_text(peak: float | None) -> str:
    return "" if peak is None else f", peak GPU memory {peak:.0f} MB"


class Monitor:
    """Sample peak RSS (MB) and GPU memory (MB, None without a GPU) in a background thread."""

    def __init__(self, interval_s: float = INTERVAL_S, pid: int | None = None) -> None:
        self.interval_s = interval_s
        self.pid = pid or os.getpid()
        self.peak_rss_mb = 0.0
        self.peak_gpu_mb: float | None = None
        self.worker_rss_mb: float | None = None
        self.worker_gpu_mb: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._nvml = None

    def __enter__(self) -> Monitor:
        import psutil

        self._process = psutil.Process(self.pid)
        self._nvml = _nvml()
        if self._nvml is not None:
            self.peak_gpu_mb = 0.0
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="storyreel-monitor", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self) -> None:
        import psutil

        try:
            procs = [self._process, *self._process.children(recursive=True)]
        except psutil.Error:
            return
        with contextlib.suppress(OSError):  # leave out detached children (a model worker)
            session = os.getsid(self.pid)
            procs = [p for p in procs if _sid(p.pid) == session]
        rss, pids = 0, set()
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                rss += proc.memory_info().rss
                pids.add(proc.pid)
        self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
        if self._nvml is not None:
            used = self._gpu_used(pids)
            if used is not None:
                self.peak_gpu_mb = max(self.peak_gpu_mb or 0.0, used)

    def _gpu_used(self, pids: set[int]) -> float | None:
        nvml = self._nvml
        total = 0
        try:
            for index in range(nvml.nvmlDeviceGetCount()):
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                for proc in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    if proc.pid in pids and proc.usedGpuMemory:
                        total += proc.usedGpuMemory
        except Exception:
            return None
        return total / 2**20

    def observe(self, rss_mb: float | None, gpu_mb: float | None) -> None:
        """Add the peaks of a process outside the tree (the model worker) during a request."""
        if rss_mb is not None:
            self.worker_rss_mb = max(self.worker_rss_mb or 0.0, float(rss_mb))
        if gpu_mb is not None:
            self.worker_gpu_mb = max(self.worker_gpu_mb or 0.0, float(gpu_mb))

    def record(self) -> dict[str, float | None]:
        """The peaks: the job's own, the worker's, and their sum (what the job cost)."""
        rss = self.peak_rss_mb + (self.worker_rss_mb or 0.0)
        gpu = None
        if self.peak_gpu_mb is not None or self.worker_gpu_mb is not None:
            gpu = (self.peak_gpu_mb or 0.0) + (self.worker_gpu_mb or 0.0)
        return {"peak_rss_mb": round(rss, 1), "peak_gpu_mb": None if gpu is None else round(gpu, 1),
                "job_rss_mb": round(self.peak_rss_mb, 1),
                "worker_rss_mb": None if self.worker_rss_mb is None else round(
                    self.worker_rss_mb, 1)}

    def text(self) -> str:
        r = self.record()
        worker = f" (model worker {r['worker_rss_mb']:.0f} MB)" if r["worker_rss_mb"] else ""
        return f"peak RSS {r['peak_rss_mb']:.0f} MB{worker}{gpu_text(r['peak_gpu_mb'])}"


def peak_path(log_path: str | Path) -> Path:
    """Where a job's peaks are written: beside its log, ``.log`` replaced by ``.peak.json``."""
    path = Path(log_path)
    return path.with_name(path.name.removesuffix(".log") + ".peak.json")


def write_peaks(log_path: str | Path, record: dict[str, Any]) -> None:
    path = peak_path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, path)


def read_peaks(log_paths: list[str]) -> dict[str, float | None]:
    """The highest peaks over some jobs' peak files (missing files are skipped)."""
    rss, gpu = [], []
    for log_path in log_paths:
        path = peak_path(log_path)
        if path.exists():
            with contextlib.suppress(ValueError, OSError):
                record = json.loads(path.read_text(encoding="utf-8"))
                rss.append(float(record["peak_rss_mb"]))
                if record.get("peak_gpu_mb") is not None:
                    gpu.append(float(record["peak_gpu_mb"]))
    return {"peak_rss_mb": max(rss) if rss else None, "peak_gpu_mb": max(gpu) if gpu else None}


# -- model loads in this process (the model backends' usage figures) -------------------------

def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's ``VmHWM`` is the high-water mark of this program's own memory; ``ru_maxrss`` is used
    elsewhere, though on Linux it also keeps the peak of the process that exec'd it (Snakemake,
    for a job).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class LoadStats:
    """How often a backend loaded its model in this process, and how long that took."""

    loads: int = 0
    load_s: float = 0.0

    def add(self, seconds: float) -> None:
        self.loads += 1
        self.load_s += seconds

    def record(self) -> dict[str, float | int]:
        return {"loads": self.loads, "load_s": round(self.load_s, 3),
                "peak_rss_mb": peak_rss_mb()}
