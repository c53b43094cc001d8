"""Snakemake adapter: the per-stage time and memory table with provenance (storyreel.ops.report)."""

from storyreel.job.runner import run
from storyreel.ops import report

run(snakemake, report.main_stagetable)
