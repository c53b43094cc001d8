"""Snakemake adapter: the contact sheet of a story's keyframes (storyreel.report)."""

from storyreel import report
from storyreel.runner import run

run(snakemake, report.main_contactsheet)
