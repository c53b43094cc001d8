"""Snakemake adapter: the per-stage time and memory table with provenance (storyreel.report)."""

from storyreel import report
from storyreel.runner import run

run(snakemake, report.main_stagetable)
