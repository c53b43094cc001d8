"""Warm model workers: a model is loaded once and serves every per-shot job of its stage.

Keyframes and clips stay per-shot Snakemake jobs (per-shot resume, invalidation, logs and
benchmarks). A job whose backend holds a model (``gpu: true`` in the registry) does not load it:
:func:`call` connects to the stage's worker, a process that the first job starts and later jobs
reuse, sends the shot and waits for the answer. The worker loads the model once, serves requests
one at a time over a Unix socket, and exits after ``idle_s`` seconds without a request. It runs
in its own session, so it outlives the job that started it, and a resumed or edited run a little
later still finds the model warm. See docs/architecture.md for why this, not Snakemake's
``service()`` jobs, and for what happens on kill -9, on a one-shot edit and on SLURM.

A worker is keyed by the working directory, the stage and its whole config block (model, device,
dtype, steps, ...): a changed setting starts a new worker; the old one exits when idle. Two
workers (keyframes and video) may hold their models side by side while both fit; when a load or
a shot runs out of GPU memory, the worker first asks the other workers of the same working
directory to exit (they free the card) and only then switches on memory savers.
``--resources gpu=1`` keeps two GPU jobs apart, and the keyframes rule's higher priority runs a
story's keyframes before its clips, so each stage's model is used in one stretch.

A request names the story's other pending shots too (``peers``): the worker's backend renders
several shots per pipeline call and keeps the others until their jobs ask
(``storyreel.models.batching``). On SLURM, ``profiles/slurm`` groups the shot jobs so that one
allocation, and so one worker, serves up to twelve shots of a stage.

``stages.<stage>.warm: false`` loads the model in the job itself (once per shot; the benchmark's
baseline).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from storyreel.core import registry
from storyreel.core.errors import StoryreelError
from storyreel.models import peaks
from storyreel.models.diffusion import ModelOutOfMemory
from storyreel.models.peaks import Observer

log = logging.getLogger(__name__)

START_TIMEOUT_S = 1800.0  # a first load of a large model from the hub can take long
WORKER_LOGS = Path("logs") / "workers"
WORKER_TMP = Path(".snakemake") / "storyreel-workers"  # each worker's own $TMPDIR


class WorkerError(StoryreelError):
    """The worker failed to start or to answer."""


def socket_dir() -> Path:
    """A private folder for the sockets (short path: Unix sockets allow about 100 bytes). Not
    ``$TMPDIR``: Snakemake may give every job its own."""
    base = Path(os.environ.get("STORYREEL_RUNTIME_DIR") or os.environ.get("XDG_RUNTIME_DIR")
                or "/tmp")  # noqa: S108 - a private 0700 folder inside, checked below
    folder = base / f"storyreel-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise WorkerError(f"{folder} must belong to you and be private (mode 700)")
    return folder


def workdir_tag(workdir: str | Path | None = None) -> str:
    return hashlib.sha256(str(Path(workdir or os.getcwd()).resolve()).encode()).hexdigest()[:10]


def worker_key(stage: str, options: dict[str, Any]) -> str:
    blob = json.dumps({"stage": stage, "options": options}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def socket_path(stage: str, options: dict[str, Any], workdir: str | Path | None = None) -> Path:
    return socket_dir() / f"{workdir_tag(workdir)}-{stage}-{worker_key(stage, options)}.sock"


def call(stage: str, options: dict[str, Any], method: str, kwargs: dict[str, Any],
         observe: Observer | None = None) -> Any:
    """``backend.method(**kwargs)`` of the stage's backend: in its warm worker (started on first
    use), or in this process when ``options["warm"]`` is false. ``kwargs`` must be JSON.
    ``observe(rss_mb, gpu_mb)`` receives the worker's peak memory during the request (the
    job's :class:`~storyreel.models.peaks.Monitor` adds it to its own)."""
    if not options["warm"]:
        return getattr(registry.create(stage, options), method)(**kwargs)
    path = socket_path(stage, options)
    for attempt in (1, 2):
        try:
            return _request(ensure_worker(path, stage, options), method, kwargs, observe)
        except ConnectionError as exc:  # the worker died under us: start another one, once
            if attempt == 2:
                raise WorkerError(f"{stage} worker stopped answering: {exc}") from exc
            log.warning("%s worker stopped answering (%s); starting a new one", stage, exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    return sock


def ensure_worker(path: Path, stage: str, options: dict[str, Any]) -> socket.socket:
    """A connection to the worker at ``path``, starting it first when none answers."""
    sock = _connect(path)
    if sock:
        return sock
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one job starts the worker, the others wait for it
        sock = _connect(path)
        if sock:
            return sock
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a dead worker's socket
        return _spawn(path, stage, options)


def _spawn(path: Path, stage: str, options: dict[str, Any]) -> socket.socket:
    WORKER_LOGS.mkdir(parents=True, exist_ok=True)
    log_path = WORKER_LOGS / f"{stage}-{path.stem.rsplit('-', 1)[-1]}.log"
    spec = path.with_suffix(".json")
    spec.write_text(json.dumps({"stage": stage, "options": options}),
                    encoding="utf-8")
    log.info("starting the %s model worker (log: %s)", stage, log_path)
    # The worker outlives the job that starts it, so not that job's $TMPDIR (removed with it)
    scratch = (WORKER_TMP / path.stem).resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}
    with open(log_path, "a", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "storyreel.models.worker", str(path)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True, env=env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if path.exists():
            sock = _connect(path)
            if sock:
                return sock
        if proc.poll() is not None:
            text = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            raise WorkerError(f"the {stage} model worker exited ({proc.returncode}) before it "
                              "was ready:\n" + "\n".join(text[-12:]))
        time.sleep(0.05)
    raise WorkerError(f"the {stage} model worker was not ready in {START_TIMEOUT_S:.0f} s")


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


def _receive(sock: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the worker closed the connection without an answer")
        data += chunk
    return json.loads(data)


def _request(sock: socket.socket, method: str, kwargs: dict[str, Any],
             observe: Observer | None) -> Any:
    with sock:
        try:
            _send(sock, {"op": "call", "method": method, "kwargs": kwargs})
            answer = _receive(sock)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise ConnectionError(str(exc)) from exc
    if observe is not None:
        observe(answer.get("peak_rss_mb"), answer.get("peak_gpu_mb"))
    if answer["ok"]:
        return answer["result"]
    if answer["type"] == "oom":
        raise ModelOutOfMemory(answer["error"])
    raise WorkerError(answer["error"])


def release_others(path: Path) -> None:
    """Ask the other workers of this working directory to exit (they free the card)."""
    tag = path.name.split("-", 1)[0]
    for other in path.parent.glob(f"{tag}-*.sock"):
        if other == path:
            continue
        sock = _connect(other)
        if sock:
            with sock, contextlib.suppress(OSError, ValueError):
                _send(sock, {"op": "exit"})
                _receive(sock)
                log.info("asked %s to free the device", other.name)


def stop_all(workdir: str | Path | None = None) -> int:
    """Ask every worker of a working directory to exit now; returns how many answered."""
    stopped = 0
    for path in socket_dir().glob(f"{workdir_tag(workdir)}-*.sock"):
        sock = _connect(path)
        if sock:
            with sock, contextlib.suppress(OSError, ValueError):
                _send(sock, {"op": "exit"})
                _receive(sock)
                stopped += 1
    return stopped


def serve(path: Path) -> None:
    """The worker process: load the backend once, then answer requests until idle."""
    spec = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    stage, options = spec["stage"], spec["options"]
    idle_s = float(options["idle_s"])
    log.info("worker %s for %s: pid %d, exits after %.0f s idle", path.name, stage, os.getpid(),
             idle_s)
    from storyreel.models.diffusion import free_memory, is_oom

    factory = registry.get(stage, options["backend"])
    try:
        backend = factory(options)
    except Exception as exc:
        if not is_oom(exc):
            raise
        log.warning("out of memory loading the model: asking the other workers to exit")
        release_others(path)
        free_memory()
        backend = factory(options)
    backend.on_oom = lambda: release_others(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    server.bind(str(tmp))
    server.listen(64)
    os.replace(tmp, path)  # clients see the socket only when the model is loaded
    inode = path.stat().st_ino
    server.settimeout(1.0)
    last = time.monotonic()
    served = 0
    try:
        while True:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                if time.monotonic() - last > idle_s:
                    log.info("idle for %.0f s after %d requests: exiting", idle_s, served)
                    break
                try:
                    if path.stat().st_ino != inode:
                        break  # another worker took the path over
                except FileNotFoundError:
                    break
                continue
            with conn:
                conn.settimeout(None)
                if not _answer(conn, backend, stage):
                    log.info("asked to exit after %d requests", served)
                    break
            served += 1
            last = time.monotonic()
    finally:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_ino == inode:
                path.unlink()
                path.with_suffix(".json").unlink()
        server.close()


def _answer(conn: socket.socket, backend: Any, stage: str) -> bool:
    """Answer one request; False when it asks the worker to exit."""
    try:
        request = _receive(conn)
    except (ConnectionError, ValueError):
        return True
    if request.get("op") == "exit":
        _send(conn, {"ok": True, "result": None})
        return False
    started = time.perf_counter()
    with peaks.Monitor() as mon:
        try:
            result = getattr(backend, request["method"])(**request["kwargs"])
            answer: dict[str, Any] = {"ok": True, "result": result}
        except ModelOutOfMemory as exc:
            answer = {"ok": False, "type": "oom", "error": str(exc)}
        except StoryreelError as exc:
            answer = {"ok": False, "type": "error", "error": str(exc)}
        except Exception as exc:
            log.error("%s request failed:\n%s", stage, traceback.format_exc())
            answer = {"ok": False, "type": "error", "error": f"{type(exc).__name__}: {exc}"}
    answer.update(peak_rss_mb=mon.peak_rss_mb, peak_gpu_mb=mon.peak_gpu_mb)
    log.info("%s %s: %s in %.2f s (peak RSS %.0f MB%s)", stage, request["method"],
             "ok" if answer["ok"] else answer["error"], time.perf_counter() - started,
             mon.peak_rss_mb, peaks.gpu_text(mon.peak_gpu_mb))
    with contextlib.suppress(OSError):  # the job may have been killed meanwhile
        _send(conn, answer)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="storyreel warm model worker (started by jobs)")
    parser.add_argument("socket", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        serve(args.socket)
    except Exception:
        log.exception("worker failed")
        raise


if __name__ == "__main__":
    main()
