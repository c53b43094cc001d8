"""Snakemake adapter: runs storyreel.stages.keyframes inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import keyframes

run(snakemake, keyframes.main)
