"""Snakemake adapter: runs storyreel.stages.revise inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import revise

run(snakemake, revise.main)
