"""Batch-scale benchmark: orchestration cost of big stories files (not a test).

    python benchmarks/scale.py [--sizes 10 100 1000] [--repeats 3] [--keep DIR]
    python benchmarks/scale.py --slurm [--keep DIR]   # per-job submission cost through SLURM
    python benchmarks/scale.py --noop [--repeats 7]   # start-up: a no-op rerun vs Snakemake's floor

Dry runs (``snakemake -n``) of N-story stories files, side by side with a *same-shaped DAG of
trivial jobs*: the same rules, files, wildcards, logs, benchmarks and the two checkpoints with
their per-shot fan-out, but each job a ``touch`` and no config, validation, params, conda or
resources. The ratio storyreel / trivial is what the workflow costs on top of Snakemake itself.
Two trivial DAGs: ``shell:`` touch jobs, and the same jobs as ``script:`` jobs (an empty
script), because Snakemake resolves every ``script:`` job's source while it builds the DAG
(``snakemake.script.get_source``: about 0.3 ms a job) and storyreel's rules are ``script:`` jobs;
the second ratio is what the workflow's own Python (config loading, validation, input functions,
params) costs. The two dry runs of one
size alternate, ``--repeats`` times each, and the fastest of each is kept (the machine may be
shared), so the ratio compares runs made under the same load; CPU seconds (user + system) are
steadier than wall time on a busy machine. Each storyreel dry run starts cold, without the
validated stories a previous parse cached (``storyreel/core/stories.py``). Peak RSS is the
Snakemake process's own maximum resident set (``wait4``).

``--noop`` makes the example stories (config/stories.yaml) once, and a DAG of trivial jobs of
the same shape and size (the same stories, shots and report rules) once, then reruns both with
nothing to do, alternating, ``--repeats`` times: the workflow's start-up (parse, validate, build
the DAG, find everything up to date) against Snakemake's own floor, with storyreel's progress
logger (the default profile) and with Snakemake's (profiles/test). Medians of wall and CPU time.

``--slurm`` runs the two-story workflow test's stories to ``final.mp4`` twice, once locally
(``profiles/test``) and once through a running SLURM (``profiles/slurm``, see
``.ci/slurm/up.sh``), and prints the per-job submission overhead: (SLURM wall - local wall) / jobs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# A full text of two short scenes: the script stage uses it verbatim.
IDEA = ("Mara lit the old lamp at the top of the tower.\n\n"
        "A small boat turned toward the light and came safely home.")

# The storyreel DAG's shape with trivial jobs: same rules, files, checkpoints and fan-out.
TRIVIAL_SNAKEFILE = r'''
from pathlib import Path

STORIES = Path("stories.txt").read_text().split()


wildcard_constraints:
    story=r"[a-z0-9][a-z0-9_-]{0,63}",
    shot=r"sh[0-9]{3}",


def shot_ids(story):
    shots = checkpoints.shotlist.get(story=story).output.shots
    return sorted(p.stem for p in Path(shots).glob("sh[0-9][0-9][0-9].json"))


def shot_plan(wildcards):
    checkpoints.vision.get(story=wildcards.story)
    return f"results/{wildcards.story}/vision/{wildcards.shot}.json"


def per_shot(pattern):
    def files(wildcards):
        checkpoints.vision.get(story=wildcards.story)
        return [pattern.format(story=wildcards.story, shot=s) for s in shot_ids(wildcards.story)]

    return files


rule all:
    input:
        expand("results/{story}/{name}", story=STORIES,
               name=["final.mp4", "manifest.json", "contactsheet.jpg", "stages.html"]),


rule contactsheet:
    input:
        per_shot("results/{story}/keyframes/{shot}.png"),
        "results/{story}/shotlist.json",
    output:
        "results/{story}/contactsheet.jpg",
    log:
        "logs/contactsheet/{story}.log",
    benchmark:
        "benchmarks/contactsheet/{story}.tsv"
    shell:
        "touch {output}"


rule stagetable:
    input:
        "results/{story}/manifest.json",
        "results/{story}/shotlist.json",
    output:
        "results/{story}/stages.html",
    log:
        "logs/stagetable/{story}.log",
    benchmark:
        "benchmarks/stagetable/{story}.tsv"
    shell:
        "touch {output}"


rule idea:
    output:
        "results/{story}/idea.json",
    log:
        "logs/idea/{story}.log",
    benchmark:
        "benchmarks/idea/{story}.tsv"
    shell:
        "touch {output}"


rule script:
    input:
        "results/{story}/idea.json",
    output:
        "results/{story}/script.json",
    log:
        "logs/script/{story}.log",
    benchmark:
        "benchmarks/script/{story}.tsv"
    shell:
        "touch {output}"


rule revise:
    input:
        "results/{story}/script.json",
        "results/{story}/idea.json",
    output:
        "results/{story}/revised.json",
    log:
        "logs/revise/{story}.log",
    benchmark:
        "benchmarks/revise/{story}.tsv"
    shell:
        "touch {output}"


rule voice:
    input:
        "results/{story}/revised.json",
    output:
        "results/{story}/narration.wav",
        "results/{story}/voice.json",
    log:
        "logs/voice/{story}.log",
    benchmark:
        "benchmarks/voice/{story}.tsv"
    shell:
        "touch {output}"


rule asr:
    input:
        "results/{story}/revised.json",
        "results/{story}/voice.json",
        "results/{story}/narration.wav",
    output:
        "results/{story}/words.json",
        "results/{story}/subtitles.srt",
        "results/{story}/subtitles.vtt",
    log:
        "logs/asr/{story}.log",
    benchmark:
        "benchmarks/asr/{story}.tsv"
    shell:
        "touch {output}"


checkpoint shotlist:
    input:
        "results/{story}/idea.json",
        "results/{story}/revised.json",
        "results/{story}/words.json",
    output:
        shotlist="results/{story}/shotlist.json",
        shots=directory("results/{story}/shots"),
    log:
        "logs/shotlist/{story}.log",
    benchmark:
        "benchmarks/shotlist/{story}.tsv"
    shell:
        "mkdir -p {output.shots} && touch {output.shotlist} && for s in $(cat shots/{wildcards.story}); do touch {output.shots}/$s.json; done"


checkpoint vision:
    input:
        "results/{story}/idea.json",
        "results/{story}/shotlist.json",
        "results/{story}/shots",
    output:
        plan=directory("results/{story}/vision"),
    log:
        "logs/vision/{story}.log",
    benchmark:
        "benchmarks/vision/{story}.tsv"
    shell:
        "mkdir -p {output.plan} && for s in $(cat shots/{wildcards.story}); do touch {output.plan}/$s.json; done"


rule keyframes:
    input:
        shot_plan,
    output:
        "results/{story}/keyframes/{shot}.png",
    log:
        "logs/keyframes/{story}/{shot}.log",
    benchmark:
        "benchmarks/keyframes/{story}/{shot}.tsv"
    shell:
        "touch {output}"


rule video:
    input:
        "results/{story}/keyframes/{shot}.png",
        shot_plan,
        "results/{story}/subtitles.srt",
    output:
        "results/{story}/video/{shot}.mp4",
    log:
        "logs/video/{story}/{shot}.log",
    benchmark:
        "benchmarks/video/{story}/{shot}.tsv"
    shell:
        "touch {output}"


rule post:
    input:
        per_shot("results/{story}/video/{shot}.mp4"),
        per_shot("results/{story}/keyframes/{shot}.png"),
        "results/{story}/shotlist.json",
        "results/{story}/idea.json",
        "results/{story}/narration.wav",
        "results/{story}/voice.json",
        "results/{story}/words.json",
        "results/{story}/subtitles.srt",
        "results/{story}/subtitles.vtt",
    output:
        "results/{story}/final.mp4",
        "results/{story}/final.srt",
        "results/{story}/final.vtt",
        "results/{story}/poster.jpg",
        "results/{story}/manifest.json",
    log:
        "logs/post/{story}.log",
    benchmark:
        "benchmarks/post/{story}.tsv"
    shell:
        "touch {output}"
'''


# The same trivial jobs as `script:` jobs (what storyreel's rules use): Snakemake resolves each
# script job's source file while it builds the DAG, which the `touch` jobs do not pay.
TOUCH_SCRIPT = """from pathlib import Path

