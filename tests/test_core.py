"""Registry, artifact I/O and generated docs."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import subprocess
import sys
import tomllib

import pytest
import yaml

from storyreel.core import artifacts, pipeline, registry
from storyreel.core.config import options_for
from storyreel.core.errors import (
    ArtifactError,
    ConfigError,
    MissingExtraError,
    StoryreelError,
    UnknownBackendError,
)
from storyreel.core.types import stable_seed
from storyreel.ops import docs


def test_unknown_backend_lists_known_ones():
    with pytest.raises(UnknownBackendError) as info:
        registry.spec("script", "gpt5")
    assert str(info.value) == ("unknown script backend 'gpt5'; known script backends: openai, "
                               "template, transformers")


def test_schema_enums_match_the_registry(repo):
    schema = yaml.safe_load((repo / "schemas" / "config.schema.yaml").read_text())
    stages = schema["properties"]["stages"]["properties"]
    with_backend = sorted(stage for stage, block in stages.items()
                          if "backend" in block["properties"])
    assert with_backend == sorted(pipeline.BACKEND_KINDS)  # a backend kind is its stage
    for stage in pipeline.BACKEND_KINDS:
        assert sorted(stages[stage]["properties"]["backend"]["enum"]) == registry.known(stage)


def test_every_registered_backend_implements_its_kind_interface():
    checked = 0
    for kind in registry.kinds():
        for name in registry.known(kind):
            try:
                backend = registry.get(kind, name)
            except MissingExtraError:  # an optional backend whose extra is not installed
                continue
            assert isinstance(backend, type), f"{kind}/{name} is not a class"
            assert registry.conformance(kind, backend) == [], f"{kind}/{name}"
            checked += 1
    assert checked >= 10


def test_conformance_names_what_a_backend_lacks():
    class NoSave:
        def __init__(self, options):
            self.options = options

    class OldConstructor:
        def __init__(self, voice=None, seed=0):
            pass

        def save(self, plan, path):
            return (0, 0)

    assert registry.conformance("keyframes", NoSave) == ["no method save()"]
    problems = registry.conformance("keyframes", OldConstructor)
    assert len(problems) == 1
    assert problems[0].startswith("__init__(self, voice=None, seed=0) does not match")


def imported_modules(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_backends_never_import_the_stages(repo):
    offenders = [str(path.relative_to(repo)) for path in (repo / "storyreel" / "backends").rglob(
        "*.py") if any(name.startswith("storyreel.stages") for name in imported_modules(path))]
    assert offenders == []


def test_a_backend_from_an_installed_package_is_found(plugins):
    """A third-party distribution declares an entry point in the ``storyreel.backends`` group
    whose value is a BackendSpec; the registry lists it, builds it and checks its interface."""

    class Sketch:
        def __init__(self, options):
            self.options = options

        def save(self, plan, path):
            return (16, 9)

    spec = registry.BackendSpec("keyframes", "sketch", "storyreel_fake_plugin:Sketch",
                                summary="a fake third-party renderer")
    plugins("storyreel_fake_plugin", Sketch=Sketch, SPEC=spec)
    plugins.points.append(importlib.metadata.EntryPoint(
        name="broken", value="storyreel_no_such_plugin:SPEC", group=registry.ENTRY_POINT_GROUP))
    assert "sketch" in registry.known("keyframes")
    backend = registry.create("keyframes", {"backend": "sketch"})
    assert backend.save({}, "x.png") == (16, 9)
    assert registry.conformance("keyframes", Sketch) == []
    assert "animatic" in registry.known("keyframes")  # the broken one broke nothing


def test_a_spec_names_only_a_kind_and_an_extra_that_exist(repo):
    with pytest.raises(StoryreelError, match="unknown kind 'image'"):
        registry.specs_of(registry.BackendSpec("image", "x", "m:X"))
    with pytest.raises(StoryreelError, match="extra 'gpu' is not one of"):
        registry.specs_of(registry.BackendSpec("keyframes", "x", "m:X", extra="gpu"))
    defined = set(tomllib.loads((repo / "pyproject.toml").read_text())["project"][
        "optional-dependencies"])
    used = {registry.spec(k, n).extra for k in registry.kinds() for n in registry.known(k)}
    assert used - {None} <= defined, "a backend names an extra pyproject.toml lacks"


def test_the_registry_never_changes_once_built():
    with pytest.raises(TypeError):
        registry.table()["keyframes"]["x"] = registry.BackendSpec("keyframes", "x", "m:X")


HEAVY = ("torch", "diffusers", "transformers", "faster_whisper", "onnxruntime", "piper",
         "pocketsphinx", "PIL", "numpy")


def test_import_storyreel_stays_light(tmp_path):
    """Importing the package, the registry, the config and every backend interface imports none
    of the heavy libraries. Stand-ins for the ones not installed here are put on the path, so an
    import of torch would show."""
    for name in HEAVY[:4]:
        (tmp_path / f"{name}.py").write_text("")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    interfaces = ", ".join(f"storyreel.backends.{kind}" for kind in pipeline.BACKEND_KINDS)
    probe = ("import sys, storyreel, storyreel.core.registry, storyreel.core.config,"
             " storyreel.core.artifacts, storyreel.core.types, storyreel.core.vocabulary,"
             f" {interfaces};"
             "storyreel.core.registry.known('keyframes');"
             f"print(sorted(set({HEAVY!r}) & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip() == "[]"
    # the probe can fail: importing one heavy module is seen
    out = subprocess.run([sys.executable, "-c", probe.replace("import sys,", "import sys, torch,")],
                         capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "['torch']"


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


def test_sha256_of_a_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert artifacts.sha256_file(path).startswith("ba7816bf")


def test_stable_seed_is_sha256_based_and_31_bit():
    assert stable_seed(5, "sh001") == 1619941916  # the shot seeds of earlier releases
    assert stable_seed("story", "tiny") == stable_seed("story:tiny")
    assert 0 <= stable_seed("x") < 2**31


def test_config_docs_are_current():
    assert not docs.is_stale(), "docs/config.md is stale: run `storyreel docs`"


def test_config_docs_cover_every_key(repo):
    text = docs.render()
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
    with pytest.raises(UnknownBackendError, match="known script backends: openai, template"):
        registry.stage_spec("script", {"backend": "gpt"})


def test_a_backend_with_a_missing_extra_names_the_extra(plugins):
    plugins("storyreel_fake_extras", SPECS=[
        registry.BackendSpec("keyframes", "fake-diffusers", "storyreel_no_such_module.pipe:Pipe",
                             gpu=True, extra="diffusers"),
        registry.BackendSpec("keyframes", "broken", "storyreel.no_such:X")])
    with pytest.raises(MissingExtraError) as info:
        registry.get("keyframes", "fake-diffusers")
    assert str(info.value) == (
        "backend 'keyframes/fake-diffusers' needs the Python module "
        "'storyreel_no_such_module', which is not installed; install it with: "
        "pip install 'storyreel[diffusers]'")
    with pytest.raises(ModuleNotFoundError):  # a missing module of storyreel itself is a bug
        registry.get("keyframes", "broken")


def test_options_for_gives_the_validated_block():
    options = options_for("keyframes", headroom=1.5)
    assert (options["backend"], options["headroom"], options["warm"]) == ("animatic", 1.5, True)
    assert options_for("keyframes")["headroom"] == 1.2
    with pytest.raises(ConfigError, match="headroom"):
        options_for("keyframes", headroom=9)


def test_config_accepts_a_backend_registered_by_a_package(plugins):
    from storyreel.core.config import load_config

    with pytest.raises(ConfigError, match="'flat' is not one of"):
        load_config({"stages": {"keyframes": {"backend": "flat"}}})
    plugins("storyreel_flat", SPEC=registry.BackendSpec(
        "keyframes", "flat", "storyreel_flat:FlatRenderer", options={
            "flatness": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5,
                         "description": "How flat the picture is."}}))
    config = load_config({"stages": {"keyframes": {"backend": "flat"}}})
    block = config["stages"]["keyframes"]
    assert (block["backend"], block["headroom"], block["flatness"]) == ("flat", 1.2, 0.5)
    with pytest.raises(ConfigError, match=r"stages\.keyframes\.flatness"):
        load_config({"stages": {"keyframes": {"backend": "flat", "flatness": 3}}})
    rows = [line for line in docs.render().splitlines() if "keyframes.flatness" in line]
    assert rows and "keyframes/flat: How flat the picture is." in rows[0]


def test_a_backend_setting_may_not_shadow_a_stage_setting(plugins):
    from storyreel.core.config import load_config

    plugins("storyreel_shadow", SPEC=registry.BackendSpec(
        "keyframes", "shadow", "storyreel_shadow:X", options={"headroom": {"type": "number"}}))
    with pytest.raises(ConfigError, match="keyframes/shadow declares the setting 'headroom'"):
        load_config({})


def test_config_docs_mark_only_required_fields_required():
    rows = {line.split("|")[1].strip(" `"): line.split("|")[3].strip()
            for line in docs.render().splitlines() if line.startswith("| `")}
    assert rows["stories[].id"] == rows["stories[].idea"] == "required"
    assert rows["stories[].title"] == rows["stories[].voice"] == "optional"
    assert rows["stories[].duration_s"] == "optional"


def test_job_lines_are_read_with_their_shot():
    from storyreel.ops import joblog

    output = "\n".join([
        "rule voice:", "    input: results/a/revised.json", "    wildcards: story=a", "",
        "checkpoint shotlist:", "    wildcards: story=a", "",
        "rule keyframes:", "    output: results/a/keyframes/sh002.png",
        "    wildcards: story=a, shot=sh002", "",
        "localrule all:", "    input: results/a/final.mp4", "",
        "rule video:", "    wildcards: shot=sh010, story=a"])
    assert joblog.jobs(output) == ["voice", "shotlist", "keyframes[sh002]", "video[sh010]"]
