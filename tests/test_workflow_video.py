"""End-to-end workflow tests up to final.mp4: quality floors per preset, vision on and off,
one-shot-edit invalidation, and resume after kill -9 during the per-shot stages."""

from __future__ import annotations

import statistics
import subprocess

import numpy as np
import pytest
import yaml

from storyreel.core.artifacts import read_json, sha256_file
from storyreel.media import ffmpeg
from storyreel.media.quality import cue_start_errors, cut_offsets
from storyreel.media.subtitles import parse_subtitles

from conftest import BIN, REPO, TINY_FILM, Result, Workdir, copy_tree
from media_helpers import content_hash, gray_frames

pytestmark = pytest.mark.workflow

SHOT_STAGES = ("keyframes", "video")
# preset -> vision enabled (1:1 runs with vision off: keyframes read the bare shots)
PRESETS = {"16:9": True, "9:16": True, "1:1": False}


def film(aspect: str) -> dict:
    return dict(TINY_FILM, aspect=aspect)


def run_film(path, aspect: str, vision: bool) -> Workdir:
    stages = {**base_stages(), "vision": {"enabled": vision}}
    work = Workdir(path, [film(aspect)], {"stages": stages})
    work.jobs_run = work.run().jobs()
    return work


def base_stages() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())["stages"]


@pytest.fixture(scope="module", params=sorted(PRESETS))
def finished(request, shared_tmp) -> tuple[str, Workdir]:
    aspect = request.param
    return aspect, run_film(shared_tmp / aspect.replace(":", "x"), aspect, PRESETS[aspect])


@pytest.fixture(scope="module")
def widescreen(shared_tmp) -> Workdir:
    """The 16:9 film, run once and shared by the invalidation and resume tests."""
    return run_film(shared_tmp / "reference", "16:9", True)


def shots_of(work: Workdir) -> list[dict]:
    return read_json(work.results("film") / "shotlist.json", "shotlist")["shots"]


def test_final_file_meets_the_delivery_floors(finished):
    aspect, work = finished
    results = work.results("film")
    mp4 = results / "final.mp4"
    info = ffmpeg.probe(mp4)
    video, audio = info.first("video"), info.first("audio")
    assert (video.codec, video.profile, video.pix_fmt) == ("h264", "High", "yuv420p")
    assert (video.width, video.height) == ffmpeg.PRESETS[aspect]
    assert round(video.fps) == 25
    assert (audio.codec, audio.sample_rate) == ("aac", 48000)
    assert any(s.kind == "subtitle" and s.codec == "mov_text" for s in info.streams)
    assert ffmpeg.has_faststart(mp4)
    narration = read_json(results / "voice.json", "voice")["duration_s"]
    video_s, audio_s = ffmpeg.video_duration(mp4), ffmpeg.audio_duration(mp4)
    assert abs(video_s - audio_s) <= 0.1
    assert abs(video_s - narration) <= 1 / 25
    loudness = ffmpeg.measure_loudness(mp4)
    assert abs(loudness.integrated_lufs - -14.0) <= 1.0
    assert loudness.true_peak_db <= -1.0
    assert ffmpeg.detect_black(mp4) == []
    for name in ("final.srt", "final.vtt", "poster.jpg", "manifest.json"):
        assert (results / name).stat().st_size > 0, name


def test_subtitle_cues_start_on_the_aligned_words(finished):
    _, work = finished
    results = work.results("film")
    words = read_json(results / "words.json", "words")["words"]
    for name in ("final.srt", "final.vtt"):
        errors = cue_start_errors(parse_subtitles(results / name), words)  # every word, in order
        assert statistics.median(errors) <= 0.100
        assert float(np.percentile(errors, 95)) <= 0.250


