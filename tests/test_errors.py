"""One error taxonomy (issue 16): every error is transient, permanent or resource, with one line
naming the cause and the fix; the runner retries only transient errors, fallbacks degrade on
permanent and resource errors, and ffmpeg out of disk says so."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
from types import SimpleNamespace

import pytest

from storyreel.core.errors import (
    PERMANENT_KIND,
    RESOURCE,
    TRANSIENT,
    ConfigError,
    DiskFullError,
    MissingExtraError,
    StoryreelError,
    TransientError,
    UnusableAnswerError,
    classify,
)
from storyreel.job import fallback, runner
from storyreel.job.context import JobContext
from storyreel.media import ffmpeg


class HTTPError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"server answered HTTP {status}")
        self.status = status


class Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


class ClientError(Exception):
    """Like requests' and httpx's errors: the status on the response."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.response = Response(status)


class OutOfMemoryError(RuntimeError):
    """Named like torch.cuda.OutOfMemoryError."""


CASES = [
    (TimeoutError("read timed out"), TRANSIENT),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), TRANSIENT),
    (OSError(errno.ECONNREFUSED, "Connection refused"), TRANSIENT),
    (HTTPError(500), TRANSIENT),
    (HTTPError(503), TRANSIENT),
    (HTTPError(429), TRANSIENT),
    (ClientError(502), TRANSIENT),
    (TransientError("injected transient fault"), TRANSIENT),
    (ValueError("a bug"), TRANSIENT),
    (HTTPError(400), PERMANENT_KIND),
    (HTTPError(401), PERMANENT_KIND),
    (HTTPError(403), PERMANENT_KIND),
    (HTTPError(404), PERMANENT_KIND),
    (ClientError(422), PERMANENT_KIND),
    (PermissionError(errno.EPERM, "Operation not permitted", "results/k01/x.json"),
     PERMANENT_KIND),
    (PermissionError(errno.EACCES, "Permission denied", "results/k01/x.json"), PERMANENT_KIND),
    (OSError(errno.EROFS, "Read-only file system", "results/k01/x.json"), PERMANENT_KIND),
    (OSError(errno.ENOSPC, "No space left on device", "results/k01/x.json"), PERMANENT_KIND),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), PERMANENT_KIND),
    (ConfigError("config: seed: bad"), PERMANENT_KIND),
    (MissingExtraError("keyframes/diffusers", "diffusers", "diffusers"), PERMANENT_KIND),
    (UnusableAnswerError("the answer holds no JSON object"), PERMANENT_KIND),
    (MemoryError(), RESOURCE),
    (OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), RESOURCE),
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: out of memory"), RESOURCE),
    (OSError(errno.ENOMEM, "Cannot allocate memory"), RESOURCE),
]


@pytest.mark.parametrize("exc,kind", CASES, ids=[f"{type(c[0]).__name__}-{i}"
                                                  for i, c in enumerate(CASES)])
def test_every_error_has_one_kind_and_one_line(exc, kind):
    failure = classify(exc)
    assert failure.kind == kind
    assert failure.retry is (kind == TRANSIENT)
    assert failure.message and "\n" not in failure.message


def test_a_full_disk_says_where_how_much_is_free_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "k01").mkdir(parents=True)
    message = classify(OSError(errno.ENOSPC, "No space left on device",
                               "results/k01/words.json")).message
    assert message.startswith("results/ is full: ")
    assert " free; free space (storyreel clean" in message
    assert "storyreel resume" in message


def test_a_wrapped_cause_is_classified_by_what_it_is():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "x")
        except OSError as exc:
            raise StoryreelError("could not write the clip") from exc
    except StoryreelError as wrapped:
        assert classify(wrapped).kind == PERMANENT_KIND
        assert "is full" in classify(wrapped).message


def fake_smk(tmp_path, attempt: int, retries: int = 2) -> SimpleNamespace:
    log = tmp_path / "logs" / "idea" / "tiny.log"
    return SimpleNamespace(
        rule="idea", wildcards=SimpleNamespace(items=lambda: [("story", "tiny")]),
        log=[str(log)], input=[], resources={"attempt": attempt},
        config={"retries": retries, "retry": {"backoff_s": [0.01], "jitter": 0}})


