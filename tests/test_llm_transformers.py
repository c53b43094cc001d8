"""script/transformers and vision/transformers with a tiny random Llama built on the spot
(tokenizer with a chat template, saved with save_pretrained, loaded with from_pretrained)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from storyreel.core.artifacts import validate, write_json
from storyreel.core.config import load_config, options_for
from storyreel.job.context import JobContext
from storyreel.models.tiny import build_tiny_llm
from storyreel.stages import script as sc

pytestmark = pytest.mark.llm
torch = pytest.importorskip("torch", reason="needs the llm extra: pip install 'storyreel[llm]'")
pytest.importorskip("transformers", reason="needs the llm extra: pip install 'storyreel[llm]'")

IDEA = {"story": "calf", "title": "The Calf", "kind": "premise",
        "premise": "An old lighthouse keeper guides a lost whale calf back to its mother.",
        "text": None, "language": "en", "duration_s": 20, "aspect": "16:9",
        "style": "storybook", "voice": None, "seed": 3}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return str(build_tiny_llm(tmp_path_factory.mktemp("tiny-llama")))


def options(model_dir: str, stage: str = "script", **extra) -> dict:
    block = {"backend": "transformers", "model": model_dir, "max_new_tokens": 24,
             "max_repairs": 1} | extra
    return load_config({"stages": {stage: block}})["stages"][stage]


def test_garbage_is_repaired_then_falls_back_and_the_model_loads_once(model_dir, tmp_path):
    from storyreel.models.chat import local as tf

    idea_path, out = tmp_path / "idea.json", tmp_path / "script.json"
    write_json(idea_path, IDEA, "idea")
    smk = SimpleNamespace(input=SimpleNamespace(idea=str(idea_path)),
                          output=SimpleNamespace(script=str(out)),
                          params=SimpleNamespace(options=options(model_dir),
                                                 words_per_minute=160.0,
                                                 pauses={"sentence": 0.3, "scene": 0.7}))
    loads = tf.usage()["loads"]
    sc.main(smk, JobContext.alone("script"))
    script = json.loads(out.read_text())
    validate(script, "script")
    assert (script["backend"], script["configured_backend"]) == ("template", "transformers")
    assert script["fallback"]["backend"] == "template"
    assert "2 attempts" in script["fallback"]["reason"]
    generation = script["generation"]
    assert generation["model"] == model_dir and generation["decoding"] == "schema"
    # under the schema even random weights start the JSON; 24 tokens cut it short
    assert all(r["answer"].startswith('{"scenes": [{"beat": "') for r in generation["rejected"])
    assert all("truncated" in r["reason"] for r in generation["rejected"])
    assert generation["answers"] == 2 and generation["new_tokens"] == 48
    usage = generation["model_usage"]
    assert usage["loads"] - loads <= 1 and usage["peak_rss_mb"] > 0  # two answers, one load
    assert all(s["narration"] for s in script["scenes"])  # the template writer wrote it


def test_chat_template_and_seeded_sampling(model_dir):
    from storyreel.models.chat.local import LocalChat, load

    chat = LocalChat(options(model_dir, temperature=0.9))
    assert chat.loaded is load(model_dir, "auto", "auto")  # cached: loaded once per process
    assert chat.loaded.tokenizer.chat_template
    assert (chat.loaded.device, chat.loaded.dtype) == ("cpu", "float32")
    messages = [{"role": "user", "content": "Write a story."}]
    assert chat.chat(messages, None, 7) == chat.chat(messages, None, 7)


def test_vision_transformers_keeps_the_embedded_style_on_garbage(model_dir):
    from storyreel.stages.vision import plan_story

    shot = {"story": "calf", "id": "sh001", "index": 1, "scene": "sc01",
            "sentences": ["sc01_01"], "start": 0, "end": 2, "duration": 2.0,
            "narration": "The keeper rows towards the whale calf.", "prompt": "A rowing boat.",
            "setting": "the bay", "time_of_day": "dawn", "mood": "calm", "characters": [],
            "camera": "hold", "transition": "cut", "seed": 1, "aspect": "16:9"}
    style, plans = plan_story(IDEA, {"shots": [shot], "crossfade_s": 0.5},
                              options(model_dir, stage="vision", max_repairs=0))
    validate(style, "style")
    validate(plans[0], "plan")
    assert style["fallback"]["from"] == "transformers"
    assert style["generation"]["model_usage"]["loads"] >= 1


def test_missing_extra_names_it(monkeypatch):
    import sys

    from storyreel.core import registry
    from storyreel.core.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.delitem(sys.modules, "storyreel.models.chat.local", raising=False)
    with pytest.raises(MissingExtraError, match=r"storyreel\[llm\]"):
        registry.create("script", options_for("script", backend="transformers"))


@pytest.mark.gpu
def test_transformers_writer_on_cuda(model_dir):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    from storyreel.models.chat.local import LocalChat, usage

    chat = LocalChat(options(model_dir, device_map="cuda"))
    assert chat.loaded.device == "cuda" and chat.loaded.dtype in ("bfloat16", "float16")
    answer = chat.chat([{"role": "user", "content": "Hello"}], None, 1)
    assert isinstance(answer, str)
    assert usage()["peak_gpu_mb"] > 0
