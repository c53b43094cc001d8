"""The `storyreel` command: small helpers around the Snakemake workflow.

    storyreel resume [SNAKEMAKE ARGS...]   recover after a crash or kill -9, then run
    storyreel verify [-d DIR] [--dry-run] [STORY...]  check artifacts, remove corrupt ones
    storyreel docs [--check]               regenerate (or check) docs/config.md
    storyreel backends                     list the registered backends
"""

from __future__ import annotations

import argparse
import sys

from storyreel import docgen, recovery, registry
from storyreel.recovery import other_snakemake_running, resume, workdir_of

__all__ = ["main", "other_snakemake_running", "resume", "workdir_of"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storyreel", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("resume", help="unlock after a crash and rerun incomplete jobs")
    sub.add_parser("verify", help="check every artifact; remove corrupt ones and dependents")
    docs = sub.add_parser("docs", help="regenerate docs/config.md from the schemas")
    docs.add_argument("--check", action="store_true", help="fail if docs/config.md is stale")
    sub.add_parser("backends", help="list registered backends")
    args, rest = parser.parse_known_args(argv)
    if args.command == "resume":
        return resume(rest)
    if args.command == "verify":
        return recovery.verify_main(rest)
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
