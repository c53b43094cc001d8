"""How crowded the CPUs are by other work: the ETA's correction for a shared machine.

A CPU-bound job's wall time grows with the runnable threads it shares the CPUs with. Every
second the logger plugin samples the machine's runnable threads (``/proc/loadavg``, Linux) less
the run's own, and :class:`Pressure` turns that into a factor: 1 while the run's jobs have the
CPUs they asked for, 1.5 when a busy loop takes one of two cores, 6 when ten other threads
compete. Each finished job's time is divided by the pressure it ran under, and what is left is
expected at the pressure of the last :data:`WINDOW_S` seconds, so the ETA follows other work
as it comes and goes instead of carrying a busy minute into the rest of the run.
"""

from __future__ import annotations

import bisect
import os
from pathlib import Path

LOADAVG = Path("/proc/loadavg")
WINDOW_S = 20.0  # the pressure now: the mean of the samples of this many seconds
KEEP = 20_000  # samples kept (about five hours at one a second)


def runnable_threads() -> int | None:
    """Runnable threads on the machine now (the 4th field of /proc/loadavg), None elsewhere."""
    try:
        return int(LOADAVG.read_text(encoding="ascii").split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


class Pressure:
    """Samples of other work on the machine, as a factor on the run's job times."""

    def __init__(self, cores: int, cpus: int | None = None) -> None:
        self.cores = max(1, cores)
        self.cpus = max(1, cpus or os.cpu_count() or 1)
        self.times: list[float] = []
        self.values: list[float] = []

    def factor(self, others: float) -> float:
        """The pressure with ``others`` runnable threads beside the run's ``cores``."""
        return max(1.0, (others + min(self.cores, self.cpus)) / self.cpus)

    def sample(self, now: float, ours: int, runnable: int | None = None) -> None:
        """One sample: ``runnable`` threads on the machine (read now when None), ``ours`` of
        them the run's jobs (the sampling thread itself is one more)."""
        runnable = runnable_threads() if runnable is None else runnable
        if runnable is None:
            return
        self.times.append(now)
        self.values.append(self.factor(max(0, runnable - 1 - ours)))
        if len(self.times) > KEEP:
            del self.times[: KEEP // 10], self.values[: KEEP // 10]

    def over(self, start: float, end: float) -> float:
        """The mean pressure from ``start`` to ``end`` (1 without samples)."""
        lo = bisect.bisect_left(self.times, start)
        hi = bisect.bisect_right(self.times, end)
        if hi > lo:
            return sum(self.values[lo:hi]) / (hi - lo)
        return self.values[lo - 1] if lo > 0 else 1.0

    def now(self, now: float) -> float:
        return self.over(now - WINDOW_S, now)
