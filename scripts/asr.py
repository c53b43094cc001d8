"""Snakemake adapter: runs storyreel.stages.asr inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import asr

run(snakemake, asr.main)
