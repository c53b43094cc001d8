"""ffmpeg post-production: edit, audio master, subtitles and the one final encode.

1. Audio master (audio only, cheap): narration (plus an optional music bed, looped, trimmed and
   sidechain-ducked under the voice) is rendered to float WAV at 48 kHz stereo, exactly as long
   as the picture; its integrated loudness is measured (``ebur128``), a gain brings it to the
   target, and a 4x-oversampled look-ahead limiter holds the true peak below the ceiling (with a
   margin for the AAC encoder). It is measured again and corrected once if needed.
2. Picture: the clips are trimmed to their exact frame counts and joined in shot order, with a
   cut (``concat``) or a crossfade (``xfade``) as the shot list asks; a crossfade overlaps the
   extra frames the video stage rendered after the outgoing shot, so the film keeps the
   narration's length. Subtitles are burned with libass (``subtitles`` + ``force_style``, sized
   in frame pixels and kept inside the title-safe area).
3. One x264 encode: H.264 High, yuv420p, BT.709, the configured CRF and preset; AAC 48 kHz;
   a soft mov_text subtitle track; ``+faststart``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.artifacts import atomic_path
from storyreel.media import (
    TITLE_SAFE,
    Loudness,
    MediaError,
    count_frames,
    frame_size,
    measure_loudness,
    run_ffmpeg,
    shot_frames,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
AAC_MARGIN_DB = 0.8  # headroom below the true-peak ceiling for the AAC encoder's overshoot
LANGUAGES = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld",
             "pt": "por", "sv": "swe", "da": "dan", "no": "nor", "fi": "fin", "pl": "pol"}
BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
         "-color_range", "tv"]
SUBS_NAME = "subs.srt"  # the subtitle file's name inside the work folder (no escaping needed)


@dataclass(frozen=True)
class Segment:
    """One clip on the final timeline: frames it covers, and overlap into the next shot."""

    frames: int
    overlap: int


def plan_segments(shots: list[dict[str, Any]], clip_frames: list[int], crossfade_s: float,
                  fps: int) -> list[Segment]:
    """Each clip's frames on the timeline and its crossfade overlap into the next one.

    The overlap is what the clip has beyond its shot (at most the crossfade length); a clip
    shorter than its shot is an error, since the film would drift from the narration.
    """
    if len(shots) != len(clip_frames):
        raise MediaError(f"{len(clip_frames)} clips for {len(shots)} shots")
    wanted = round(crossfade_s * fps)
    segments = []
    for i, (shot, have) in enumerate(zip(shots, clip_frames, strict=True)):
        frames = shot_frames(shot["start"], shot["end"], fps)
        if have < frames:
            raise MediaError(f"clip {shot['id']} has {have} frames, its shot needs {frames}")
        fade = wanted if shot["transition"] == "crossfade" and i + 1 < len(shots) else 0
        segments.append(Segment(frames, min(fade, have - frames, frames)))
    return segments


def timeline_frames(segments: list[Segment]) -> int:
    """Frames of the joined film (the overlaps are shared, so they do not add)."""
    return sum(s.frames for s in segments)


def join_graph(segments: list[Segment], fps: int) -> tuple[list[str], str]:
    """Filter chains that trim every clip and join them with cuts or crossfades.

    Returns (chains, label of the joined video). Input ``i`` is clip ``i``.
    """
    chains = []
    timebase = f"settb=1/{fps * 512}"  # one timebase everywhere: xfade requires it
    for i, seg in enumerate(segments):
        chains.append(f"[{i}:v]trim=end_frame={seg.frames + seg.overlap},setpts=PTS-STARTPTS,"
                      f"{timebase}[c{i}]")
    label, length = "c0", segments[0].frames + segments[0].overlap
    for i in range(1, len(segments)):
        fade = segments[i - 1].overlap
        seg = segments[i]
        out = f"j{i}"
        if fade:
            offset = (length - fade) / fps
            chains.append(f"[{label}][c{i}]xfade=transition=fade:duration={fade / fps:.6f}:"
                          f"offset={offset:.6f}[{out}]")
            length += seg.frames + seg.overlap - fade
        else:
            chains.append(f"[{label}][c{i}]concat=n=2:v=1:a=0,{timebase}[{out}]")
            length += seg.frames + seg.overlap
        label = out
    return chains, label


def subtitle_style(size: tuple[int, int]) -> dict[str, int]:
    """libass style in frame pixels: font size, outline, shadow and margins per preset.

    The font is 5.5 % of the height but at most 5.2 % of the width (tall frames), the side
    margins 7 % of the width and the bottom margin 8 % of the height (12 % for vertical video,
    whose players overlay controls at the bottom): all inside the 5 % title-safe border.
    """
    w, h = size
    font = round(min(0.055 * h, 0.052 * w))
    safe_x, safe_y = (1 - TITLE_SAFE) / 2 * w, (1 - TITLE_SAFE) / 2 * h
    outline = max(2, round(font * 0.08))
    return {
        "PlayResX": w, "PlayResY": h, "FontSize": font, "Outline": outline,
        "Shadow": max(1, round(font * 0.04)),
        "MarginL": round(max(0.07 * w, safe_x + 2 * outline)),
        "MarginR": round(max(0.07 * w, safe_x + 2 * outline)),
        "MarginV": round(max((0.12 if h > w else 0.08) * h, safe_y + 2 * outline)),
    }


def subtitle_filter(size: tuple[int, int], name: str = SUBS_NAME) -> str:
    """The ``subtitles`` filter for a subtitle file ``name`` in ffmpeg's working folder.

    The name is a fixed, plain file name (the file is copied there), so no user path ever
    passes through filter-argument escaping.
    """
    style = subtitle_style(size)
    fields = [f"{k}={v}" for k, v in style.items()] + [
        "FontName=DejaVu Sans", "Bold=1", "PrimaryColour=&H00FFFFFF", "OutlineColour=&H00101010",
        "BackColour=&H80000000", "BorderStyle=1", "Alignment=2", "WrapStyle=0",
        "ScaledBorderAndShadow=1"]
    return f"subtitles=filename={name}:force_style='{','.join(fields)}'"


def has_cues(srt: str | Path) -> bool:
    """True when an SRT file holds at least one cue (an empty track would fail the mux)."""
    from storyreel.subtitles import parse_subtitles

    return bool(parse_subtitles(srt))


class FfmpegPost:
    """Edit, audio master, subtitles and the single final encode with ffmpeg."""

    name = "ffmpeg"

    def __init__(self, options: dict[str, Any], output: dict[str, Any]) -> None:
        self.options = dict(options)
        self.output = dict(output)
        self.fps = int(self.output.get("fps", 25))

    # -- audio ---------------------------------------------------------------------------------

    def mix_audio(self, wav: str | Path, music: str | Path | None, duration: float,
                  out: str | Path) -> None:
        """Narration (+ ducked, looped music) as 48 kHz stereo float WAV, ``duration`` long."""
        voice = (f"[0:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp,"
                 f"pan=stereo|c0=c0|c1=c0,apad=whole_dur={duration:.6f},"
                 f"atrim=end={duration:.6f}")
        args = ["-y", "-i", str(wav)]
        if music:
            args += ["-stream_loop", "-1", "-i", str(music)]
            graph = (f"{voice},asplit=2[v][key];"
                     f"[1:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                     f"atrim=end={duration:.6f},volume={float(self.options['music_db'])}dB[m];"
                     "[m][key]sidechaincompress=threshold=0.03:ratio=6:attack=15:release=350"
                     "[duck];[v][duck]amix=inputs=2:duration=first:normalize=0[a]")
        else:
            graph = f"{voice}[a]"
        run_ffmpeg(args + ["-filter_complex", graph, "-map", "[a]", "-c:a", "pcm_f32le",
                           str(out)], "mix the narration")

    def master_audio(self, mixed: str | Path, out: str | Path) -> Loudness:
        """Gain to the loudness target and limit the true peak; measured, corrected once."""
        target = float(self.options["loudness_lufs"])
        ceiling = float(self.options["true_peak_db"]) - AAC_MARGIN_DB
        measured = measure_loudness(mixed)
        if measured.integrated_lufs == float("-inf"):
            raise MediaError(f"{mixed}: the narration is silent")
        gain = target - measured.integrated_lufs
        for _ in range(2):
            limit = 10 ** (ceiling / 20)
            graph = (f"volume={gain:.3f}dB,aresample={SAMPLE_RATE * 4},"
                     f"alimiter=limit={limit:.5f}:attack=2:release=80:level=0:latency=1,"
                     f"aresample={SAMPLE_RATE}")
            run_ffmpeg(["-y", "-i", str(mixed), "-af", graph, "-c:a", "pcm_f32le", str(out)],
                       "master the audio")
            result = measure_loudness(out)
            miss = target - result.integrated_lufs
            if abs(miss) <= 0.3:
                break
            gain += miss
        log.info("audio master: %.2f LUFS, %.2f dBTP (gain %.2f dB)", result.integrated_lufs,
                 result.true_peak_db, gain)
        return result

    # -- picture and encode ----------------------------------------------------------------------

    def encode(self, clips: list[str | Path], segments: list[Segment], audio: str | Path,
               srt: str | Path | None, aspect: str, language: str, out: str | Path,
               work: Path, threads: int = 2) -> None:
        """The one final encode: joined picture, burned + soft subtitles, mastered audio."""
        size = frame_size(aspect)
        chains, label = join_graph(segments, self.fps)
        video = f"[{label}]"
        if srt and self.options.get("burn_subtitles", True):
            chains.append(f"{video}{subtitle_filter(size)}[subs]")
            video = "[subs]"
        chains.append(f"{video}format=yuv420p[vout]")
        args = ["-y"]
        for clip in clips:
            args += ["-i", str(Path(clip).resolve())]
        args += ["-i", str(Path(audio).resolve())]
        n = len(clips)
        if srt:
            args += ["-i", SUBS_NAME]
        args += ["-filter_complex", ";".join(chains), "-map", "[vout]", "-map", f"{n}:a"]
        if srt:
            args += ["-map", f"{n + 1}:s", "-c:s", "mov_text",
                     "-metadata:s:s:0", f"language={LANGUAGES.get(language, 'und')}"]
        args += ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p",
                 "-preset", str(self.output.get("x264_preset", "veryfast")),
                 "-crf", str(self.output.get("crf", 20)), "-r", str(self.fps), *BT709,
                 # High profile even at preset ultrafast, which would drop to Baseline
                 "-x264-params", "cabac=1:8x8dct=1",
                 "-c:a", "aac", "-b:a", "192k", "-ar", str(SAMPLE_RATE),
                 "-threads", str(threads), "-movflags", "+faststart", str(Path(out).resolve())]
        run_ffmpeg(args, "encode the final video", cwd=work)

    def run(self, clips: list[str | Path], shotlist: dict[str, Any], wav: str | Path,
            srt: str | Path | None, music: str | Path | None, language: str,
            out: str | Path, threads: int = 2) -> dict[str, Any]:
        """Make ``out`` from the clips, narration and subtitles; returns the edit's figures."""
        counts = [count_frames(c) for c in clips]
        segments = plan_segments(shotlist["shots"], counts, float(shotlist["crossfade_s"]),
                                 self.fps)
        frames = timeline_frames(segments)
        duration = frames / self.fps
        with tempfile.TemporaryDirectory(prefix="storyreel-post-") as tmp:
            work = Path(tmp)
            subs = None
            if srt and has_cues(srt):
                shutil.copyfile(srt, work / SUBS_NAME)
                subs = work / SUBS_NAME
            self.mix_audio(wav, music, duration, work / "mix.wav")
            master = self.master_audio(work / "mix.wav", work / "master.wav")
            with atomic_path(out) as part:
                self.encode(clips, segments, work / "master.wav", subs, shotlist["aspect"],
                            language, part, work, threads)
        return {"frames": frames, "duration_s": duration, "master": master,
                "segments": segments}
