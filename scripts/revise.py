"""Snakemake adapter: runs storyreel.stages.revise inside the rule's job."""

from storyreel.runner import run
from storyreel.stages import revise

run(snakemake, revise.main)
