"""Snakemake adapter: runs storyreel.stages.post inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import post

run(snakemake, post.main)
