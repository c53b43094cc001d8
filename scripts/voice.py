"""Snakemake adapter: runs storyreel.stages.voice inside the rule's job."""

from storyreel.runner import run
from storyreel.stages import voice

run(snakemake, voice.main)
