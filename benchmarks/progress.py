"""Benchmark the storyreel logger plugin: what it costs, and how good its ETA is (not a test).

    python benchmarks/progress.py [--stories config/stories.yaml] [--cores 2] [--repeats 2]

1. **Overhead, side by side in one run of this script**: ``--until shotlist`` on the example
   stories at ``--cores 1`` in fresh working directories, alternating Snakemake's default logger
   and ``--logger storyreel`` (``--repeats`` times each). Per run: orchestration overhead per job
   = (wall - sum of the jobs' benchmark seconds) / jobs, and the CPU time of the Snakemake
   process itself (jobs excluded) per job. The plugin's cost is the difference, as a share of
   the default logger's figure.
2. **ETA error**, on a quiet machine and with a busy loop taking one core (``--settings``):
   the whole workflow on the example stories in a fresh working directory (the first run: no
   history, the stage table's first guesses), then ``results/`` removed and run again (the
   second run: the first's benchmark files and ``.snakemake/storyreel/costs.json``). From the
   plugin's trace, at the first moment the shown progress reaches 25 %, 50 % and 75 %, and at
   25 %, 50 % and 75 % of the run's wall time: the ETA shown then against the time the run
   then actually took to finish; error = (ETA - actual) / actual.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from watched import run_watched

from storyreel.ops import joblog

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def snakemake(workdir: Path, stories: str, *args: str) -> tuple[float, float, str]:
    """Run Snakemake; return (wall s, CPU s of the Snakemake process itself, output)."""
    command = [str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
               "--workflow-profile", str(REPO / "profiles" / "test"), "--config",
               f"stories={stories}", *args]
    result = run_watched(command)
    return result.wall_s, result.cpu_s, result.output


def job_seconds(workdir: Path) -> tuple[int, float]:
    n, total = 0, 0.0
    for tsv in (workdir / "benchmarks").rglob("*.tsv"):
        with tsv.open() as fh:
            total += float(next(csv.DictReader(fh, delimiter="\t"))["s"])
        n += 1
    return n, total


def fresh(root: Path, name: str) -> Path:
    work = root / name
    (work / "config").mkdir(parents=True)
    shutil.copy(REPO / "config" / "config.yaml", work / "config" / "config.yaml")
    return work


def overhead(root: Path, stories: str, repeats: int) -> None:
    figures: dict[str, list[tuple[float, float]]] = {"default": [], "storyreel": []}
    for i in range(repeats):
        for logger in ("default", "storyreel"):
            work = fresh(root, f"overhead-{logger}-{i}")
            extra = ["--logger", "storyreel"] if logger == "storyreel" else []
            wall, cpu, output = snakemake(work, stories, "--until", "shotlist", "--cores", "1",
                                          *extra)
            jobs, seconds = job_seconds(work)
            assert jobs == len(joblog.jobs(output)), output[-2000:]
            plugin = 0.0
            if logger == "storyreel":
                state = json.loads((work / ".snakemake" / "storyreel" / "progress.json")
                                   .read_text())
                plugin = state["plugin_cpu_s"]
            figures[logger].append(((wall - seconds) / jobs, cpu / jobs, plugin / jobs))
            print(f"  run {i + 1} {logger:9}: {jobs} jobs, wall {wall:.1f} s, jobs "
                  f"{seconds:.1f} s, overhead {(wall - seconds) / jobs:.3f} s/job, "
                  f"Snakemake CPU {cpu / jobs:.3f} s/job"
                  + (f", plugin CPU {plugin / jobs * 1000:.1f} ms/job" if plugin else ""),
                  flush=True)
    off = [statistics.median(x) for x in zip(*figures["default"], strict=True)]
    on = [statistics.median(x) for x in zip(*figures["storyreel"], strict=True)]
    print("Orchestration overhead per job (median of runs, --cores 1, --until shotlist):")
    print(f"  wall:          default logger {off[0]:.3f} s, storyreel {on[0]:.3f} s "
          f"({100 * (on[0] - off[0]) / off[0]:+.1f} %; noisy on a shared machine)")
    print(f"  Snakemake CPU: default logger {off[1]:.3f} s, storyreel {on[1]:.3f} s "
          f"({100 * (on[1] - off[1]) / off[1]:+.1f} %)")
    print(f"  the plugin's own CPU time (its threads, measured inside it): "
          f"{on[2] * 1000:.1f} ms per job = {100 * on[2] / off[0]:.1f} % of the default "
          f"logger's orchestration overhead per job")


def hog() -> subprocess.Popen:
    """Other work taking one of the machine's cores: a busy loop at the same priority."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def errors(trace: list[dict], points=(0.25, 0.50, 0.75)
           ) -> list[tuple[str, float, float, float, float, bool]]:
    """(point, elapsed, ETA shown, actually left, error, whether it was inside the range
    shown) when the shown progress first reached each point, and at each share of the run's
    wall time."""
    end = trace[-1]["t"]
    start = end - trace[-1]["elapsed_s"]
    rows = []
    for point in points:
        at = next(t for t in trace if t["fraction"] >= point)
        rows.append((f"{int(point * 100)} % of the bar", at["elapsed_s"], at["eta_s"],
                     end - at["t"], (at["eta_s"] - (end - at["t"])) / (end - at["t"]),
                     (at.get("eta_low_s") or 0) <= end - at["t"] <= (at.get("eta_high_s") or 0)))
    for point in points:
        when = start + point * (end - start)
        at = [t for t in trace[:-1] if t["t"] <= when][-1]
        # the ETA shown at that moment, counted down since it was drawn
        shown = max(at["eta_s"] - (when - at["t"]), 0.0)
        low = max((at.get("eta_low_s") or 0) - (when - at["t"]), 0.0)
        high = max((at.get("eta_high_s") or 0) - (when - at["t"]), 0.0)
        rows.append((f"{int(point * 100)} % of the time", when - start, shown, end - when,
                     (shown - (end - when)) / (end - when), low <= end - when <= high))
    return rows


