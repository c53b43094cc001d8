"""What the logger plugin samples of the running jobs: the RSS of each job's process tree (from
/proc on Linux, psutil elsewhere), GPU memory, and the peak RSS that a job's benchmark file
recorded; and the files where the plugin leaves its state for the web monitor."""

import json
import os
import re
import shutil
import subprocess
import time
from typing import Any

import psutil

from storyreel.core import pipeline

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
NVIDIA_SMI = shutil.which("nvidia-smi")
STATE_DIR = pipeline.RUN_STATE
SCRIPT_RE = re.compile(r"tmp[^/ ]*\.(\w+)\.py\b")  # a script job's command line


def _proc_children(pid: int) -> list[int] | None:
    """Child pids from /proc/PID/task/*/children (Linux): no scan of every process."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    kids: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                kids += [int(x) for x in fh.read().split()]
        except OSError:
            continue
    return kids


def _proc_rss(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _tree_rss(pid: int, depth: int = 0) -> float:
    rss = _proc_rss(pid)
    if depth < 6:
        for kid in _proc_children(pid) or []:
            rss += _tree_rss(kid, depth + 1)
    return rss


def job_processes() -> list[tuple[float, float, str]]:
    """(start time, RSS MB of its process tree, command line) of each child of Snakemake."""
    me = os.getpid()
    kids = _proc_children(me)
    found = []
    if kids is not None:
        for kid in kids:
            try:
                with open(f"/proc/{kid}/cmdline", "rb") as fh:
                    cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
                with open(f"/proc/{kid}/stat", encoding="ascii", errors="replace") as fh:
                    started = float(fh.read().rsplit(")", 1)[1].split()[19])
            except (OSError, ValueError, IndexError):
                continue
            found.append((started, _tree_rss(kid), cmdline))
        return found
    try:  # not Linux: psutil (scans every process, so slower)
        for child in psutil.Process(me).children():
            tree = [child, *child.children(recursive=True)]
            rss = sum(p.memory_info().rss for p in tree) / 2**20
            found.append((child.create_time(), rss, " ".join(child.cmdline())))
    except psutil.Error:
        pass
    return found


def benchmark_rss(path: Any) -> float:
    if not path:
        return 0.0
    try:
        with open(str(path).split(" ")[0], encoding="utf-8") as fh:
            header, row = fh.readline().split("\t"), fh.readline().split("\t")
        return float(dict(zip(header, row, strict=False)).get("max_rss", 0) or 0)
    except (OSError, ValueError):
        return 0.0


def gpu_used_mb() -> float | None:
    """GPU memory in use on every device (MB), from nvidia-smi; None when it cannot tell."""
    if not NVIDIA_SMI:
        return None
    try:
        out = subprocess.run(
            [NVIDIA_SMI, "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=5, check=True).stdout
        return sum(float(x) for x in out.split())
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


class Sampling:
    """For LogHandler: live memory of the running jobs, and the state files it leaves."""

    def _sample(self) -> None:
        """Live memory: the RSS of each running job's process tree, and GPU memory."""
        if self.model is None:
            return
        by_rule: dict[str, list[tuple[float, float]]] = {}
        total = 0.0
        for started, rss, cmdline in job_processes():
            total += rss
            match = SCRIPT_RE.search(cmdline)
            if match:
                by_rule.setdefault(match.group(1), []).append((started, rss))
        with self.lock:
            self.rss_mb = total
            self.peak_rss_mb = max(self.peak_rss_mb, total)
            for rule, procs in by_rule.items():
                running = sorted((j for j in self.model.jobs.values()
                                  if j.state == "running" and j.key.rule == rule),
                                 key=lambda j: j.started or 0)
                for job, (_, rss) in zip(running, sorted(procs), strict=False):
                    job.peak_rss_mb = max(job.peak_rss_mb, rss)
                    job.rss_mb = rss
        now = time.monotonic()
        if now - self.last_gpu > 5 and NVIDIA_SMI:
            self.last_gpu = now
            self.gpu_mb = gpu_used_mb()
            if self.gpu_mb is not None:
                self.peak_gpu_mb = max(self.peak_gpu_mb or 0.0, self.gpu_mb)

    def _save_state(self, snapshot: dict[str, Any], running: bool) -> None:
        if self.workdir is None:
            return
        state = dict(snapshot)
        state.update({"running": running, "updated": time.time(), "workdir": str(self.workdir),
                      "rss_mb": round(self.rss_mb, 1), "peak_rss_mb": round(self.peak_rss_mb, 1),
                      "gpu_mb": self.gpu_mb, "peak_gpu_mb": self.peak_gpu_mb,
                      "failures": list(self.failures.values()), "pid": os.getpid(),
                      "plugin_cpu_s": round(self.cpu_s, 4)})
        path = self.workdir / STATE_DIR / "progress.json"
        tmp = path.with_name(f".progress.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(state), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass

    def _trace(self, snapshot: dict[str, Any]) -> None:
        if self.workdir is None:
            return
        line = json.dumps({"t": time.time(), "elapsed_s": snapshot["elapsed_s"],
                           "fraction": snapshot["fraction"], "eta_s": snapshot["eta_s"],
                           "eta_low_s": snapshot.get("eta_low_s"),
                           "eta_high_s": snapshot.get("eta_high_s")})
        try:
            with (self.workdir / STATE_DIR / "trace.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError:
            pass
