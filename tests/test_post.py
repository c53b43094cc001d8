"""post: the finished video meets the quality floors for every preset; subtitles stay title-safe."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image
from test_vision import OPTIONS, make_story

from storyreel.backends.keyframes.animatic import AnimaticRenderer
from storyreel.backends.post import ffmpeg as fp
from storyreel.core.artifacts import read_json, sha256_file, write_json
from storyreel.job.context import JobContext
from storyreel.media import ffmpeg, fonts
from storyreel.media.audio import write_wav
from storyreel.media.subtitles import Cue, write_srt, write_vtt
from storyreel.stages import manifest, post, video, vision

POST_OPTIONS = {"backend": "ffmpeg", "loudness_lufs": -14.0, "true_peak_db": -1.0,
                "music": None, "music_db": -18.0, "burn_subtitles": True}
OUTPUT = {"fps": 25, "crf": 23, "x264_preset": "ultrafast"}
LONG_CUE = ("1\n00:00:00,000 --> 00:00:05,000\n"
            "Every night the small red fox climbed the\n"
            "tallest hill in the valley to see the moon.\n")


def speech_like_wav(path: Path, seconds: float, rate: int = 22050, level: float = 0.1) -> None:
    """Mono 16-bit noise bursts with syllable-rate modulation and pauses (a voice stand-in)."""
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * rate)) / rate
    envelope = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 2 * (np.sin(2 * np.pi * 0.4 * t) > -0.4)
    x = np.convolve(rng.normal(0, 1, t.size), np.ones(6) / 6, "same") * envelope * level
    write_wav(path, x, rate)


def cues_for(duration: float) -> list[Cue]:
    """One cue per two seconds."""
    starts = np.arange(0.0, duration - 0.5, 2.0)
    return [Cue(float(t), float(min(duration, t + 2.0)), (f"Subtitle line number {i + 1}",))
            for i, t in enumerate(starts)]


def build_story(root: Path, aspect: str, shots: int, duration: float, music: bool) -> Any:
    """Write every input post needs and return a Snakemake-like job object."""
    idea, shotlist = make_story(aspect, shots=shots, duration=duration, story="demo")
    root.mkdir(parents=True)
    write_json(root / "idea.json", idea, "idea")
    write_json(root / "shotlist.json", shotlist, "shotlist")
    plans = vision.plan_story(idea, shotlist, OPTIONS)[1]
    write_srt(root / "subtitles.srt", cues_for(duration))
    write_vtt(root / "subtitles.vtt", cues_for(duration))
    renderer, clips, keyframes = AnimaticRenderer({"headroom": 1.2}), [], []
    for plan in plans:
        keyframes.append(str(root / f"{plan['id']}.png"))
        renderer.save(plan, keyframes[-1])
        clips.append(str(root / "video" / f"{plan['id']}.mp4"))
        video.render_clip(keyframes[-1], plan, clips[-1], {"backend": "kenburns"}, OUTPUT,
                          plan["crossfade_s"], subtitles=root / "subtitles.srt")
    speech_like_wav(root / "narration.wav", duration)
    sentences = [{"id": "sc01_01", "scene": "sc01", "text": "x", "start": 0.0,
                  "end": duration}]
    write_json(root / "voice.json", {
        "story": "demo", "backend": "piper", "voice": "joe", "model_sha256": None,
        "sample_rate": 22050, "duration_s": duration, "length_scale": 1.0,
        "wav": "narration.wav", "sentences": sentences}, "voice")
    write_json(root / "words.json", {
        "story": "demo", "backend": "pocketsphinx", "duration_s": duration,
        "words": [{"text": "x", "start": 0.0, "end": 0.5, "sentence": "sc01_01"}],
        "sentences": [{k: v for k, v in sentences[0].items() if k != "text"}],
        "wer": {"value": 0.1, "threshold": 0.45, "status": "ok", "reference_words": 1,
                "heard": "x"}}, "words")
    bench = root / "bench.tsv"
    bench.write_text("s\th:m:s\tmax_rss\tmax_vms\n1.5\t0:00:01\t120.5\t300\n", encoding="utf-8")
    tracks = []
    if music:
        ffmpeg.run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=f=220:d=3", "-f", "lavfi", "-i",
                          "sine=f=330:d=3", "-filter_complex", "amix=inputs=2",
                          str(root / "music.wav")], "make music")
        tracks = [str(root / "music.wav")]
    options = dict(POST_OPTIONS, music=tracks[0] if tracks else None)
    provenance = {"seed": 1, "output": OUTPUT,
                  "stages": {"post": options, "script": {"backend": "openai", "model": "m",
                                                          "api_key_env": "OPENAI_API_KEY"}}}
    names = ("mp4", "srt", "vtt", "poster", "manifest")
    files = ("final.mp4", "final.srt", "final.vtt", "poster.jpg", "manifest.json")
    return SimpleNamespace(
        input=SimpleNamespace(clips=clips, keyframes=keyframes,
                              shotlist=str(root / "shotlist.json"),
                              idea=str(root / "idea.json"), wav=str(root / "narration.wav"),
                              meta=str(root / "voice.json"), words=str(root / "words.json"),
                              srt=str(root / "subtitles.srt"), vtt=str(root / "subtitles.vtt"),
                              music=tracks),
        output=SimpleNamespace(**{n: str(root / f) for n, f in zip(names, files, strict=True)}),
        params=SimpleNamespace(options=options, output=OUTPUT, provenance=provenance,
                               benchmarks={"voice": str(bench),
                                           "keyframes": [str(bench), str(root / "no.tsv")]}),
        threads=2)


CASES = {"16:9": (3, 10.0, False), "9:16": (2, 4.0, False), "1:1": (2, 4.0, True)}


@pytest.fixture(scope="module", params=sorted(CASES))
def finished(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    aspect = request.param
    root = tmp_path_factory.mktemp("post") / aspect.replace(":", "x")
    smk = build_story(root, aspect, *CASES[aspect])
    post.main(smk, JobContext.alone("post"))
    return aspect, smk


def test_final_video_meets_the_quality_floors(finished):
    aspect, smk = finished
    mp4 = smk.output.mp4
    info = ffmpeg.probe(mp4)
    v, a = info.first("video"), info.first("audio")
    assert (v.codec, v.profile, v.pix_fmt) == ("h264", "High", "yuv420p")
    assert (v.width, v.height) == ffmpeg.PRESETS[aspect]
    assert (a.codec, a.sample_rate) == ("aac", 48000)
    assert any(s.kind == "subtitle" and s.codec == "mov_text" for s in info.streams)
    assert ffmpeg.has_faststart(mp4)
    duration = CASES[aspect][1]
    video_s, audio_s = ffmpeg.video_duration(mp4), ffmpeg.audio_duration(mp4)
    assert abs(video_s - duration) <= 1 / 25 and abs(video_s - audio_s) <= 0.1
    loud = ffmpeg.measure_loudness(mp4)
    assert abs(loud.integrated_lufs - -14.0) <= 1.0
    assert loud.true_peak_db <= -1.0
    assert ffmpeg.detect_black(mp4) == []


def test_manifest_records_artifacts_settings_and_figures(finished):
    _, smk = finished
    manifest = read_json(smk.output.manifest, "manifest")
    paths = {a["path"]: a["sha256"] for a in manifest["artifacts"]}
    assert paths["final.mp4"] == sha256_file(smk.output.mp4)
    assert "manifest.json" not in paths and "poster.jpg" in paths
    assert manifest["quality"]["av_diff_s"] <= 0.1
    assert manifest["quality"]["picture_stream_copied"] is True  # each frame encoded once
    assert manifest["tools"]["ffmpeg"] != "unknown"
    assert manifest["timings"]["voice"] == {"jobs": 1, "wall_s": 1.5, "max_rss_mb": 120.5}
    assert manifest["timings"]["keyframes"]["jobs"] == 1
    assert "api_key_env" not in json.dumps(manifest)
    assert manifest["stages"]["script"]["model"] == "m"
    assert Path(smk.output.srt).read_bytes() == Path(smk.input.srt).read_bytes()
    aspect = read_json(smk.input.shotlist, "shotlist")["aspect"]
    assert Image.open(smk.output.poster).size == ffmpeg.PRESETS[aspect]


def test_crossfade_keeps_the_length_and_cuts_add_up():
    shots = make_story("16:9", shots=3, duration=10.0)[1]["shots"]
    counts = [ffmpeg.shot_frames(s["start"], s["end"], 25) for s in shots]
    counts[1] += 10  # sh002 crossfades into sh003
    segments = fp.plan_segments(shots, counts, 0.4, 25)
    assert [s.overlap for s in segments] == [0, 10, 0]
    assert fp.timeline_frames(segments) == 250
    chains, label = fp.join_graph(segments, 25)
    assert "xfade" in chains[-1] and "concat" in chains[-2] and label == "j2"
    with pytest.raises(ffmpeg.MediaError, match="frames"):
        fp.plan_segments(shots, [c - 5 for c in counts], 0.4, 25)


def test_clips_without_cut_points_are_joined_by_encoding(tmp_path: Path):
    """Clips from a backend that forces no IDR frames: post notices and encodes the picture."""
    smk = build_story(tmp_path / "story", "16:9", 3, 6.0, False)
    for clip in smk.input.clips:
        plain = Path(clip).with_suffix(".plain.mp4")
        ffmpeg.run_ffmpeg(["-y", "-i", clip, *ffmpeg.x264_args(OUTPUT), "-x264-params",
                          "keyint=1000:min-keyint=1000:scenecut=0", str(plain)], "re-encode")
        plain.replace(clip)
    post.main(smk, JobContext.alone("post"))
    quality = read_json(smk.output.manifest, "manifest")["quality"]
    assert quality["picture_stream_copied"] is False
    assert quality["frames"] == 150 == ffmpeg.count_frames(smk.output.mp4)
    assert quality["av_diff_s"] <= 0.1


@pytest.mark.parametrize("aspect", sorted(ffmpeg.PRESETS))
def test_burned_subtitles_stay_inside_the_title_safe_area(aspect: str, tmp_path: Path):
    w, h = ffmpeg.PRESETS[aspect]
    (tmp_path / ffmpeg.SUBS_NAME).write_text(LONG_CUE, encoding="utf-8")
    font = fonts.install_subtitle_font(tmp_path)
    ffmpeg.run_ffmpeg(["-y", "-f", "lavfi", "-i", f"color=c=black:s={w}x{h}:d=1:r=25",
                      "-vf", ffmpeg.subtitle_filter((w, h), font), "-frames:v", "1", "frame.png"],
                     "burn a test subtitle", cwd=tmp_path)
    pixels = np.asarray(Image.open(tmp_path / "frame.png").convert("L"))
    ys, xs = np.nonzero(pixels > 40)
    assert len(xs) > 0.002 * w * h  # the text is there
    margin_x, margin_y = 0.05 * w, 0.05 * h
    assert xs.min() >= margin_x and xs.max() <= w - margin_x
    assert ys.min() >= margin_y and ys.max() <= h - margin_y
    assert ys.min() > h / 2  # at the bottom
    rows = np.nonzero((pixels > 40).any(axis=1))[0]
    lines = 1 + int((np.diff(rows) > 1).sum())  # bands of lit rows
    assert lines == 2  # the cue's two lines, not re-wrapped by libass on a narrow frame
    line_height = (ys.max() - ys.min()) / 2
    assert line_height >= max(24, 0.025 * w)  # readable: a like share of the width everywhere


def test_secrets_are_scrubbed():
    cleaned = manifest.scrub({"a": {"api_key": "x", "token_env": "y", "keep": [{"secret": 1}]}})
    assert cleaned == {"a": {"keep": [{}]}}


def test_subtitles_are_burned_on_a_machine_without_fonts(tmp_path: Path, monkeypatch):
    """No DejaVu, and fontconfig finds no font at all: Noto Sans, installed as a package, is
    used."""
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><fontconfig><dir>{empty}</dir>'
                    f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>", encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ())
    (tmp_path / ffmpeg.SUBS_NAME).write_text(LONG_CUE, encoding="utf-8")
    font = fonts.install_subtitle_font(tmp_path, LONG_CUE)
    assert font == "Noto Sans"
    ffmpeg.run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=black:s=640x360:d=1:r=25",
                      "-vf", ffmpeg.subtitle_filter((640, 360), font), "-frames:v", "1",
                      "frame.png"], "burn a test subtitle", cwd=tmp_path)
    pixels = np.asarray(Image.open(tmp_path / "frame.png").convert("L"))
    assert (pixels > 40).sum() > 0.002 * 640 * 360  # the text is there


def test_manifest_lists_only_the_current_shots_files(tmp_path: Path):
    for name in ("final.mp4", "keyframes/sh001.png", "keyframes/sh009.png", "video/sh009.mp4",
                 "vision/style.json", "vision/sh001.json", ".snakemake_timestamp"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name, encoding="utf-8")
    listed = [a["path"] for a in manifest.artifact_list(tmp_path, set(), {"sh001"})]
    assert listed == ["final.mp4", "keyframes/sh001.png", "vision/sh001.json",
                      "vision/style.json"]
    everything = [a["path"] for a in manifest.artifact_list(tmp_path, set())]
    assert "video/sh009.mp4" in everything  # without the shot ids, nothing is dropped
