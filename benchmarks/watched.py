"""Run a command while sampling its process: wall time, peak RSS and CPU time (benchmarks)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import psutil


@dataclass
class Watched:
    wall_s: float
    peak_rss_mb: float
    cpu_s: float
    output: str


def run_watched(command: list[str], interval_s: float = 0.02) -> Watched:
    """Run ``command`` (stdout and stderr together); exit with its output's tail if it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, cpu = [0.0], [0.0]

    def watch() -> None:
        try:
            main = psutil.Process(proc.pid)
            while proc.poll() is None:
                peak[0] = max(peak[0], main.memory_info().rss / 2**20)
                times = main.cpu_times()
                cpu[0] = times.user + times.system
                time.sleep(interval_s)
        except psutil.Error:
            pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - started
    watcher.join()
    if proc.returncode:
        sys.exit(f"{' '.join(command[1:])} failed:\n{output[-4000:]}")
    return Watched(wall, peak[0], cpu[0], output)
