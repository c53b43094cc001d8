"""Snakemake adapter: runs storyreel.stages.portraits inside the rule's job."""

from storyreel.job.runner import run
from storyreel.stages import portraits

run(snakemake, portraits.main)
