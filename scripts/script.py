"""Snakemake adapter: runs storyreel.stages.script inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import script

run(snakemake, script.main)
