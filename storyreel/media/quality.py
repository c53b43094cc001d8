"""Quality figures of a finished film, measured on the files themselves.

The post stage records them in the manifest and warns about any floor they miss; the benchmark
and the tests read the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from storyreel.media import ffmpeg
from storyreel.media.subtitles import Cue

AV_TOLERANCE_S = 0.1  # audio and video lengths may differ by at most this
LOUDNESS_TOLERANCE_LU = 1.0  # integrated loudness may miss its target by at most this


def measure(video: str | Path, loudness_target: float, true_peak_target: float
            ) -> dict[str, Any]:
    """The figures the manifest records, measured on the finished file."""
    info = ffmpeg.probe(video)
    v, a = info.first("video"), info.first("audio")
    if v is None or a is None:
        raise ffmpeg.MediaError(f"{video}: the final video lacks a video or audio stream")
    loud = ffmpeg.measure_loudness(video)
    video_s, audio_s = ffmpeg.video_duration(video), ffmpeg.audio_duration(video)
    return {
        "integrated_lufs": loud.integrated_lufs, "true_peak_db": loud.true_peak_db,
        "loudness_range_lu": loud.lra, "target_lufs": loudness_target,
        "target_true_peak_db": true_peak_target,
        "video_duration_s": round(video_s, 3), "audio_duration_s": round(audio_s, 3),
        "av_diff_s": round(abs(video_s - audio_s), 3),
        "black_segments": [[round(s, 3), round(e, 3)] for s, e in ffmpeg.detect_black(video)],
        "video": {"codec": v.codec, "profile": v.profile, "pix_fmt": v.pix_fmt,
                  "width": v.width, "height": v.height, "fps": v.fps},
        "audio": {"codec": a.codec, "sample_rate": a.sample_rate, "channels": a.channels},
        "subtitle_tracks": sum(1 for s in info.streams if s.kind == "subtitle"),
        "faststart": ffmpeg.has_faststart(video),
    }


def check_quality(q: dict[str, Any]) -> list[str]:
    """Quality floors the figures miss (empty when all are met)."""
    problems = []
    if abs(q["integrated_lufs"] - q["target_lufs"]) > LOUDNESS_TOLERANCE_LU:
        problems.append(f"integrated loudness {q['integrated_lufs']} LUFS is off target")
    if q["true_peak_db"] > q["target_true_peak_db"]:
        problems.append(f"true peak {q['true_peak_db']} dBTP is above the ceiling")
    if q["av_diff_s"] > AV_TOLERANCE_S:
        problems.append(f"audio and video lengths differ by {q['av_diff_s']} s")
    if q["black_segments"]:
        problems.append(f"black stretches: {q['black_segments']}")
    return problems


def cut_offsets(shots: list[dict[str, Any]], words: list[dict[str, Any]]) -> list[float]:
    """For each cut, how far it lies outside the pause between the sentences it separates
    (0 when it is inside: after the last word of one sentence, before the first of the next)."""
    offsets = []
    for shot in shots[1:]:
        before = [w for w in words if w["start"] < shot["start"]]
        after = [w for w in words if w["start"] >= shot["start"]]
        if not before or not after:
            raise ValueError(f"{shot['id']}: no words on one side of its cut")
        pause_start, pause_end = before[-1]["end"], after[0]["start"]
        offsets.append(round(max(0.0, pause_start - shot["start"], shot["start"] - pause_end), 3))
    return offsets


def cue_start_errors(cues: Sequence[Cue], words: Sequence[Mapping[str, Any]]) -> list[float]:
    """Seconds between each cue's start and the aligned start of its first word.

    The cues must carry the words in order (as :func:`build_cues` makes them); a cue whose text
    does not continue the word sequence raises ``ValueError``, so a check cannot pass on
    subtitles that say something else.
    """
    errors: list[float] = []
    index = 0
    for cue in cues:
        said = " ".join(cue.lines).split()
        heard = [str(w["text"]) for w in words[index:index + len(said)]]
        if heard != said:
            raise ValueError(f"cue at {cue.start:.3f} s says {said}, the words are {heard}")
        errors.append(abs(cue.start - float(words[index]["start"])))
        index += len(said)
    if index != len(words):
        raise ValueError(f"the cues carry {index} of {len(words)} words")
    return errors
