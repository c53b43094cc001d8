"""Snakemake adapter: runs storyreel.stages.video inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import video

run(snakemake, video.main)
