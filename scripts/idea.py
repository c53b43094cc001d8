"""Snakemake adapter: runs storyreel.stages.idea inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import idea

run(snakemake, idea.main)
