"""Snakemake adapter: runs storyreel.stages.script inside the rule's job."""

from storyreel.runner import run
from storyreel.stages import script

run(snakemake, script.main)
