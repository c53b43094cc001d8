"""``storyreel resume``: recover after a crash or ``kill -9``, then run Snakemake again.

:func:`resume` waits for orphaned jobs of a killed Snakemake, removes a stale lock (only when no
Snakemake process works in the directory: readers such as ``tail -f`` do not count), cleans the
leftovers of a killed run (``.part`` files, ``.snakemake/storyreel-tmp/``), runs
:func:`storyreel.recovery.verify.verify`, then Snakemake with ``--rerun-incomplete``. Snakemake is
found beside the running Python (``.venv/bin/storyreel`` works without an activated venv).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from storyreel.core import pipeline
from storyreel.job.runner import TMP_DIR
from storyreel.recovery.verify import verify

PART_FILE = re.compile(r"^\..+\.part(\.\w+)?$|^\..+\.part$")
# Snakemake options that take several values: a target written after them would be read as
# one of their values (`--config stories=x results/k01/final.mp4`).
MULTI_VALUE = {"--config", "-C", "--set-threads", "--set-resources", "--default-resources",
               "--resources", "--res", "--set-scatter", "--set-resource-scopes",
               "--configfile", "--configfiles"}
LEGACY_TMP_AGE_S = 6 * 3600


def snakemake_command() -> list[str]:
    """Snakemake beside the running Python (a venv's bin/), else on PATH, else ``-m``."""
    beside = Path(sys.executable).parent / "snakemake"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("snakemake")
    return [found] if found else [sys.executable, "-m", "snakemake"]


def workdir_of(args: list[str]) -> Path:
    """The working directory Snakemake will use: ``-d``/``--directory`` or the current one."""
    for i, arg in enumerate(args):
        if arg in ("-d", "--directory") and i + 1 < len(args):
            return Path(args[i + 1]).resolve()
        if arg.startswith("--directory="):
            return Path(arg.split("=", 1)[1]).resolve()
    return Path.cwd().resolve()


def split_targets(args: list[str]) -> tuple[list[str], list[str]]:
    """(targets, options): targets written after a multi-value option (``--config a=b
    results/x/final.mp4``) are taken out, so that they can be passed before the options."""
    targets, options = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        options.append(arg)
        i += 1
        if arg in MULTI_VALUE:
            while i < len(args) and not args[i].startswith("-") and "=" in args[i]:
                options.append(args[i])
                i += 1
            while i < len(args) and not args[i].startswith("-"):
                targets.append(args[i])
                i += 1
    return targets, options


def _is_snakemake(cmdline: list[str]) -> bool:
    """A Snakemake process (its program or script is snakemake), not a reader of its files."""
    if not cmdline:
        return False
    names = [Path(cmdline[0]).name]
    if names[0].startswith("python") and len(cmdline) > 1:
        names.append(Path(cmdline[1]).name)
        if cmdline[1] == "-m" and len(cmdline) > 2:
            names.append(cmdline[2])
    return "snakemake" in names


def _proc_workdir(cmdline: list[str], cwd: str | None) -> Path:
    for i, arg in enumerate(cmdline):
        if arg in ("-d", "--directory") and i + 1 < len(cmdline):
            return Path(cwd or "/", cmdline[i + 1]).resolve()
        if arg.startswith("--directory="):
            return Path(cwd or "/", arg.split("=", 1)[1]).resolve()
    return Path(cwd or "/").resolve()


def _processes(workdir: Path) -> tuple[list[int], list[int]]:
    """(Snakemake processes, orphaned job processes) working in ``workdir``."""
    me = os.getpid()
    mine = {me} | {p.pid for p in psutil.Process(me).parents()}
    snakemakes, jobs = [], []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd", "ppid"]):
        try:
            info = proc.info
            if info["pid"] in mine:
                continue
            cmdline = info["cmdline"] or []
            if _is_snakemake(cmdline):
                if _proc_workdir(cmdline, info["cwd"]) == workdir:
                    snakemakes.append(info["pid"])
            elif (any("/.snakemake/scripts/" in a for a in cmdline)
                  and Path(info["cwd"] or "/").resolve() == workdir):
                jobs.append(info["pid"])
        except (psutil.Error, OSError):
            continue
    return snakemakes, jobs


def other_snakemake_running(workdir: Path) -> bool:
    """Whether another Snakemake process works in ``workdir`` (then its lock is not stale)."""
    return bool(_processes(Path(workdir).resolve())[0])


def clean_leftovers(workdir: Path) -> list[str]:
    """Remove what a killed run leaves: ``.part`` files beside outputs, the project's
    temporary folder, and (old) ``storyreel-*`` folders in the system temporary folder."""
    removed = []
    for folder in (pipeline.RESULTS, "logs"):
        base = workdir / folder
        if base.is_dir():
            for path in base.rglob(".*.part*"):
                if path.is_file() and PART_FILE.match(path.name):
                    path.unlink(missing_ok=True)
                    removed.append(path.relative_to(workdir).as_posix())
    tmp = workdir / TMP_DIR
    if tmp.exists():  # a killed job's folder is a leftover; a failed job's marker is not
        jobs = tmp / "jobs"
        if jobs.is_dir() and any(jobs.iterdir()):
            removed.append(TMP_DIR.as_posix() + "/")
        shutil.rmtree(tmp, ignore_errors=True)
    now = time.time()
    for path in Path(tempfile.gettempdir()).glob("storyreel-*"):  # left by older versions
        if path.name == f"storyreel-{os.getuid()}":  # the model workers' sockets (live)
            continue
        try:
            if path.is_dir() and path.owner() == Path.home().owner() \
                    and now - path.stat().st_mtime > LEGACY_TMP_AGE_S:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(str(path))
        except (OSError, KeyError):
            continue
    return removed


def _wait_for_orphans(workdir: Path, timeout_s: float = 300) -> list[int]:
    deadline = time.monotonic() + timeout_s
    jobs = _processes(workdir)[1]
    if jobs:
        print(f"storyreel: waiting for {len(jobs)} job(s) of a killed Snakemake to end "
              f"(pids {', '.join(map(str, jobs))})", file=sys.stderr)
    while jobs and time.monotonic() < deadline:
        time.sleep(0.5)
        jobs = [pid for pid in jobs if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    return jobs


def resume(args: list[str]) -> int:
    """Recover after a crash or kill -9, then run Snakemake (see the module doc).

    ``args`` are Snakemake's (targets, ``--cores``, ``-d``, ``-s``, ``--config`` ...).
    """
    workdir = workdir_of(args)
    targets, options = split_targets(list(args))
    snakemake = snakemake_command()
    if other_snakemake_running(workdir):
        print(f"storyreel: another Snakemake is running in {workdir}; not resuming",
              file=sys.stderr)
        return 1
    still = _wait_for_orphans(workdir)
    if still:
        print(f"storyreel: job processes {still} of a killed Snakemake still run in "
              f"{workdir}; stop them and resume again", file=sys.stderr)
        return 1
    locks = workdir / ".snakemake" / "locks"
    if locks.exists() and any(locks.iterdir()):
        proc = subprocess.run([*snakemake, *options, "--unlock"], capture_output=True,
                              text=True, check=False)
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            print("storyreel: could not remove the stale lock: "
                  + (lines[-1] if lines else f"exit {proc.returncode}"), file=sys.stderr)
            return proc.returncode or 1
        print("storyreel: removed a stale lock", file=sys.stderr)
    cleaned = clean_leftovers(workdir)
    if cleaned:
        print(f"storyreel: removed {len(cleaned)} leftover(s) of a killed run", file=sys.stderr)
    report = verify(workdir)
    if not report.ok:
        for line in report.lines():
            print(f"storyreel: {line}", file=sys.stderr)
    return subprocess.call([*snakemake, *targets, *options, "--rerun-incomplete"])

