"""media: ffmpeg lookup, probing without ffprobe, and the measurement helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyreel import media

SAMPLE = "\n".join([
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':",
    "  Duration: 00:01:02.50, start: 0.000000, bitrate: 1234 kb/s",
    "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, "
    "progressive), 1080x1920 [SAR 1:1 DAR 9:16], 900 kb/s, 30 fps, 30 tbr, 15360 tbn (default)",
    "  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, "
    "192 kb/s (default)",
    "  Stream #0:2[0x3](eng): Subtitle: mov_text (tx3g / 0x67337874), 0 kb/s (default)",
])


def lavfi(out: Path, video: str | None, audio: str | None, *extra: str) -> Path:
    args = ["-y"]
    if video:
        args += ["-f", "lavfi", "-i", video]
    if audio:
        args += ["-f", "lavfi", "-i", audio]
    media.run_ffmpeg([*args, *extra, str(out)], f"make {out.name}")
    return out


def test_parse_probe_reads_streams_and_duration():
    info = media.parse_probe(SAMPLE, "x.mp4")
    assert info.duration == pytest.approx(62.5)
    v, a = info.first("video"), info.first("audio")
    assert (v.codec, v.profile, v.pix_fmt, v.width, v.height, v.fps) == (
        "h264", "High", "yuv420p", 1080, 1920, 30.0)
    assert (a.codec, a.sample_rate, a.channels) == ("aac", 48000, "stereo")
    assert info.first("subtitle").codec == "mov_text"
    with pytest.raises(media.MediaError, match="not a media file"):
        media.parse_probe("x.txt: Invalid data found when processing input", "x.txt")


def test_probe_frames_durations_and_faststart(tmp_path: Path):
    out = lavfi(tmp_path / "t.mp4", "testsrc2=s=320x240:r=25:d=2", "sine=f=440:d=2",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", "48000",
                "-movflags", "+faststart")
    info = media.probe(out)
    assert info.first("video").width == 320 and info.first("audio").sample_rate == 48000
    assert media.count_frames(out) == 50
    assert media.video_duration(out) == pytest.approx(2.0)
    assert media.audio_duration(out) == pytest.approx(2.0, abs=0.03)
    assert media.has_faststart(out)
    slow = lavfi(tmp_path / "s.mp4", "testsrc2=s=64x64:r=25:d=1", None, "-c:v", "libx264")
    assert not media.has_faststart(slow)


def test_loudness_follows_level(tmp_path: Path):
    loud = media.measure_loudness(lavfi(tmp_path / "a.wav", None, "sine=f=1000:d=3"))
    quiet = lavfi(tmp_path / "b.wav", None, "sine=f=1000:d=3", "-af", "volume=-6dB")
    quieter = media.measure_loudness(quiet)
    assert loud.integrated_lufs - quieter.integrated_lufs == pytest.approx(6.0, abs=0.3)
    assert loud.true_peak_db - quieter.true_peak_db == pytest.approx(6.0, abs=0.3)


def test_blackdetect_finds_a_black_stretch(tmp_path: Path):
    out = lavfi(tmp_path / "b.mp4", "color=c=black:s=64x64:r=25:d=1", None, "-vf",
                "tpad=stop=25:color=white", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    segments = media.detect_black(out, min_s=0.5)
    assert len(segments) == 1 and segments[0][0] == 0 and segments[0][1] == pytest.approx(1.0)


def test_errors_are_clear(tmp_path: Path):
    with pytest.raises(media.MediaError, match="no such file"):
        media.probe(tmp_path / "missing.mp4")
    with pytest.raises(media.MediaError, match="ffmpeg failed to do a thing"):
        media.run_ffmpeg(["-i", str(tmp_path / "missing.wav"), "-f", "null", "-"], "do a thing")
    with pytest.raises(media.MediaError, match="unknown aspect"):
        media.frame_size("4:3")
    assert media.frame_size("9:16") == (1080, 1920)
    assert Path(media.ffmpeg_exe()).exists()
