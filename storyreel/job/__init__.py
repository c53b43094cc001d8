"""One Snakemake job around a stage: its context, the runner, fallbacks, fault injection and
input checks."""
