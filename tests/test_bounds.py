"""Bounded input (issue 16): no NaN or infinity anywhere, sane sizes, YAML aliases and nesting
bounded, size limits on config and stories files, and every refusal one line naming the key
path; property tests: any YAML value is refused in one line or accepted, never a traceback,
never a hang (hypothesis' deadline: 5 s an example)."""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path

import pytest
import yaml

from storyreel.core import bounds
from storyreel.core import config as srconfig
from storyreel.core import stories as srstories
from storyreel.core.errors import ConfigError

from conftest import REPO, TINY_STORY, Workdir

hypothesis = pytest.importorskip("hypothesis", reason="property tests need hypothesis (dev extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

BASE = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
CONFIG = srconfig.load_config(copy.deepcopy(BASE))
STORY = {"id": "k01", "idea": "A cat finds a key in the garden.", "duration_s": 20}
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))


def stories_refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "stories.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        srstories.validate_stories(path, CONFIG)
    message = str(info.value)
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize("value,shown", [(".nan", "nan is not a finite number"),
                                          (".inf", "inf is not a finite number"),
                                          ("-.inf", "-inf is not a finite number"),
                                          ("1e999", "inf is not a finite number"),
                                          ("1e300", "1e+300 is too large")])
def test_non_finite_and_huge_numbers_are_refused_naming_the_key(tmp_path, value, shown):
    """Issue 16: `duration_s: .nan` passed validation and crashed later."""
    text = f"stories:\n  - id: k01\n    idea: A cat finds a key.\n    duration_s: {value}\n"
    message = stories_refusal(tmp_path, text)
    assert f"stories[0].duration_s: {shown}" in message


@pytest.mark.parametrize("key,value", [("seed", math.nan), ("retries", math.inf),
                                       ("stages", {"voice": {"sentence_pause_s": math.nan}}),
                                       ("output", {"crf": 10**30})])
def test_the_config_refuses_non_finite_and_huge_numbers(key, value):
    config = copy.deepcopy(BASE)
    config[key] = value if not isinstance(value, dict) else {**config.get(key, {}), **value}
    with pytest.raises(ConfigError) as info:
        srconfig.load_config(config)
    assert str(info.value).startswith("config: ")
    assert "finite" in str(info.value) or "too large" in str(info.value)


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    """Issue 16: nested aliases (the billion laughs shape) hung the validator."""
    text = BOMB + "stories:\n  - id: k01\n    idea: A cat finds a key.\n    title: *i\n"
    message = stories_refusal(tmp_path, text)
    assert "expands to more than 1,000,000 values through YAML aliases" in message


def test_a_recursive_alias_is_refused(tmp_path):
    message = stories_refusal(tmp_path, "stories: &s\n  - id: k01\n    idea: x\n  - *s\n")
    assert "refers to itself" in message


def test_deep_nesting_is_refused_without_crashing(tmp_path):
    """libyaml's composer recurses in C: 100 000 nested lists crashed the interpreter."""
    message = stories_refusal(tmp_path, "stories: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert f"nested more than {bounds.MAX_DEPTH} levels deep" in message


def test_files_over_their_size_limit_are_refused(tmp_path):
    path = tmp_path / "stories.yaml"
    with path.open("w") as fh:
        fh.write("stories:\n  - id: k01\n    idea: >-\n")
        line = "      " + "word " * 20 + "\n"
        fh.write(line * (bounds.MAX_FILE_BYTES["stories"] // len(line) + 1))
    with pytest.raises(ConfigError, match=r"over the limit of 16 MiB for a stories file"):
        srstories.validate_stories(path, CONFIG)


def test_a_config_file_is_refused_in_one_line_before_snakemake_reads_it(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(BASE) + BOMB)
    with pytest.raises(SystemExit) as info:
        srconfig.check_config_file(path)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"storyreel: config {path}: ")


def test_a_config_block_of_the_wrong_type_is_refused_not_a_traceback():
    """Found by the property test below: `stages: true` raised AttributeError."""
    with pytest.raises(ConfigError, match=r"^config: stages: True is not of type 'object'"):
        srconfig.load_config({**copy.deepcopy(BASE), "stages": True})


def test_strings_and_lists_have_a_limit():
    with pytest.raises(ConfigError, match=r"x\.y: 1,000,001 characters"):
        bounds.check_values({"x": {"y": "a" * (bounds.MAX_STRING + 1)}}, "config")
    with pytest.raises(ConfigError, match=r"x\[0\]: 100,001 entries"):
        bounds.check_values({"x": [list(range(bounds.MAX_ITEMS + 1))]}, "config")
    bounds.check_values({"x": [{"y": 1.5}] * 1000, "z": "fine"}, "config")  # shared is fine


# -- property tests ------------------------------------------------------------------------

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)
STORY_KEYS = st.sampled_from(["id", "idea", "title", "duration_s", "aspect", "voice", "style",
                              "seed", "language", "extra"])


def config_paths() -> list[tuple[str, ...]]:
    paths = [(key,) for key in CONFIG]
    paths += [("stages", stage, key) for stage, block in CONFIG["stages"].items()
              for key in block]
    paths += [(top, key) for top in ("output", "defaults", "retry") for key in CONFIG[top]]
    return paths


def answered(call) -> None:
    """Refused in one line naming where, or accepted: nothing else."""
    try:
        call()
    except ConfigError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        assert message.startswith(("config", "stories")), message


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(key=STORY_KEYS, value=VALUES)
def test_any_value_in_a_story_is_refused_in_one_line_or_accepted(key, value):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stories.yaml"
        path.write_text(yaml.safe_dump({"stories": [{**STORY, key: value}]},
                                       allow_unicode=True), encoding="utf-8")
        answered(lambda: srstories.validate_stories(path, CONFIG))


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(config_paths()), value=VALUES)
def test_any_value_in_the_config_is_refused_in_one_line_or_accepted(path, value):
    config = copy.deepcopy(BASE)
    node = config
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node.get(key), dict | None) else node
    node[path[-1]] = value
    answered(lambda: srconfig.load_config(config))


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200) | st.text(alphabet="[]{}&*!:-,| \n'\"ab1.", max_size=200))
def test_any_stories_file_text_is_refused_in_one_line_or_accepted(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stories.yaml"
        path.write_text(text, encoding="utf-8")
        answered(lambda: srstories.validate_stories(path, CONFIG))


# -- what the user sees -----------------------------------------------------------------------

@pytest.mark.workflow
def test_a_refusal_is_one_line_without_snakemakes_wrapper(tmp_path):
    """Issue 16: refusals came inside Snakemake's `WorkflowError in file ...common.smk, line 18`
    wrapper (three lines)."""
    work = Workdir(tmp_path / "w", [{**TINY_STORY, "duration_s": math.nan}])
    result = work.run("-n", check=False)
    assert result.returncode == 1
    lines = [line for line in result.output.splitlines()
             if line.strip() and not line.startswith("Using workflow specific profile")]
    assert lines == ["storyreel: stories file config/stories.yaml: stories[0].duration_s: nan "
                     "is not a finite number (NaN and infinity are refused)"], result.output