def test_shots_are_cut_on_sentence_boundaries_and_edited_in_place(finished):
    """Each shot's clip is on screen exactly over its span, and spans change in the pauses."""
    _, work = finished
    results = work.results("film")
    shots = shots_of(work)
    words = read_json(results / "words.json", "words")["words"]
    for before, shot in zip(shots, shots[1:], strict=False):
        last = max((w for w in words if w["start"] < shot["start"]), key=lambda w: w["start"])
        first = min((w for w in words if w["start"] >= shot["start"]), key=lambda w: w["start"])
        assert last["sentence"] != first["sentence"]  # every cut is between sentences ...
        assert before["end"] == shot["start"]
    assert max(cut_offsets(shots, words)) <= 0.2  # ... in the pause between them

    # whole frames: the clips carry the burned subtitles, and post copies them as they are
    fps, final = gray_frames(results / "final.mp4", region=1.0)
    clips = [gray_frames(results / "video" / f"{s['id']}.mp4", region=1.0)[1]
             for s in shots]
    starts = [round(s["start"] * fps) for s in shots] + [round(shots[-1]["end"] * fps)]
    assert len(final) == starts[-1]
    fade = round(read_json(results / "shotlist.json", "shotlist")["crossfade_s"] * fps)
    for i, shot in enumerate(shots):
        fading = fade if i and shots[i - 1]["transition"] == "crossfade" else 0
        for k in range(starts[i] + fading, starts[i + 1]):
            # identical pictures: the clip's frames are in the film without a second encode
            assert np.array_equal(final[k], clips[i][k - starts[i]]), (shot["id"], k)
        if i:  # the neighbouring pictures differ, so the matches above are not trivial
            other = np.abs(clips[i - 1][-1].astype(float) - clips[i][0]).mean()
            assert other >= 4.0
    assert any(s["transition"] == "crossfade" for s in shots)
    assert any(s["transition"] == "cut" for s in shots[:-1])


def test_vision_runs_only_when_enabled(finished):
    aspect, work = finished
    results = work.results("film")
    assert ("vision" in work.jobs_run) == PRESETS[aspect]
    assert (results / "vision").exists() == PRESETS[aspect]
    shots = shots_of(work)
    assert sorted(j for j in work.jobs_run if j.startswith("keyframes")) == sorted(
        f"keyframes[{s['id']}]" for s in shots)
    manifest = read_json(results / "manifest.json", "manifest")
    assert manifest["stages"]["vision"]["params"]["enabled"] == PRESETS[aspect]
    # the embedded writer uses no model: the config's `model` (for the openai backend) is not
    # recorded as if it had shaped the script
    assert manifest["stages"]["script"]["backend"] == "template"
    assert manifest["stages"]["script"]["model"] is None


DUO = {"id": "duo", "duration_s": 24, "seed": 3, "idea": (
    "Mara the lighthouse keeper and Tomas the fisherman quarrel, then Tomas is lost at sea in a "
    "storm and Mara lights the lamp to guide him home.")}


def test_portraits_are_drawn_first_and_an_edit_reruns_only_that_characters_shots(tmp_path):
    stages = {**base_stages(), "portraits": {"enabled": True}}
    work = Workdir(tmp_path / "duo", [DUO], {"stages": stages})
    first = work.run().jobs()
    results = work.results("duo")
    plans = {p.stem: read_json(p, "plan") for p in sorted((results / "vision").glob("sh*.json"))}
    cast = {c["name"]: c["id"] for p in plans.values() for c in p["cast"]}
    assert set(cast) == {"Mara", "Tomas"}
    assert sorted(p.name for p in (results / "characters").iterdir()) == ["mara.png", "tomas.png"]
    assert {f"portraits[{i}]" for i in cast.values()} <= set(first)
    for shot, plan in plans.items():  # every portrait before the shots that show it
        for name in plan["characters"]:
            assert first.index(f"portraits[{cast[name]}]") < first.index(f"keyframes[{shot}]")
    with_tomas = sorted(s for s, p in plans.items() if "Tomas" in p["characters"])
    assert with_tomas and len(with_tomas) < len(plans)
    pictures = {p.name: sha256_file(p) for p in results.glob("*/*.png")}

    config = yaml.safe_load((work.path / "config" / "config.yaml").read_text())
    config["characters"] = {"duo": {"Tomas": {"descriptors": "Tomas, in a yellow oilskin",
                                              "colour": "#d4b020"}}}
    work.write_config(config)
    assert sorted(work.run().jobs()) == sorted(
        ["vision", "portraits[tomas]", *(f"keyframes[{s}]" for s in with_tomas),
         *(f"video[{s}]" for s in with_tomas), "post", "contactsheet", "stagetable"])
    changed = {p.name for p in results.glob("*/*.png") if sha256_file(p) != pictures[p.name]}
    assert changed == {"tomas.png", *(f"{s}.png" for s in with_tomas)}
    assert work.run().jobs() == []
    page = (results / "stages.html").read_text()  # the report: each portrait and its shots
    assert "Cast: each portrait and the shots that show it" in page
    assert f"<th>Tomas<br>{' '.join(with_tomas)}</th>" in page


