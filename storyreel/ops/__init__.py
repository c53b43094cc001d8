"""Operations over runs and results: progress and ETA, the web monitor, the report,
notifications, the end-of-run summary, status, clean-up and the docs generator."""
