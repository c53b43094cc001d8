"""Read Snakemake's console output: which jobs ran (or would run, with ``-n``).

One parser for everything that counts jobs (the benchmark, the workflow tests, tools).
"""

from __future__ import annotations

import re

JOB_LINE = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
WILDCARDS_LINE = re.compile(r"^\s+wildcards: (.*)$")
# The storyreel logger plugin (profiles/default) prints one line per finished job instead.
STORYREEL_LINE = re.compile(r"· done (\w+)(?:\[[^\]/]*(?:/([^\]/]+))?\])? in ")


def jobs(output: str) -> list[str]:
    """Jobs in Snakemake's output, in order, as ``rule`` or ``rule[shot]`` (``rule[character]``
    for portraits; the target rule
    ``all`` is left out)."""
    found: list[str] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        done = STORYREEL_LINE.search(line)
        if done and done.group(1) != "all":
            found.append(done.group(1) + (f"[{done.group(2)}]" if done.group(2) else ""))
            continue
        match = JOB_LINE.match(line)
        if not match or match.group(1) == "all":
            continue
        name = match.group(1)
        for follow in lines[i + 1:i + 12]:  # the job's own block, up to the next job
            if JOB_LINE.match(follow):
                break
            wild = WILDCARDS_LINE.match(follow)
            if wild:
                for item in ("shot=", "character="):
                    if item in wild.group(1):
                        name += "[" + wild.group(1).split(item)[1].split(",")[0] + "]"
                break
        found.append(name)
    return found
