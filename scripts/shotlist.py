"""Snakemake adapter: runs storyreel.stages.shotlist inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import shotlist

run(snakemake, shotlist.main)
