"""The model backends through Snakemake: `script: transformers` and `asr: faster-whisper` are
one-line config changes (tiny random models built offline; their garbage goes through the
repair → fallback path and the WER gate)."""

from __future__ import annotations

import pytest
import yaml

from storyreel.core.artifacts import read_json

from conftest import Workdir

pytestmark = [pytest.mark.workflow, pytest.mark.llm, pytest.mark.whisper]
pytest.importorskip("transformers", reason="needs the llm extra: pip install 'storyreel[llm]'")
pytest.importorskip("faster_whisper", reason="needs the whisper extra")

PREMISE = {"id": "calf", "title": "The Calf", "duration_s": 8, "seed": 4,
           "idea": "An old lighthouse keeper guides a lost whale calf back to its mother."}


def test_transformers_writer_and_faster_whisper_through_snakemake(tmp_path):
    from storyreel.models.tiny import build_tiny_llm, build_tiny_whisper

    llm = build_tiny_llm(tmp_path / "llm")
    whisper = build_tiny_whisper(tmp_path / "whisper" / "ct2")
    base = Workdir(tmp_path / "work", [PREMISE])
    config = yaml.safe_load((base.path / "config" / "config.yaml").read_text())
    config["stages"]["script"] = {"backend": "transformers", "model": str(llm),
                                  "max_new_tokens": 16, "max_repairs": 0}
    config["stages"]["asr"] = {"backend": "faster-whisper", "model": str(whisper),
                               "device": "cpu", "beam_size": 1}
    base.write_config(config)
    result = base.run("--until", "shotlist")
    assert {"script", "asr"} <= set(result.jobs())
    results = base.results("calf")
    script = read_json(results / "script.json", "script")
    assert (script["backend"], script["configured_backend"]) == ("template", "transformers")
    assert script["fallback"]["from"] == "transformers"  # random weights: no usable answer
    assert script["generation"]["model_usage"]["loads"] == 1
    words = read_json(results / "words.json", "words")
    assert words["backend"] == "faster-whisper" and words["model"]["loads"] == 1
    assert words["wer"]["status"] == "flagged"  # a random Whisper hears nothing useful
    assert (results / "subtitles.srt").stat().st_size > 0
