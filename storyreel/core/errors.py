"""Exceptions with messages meant for users, not tracebacks."""


class StoryreelError(Exception):
    """Base class: the message is shown to the user as is."""


class ConfigError(StoryreelError):
    """A config or stories file is invalid; the message names the key path."""


class ArtifactError(StoryreelError):
    """An artifact failed validation when written or read."""


class UnknownBackendError(StoryreelError):
    """A backend name that no registry entry knows."""


class MissingExtraError(StoryreelError):
    """A backend needs an optional dependency that is not installed."""

    def __init__(self, backend: str, module: str, extra: str) -> None:
        super().__init__(
            f"backend '{backend}' needs the Python module '{module}', which is not installed; "
            f"install it with: pip install 'storyreel[{extra}]'"
        )
        self.extra = extra


class PermanentError(StoryreelError):
    """An error that a retry cannot cure (bad input, bad config, missing model): the job's later
    attempts fail at once, without backoff."""


class TransientError(StoryreelError):
    """An error worth retrying (a time-out, a busy server, an injected transient fault)."""


class CorruptInputError(PermanentError):
    """A stage's input file is corrupt; the message names the file and the rule that makes it
    (``storyreel verify`` or ``storyreel resume`` removes it so that the next run remakes it)."""


# Errors a retry cannot cure. Any other exception is retried (with backoff).
PERMANENT = (PermanentError, ConfigError, ArtifactError, UnknownBackendError, MissingExtraError)
