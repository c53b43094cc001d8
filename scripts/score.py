"""Snakemake adapter: runs storyreel.stages.score inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import score

run(snakemake, score.main)
