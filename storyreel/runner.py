"""Glue between Snakemake ``script:`` adapters and the pure stage functions.

Each ``scripts/<stage>.py`` is two lines: it passes the ``snakemake`` object and the stage's
``main`` to :func:`run`, which logs to the rule's ``log:`` file, records the wall time and peak
memory, and turns user-facing errors into one clear line instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from storyreel import monitor
from storyreel.errors import StoryreelError

log = logging.getLogger("storyreel")


def setup_logging(path: str | None) -> None:
    stderr = logging.StreamHandler(sys.stderr)
    # The storyreel logger plugin keeps the terminal for progress: the job's own INFO lines go
    # to its log file only (STORYREEL_STDERR_LEVEL=WARNING; INFO with -v, ERROR with -q).
    stderr.setLevel(os.environ.get("STORYREEL_STDERR_LEVEL", "INFO").upper())
    handlers: list[logging.Handler] = [stderr]
    if path:
        handlers.append(logging.FileHandler(path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def run(smk: Any, main: Callable[[Any], None]) -> None:
    """Run one stage inside a Snakemake job."""
    log_path = smk.log[0] if len(smk.log) else None
    setup_logging(log_path)
    started = time.perf_counter()
    wildcards = dict(smk.wildcards.items())
    log.info("rule %s %s starting", smk.rule, wildcards)
    try:
        with monitor.Monitor() as mon:  # peak RSS and GPU memory (storyreel.monitor)
            main(smk)
    except StoryreelError as exc:
        log.error("%s", exc)
        if log_path:
            with open(log_path, "a", encoding="utf-8") as fh:
                traceback.print_exc(file=fh)
        sys.exit(f"storyreel {smk.rule} {wildcards}: {exc}")
    except Exception:
        log.exception("rule %s failed", smk.rule)
        raise
    if log_path:
        monitor.write_peaks(log_path, mon.record())
    log.info("rule %s done in %.2f s, %s", smk.rule, time.perf_counter() - started, mon.text())
