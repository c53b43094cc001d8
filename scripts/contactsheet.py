"""Snakemake adapter: the contact sheet of a story's keyframes (storyreel.ops.report)."""

from storyreel.job.runner import run
from storyreel.ops import report

run(snakemake, report.main_contactsheet)
