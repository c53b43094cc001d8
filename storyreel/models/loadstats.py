"""Model loads and peak memory of the current job (process), for the model backends.

A model backend loads its model once per process and reuses it for every call; it counts the
loads and their time in a :class:`LoadStats` and reports them with the process's peak memory
(:func:`peak_rss_mb`), which the stage writes into its artifact and post into the manifest.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from pathlib import Path


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
