"""Exceptions with messages meant for users, and the one taxonomy of failures.

Every error a job meets is one of three kinds (:func:`classify`):

- **transient**: asking again may work (a time-out, HTTP 5xx or 429, a reset connection, an
  injected transient fault, an unexpected error): the job is retried with backoff;
- **permanent**: asking again cannot work (bad input or config, HTTP 4xx other than 408/429,
  permission denied, a full disk, a missing model or extra, a model that answered unusably):
  the job fails at once and its later attempts exit without waiting;
- **resource**: out of memory: a retry of the same thing fails the same way, so the job
  degrades (its fallback backend takes over at once) or fails with what to lower.

Each classified failure carries one line that names the cause and the fix, e.g.
``results/k01/ is full: 2.1 GB needed, 0.3 GB free; free space (storyreel clean) or move the
project``. The runner, the fallback chain, the chaos benchmark and the summary all use it.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import NamedTuple

TRANSIENT, PERMANENT_KIND, RESOURCE = "transient", "permanent", "resource"
KINDS = (TRANSIENT, PERMANENT_KIND, RESOURCE)


class StoryreelError(Exception):
    """Base class: the message is shown to the user as is. Retried unless a subclass (or the
    instance's ``kind``) says otherwise."""

    kind = TRANSIENT


class PermanentError(StoryreelError):
    """An error that a retry cannot cure (bad input, bad config, missing model): the job's later
    attempts fail at once, without backoff."""

    kind = PERMANENT_KIND


class TransientError(StoryreelError):
    """An error worth retrying (a time-out, a busy server, an injected transient fault)."""

    kind = TRANSIENT


class ResourceError(StoryreelError):
    """Out of memory: the same attempt again would fail the same way; degrade instead."""

    kind = RESOURCE


class ConfigError(PermanentError):
    """A config or stories file is invalid; the message names the key path."""


class ArtifactError(PermanentError):
    """An artifact failed validation when written or read."""


class UnknownBackendError(PermanentError):
    """A backend name that no registry entry knows."""


class MissingExtraError(PermanentError):
    """A backend needs an optional dependency that is not installed."""

    def __init__(self, backend: str, module: str, extra: str) -> None:
        super().__init__(
            f"backend '{backend}' needs the Python module '{module}', which is not installed; "
            f"install it with: pip install 'storyreel[{extra}]'"
        )
        self.extra = extra


class UnusableAnswerError(PermanentError):
    """A model answered, but not usably (no JSON, not the schema, empty): the same request
    again would get the same answer."""


class CorruptInputError(PermanentError):
    """A stage's input file is corrupt; the message names the file and the rule that makes it
    (``storyreel verify`` or ``storyreel resume`` removes it so that the next run remakes it)."""


class DiskFullError(PermanentError):
    """The disk that holds a file is full; the message says how much is free (and needed)."""


class NoPermissionError(PermanentError):
    """A file or folder cannot be written (permissions, a read-only file system)."""


# Errors no other backend can cure either: bad input, and the disk or its permissions.
ENVIRONMENT = (ConfigError, ArtifactError, CorruptInputError, DiskFullError, NoPermissionError)

DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
NO_PERMISSION = {errno.EPERM, errno.EACCES, errno.EROFS}
NETWORK = {errno.ECONNRESET, errno.ECONNREFUSED, errno.ECONNABORTED, errno.ETIMEDOUT,
           errno.EPIPE, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EAGAIN}
RETRY_HTTP = {408, 425, 429}  # 4xx statuses a server sends when asking again may work


class Failure(NamedTuple):
    """A classified error: its kind, the one line a user sees (cause and fix), and whether
    another backend could do better (not for bad input, a full disk or no permission)."""

    kind: str
    message: str
    other_backend_may_help: bool = True
    unexpected: bool = False  # no rule knows it (a bug?): its traceback goes to the log

    @property
    def retry(self) -> bool:
        return self.kind == TRANSIENT


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (its type's name when empty)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _gb(size: float) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"


def _folder(path: str | os.PathLike[str] | None) -> Path:
    """The nearest existing folder of ``path`` (the working directory when None)."""
    folder = Path(path).parent if path else Path.cwd()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _shown(folder: Path) -> str:
    """``results/`` for a folder of the project (its top folder), else the folder itself."""
    try:
        rel = folder.resolve().relative_to(Path.cwd().resolve())
    except (OSError, ValueError):
        return folder.as_posix().rstrip("/") + "/"
    return (rel.parts[0] + "/") if rel.parts else "the project folder"


def disk_full(path: str | os.PathLike[str] | None, needed: int | None = None) -> DiskFullError:
    """``results/k01/ is full: 2.1 GB needed, 0.3 GB free; ...`` for a file at ``path``."""
    folder = _folder(path)
    try:
        free = shutil.disk_usage(folder).free
        room = (f"{_gb(needed)} needed, " if needed else "") + f"{_gb(free)} free"
    except OSError:
        room = "no space left"
    return DiskFullError(f"{_shown(folder)} is full: {room}; free space (storyreel clean removes "
                         "finished stories' intermediates) or move the project to a larger "
                         "disk, then run `storyreel resume`")


def no_permission(path: str | os.PathLike[str] | None, reason: str) -> NoPermissionError:
    shown = str(path) if path else "a file"
    return NoPermissionError(f"cannot write {shown}: {reason}; make it writable (chmod u+w, or "
                             "a writable disk), then run `storyreel resume`")


def first_unwritable(folders: list[str | os.PathLike[str]], depth: int = 2
                     ) -> NoPermissionError | None:
    """The error for the first existing folder (or one below it, ``depth`` levels down) that
    cannot be written: checked before a run starts, since Snakemake itself would fail with a
    traceback when it removes an old output there."""
    for top in map(Path, folders):
        if not top.is_dir():
            continue
        found = [top]
        for _ in range(depth):
            found += [p for f in found for p in f.iterdir() if p.is_dir() and p not in found]
        for folder in found:
            if not os.access(folder, os.W_OK):
                read_only = os.statvfs(folder).f_flag & os.ST_RDONLY
                return no_permission(f"{folder}/", "a read-only file system" if read_only
                                     else "permission denied")
    return None


def _http_status(exc: BaseException) -> int | None:
    for holder in (exc, getattr(exc, "response", None)):
        for name in ("status", "status_code"):
            value = getattr(holder, name, None)
            if isinstance(value, int) and 100 <= value <= 599:
                return value
    return None


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError) or type(exc).__name__ in ("OutOfMemoryError",
                                                               "ModelOutOfMemory"):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _oserror(exc: OSError) -> Failure:
    code = exc.errno
    if code in DISK_FULL:
        return Failure(PERMANENT_KIND, str(disk_full(exc.filename)), False)
    if code in NO_PERMISSION:
        reason = os.strerror(code) if code else "permission denied"
        return Failure(PERMANENT_KIND, str(no_permission(exc.filename, reason)), False)
    if code == errno.ENOMEM:
        return Failure(RESOURCE, f"out of memory ({first_line(exc)}); lower --cores or the "
                                 "stage's mem_mb, or free memory, then run `storyreel resume`")
    if code in NETWORK or isinstance(exc, ConnectionError | TimeoutError):
        return Failure(TRANSIENT, f"{first_line(exc)} (a network or time-out error: retried)")
    return Failure(TRANSIENT, first_line(exc), unexpected=True)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from, outermost first."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain and len(chain) < 16:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return chain


def classify(exc: BaseException) -> Failure:
    """The kind of an error and the one line a user sees (see the module doc)."""
    if _is_oom(exc):
        return Failure(RESOURCE, f"out of memory ({first_line(exc)}); the shot or job falls "
                                 "back to a lighter backend, or lower the stage's resolution, "
                                 "mem_mb or --cores")
    status = _http_status(exc)
    if status is not None and status >= 400:
        kind = TRANSIENT if status >= 500 or status in RETRY_HTTP else PERMANENT_KIND
        return Failure(kind, first_line(exc))
    if isinstance(exc, StoryreelError):
        kind = getattr(exc, "kind", TRANSIENT)
        if kind == TRANSIENT:  # a wrapper of a deeper cause that says more (a full disk...)
            for cause in _causes(exc)[1:]:
                if _is_oom(cause) or (isinstance(cause, OSError) and cause.errno in
                                      DISK_FULL | NO_PERMISSION | {errno.ENOMEM}):
                    return classify(cause)
        return Failure(kind if kind in KINDS else TRANSIENT, first_line(exc),
                       not isinstance(exc, ENVIRONMENT))
    if isinstance(exc, OSError):
        return _oserror(exc)
    return Failure(TRANSIENT, f"{first_line(exc)} (unexpected {type(exc).__name__}: "
                              "retried; the traceback is in the job's log)", unexpected=True)

