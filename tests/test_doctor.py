"""`storyreel doctor` and the preflight before a run: one line per failed check, naming its fix."""

from __future__ import annotations

import importlib.metadata
import shutil
from collections import namedtuple

import pytest

from storyreel import cli
from storyreel.ops import doctor

from conftest import TINY_STORY, Workdir

Usage = namedtuple("Usage", "total used free")


def fail_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAIL")]


def diagnose(work: Workdir, capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["doctor", "-d", str(work.path), *args])
    return code, capsys.readouterr().out


@pytest.fixture
def everything_installed(monkeypatch):
    """Every extra's distributions count as installed, but those a test takes away."""
    missing: set[str] = set()
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name in missing:
            raise importlib.metadata.PackageNotFoundError(name)
        try:
            return real(name)
        except importlib.metadata.PackageNotFoundError:
            return "1.0"

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return missing


def diffusers_work(tmp_path, model: str) -> Workdir:
    stages = {"keyframes": {"backend": "diffusers", "model": model, "device": "cpu"}}
    return Workdir(tmp_path / "work", [TINY_STORY], {"stages": stages})


def test_a_machine_that_can_run_the_config_passes(tmp_path, capsys, everything_installed):
    code, out = diagnose(Workdir(tmp_path / "work", [TINY_STORY]), capsys)
    assert code == 0, out
    assert fail_lines(out) == []
    assert out.splitlines()[-1] == "storyreel doctor: this machine can run this config (1 story)"
    for name in ("extras", "models", "disk", "gpu", "fonts", "ffmpeg"):
        assert any(line.startswith(f"ok   {name}") for line in out.splitlines()), name


def test_a_missing_extra_is_one_line_naming_the_pip_install(tmp_path, capsys,
                                                            everything_installed):
    (tmp_path / "sd").mkdir()
    everything_installed.add("diffusers")
    code, out = diagnose(diffusers_work(tmp_path, str(tmp_path / "sd")), capsys)
    assert code == 1
    assert fail_lines(out) == [
        "FAIL extras  keyframes/diffusers needs storyreel[diffusers] (missing: diffusers): "
        "pip install 'storyreel[diffusers]'"]


def test_a_missing_model_is_one_line(tmp_path, capsys, everything_installed):
    code, out = diagnose(diffusers_work(tmp_path, "/nonexistent/sd15"), capsys)
    assert code == 1
    assert fail_lines(out) == [
        "FAIL models  stages.keyframes.model: /nonexistent/sd15 is not a folder here: copy the "
        "model to /nonexistent/sd15 or name another folder in stages.keyframes.model"]


def test_a_gguf_model_is_a_file(tmp_path, capsys, everything_installed):
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    stages = {"script": {"backend": "transformers", "model": str(tmp_path / "m.gguf")}}
    code, out = diagnose(Workdir(tmp_path / "work", [TINY_STORY], {"stages": stages}), capsys)
    assert "models" not in " ".join(fail_lines(out)), out
    missing = str(tmp_path / "gone.gguf")
    stages["script"]["model"] = missing
    code, out = diagnose(Workdir(tmp_path / "gone", [TINY_STORY], {"stages": stages}), capsys)
    assert code == 1
    assert fail_lines(out) == [
        f"FAIL models  stages.script.model: {missing} is not a file here: copy the model to "
        f"{missing} or name another file in stages.script.model"]


def test_offline_mode_wants_the_hub_switched_off(tmp_path, capsys, everything_installed,
                                                 monkeypatch):
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    code, out = diagnose(Workdir(tmp_path / "work", [TINY_STORY]), capsys, "--offline")
    assert code == 1
    assert fail_lines(out) == ["FAIL offline HF_HUB_OFFLINE is not set: a missing file would be "
                               "downloaded: export HF_HUB_OFFLINE=1"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline mode by itself, and switched off
    code, out = diagnose(Workdir(tmp_path / "work", [TINY_STORY]), capsys)
    assert code == 0 and "ok   offline the model hub is switched off" in out.splitlines()
    stages = {"script": {"backend": "openai", "base_url": "https://api.example.com/v1"}}
    work = Workdir(tmp_path / "remote", [TINY_STORY], {"stages": stages})
    code, out = diagnose(work, capsys)
    assert fail_lines(out) == ["FAIL models  script/openai asks https://api.example.com/v1 "
                               "(offline mode): serve llama3.2 on this machine and set "
                               "stages.script.base_url"]


def test_a_full_disk_is_one_line(tmp_path, capsys, everything_installed, monkeypatch):
    work = Workdir(tmp_path / "work", [TINY_STORY])
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10 * 2**30, 10 * 2**30, 2**20))
    code, out = diagnose(work, capsys)
    assert code == 1
    assert fail_lines(out) == [
        f"FAIL disk    1 MB free, 1 film to make need about 8 MB: free 7 MB on {work.path} "
        "(`storyreel clean` removes finished stories' intermediates)"]


def test_a_character_no_font_draws_is_one_line(tmp_path, capsys, everything_installed):
    work = Workdir(tmp_path / "work", [{**TINY_STORY, "title": "The Lamp \U00013000"}])
    code, out = diagnose(work, capsys)
    assert code == 1
    assert fail_lines(out) == [
        "FAIL fonts   no font here draws '\U00013000' (U+13000, tiny): apt-get install "
        "fonts-dejavu-core fonts-noto-core, or change the text"]


def test_a_gpu_smaller_than_the_model_needs(monkeypatch):
    from storyreel.core import config as srconfig

    config = srconfig.load_config({"stages": {"video": {"backend": "diffusers",
                                                        "vram_mb": 40000}}})
    monkeypatch.setattr(doctor, "gpus", lambda: [("NVIDIA L4", 23034.0)])
    check = doctor.check_gpu(config)
    assert not check.ok
    assert check.line() == ("FAIL gpu     1 GPU(s), the largest NVIDIA L4 with 23034 MB; "
                            "stages.video.vram_mb is 40000 MB: choose a smaller model, or lower "
                            "vram_mb with the model's memory savers")
    monkeypatch.setattr(doctor, "gpus", lambda: [("NVIDIA H100", 81559.0)])
    assert doctor.check_gpu(config).ok


def test_a_broken_config_is_one_line(tmp_path, capsys):
    work = Workdir(tmp_path / "work", [TINY_STORY])
    code, out = diagnose(work, capsys, "--config", "retries=-3")
    assert code == 1
    (line,) = fail_lines(out)
    assert line.startswith("FAIL config  config: retries:"), line


@pytest.mark.workflow
def test_the_preflight_stops_a_run_before_any_job(tmp_path):
    work = Workdir(tmp_path / "work", [{**TINY_STORY, "title": "The Lamp \U00013000"}])
    result = work.run(check=False)
    assert result.returncode == 1
    assert "storyreel preflight (`storyreel doctor` checks the same):" in result.output
    assert ("  FAIL fonts   no font here draws '\U00013000' (U+13000, tiny): apt-get install "
            "fonts-dejavu-core fonts-noto-core, or change the text") in result.output.splitlines()
    assert not (work.path / "results" / "tiny").exists()
