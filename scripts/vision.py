"""Snakemake adapter: runs storyreel.stages.vision inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import vision

run(snakemake, vision.main)
