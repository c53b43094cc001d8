"""Registry, artifact I/O and generated docs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from storyreel import artifacts, docgen, registry
from storyreel.errors import ArtifactError, UnknownBackendError


def test_unknown_backend_lists_known_ones():
    with pytest.raises(UnknownBackendError) as info:
        registry.spec("writer", "gpt5")
    assert "openai, template" in str(info.value)


def test_schema_enums_match_the_registry(repo):
    schema = yaml.safe_load((repo / "schemas" / "config.schema.yaml").read_text())
    stages = schema["properties"]["stages"]["properties"]
    kinds = {"script": "writer", "revise": "editor", "voice": "tts", "asr": "asr",
             "vision": "planner", "keyframes": "image", "video": "motion", "post": "post"}
    for stage, kind in kinds.items():
        assert sorted(stages[stage]["properties"]["backend"]["enum"]) == registry.known(kind)


def test_every_registered_backend_imports():
    for kind in registry.kinds():
        for name in registry.known(kind):
            assert callable(registry.get(kind, name)), f"{kind}/{name}"


def test_import_storyreel_stays_light():
    code = ("import sys, storyreel, storyreel.registry, storyreel.config, storyreel.artifacts;"
            "heavy = {'torch', 'diffusers', 'transformers', 'faster_whisper', 'onnxruntime',"
            " 'piper', 'pocketsphinx', 'PIL', 'numpy'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_write_json_validates_before_writing(tmp_path):
    target = tmp_path / "shotlist.json"
    with pytest.raises(ArtifactError, match="shots"):
        artifacts.write_json(target, {"story": "a", "aspect": "16:9", "duration_s": 1,
                                      "crossfade_s": 0, "shots": []}, "shotlist")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_leaves_nothing_on_crash(tmp_path):
    target = tmp_path / "out.bin"
    target.write_text("old")
    with pytest.raises(RuntimeError), artifacts.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_read_json_rejects_a_corrupt_artifact(tmp_path):
    path = tmp_path / "idea.json"
    path.write_text("{\"story\": ")
    with pytest.raises(ArtifactError, match="cannot read"):
        artifacts.read_json(path, "idea")
    path.write_text(json.dumps({"story": "x"}))
    with pytest.raises(ArtifactError, match="invalid idea"):
        artifacts.read_json(path, "idea")


def test_sha256_helpers(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert artifacts.sha256_file(path).startswith("ba7816bf")
    assert artifacts.sha256_json({"b": 1, "a": 2}) == artifacts.sha256_json({"a": 2, "b": 1})


def test_config_docs_are_current():
    assert not docgen.is_stale(), "docs/config.md is stale: run `storyreel docs`"


def test_config_docs_cover_every_key(repo):
    text = docgen.render()
    for key in ("stages.asr.wer_threshold", "stages.post.loudness_lufs", "stories[].id",
                "stories[].duration_s", "shots"):
        assert f"`{key}`" in text


def test_atomic_write_gives_finished_files_the_usual_mode(tmp_path):
    target = tmp_path / "final.bin"
    with artifacts.atomic_path(target) as tmp:
        tmp.write_bytes(b"done")
    assert target.stat().st_mode & 0o777 == artifacts.FILE_MODE
    umask = os.umask(0)
    os.umask(umask)
    assert artifacts.FILE_MODE == 0o666 & ~umask  # not mkstemp's 0600


def test_stage_specs_follow_the_configured_backend():
    assert registry.stage_spec("script", {"backend": "openai"}).uses_model
    assert not registry.stage_spec("script", {"backend": "template"}).uses_model
    assert registry.stage_spec("idea", {}) is None
    with pytest.raises(UnknownBackendError, match="known writer backends: openai, template"):
        registry.stage_spec("script", {"backend": "gpt"})


def test_a_backend_with_a_missing_extra_names_the_extra():
    from storyreel.errors import MissingExtraError

    registry.register(registry.BackendSpec("image", "fake-diffusers",
                                           "storyreel_no_such_module.pipe:Pipe", gpu=True,
                                           extra="diffusers"))
    try:
        with pytest.raises(MissingExtraError, match=r"pip install 'storyreel\[diffusers\]'"):
            registry.get("image", "fake-diffusers")
    finally:
        registry._REGISTRY["image"].pop("fake-diffusers")
    registry.register(registry.BackendSpec("image", "broken", "storyreel.no_such:X"))
    try:  # a missing module of storyreel itself is a bug, not a missing extra
        with pytest.raises(ModuleNotFoundError):
            registry.get("image", "broken")
    finally:
        registry._REGISTRY["image"].pop("broken")
