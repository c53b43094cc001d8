"""The `storyreel` command: small helpers around the Snakemake workflow.

    storyreel resume [SNAKEMAKE ARGS...]   recover after a crash or kill -9, then run
    storyreel docs [--check]               regenerate (or check) docs/config.md
    storyreel backends                     list the registered backends
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil

from storyreel import docgen, registry


def other_snakemake_running(workdir: Path) -> bool:
    """Whether another Snakemake process works in ``workdir`` (then its lock is not stale)."""
    me = os.getpid()
    parents = {p.pid for p in psutil.Process(me).parents()}
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            if proc.info["pid"] == me or proc.info["pid"] in parents:
                continue
            cmdline = " ".join(proc.info["cmdline"] or [])
            if "snakemake" in cmdline and Path(proc.info["cwd"] or "/") == workdir:
                return True
        except (psutil.Error, OSError):
            continue
    return False


def workdir_of(args: list[str]) -> Path:
    """The working directory Snakemake will use: ``-d``/``--directory`` or the current one."""
    for i, arg in enumerate(args):
        if arg in ("-d", "--directory") and i + 1 < len(args):
            return Path(args[i + 1]).resolve()
        if arg.startswith("--directory="):
            return Path(arg.split("=", 1)[1]).resolve()
    return Path.cwd().resolve()


def resume(args: list[str]) -> int:
    """Remove a stale lock (only when no Snakemake runs there) and rerun incomplete jobs.

    ``args`` are passed to Snakemake as they are (targets, ``--cores``, ``-d``, ``-s`` ...).
    """
    workdir = workdir_of(args)
    snakemake = shutil.which("snakemake") or "snakemake"
    locks = workdir / ".snakemake" / "locks"
    if locks.exists() and any(locks.iterdir()):
        if other_snakemake_running(workdir):
            print(f"storyreel: another Snakemake is running in {workdir}; not unlocking",
                  file=sys.stderr)
            return 1
        subprocess.run([snakemake, *args, "--unlock"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print("storyreel: removed a stale lock", file=sys.stderr)
    return subprocess.call([snakemake, *args, "--rerun-incomplete"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storyreel", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("resume", help="unlock after a crash and rerun incomplete jobs")
    docs = sub.add_parser("docs", help="regenerate docs/config.md from the schemas")
    docs.add_argument("--check", action="store_true", help="fail if docs/config.md is stale")
    sub.add_parser("backends", help="list registered backends")
    args, rest = parser.parse_known_args(argv)
    if args.command == "resume":
        return resume(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "docs":
        if args.check:
            stale = docgen.is_stale()
            print("docs/config.md is stale: run `storyreel docs`" if stale else "up to date")
            return int(stale)
        docgen.write()
        return 0
    for kind in registry.kinds():
        for name in registry.known(kind):
            spec = registry.spec(kind, name)
            gpu = " (GPU)" if spec.gpu else ""
            print(f"{kind:8} {name:14} {spec.summary}{gpu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
