"""Snakemake adapter: runs storyreel.stages.voice inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import voice

run(snakemake, voice.main)