for path in snakemake.output:
    if Path(path).suffix:
        Path(path).touch()
    else:  # a checkpoint's folder of per-shot files
        Path(path).mkdir(parents=True, exist_ok=True)
        for shot in Path("shots", snakemake.wildcards.story).read_text().split():
            (Path(path) / f"{shot}.json").touch()
"""


def trivial_snakefile(kind: str) -> str:
    """The trivial DAG with ``shell:`` touch jobs (kind "shell") or ``script:`` jobs."""
    if kind == "shell":
        return TRIVIAL_SNAKEFILE
    script = '    script:\n        "touch.py"'
    return re.sub(r'    shell:\n        "[^"]*"', script, TRIVIAL_SNAKEFILE)


def stories(n: int) -> list[dict]:
    return [{"id": f"s{i:04d}", "title": f"Story {i}", "duration_s": 8, "seed": i, "idea": IDEA}
            for i in range(n)]


def storyreel_workdir(path: Path, entries: list[dict]) -> Path:
    (path / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "config.yaml", path / "config" / "config.yaml")
    (path / "config" / "stories.yaml").write_text(yaml.safe_dump({"stories": entries}))
    return path


def trivial_workdir(path: Path, entries: list[dict], kind: str = "shell",
                    shots: dict[str, list[str]] | None = None) -> Path:
    """The trivial DAG's working directory; each story gets ``shots`` (default one shot)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "Snakefile").write_text(trivial_snakefile(kind))
    (path / "touch.py").write_text(TOUCH_SCRIPT)
    (path / "stories.txt").write_text("\n".join(e["id"] for e in entries) + "\n")
    (path / "shots").mkdir(exist_ok=True)
    for entry in entries:
        (path / "shots" / entry["id"]).write_text(
            " ".join((shots or {}).get(entry["id"], ["sh001"])) + "\n")
    return path


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Run ``command``; return (wall s, CPU s, peak RSS MB) of that process alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{stderr[-4000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def dry_run_storyreel(workdir: Path, repo: Path = REPO) -> list[str]:
    return [str(BIN / "snakemake"), "-s", str(repo / "Snakefile"), "-d", str(workdir),
            "--workflow-profile", str(REPO / "profiles" / "test"), "-n"]


def dry_run_trivial(workdir: Path) -> list[str]:
    return [str(BIN / "snakemake"), "-s", str(workdir / "Snakefile"), "-d", str(workdir),
            "--workflow-profile", str(REPO / "profiles" / "test"), "-n"]


def scale(sizes: list[int], repeats: int, base: Path, repo: Path = REPO) -> None:
    print(f"dry runs (snakemake -n), fastest of {repeats} each, alternating; ratios against the")
    print("same-shaped DAG of trivial jobs: `shell:` touch jobs, and the same as `script:` jobs")
    print(f"{'stories':>7} {'jobs':>5} | {'wall s':>7} {'shell':>6} {'script':>6} | "
          f"{'CPU s':>6} {'shell':>6} {'script':>6} {'ms/job':>6} | {'RSS MB':>6} {'shell':>5} "
          f"{'script':>6}")
    env = dict(os.environ)
    if repo != REPO:  # another checkout (e.g. an older commit): its storyreel package first
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    for n in sizes:
        entries = stories(n)
        real = storyreel_workdir(base / f"storyreel-{n}", entries)
        trivial = {kind: trivial_workdir(base / f"trivial-{kind}-{n}", entries, kind)
                   for kind in ("shell", "script")}
        runs: dict[str, list[tuple[float, float, float]]] = {"ours": [], "shell": [], "script": []}
        for _ in range(repeats):
            # cold: without the validated stories a previous parse left (stories_cache)
            shutil.rmtree(real / ".snakemake" / "storyreel", ignore_errors=True)
            runs["ours"].append(measure(dry_run_storyreel(real, repo), env))
            for kind, workdir in trivial.items():
                runs[kind].append(measure(dry_run_trivial(workdir)))
        wall = {k: min(w for w, _, _ in v) for k, v in runs.items()}
        cpu = {k: min(c for _, c, _ in v) for k, v in runs.items()}
        rss = {k: max(r for _, _, r in v) for k, v in runs.items()}
        # jobs known before the shot lists exist: 8 per story (idea … vision, post) and all
        jobs = 8 * n + 1
        print(f"{n:7d} {jobs:5d} | {wall['ours']:7.2f} {wall['ours'] / wall['shell']:6.2f} "
              f"{wall['ours'] / wall['script']:6.2f} | {cpu['ours']:6.2f} "
              f"{cpu['ours'] / cpu['shell']:6.2f} {cpu['ours'] / cpu['script']:6.2f} "
              f"{1000 * cpu['ours'] / jobs:6.2f} | {rss['ours']:6.0f} {rss['shell']:5.0f} "
              f"{rss['script']:6.0f}", flush=True)


def noop(repeats: int, base: Path) -> None:
    """No-op reruns of the example stories against a trivial DAG of the same size (see doc)."""
    from storyreel.core import pipeline

    entries = yaml.safe_load((REPO / "config" / "stories.yaml").read_text())["stories"]
    real = storyreel_workdir(base / "examples", entries)
    snakemake = [str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "-d", str(real),
                 "--cores", "2"]
    print("making the example stories once ...", flush=True)
    measure(snakemake)
    shots = {e["id"]: pipeline.shot_ids_in(pipeline.path(pipeline.story_dir(real, e["id"]),
                                                         "shotlist", "shots"))
             for e in entries}
    trivial = trivial_workdir(base / "trivial", entries, "script", shots)
    floor = [str(BIN / "snakemake"), "-s", str(trivial / "Snakefile"), "-d", str(trivial),
             "--workflow-profile", str(REPO / "profiles" / "test")]
    measure(floor)
    jobs = len(list((real / "benchmarks").rglob("*.tsv")))
    print(f"no-op reruns of {len(entries)} stories ({jobs} jobs, all up to date), median of "
          f"{repeats}, alternating with a trivial DAG of as many jobs (Snakemake's floor)")
    print(f"{'storyreel run':40} {'wall s':>7} {'floor':>6} {'ratio':>6} | "
          f"{'CPU s':>6} {'floor':>6} {'ratio':>6}")
    for name, extra in (("default profile (storyreel's progress)", []),
                        ("profiles/test (Snakemake's logger)",
                         ["--workflow-profile", str(REPO / "profiles" / "test")])):
        ours, base_runs = [], []
        for _ in range(repeats):
            ours.append(measure([*snakemake, *extra]))
            base_runs.append(measure(floor))
        wall, cpu = (statistics.median(r[i] for r in ours) for i in (0, 1))
        fwall, fcpu = (statistics.median(r[i] for r in base_runs) for i in (0, 1))
        print(f"{name:40} {wall:7.2f} {fwall:6.2f} {wall / fwall:6.2f} | {cpu:6.2f} "
              f"{fcpu:6.2f} {cpu / fcpu:6.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slurm", action="store_true",
                        help="measure the per-job submission overhead through a running SLURM")
    parser.add_argument("--noop", action="store_true",
                        help="start-up: no-op reruns of the example stories vs a trivial DAG")
    parser.add_argument("--keep", help="keep the working directories here")
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="measure the workflow of another checkout (before/after figures)")
    args = parser.parse_args()
    base = Path(args.keep or tempfile.mkdtemp(prefix="storyreel-scale-"))
    try:
        if args.slurm:
            slurm_overhead(base)
        elif args.noop:
            noop(args.repeats, base)
        else:
            scale(args.sizes, args.repeats, base, args.repo.resolve())
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def squeue_ids() -> set[str]:
    out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i"], capture_output=True,
                         text=True, check=True).stdout
    return set(out.split())


