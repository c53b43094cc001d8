"""The fault matrix on tiny stories (issues 6 and 16): a benchmark that prints figures.

    python benchmarks/chaos.py [--stories 10] [--kills 8] [--stress 20] [--quick] [--only ...]
    make chaos                      # the same, niced; CHAOS_ARGS="--quick" for a short run

Everything runs in a fresh folder under ``benchmarks/.chaos/`` (removed at the end), with the
test profile (2 cores) and tiny stories:

1. kill points: ``kill -9`` of the whole Snakemake process group as each stage's first log
   appears, then ``storyreel resume``; the film is compared with an uninterrupted run's, and the
   jobs the resume redid are counted;
2. 30 % transient faults on every stage (``STORYREEL_FAULTS``), N stories, retries 5 with tiny
   backoffs: how many films complete;
3. one story of N failing permanently (``script@k03:permanent``) with ``--keep-going``: how
   many finish, the exit status, whether the summary names the failed story and stage;
4. the matrix of issue 16 (``benchmarks/chaos_matrix.py``): every artifact kind zero bytes,
   garbage or deleted; a full disk before each rule; a read-only disk and file; a permanent
   and a transient fault in every rule; NaN, infinity and huge numbers in every numeric key;
   alias bombs, deep nesting, oversized files. It ends with one line: healed, classified,
   tracebacks, hangs;
5. every bad config (tests/data/bad_configs.yaml) and hostile story input
   (tests/data/hostile_stories.yaml) through ``snakemake -n``: refused with the key path and
   no traceback (or, for inputs that are fine, accepted);
6. stress: consecutive runs of a small batch from clean (up to ``asr``), with failures, leftover
   processes and the growth of what ``make clean`` leaves (``.snakemake``) counted.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from chaos_matrix import Matrix  # noqa: E402

from storyreel.core.artifacts import sha256_file  # noqa: E402
from storyreel.job.runner import TMP_DIR  # noqa: E402
from storyreel.ops import joblog  # noqa: E402

BIN = Path(sys.executable).parent
BASE_CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
FILM = {"id": "film", "title": "The Lamp", "duration_s": 13, "seed": 5, "idea": (
    "Mara lit the old lamp at the top of the tower. Far below, the waves broke on the rocks."
    "\n\nA small boat turned toward the light and came safely home.")}
KILL_STAGES = ["script", "revise", "voice", "asr", "shotlist", "vision", "keyframes", "video",
               "post"]


def tiny_story(i: int) -> dict:
    return {"id": f"k{i:02d}", "duration_s": 8, "seed": i, "idea": (
        f"Mara lit lamp number {i} at the top of the tower.\n\n"
        "A small boat turned toward the light and came home.")}


class Work:
    def __init__(self, path: Path, stories: list[dict], config: dict | None = None) -> None:
        self.path = path
        (path / "config").mkdir(parents=True, exist_ok=True)
        merged = copy.deepcopy(BASE_CONFIG)
        merged.update(config or {})
        (path / "config" / "config.yaml").write_text(yaml.safe_dump(merged))
        (path / "config" / "stories.yaml").write_text(
            yaml.safe_dump({"stories": stories}, allow_unicode=True))

    def args(self, *extra: str) -> list[str]:
        return ["-s", str(REPO / "Snakefile"), "-d", str(self.path), "--workflow-profile",
                str(REPO / "profiles" / "test"), *extra]

    def command(self, *extra: str) -> list[str]:
        return [str(BIN / "snakemake"), *self.args(*extra)]

    def resume_command(self, *extra: str) -> list[str]:
        return [str(BIN / "storyreel"), "resume", *self.args(*extra)]

    @staticmethod
    def env() -> dict[str, str]:
        return environment()

    def snakemake(self, *extra: str, env: dict | None = None, timeout: float = 1800
                  ) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "snakemake"), *self.args(*extra)], capture_output=True,
                              text=True, env=env or environment(), timeout=timeout)

    def resume(self, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "storyreel"), "resume", *self.args(*extra)],
                              capture_output=True, text=True, env=environment(), timeout=1800)

    def film(self, story: str = "film") -> Path:
        return self.path / "results" / story / "final.mp4"


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYREEL_FAULTS")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def clone(src: Work, dst: Path) -> Work:
    shutil.copytree(src.path, dst, symlinks=True)
    work = Work.__new__(Work)
    work.path = dst
    return work


def line(text: str) -> None:
    print(text, flush=True)


# -- 1. kill points ----------------------------------------------------------------------------

def kill_points(root: Path, reference: Work, stages: list[str]) -> None:
    good, redone = 0, []
    for stage in stages:
        work = Work(root / f"kill-{stage}", [FILM])
        proc = subprocess.Popen([str(BIN / "snakemake"), *work.args("--cores", "1")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=environment(), start_new_session=True)
        marker_dir = work.path / "logs" / stage
        deadline = time.monotonic() + 600
        while not (marker_dir.exists() and any(marker_dir.rglob("*.log"))):
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        killed = proc.poll() is None
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        result = work.resume()
        same = result.returncode == 0 and work.film().exists() and \
            sha256_file(work.film()) == sha256_file(reference.film())
        good += same
        redone.append(len(joblog.jobs(result.stdout + result.stderr)))
        line(f"  kill at {stage:9} killed={killed} resume rc={result.returncode} jobs redone="
             f"{redone[-1]} identical={same}")
    line(f"kill points resumed {good}/{len(stages)} with identical films; jobs redone per kill: "
         f"{', '.join(map(str, redone))} (median {sorted(redone)[len(redone) // 2]})")


# -- 2/3. transient faults, one permanent failure ---------------------------------------------

def transient(root: Path, stories: int) -> Work:
    work = Work(root / "transient", [tiny_story(i) for i in range(1, stories + 1)],
                {"retries": 5, "retry": {"backoff_s": [0.05, 0.1, 0.2], "jitter": 0.5}})
    faults = ",".join(f"{s}:transient:0.3" for s in
                      ["idea", "script", "revise", "voice", "asr", "shotlist", "vision",
                       "keyframes", "video", "post"])
    started = time.perf_counter()
    result = work.snakemake("--keep-going", env=environment(STORYREEL_FAULTS=faults,
                                                            STORYREEL_FAULTS_SEED="7"))
    done = sum(1 for i in range(1, stories + 1) if work.film(f"k{i:02d}").exists())
    attempts = len(list((work.path / "logs").rglob("*.attempt[2-9].log")))
    line(f"30% transient faults on every stage: {done}/{stories} films complete, exit "
         f"{result.returncode}, {attempts} retried attempts, "
         f"{time.perf_counter() - started:.0f} s")
    return work


def permanent(root: Path, base: Work, stories: int) -> None:
    work = clone(base, root / "permanent")
    shutil.rmtree(work.path / "results" / "k03", ignore_errors=True)
    result = work.snakemake("--keep-going",
                            env=environment(STORYREEL_FAULTS="script@k03:permanent"))
    done = sum(1 for i in range(1, stories + 1) if work.film(f"k{i:02d}").exists())
    named = "k03" in result.stderr and "FAILED at script" in result.stderr
    retried = "not retried" in (work.path / "logs" / "script" / "k03.attempt2.log").read_text() \
        if (work.path / "logs" / "script" / "k03.attempt2.log").exists() else False
    line(f"one story of {stories} failing permanently: {done}/{stories} finish, exit "
         f"{result.returncode}, summary names it: {named}, later attempt not retried: "
         f"{retried}")


# -- 5. bad configs and hostile inputs ------------------------------------------------------

def refusals(root: Path, workers: int) -> None:
    from test_validation import BAD_CONFIGS, HOSTILE, merged, write_stories

    def bad_config(case: dict) -> bool:
        folder = root / "configs" / case["name"]
        work = Work(folder, [tiny_story(1)])
        (folder / "config" / "config.yaml").write_text(yaml.safe_dump(merged(case["config"])))
        result = work.snakemake("-n")
        out = result.stdout + result.stderr
        return result.returncode != 0 and case["expect"] in out and "Traceback" not in out

    def hostile(case: dict) -> bool:
        folder = root / "hostile" / case["name"]
        work = Work(folder, [tiny_story(1)], case.get("config"))
        path = write_stories(case, folder)
        result = work.snakemake("-n", "--config", f"stories={path}")
        out = result.stdout + result.stderr
        if case["expect"]:
            return result.returncode != 0 and case["expect"] in out and "Traceback" not in out
        return result.returncode == 0

    with ThreadPoolExecutor(workers) as pool:
        configs = list(pool.map(bad_config, BAD_CONFIGS))
        inputs = list(pool.map(hostile, HOSTILE))
    failed = [c["name"] for c, ok in zip(BAD_CONFIGS, configs, strict=True) if not ok]
    line(f"bad configs refused with the key path and no traceback: {sum(configs)}/"
         f"{len(configs)}" + (f" (not: {', '.join(failed)})" if failed else ""))
    refused = sum(1 for c in HOSTILE if c["expect"])
    failed = [c["name"] for c, ok in zip(HOSTILE, inputs, strict=True) if not ok]
    line(f"hostile story inputs answered: {sum(inputs)}/{len(inputs)} ({refused} refused with "
         f"the key path, {len(inputs) - refused} accepted and made safe)"
         + (f" (not: {', '.join(failed)})" if failed else ""))


# -- 6. stress ------------------------------------------------------------------------------

def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _leftover_processes(workdir: Path) -> int:
    count = 0
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if str(workdir) in cmd or (proc.info["cwd"] or "").startswith(str(workdir)):
                count += 1
        except psutil.Error:
            continue
    return count


def stress(root: Path, runs: int) -> None:
    work = Work(root / "stress", [tiny_story(i) for i in (1, 2)])
    failures, leftovers, sizes = 0, 0, []
    for _ in range(runs):
        for name in ("results", "logs"):
            shutil.rmtree(work.path / name, ignore_errors=True)
        result = work.snakemake("--until", "asr")
        failures += result.returncode != 0
        leftovers += _leftover_processes(work.path)
        sizes.append(_size(work.path / ".snakemake"))
    growth = (sizes[-1] - sizes[0]) / 1024
    line(f"stress: {runs} consecutive runs of 2 stories from clean (up to asr): {failures} "
         f"failures, {leftovers} leftover processes, .snakemake {sizes[0] / 1024:.0f} -> "
         f"{sizes[-1] / 1024:.0f} KiB ({growth:+.0f} KiB, {growth / max(1, runs - 1):+.1f} "
         "KiB per run: Snakemake's own logs and metadata), project tmp "
         f"{_size(work.path / TMP_DIR)} bytes")


SECTIONS = ["refusals", "kills", "transient", "stress", "artifacts", "disk", "readonly",
            "faults", "numbers", "yaml"]
MATRIX = {"artifacts", "disk", "readonly", "faults", "numbers", "yaml"}


def run_matrix(root: Path, reference: Work, only: set[str], workers: int) -> str:
    """The matrix of issue 16 (benchmarks/chaos_matrix.py); its closing line."""
    matrix = Matrix(root, reference, clone, workers)

    def make(folder: Path, config: dict | None, stories: list[dict]) -> Work:
        work = Work(folder, stories)
        if config is not None:
            (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))
        return work

    for section in [s for s in SECTIONS if s in only & MATRIX]:
        started = time.perf_counter()
        if section == "numbers":
            matrix.numbers(make, copy.deepcopy(BASE_CONFIG), tiny_story(1))
        elif section == "yaml":
            matrix.yaml_abuse(make, tiny_story(1))
        else:
            getattr(matrix, section)()
        line(f"{section}: done in {time.perf_counter() - started:.0f} s")
    return matrix.report()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=10)
    parser.add_argument("--kills", type=int, default=len(KILL_STAGES))
    parser.add_argument("--stress", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--root", type=Path, default=REPO / "benchmarks" / ".chaos",
                        help="scratch folder (removed before and after)")
    parser.add_argument("--quick", action="store_true",
                        help="4 stories, 3 kill points, 5 stress runs")
    parser.add_argument("--only", nargs="*", default=None, choices=SECTIONS)
    args = parser.parse_args(argv)
    if args.quick:
        args.stories, args.kills, args.stress = 4, 3, 5
    only = set(args.only or SECTIONS)
    root = args.root.resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.perf_counter()
    closing = None
    try:
        reference = Work(root / "reference", [FILM])
        if only & ({"kills"} | MATRIX - {"numbers", "yaml"}):
            result = reference.snakemake()
            if result.returncode != 0:
                print(result.stderr[-3000:], file=sys.stderr)
                return 1
        if "refusals" in only:
            refusals(root, args.workers)
        if "kills" in only:
            step = max(1, len(KILL_STAGES) // max(1, args.kills))
            kill_points(root, reference, KILL_STAGES[::step][:args.kills])
        if "transient" in only:
            base = transient(root, args.stories)
            permanent(root, base, args.stories)
        if "stress" in only:
            stress(root, args.stress)
        if only & MATRIX:
            closing = run_matrix(root, reference, only, args.workers)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    line(f"chaos benchmark done in {time.perf_counter() - started:.0f} s")
    if closing:
        line(closing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