def test_vision_off_dry_run_has_no_vision_job(tmp_path):
    stages = {**base_stages(), "vision": {"enabled": False}}
    work = Workdir(tmp_path / "novision", [film("16:9")], {"stages": stages})
    work.run("--until", "shotlist")
    jobs = work.run("-n").jobs()
    assert "vision" not in jobs and "post" in jobs
    assert sum(j.startswith("keyframes[") for j in jobs) == len(shots_of(work))


def test_editing_one_shot_reruns_only_that_shot(tmp_path, widescreen):
    copy_tree(widescreen.path, tmp_path / "edit")
    work = Workdir(tmp_path / "edit", [film("16:9")])
    config = yaml.safe_load((work.path / "config" / "config.yaml").read_text())
    before = {p.name: sha256_file(p) for p in (work.results("film") / "keyframes").glob("*.png")}

    config["shots"] = {"film": {"sh002": {"prompt": "A red kite over a green meadow at noon"}}}
    work.write_config(config)
    jobs = work.run().jobs()
    assert sorted(jobs) == sorted(["shotlist", "vision", "keyframes[sh002]", "video[sh002]",
                                   "post", "contactsheet", "stagetable"])
    after = {p.name: sha256_file(p) for p in (work.results("film") / "keyframes").glob("*.png")}
    assert {n for n in before if before[n] != after[n]} == {"sh002.png"}

    config["shots"]["film"]["sh002"]["seed"] = 99
    work.write_config(config)
    assert sorted(work.run().jobs()) == sorted(
        ["shotlist", "vision", "keyframes[sh002]", "video[sh002]", "post", "contactsheet",
         "stagetable"])
    assert work.run().jobs() == []


@pytest.mark.parametrize("stage", SHOT_STAGES)
def test_resume_after_kill_during_a_shot_stage(tmp_path, widescreen, stage):
    """kill -9 while the second job of a per-shot stage runs; resume redoes only what is missing."""
    work = Workdir(tmp_path / f"killed-{stage}", [film("16:9")])
    proc = work.start("--cores", "1")  # one job at a time: every other job is finished or not begun
    work.kill_when(proc, work.path / "logs" / stage / "film" / "sh002.log")
    results = work.results("film")
    done = {p: p.stat().st_mtime_ns
            for d in ("keyframes", "video") for p in (results / d).glob("*.*")}
    assert not (results / "final.mp4").exists()
    assert not (results / ("keyframes" if stage == "keyframes" else "video")
                / ("sh002.png" if stage == "keyframes" else "sh002.mp4")).exists()

    args = ["-s", str(REPO / "Snakefile"), "-d", str(work.path),
            "--workflow-profile", str(REPO / "profiles" / "test")]
    resumed = subprocess.run([str(BIN / "storyreel"), "resume", *args], capture_output=True,
                             text=True, env=work.env(), timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    for path, mtime in done.items():
        assert path.stat().st_mtime_ns == mtime, f"{path.name} was redone"
    rerun = Result(resumed.returncode, resumed.stdout + resumed.stderr).jobs()
    assert f"{stage}[sh002]" in rerun and "post" in rerun
    finished_jobs = {("keyframes" if p.suffix == ".png" else "video") + f"[{p.stem}]" for p in done}
    assert finished_jobs and not finished_jobs & set(rerun)
    reference = widescreen.results("film")
    assert content_hash(results / "final.mp4") == content_hash(reference / "final.mp4")
    for name in ("final.srt", "final.vtt", "shotlist.json", "narration.wav"):
        assert sha256_file(results / name) == sha256_file(reference / name), name
