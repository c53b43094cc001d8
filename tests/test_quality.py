"""The quality gate: CLIP scores that mean something, best of N, the gate, the score stage.

A tiny CLIP is built offline; trained for a few seconds on drawn shapes and colour words, it ranks a
matching picture above the others, so best-of-N with it keeps the matching candidate. The formulas
are checked against independent computations."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from storyreel.core.config import load_config
from storyreel.core.errors import ConfigError
from storyreel.job.context import JobContext
from storyreel.stages import candidates
from storyreel.stages.score import clip_score, cosine, flagged, mean_pairwise, steadiness

from conftest import Workdir

FOX = {"id": "fox", "title": "Tilly", "duration_s": 10, "seed": 3, "idea": (
    "Every night a small fox named Tilly climbed the hill to see the moon.\n\n"
    "At dawn, Tilly carried the moon home in an acorn cup.")}


def test_clip_score_is_100_times_the_clamped_cosine():
    rng = np.random.default_rng(3)
    for _ in range(50):
        a, b = rng.normal(size=16), rng.normal(size=16)
        independent = 100 * max(0.0, float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b))))
        assert clip_score(a, b) == pytest.approx(independent, abs=1e-3)
    assert clip_score([1, 0], [-1, 0]) == 0.0 and clip_score([2, 0], [5, 0]) == 100.0


def test_consistency_and_steadiness_by_hand():
    e = [[1, 0], [0, 1], [1, 1]]
    pairs = [0.0, 1 / np.sqrt(2), 1 / np.sqrt(2)]
    assert mean_pairwise(e) == pytest.approx(np.mean(pairs), abs=1e-4)
    assert mean_pairwise([[1, 0]]) is None
    # frame 1 against frame 0 and its neighbour (the same here), frame 2 against 0 and 1
    frames = [[1, 0], [0, 1], [1, 1]]
    expected = np.mean([(0 + 0) / 2, (cosine([1, 1], [1, 0]) + cosine([1, 1], [0, 1])) / 2])
    assert steadiness(frames) == pytest.approx(expected, abs=1e-4)
    assert steadiness([[1, 0]]) is None


def test_candidates_without_a_scorer_are_refused_in_one_line():
    with pytest.raises(ConfigError, match=r"stages\.keyframes\.candidates: 3 needs a scorer"):
        load_config({"stages": {"keyframes": {"candidates": 3}}})
    with pytest.raises(ConfigError, match=r"stages\.score\.min_clip_score"):
        load_config({"stages": {"score": {"min_clip_score": 20}}})
    assert load_config({"stages": {"keyframes": {"candidates": 3},
                                   "score": {"backend": "clip"}}})["stages"]["keyframes"]


def test_candidate_seeds_start_with_the_shots_own():
    plan = {"seed": 41}
    first = candidates.seeds(plan, 0, 3)
    assert first[0] == 41 and len(set(first)) == 3
    assert set(first).isdisjoint(candidates.seeds(plan, 1, 3))  # a new round, new seeds
    assert first == candidates.seeds(plan, 0, 3)  # stable


# -- with a tiny CLIP -----------------------------------------------------------------------------

COLOURS = ("red", "green", "blue")


@pytest.fixture(scope="session")
def trained_clip(tmp_path_factory):
    pytest.importorskip("transformers", reason="needs the llm extra: pip install 'storyreel[llm]'")
    from storyreel.models.tiny.clip import build_tiny_clip

    return build_tiny_clip(tmp_path_factory.mktemp("clip"), train_steps=120)


@pytest.fixture(scope="session")
def scorer(trained_clip):
    from storyreel.backends.score.clip import ClipScorer

    return ClipScorer({"model": str(trained_clip), "batch_size": 8, "device": "cpu",
                       "dtype": "auto"})


@pytest.mark.llm
def test_a_trained_tiny_clip_ranks_the_matching_picture_first(scorer, tmp_path):
    from storyreel.models.tiny.clip import caption, draw

    wins = 0
    for k, colour in enumerate(COLOURS * 2):
        shape = "circle" if k < 3 else "square"
        paths = []
        for other in COLOURS:
            path = tmp_path / f"{k}-{other}.png"
            draw(other, shape, jitter=random.Random(500 + k)).save(path)
            paths.append(str(path))
        text = scorer.embed_texts([caption(colour, shape)])[0]
        scores = [clip_score(v, text) for v in scorer.embed_images(paths)]
        wins += COLOURS[int(np.argmax(scores))] == colour
    assert wins == 6


def _render_by_seed(colour_of_seed, asked=None):
    from storyreel.models.tiny.clip import draw

    def render(plan, path, peers):
        if asked is not None:
            asked.append((plan["seed"], [p["plan"]["seed"] for p in peers]))
        draw(colour_of_seed(plan["seed"]), "circle", jitter=random.Random(plan["seed"])).save(
            path)

    return render


@pytest.mark.llm
def test_best_of_n_keeps_the_matching_candidate(scorer, tmp_path):
    plan = {"id": "sh001", "seed": 7, "prompt": "storybook; a red circle",
            "shot_prompt": "a red circle"}
    seeds = candidates.seeds(plan, 0, 3)
    colour = dict(zip(seeds, ("blue", "red", "green"), strict=True))  # the 2nd is the match
    job = JobContext.alone("keyframes", "tiny", "sh001", results=tmp_path / "results")

    def embed(method, items):
        return getattr(scorer, method)(items)

    out = tmp_path / "results" / "tiny" / "keyframes" / "sh001.png"
    out.parent.mkdir(parents=True)
    asked = []
    record = candidates.choose(plan, out, {"candidates": 3, "gate_rounds": 2},
                               {"min_clip_score": None}, _render_by_seed(colour.get, asked),
                               embed, job)
    assert record["kept"] == seeds[1] and not record["flagged"]
    # each render names the round's candidates still to come (a warm model draws them at once)
    assert asked == [(seeds[0], seeds[1:]), (seeds[1], seeds[2:]), (seeds[2], [])]
    assert [c["seed"] for c in record["candidates"]] == seeds
    assert out.exists() and not list(out.parent.glob(".*"))  # the others are gone
    saved = json.loads(candidates.side_record(job).read_text())
    assert saved == record
    assert candidates.gather(tmp_path / "results" / "tiny", {"sh001"}) == [record]


@pytest.mark.llm
def test_the_gate_renders_new_seeds_then_keeps_and_flags(scorer, tmp_path):
    plan = {"id": "sh002", "seed": 9, "prompt": "a red circle"}
    job = JobContext.alone("keyframes", "tiny", "sh002", results=tmp_path)
    out = tmp_path / "k.png"
    record = candidates.choose(plan, out, {"candidates": 2, "gate_rounds": 2},
                               {"min_clip_score": 100.0}, _render_by_seed(lambda s: "green"),
                               lambda m, items: getattr(scorer, m)(items), job)
    assert len(record["candidates"]) == 6 and record["flagged"]  # 3 rounds of 2, then flagged
    assert len({c["seed"] for c in record["candidates"]}) == 6


@pytest.mark.llm
@pytest.mark.workflow
def test_a_story_is_scored_gated_and_flagged(tmp_path, trained_clip):
    work = Workdir(tmp_path / "w", [FOX], {"stages": {
        "keyframes": {"candidates": 4, "gate_rounds": 1}, "portraits": {"enabled": True},
        "score": {"backend": "clip", "model": str(trained_clip), "min_clip_score": 99.0,
                  "idle_s": 30}}})
    result = work.run("--cores", "8", "--resources", "gpu=1")
    scores = json.loads((work.results("fox") / "scores.json").read_text())
    assert scores["scorer"] == {"backend": "clip", "model": str(trained_clip)}
    assert scores["shots"] and all(s["flags"] == ["clip_score"] for s in scores["shots"])
    tilly = next(c for c in scores["characters"] if c["name"] == "Tilly")
    assert len(tilly["shots"]) >= 2 and -1 <= tilly["consistency"] <= 1
    assert -1 <= tilly["portrait"] <= 1  # against its portrait, characters/tilly.png
    manifest = json.loads((work.results("fox") / "manifest.json").read_text())
    assert manifest["scores"]["flagged"] == flagged(scores)
    assert {c["shot"] for c in manifest["candidates"]} == {s["id"] for s in scores["shots"]}
    assert all(len(c["candidates"]) == 8 and c["flagged"] for c in manifest["candidates"])
    flags = "; ".join(manifest["scores"]["flagged"])
    assert f"flagged: {flags}" in result.output  # the end-of-run summary names them
    summary = json.loads((work.path / "logs" / "summary.json").read_text())
    assert summary["stories"][0]["flagged"] == manifest["scores"]["flagged"]
    page = (work.results("fox") / "stages.html").read_text()  # the report's table of scores
    first = scores["shots"][0]
    assert f"<td>{first['id']}</td><td>{first['clip_score']:.1f}</td>" in page
    assert "<td>8 (" in page and "<td>Tilly</td>" in page
    assert "Cast: each portrait and the shots that show it" in page
    assert "gate: min_clip_score 99.0" in page


def test_the_contact_sheet_shows_scores_and_frames_flagged_shots(tmp_path):
    from PIL import Image

    from storyreel.ops import report

    paths = []
    for i, colour in enumerate(("white", "white")):
        paths.append(tmp_path / f"sh00{i + 1}.png")
        Image.new("RGB", (64, 36), colour).save(paths[-1])
    shots = [{"id": p.stem, "start": 0.0, "camera": "hold"} for p in paths]
    scores = {"shots": [{"id": "sh001", "clip_score": 31.25, "steadiness": None,
                         "first_frame": None, "flags": []},
                        {"id": "sh002", "clip_score": 12.0, "steadiness": 0.5,
                         "first_frame": 0.9, "flags": ["clip_score"]}]}
    assert report.score_label(scores["shots"][0]) == "CLIP 31.2"
    assert report.score_label(scores["shots"][1]) == "CLIP 12.0  steady 0.50  FLAGGED: clip_score"
    report.contact_sheet(paths, shots, tmp_path / "plain.jpg")
    report.contact_sheet(paths, shots, tmp_path / "sheet.jpg", scores)
    with Image.open(tmp_path / "plain.jpg") as plain, Image.open(tmp_path / "sheet.jpg") as img:
        assert img.height == plain.height + report.LABEL_H  # a second caption line
        x = report.PAD + report.THUMB_W + report.PAD - 2  # just left of the second thumbnail
        red, green, blue = img.convert("RGB").getpixel((x, report.PAD + 20))
        assert red > 150 and green < 100 and blue < 100  # the flagged shot's red frame
        red, green, blue = img.convert("RGB").getpixel((report.PAD - 2, report.PAD + 20))
        assert red < 60  # none around the first