@pytest.mark.parametrize("exc", [
    PermissionError(errno.EPERM, "Operation not permitted", "results/tiny/idea.json"),
    OSError(errno.ENOSPC, "No space left on device", "results/tiny/idea.json"),
    HTTPError(401),
], ids=["EPERM", "ENOSPC", "HTTP401"])
def test_permission_full_disk_and_401_are_not_retried(tmp_path, monkeypatch, exc):
    """Issue 16: "Operation not permitted", "No space left on device" and HTTP 401 were retried
    as transient errors."""
    monkeypatch.chdir(tmp_path)
    calls = []

    def main(smk, job):
        calls.append(job.attempt)
        raise exc

    for attempt in (1, 2, 3):
        with pytest.raises(SystemExit) as info:
            runner.run(fake_smk(tmp_path, attempt), main)
        assert "\n" not in str(info.value.code)
    assert calls == [1]
    status = json.loads((tmp_path / "logs" / ".status" / "idea" / "tiny.json").read_text())
    assert status["kind"] == "permanent"
    assert "not retried" in (tmp_path / "logs" / "idea" / "tiny.attempt2.log").read_text()


def test_an_unexpected_error_is_retried_and_its_traceback_kept_in_the_log(tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)

    def main(smk, job):
        raise KeyError("scenes")

    with pytest.raises(SystemExit) as info:
        runner.run(fake_smk(tmp_path, 1), main)
    assert "Traceback" not in str(info.value.code)
    assert "retried" in str(info.value.code)
    assert "Traceback" in (tmp_path / "logs" / "idea" / "tiny.log").read_text()
    assert not (tmp_path / ".snakemake" / "storyreel-tmp" / "permanent").exists()


def test_a_log_that_cannot_be_written_prints_no_logging_error(tmp_path, monkeypatch, capsys):
    """A full disk made every log line print "--- Logging error ---" and a traceback."""
    monkeypatch.chdir(tmp_path)
    runner.setup_logging(str(tmp_path / "x.log"))
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler))
    saved, handler.stream = handler.stream, open("/dev/full", "w")  # noqa: SIM115 (ENOSPC)
    try:
        logging.getLogger("storyreel").error("a line the disk refuses")
    finally:
        full, handler.stream = handler.stream, saved
        with contextlib.suppress(OSError):
            full.close()
    assert "Logging error" not in capsys.readouterr().err


def test_a_finished_job_leaves_no_empty_job_folder(tmp_path, monkeypatch):
    """Issue 16: every successful run left .snakemake/storyreel-tmp/jobs/, so every later
    `storyreel resume` reported "removed 1 leftover(s) of a killed run"."""
    monkeypatch.chdir(tmp_path)
    runner.run(fake_smk(tmp_path, 1), lambda smk, job: None)
    assert not (tmp_path / runner.TMP_DIR).exists()


def test_resource_errors_degrade_at_once_and_environment_errors_never_fall_back(tmp_path):
    options = {"backend": "heavy", "fallback": ["light"]}
    first = JobContext("keyframes", "k01", "sh001", attempt=1, attempts=3, results=tmp_path)

    def oom(name):
        if name == "heavy":
            raise OutOfMemoryError("CUDA out of memory")
        return name

    assert fallback.with_fallback(first, options, oom) == "light"  # not only on the last try

    def full(name):
        raise OSError(errno.ENOSPC, "No space left on device", "results/k01/x.png")

    last = JobContext("keyframes", "k01", "sh001", attempt=3, attempts=3, results=tmp_path)
    calls = []
    with pytest.raises(OSError):
        fallback.with_fallback(last, options, lambda n: calls.append(n) or full(n))
    assert calls == ["heavy"]  # another backend would fill the same disk


def test_ffmpeg_out_of_disk_says_the_disk_is_full():
    """Issue 16: the message was x264's statistics and "Conversion failed!"."""
    with pytest.raises(DiskFullError) as info:
        ffmpeg.run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc=d=1:s=64x64", "-f", "mp4",
                           "/dev/full"], "encode a test clip")
    assert " is full: " in str(info.value)
    assert "Conversion failed" not in str(info.value)
    assert classify(info.value).kind == PERMANENT_KIND


def test_an_encoder_error_on_a_full_disk_is_a_full_disk(tmp_path, monkeypatch):
    """Pillow reports a full disk as "encoder error -2 when writing image file" (no errno):
    the keyframes stage retried it as a transient error."""
    from collections import namedtuple

    from storyreel.core import artifacts

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(artifacts.shutil, "disk_usage", lambda path: usage(100, 100, 0))
    with pytest.raises(DiskFullError, match=r" is full: "):  # noqa: PT012
        with artifacts.atomic_path(tmp_path / "keyframes" / "sh001.png"):
            raise OSError("encoder error -2 when writing image file")
    assert not list((tmp_path / "keyframes").iterdir())
