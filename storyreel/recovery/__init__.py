"""Recovery after a crash or kill -9: `storyreel verify` and `storyreel resume`."""