def slurm_overhead(base: Path) -> None:
    """The two-story SLURM test's stories to final.mp4, locally and through SLURM."""
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import TINY_FILM, TINY_STORY

    if subprocess.run(["scontrol", "ping"], capture_output=True).returncode:
        sys.exit("no SLURM running here: start one with .ci/slurm/up.sh (make bench-scale does)")
    entries = [TINY_STORY, TINY_FILM]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    env.setdefault("STORYREEL_SLURM_PARTITION", os.environ.get("STORYREEL_CI_PARTITION", "debug"))
    runs = {}
    for name, profile, extra in (
        ("local (profiles/test, 2 cores)", "test", []),
        ("SLURM (profiles/slurm, sbatch)", "slurm",
         ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1"]),
    ):
        workdir = storyreel_workdir(base / f"two-stories-{profile}", entries)
        before = squeue_ids() if profile == "slurm" else set()
        wall, cpu, rss = measure([str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"),
                                  "-d", str(workdir), "--workflow-profile",
                                  str(REPO / "profiles" / profile), *extra], env)
        jobs = len(list((workdir / "benchmarks").rglob("*.tsv")))
        submissions = len(squeue_ids() - before) if profile == "slurm" else 0
        runs[profile] = (wall, jobs, submissions)
        print(f"{name:32} {wall:7.1f} s  {jobs} jobs"
              + (f", {submissions} SLURM submissions" if submissions else "")
              + f"  (CPU of Snakemake and local jobs {cpu:.1f} s, peak RSS {rss:.0f} MB)",
              flush=True)
    (local, jobs, _), (slurm, _, submissions) = runs["test"], runs["slurm"]
    print(f"SLURM overhead: {(slurm - local) / jobs:.1f} s per job, "
          f"{(slurm - local) / max(submissions, 1):.1f} s per submission")


if __name__ == "__main__":
    main()