def eta_error(root: Path, stories: str, cores: str, settings: list[str]) -> None:
    """First run (no history) and second run (the first's benchmark files and costs.json,
    results/ removed), on a quiet machine and with a busy loop taking one core."""
    table = []
    for setting in settings:
        work = fresh(root, f"eta-{setting}")
        for run in ("first", "second"):
            if run == "second":
                shutil.rmtree(work / "results")
            busy = hog() if setting == "loaded" else None
            try:
                wall, _, _ = snakemake(work, stories, "--cores", cores, "--logger", "storyreel")
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
            state = work / ".snakemake" / "storyreel"
            for name in ("trace.jsonl", "progress.json"):  # kept for a look afterwards
                shutil.copy(state / name, root / f"{setting}-{run}-{name}")
            trace = [json.loads(line) for line in (state / "trace.jsonl").read_text().splitlines()]
            load = os.getloadavg()[0]
            print(f"{setting} machine, {run} run (--cores {cores}): {wall:.0f} s, load average "
                  f"{load:.1f} at the end", flush=True)
            for name, elapsed, shown, actual, error, inside in errors(trace):
                print(f"  at {name:17} (t = {elapsed:4.0f} s): ETA {shown:4.0f} s, actually "
                      f"left {actual:4.0f} s, error {100 * error:+4.0f} %"
                      + ("" if inside else " (outside the range shown)"), flush=True)
                table.append(abs(error))
    if table:
        print(f"ETA error: largest {100 * max(table):.0f} %, median "
              f"{100 * statistics.median(table):.0f} % over {len(table)} points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", default=str(REPO / "config" / "stories.yaml"))
    parser.add_argument("--cores", default="2", help="cores for the ETA runs (default 2)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", help="keep the working directories here")
    parser.add_argument("--only", choices=["overhead", "eta"])
    parser.add_argument("--settings", default="quiet,loaded",
                        help="machine settings for the ETA runs: quiet, loaded (a busy loop "
                             "on one core) or both (default)")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="storyreel-progress-"))
    root.mkdir(parents=True, exist_ok=True)
    stories = str(Path(args.stories).resolve())
    try:
        if args.only in (None, "overhead"):
            overhead(root, stories, args.repeats)
        if args.only in (None, "eta"):
            eta_error(root, stories, args.cores, args.settings.split(","))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
