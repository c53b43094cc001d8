"""media: ffmpeg lookup, probing with PyAV, and the measurement helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyreel.media import ffmpeg


def lavfi(out: Path, video: str | None, audio: str | None, *extra: str) -> Path:
    args = ["-y"]
    if video:
        args += ["-f", "lavfi", "-i", video]
    if audio:
        args += ["-f", "lavfi", "-i", audio]
    ffmpeg.run_ffmpeg([*args, *extra, str(out)], f"make {out.name}")
    return out


def test_probe_reads_streams_and_duration(tmp_path: Path):
    (tmp_path / "s.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHello.\n")
    out = lavfi(tmp_path / "p.mp4", "testsrc2=s=108x192:r=30:d=2.5", "sine=f=440:d=2.5",
                "-i", str(tmp_path / "s.srt"), "-map", "0:v", "-map", "1:a", "-map", "2:s",
                "-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-c:a", "aac",
                "-ac", "2", "-ar", "48000", "-c:s", "mov_text")
    info = ffmpeg.probe(out)
    assert info.format == "mov" and info.duration == pytest.approx(2.5, abs=0.05)
    v, a = info.first("video"), info.first("audio")
    assert (v.codec, v.profile, v.pix_fmt, v.width, v.height, v.fps) == (
        "h264", "High", "yuv420p", 108, 192, 30.0)
    assert (a.codec, a.profile, a.sample_rate, a.channels) == ("aac", "LC", 48000, "stereo")
    assert info.first("subtitle").codec == "mov_text"
    wav = lavfi(tmp_path / "m.wav", None, "sine=f=440:d=1")
    assert ffmpeg.probe(wav).first("audio").channels == "mono"
    (tmp_path / "x.txt").write_text("not media")
    with pytest.raises(ffmpeg.MediaError, match="not a media file"):
        ffmpeg.probe(tmp_path / "x.txt")


def test_probe_frames_durations_and_faststart(tmp_path: Path):
    out = lavfi(tmp_path / "t.mp4", "testsrc2=s=320x240:r=25:d=2", "sine=f=440:d=2",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", "48000",
                "-movflags", "+faststart")
    info = ffmpeg.probe(out)
    assert info.first("video").width == 320 and info.first("audio").sample_rate == 48000
    assert ffmpeg.count_frames(out) == 50
    assert ffmpeg.video_duration(out) == pytest.approx(2.0)
    assert ffmpeg.audio_duration(out) == pytest.approx(2.0, abs=0.001)  # no AAC padding
    assert ffmpeg.has_faststart(out)
    slow = lavfi(tmp_path / "s.mp4", "testsrc2=s=64x64:r=25:d=1", None, "-c:v", "libx264")
    assert not ffmpeg.has_faststart(slow)


def test_loudness_follows_level(tmp_path: Path):
    loud = ffmpeg.measure_loudness(lavfi(tmp_path / "a.wav", None, "sine=f=1000:d=3"))
    quiet = lavfi(tmp_path / "b.wav", None, "sine=f=1000:d=3", "-af", "volume=-6dB")
    quieter = ffmpeg.measure_loudness(quiet)
    assert loud.integrated_lufs - quieter.integrated_lufs == pytest.approx(6.0, abs=0.3)
    assert loud.true_peak_db - quieter.true_peak_db == pytest.approx(6.0, abs=0.3)


def test_blackdetect_finds_a_black_stretch(tmp_path: Path):
    out = lavfi(tmp_path / "b.mp4", "color=c=black:s=64x64:r=25:d=1", None, "-vf",
                "tpad=stop=25:color=white", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    segments = ffmpeg.detect_black(out, min_s=0.5)
    assert len(segments) == 1 and segments[0][0] == 0 and segments[0][1] == pytest.approx(1.0)


def test_errors_are_clear(tmp_path: Path):
    with pytest.raises(ffmpeg.MediaError, match="no such file"):
        ffmpeg.probe(tmp_path / "missing.mp4")
    with pytest.raises(ffmpeg.MediaError, match="ffmpeg failed to do a thing"):
        ffmpeg.run_ffmpeg(["-i", str(tmp_path / "missing.wav"), "-f", "null", "-"], "do a thing")
    with pytest.raises(ffmpeg.MediaError, match="unknown aspect"):
        ffmpeg.frame_size("4:3")
    assert ffmpeg.frame_size("9:16") == (1080, 1920)
    assert Path(ffmpeg.ffmpeg_exe()).exists()
