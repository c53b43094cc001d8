"""Benchmark the storyreel logger plugin: what it costs, and how good its ETA is (not a test).

    python benchmarks/progress.py [--stories config/stories.yaml] [--cores 2] [--repeats 2]

1. **Overhead, side by side in one run of this script**: ``--until shotlist`` on the example
   stories at ``--cores 1`` in fresh working directories, alternating Snakemake's default logger
   and ``--logger storyreel`` (``--repeats`` times each). Per run: orchestration overhead per job
   = (wall - sum of the jobs' benchmark seconds) / jobs, and the CPU time of the Snakemake
   process itself (jobs excluded) per job. The plugin's cost is the difference, as a share of
   the default logger's figure.
2. **ETA error, second run with history**: the whole workflow on the example stories once (the
   history: benchmark files and ``.snakemake/storyreel/costs.json``), then ``results/`` removed
   and the workflow run again with the plugin. From the plugin's trace, at the first moment the
   shown progress reaches 25 %, 50 % and 75 %: the ETA it showed against the time the run then
   actually took to finish; error = (ETA - actual) / actual.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
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


def eta_error(root: Path, stories: str, cores: str) -> None:
    work = fresh(root, "eta")
    wall1, _, _ = snakemake(work, stories, "--cores", cores, "--logger", "storyreel")
    shutil.rmtree(work / "results")
    wall2, _, _ = snakemake(work, stories, "--cores", cores, "--logger", "storyreel")
    trace = [json.loads(line) for line in
             (work / ".snakemake" / "storyreel" / "trace.jsonl").read_text().splitlines()]
    end = trace[-1]["t"]
    print(f"ETA error, second run with history (--cores {cores}; first run {wall1:.0f} s, "
          f"second {wall2:.0f} s):")
    for point in (0.25, 0.50, 0.75):
        at = next(t for t in trace if t["fraction"] >= point)
        actual = end - at["t"]
        error = (at["eta_s"] - actual) / actual
        print(f"  at {int(point * 100)} % (t = {at['elapsed_s']:.0f} s): ETA {at['eta_s']:.0f} s,"
              f" actual {actual:.0f} s, error {100 * error:+.0f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", default=str(REPO / "config" / "stories.yaml"))
    parser.add_argument("--cores", default="2", help="cores for the ETA runs (default 2)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", help="keep the working directories here")
    parser.add_argument("--only", choices=["overhead", "eta"])
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="storyreel-progress-"))
    root.mkdir(parents=True, exist_ok=True)
    stories = str(Path(args.stories).resolve())
    try:
        if args.only in (None, "overhead"):
            overhead(root, stories, args.repeats)
        if args.only in (None, "eta"):
            eta_error(root, stories, args.cores)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
