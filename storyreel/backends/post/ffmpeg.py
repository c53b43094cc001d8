"""ffmpeg post-production: audio master, edit by stream copy, subtitle track, final file.

1. Audio master (audio only, cheap): narration (plus an optional music bed, looped, trimmed and
   sidechain-ducked under the voice) is rendered to float WAV at 48 kHz stereo, exactly as long
   as the picture; its integrated loudness is measured (``ebur128``), a gain brings it to the
   target, and a 4x-oversampled look-ahead limiter holds the true peak below the ceiling (with a
   margin for the AAC encoder). It is measured again and corrected once if needed.
2. Picture: the clips already carry the film's encoding settings and burned subtitles, and IDR
   frames where they may be cut. Each clip's body is cut out by stream copy (segment muxer) and
   the bodies are joined in shot order (concat demuxer, stream copy); a crossfade is the only
   picture encoded here: the outgoing clip's overlap frames dissolved (``xfade``) over the
   incoming clip's first frames, with the same settings, so the film keeps the narration's
   length and every frame is encoded once. Every cut is checked by frame count; if a clip
   cannot be cut (no IDR where needed), the picture is decoded, joined and encoded instead.
3. The final file: the picture as it is, AAC 48 kHz, a soft mov_text subtitle track,
   ``+faststart``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.core.artifacts import atomic_path
from storyreel.core.types import EditJob
from storyreel.media.ffmpeg import (
    SUBS_NAME,
    Loudness,
    MediaError,
    count_frames,
    measure_loudness,
    run_ffmpeg,
    shot_frames,
    x264_args,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
AAC_MARGIN_DB = 0.8  # headroom below the true-peak ceiling for the AAC encoder's overshoot
LANGUAGES = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld",
             "pt": "por", "sv": "swe", "da": "dan", "no": "nor", "fi": "fin", "pl": "pol",
             "ru": "rus", "uk": "ukr", "hi": "hin", "ar": "ara", "he": "heb", "ja": "jpn",
             "zh": "zho", "cmn": "cmn", "yue": "yue", "ko": "kor", "tr": "tur", "el": "ell"}


class CutError(MediaError):
    """A clip cannot be cut at a frame without decoding it."""


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


def has_cues(srt: str | Path) -> bool:
    """True when an SRT file holds at least one cue (an empty track would fail the mux)."""
    from storyreel.media.subtitles import parse_subtitles

    return bool(parse_subtitles(srt))


class FfmpegPost:
    """Edit, audio master, subtitles and the single final encode with ffmpeg."""

    name = "ffmpeg"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.output: dict[str, Any] = {}  # the film's output settings, set by run()
        self.fps = 0

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

    # -- picture --------------------------------------------------------------------------------

    def cut(self, clip: str | Path, points: list[int], total: int, work: Path,
            name: str) -> dict[int, Path]:
        """Split a clip at frame numbers by stream copy: {first frame: piece}.

        The clip has IDR frames at these points (the video stage forces them), so the pieces
        decode on their own. Where a clip has no IDR frame at a point the muxer cuts later; the
        joined film's frame count (checked by :meth:`join`) then tells.
        """
        inner = sorted(p for p in points if 0 < p < total)
        if not inner:
            return {0: Path(clip)}
        run_ffmpeg(["-y", "-i", str(Path(clip).resolve()), "-map", "0:v:0", "-c", "copy",
                    "-f", "segment", "-segment_format", "mp4", "-reset_timestamps", "1",
                    "-segment_frames", ",".join(map(str, inner)), f"{name}-%03d.mp4"],
                   f"cut {clip}", cwd=work)
        pieces = sorted(work.glob(f"{name}-*.mp4"))
        if len(pieces) != len(inner) + 1:
            raise CutError(f"{clip}: {len(pieces)} pieces for cuts at {inner}")
        return dict(zip([0, *inner], pieces, strict=True))

    def crossfade(self, outgoing: Path, incoming: Path, frames: int, out: Path) -> None:
        """The dissolve between two shots: the outgoing clip's overlap (a piece that starts at
        the cut) over the incoming clip's first frames, encoded with the film's settings on one
        thread (reproducible bytes)."""
        timebase = f"settb=1/{self.fps * 512}"
        graph = (f"[0:v]trim=end_frame={frames},setpts=PTS-STARTPTS,{timebase}[a];"
                 f"[1:v]trim=end_frame={frames},setpts=PTS-STARTPTS,{timebase}[b];"
                 f"[a][b]xfade=transition=fade:duration={frames / self.fps:.6f}:offset=0,"
                 "format=yuv420p[v]")
        run_ffmpeg(["-y", "-i", str(outgoing), "-i", str(incoming), "-filter_complex", graph,
                    "-map", "[v]", *x264_args(self.output, 1), "-r", str(self.fps), "-an",
                    str(out)], "encode a crossfade")

    def join(self, clips: list[str | Path], segments: list[Segment], counts: list[int],
             work: Path, out: Path) -> None:
        """The picture by stream copy: clip bodies cut at IDR frames, crossfades between them."""
        pieces = []
        for i, (clip, seg, total) in enumerate(zip(clips, segments, counts, strict=True)):
            head = segments[i - 1].overlap if i else 0
            pieces.append(self.cut(clip, [head, seg.frames], total, work, f"clip{i:03d}"))
        parts: list[Path] = []
        for i, seg in enumerate(segments):
            head = segments[i - 1].overlap if i else 0
            if seg.frames > head:  # the body: from the end of the incoming fade to the cut
                parts.append(pieces[i][head])
            if seg.overlap:
                parts.append(work / f"fade{i:03d}.mp4")
                self.crossfade(pieces[i][seg.frames], pieces[i + 1][0], seg.overlap, parts[-1])
        (work / "parts.txt").write_text(
            "".join(f"file '{p.resolve()}'\n" for p in parts), encoding="utf-8")
        run_ffmpeg(["-y", "-f", "concat", "-safe", "0", "-i", "parts.txt", "-map", "0:v:0",
                    "-c", "copy", "-an", str(out)], "join the clips", cwd=work)
        if count_frames(out) != timeline_frames(segments):
            raise CutError(f"joined {count_frames(out)} frames, the film has "
                           f"{timeline_frames(segments)}")

    def reencode(self, clips: list[str | Path], segments: list[Segment], out: Path,
                 threads: int) -> None:
        """The picture by decoding and encoding (for clips that cannot be cut without it)."""
        chains, label = join_graph(segments, self.fps)
        chains.append(f"[{label}]format=yuv420p[vout]")
        args = ["-y"]
        for clip in clips:
            args += ["-i", str(Path(clip).resolve())]
        run_ffmpeg([*args, "-filter_complex", ";".join(chains), "-map", "[vout]",
                    *x264_args(self.output, threads), "-r", str(self.fps), "-an", str(out)],
                   "encode the picture")

    def mux(self, picture: Path, audio: Path, srt: Path | None, language: str, out: str | Path,
            work: Path) -> None:
        """The final file: the picture as it is, AAC audio, a soft subtitle track, faststart."""
        args = ["-y", "-i", str(picture), "-i", str(audio)]
        maps = ["-map", "0:v:0", "-map", "1:a:0"]
        if srt:
            args += ["-i", SUBS_NAME]
            maps += ["-map", "2:s:0", "-c:s", "mov_text",
                     "-metadata:s:s:0",
                     f"language={LANGUAGES.get(language.split('-')[0].lower(), 'und')}"]
        run_ffmpeg([*args, *maps, "-c:v", "copy", "-c:a", "aac", "-b:a", "192k",
                    "-ar", str(SAMPLE_RATE), "-movflags", "+faststart",
                    str(Path(out).resolve())], "write the final video", cwd=work)

    def run(self, job: EditJob) -> dict[str, Any]:
        """Make ``job.out`` from the clips, narration and subtitles; returns the edit's figures."""
        self.output, self.fps = dict(job.output), int(job.output["fps"])
        clips = list(job.clips)
        counts = [count_frames(c) for c in clips]
        segments = plan_segments(job.shotlist["shots"], counts,
                                 float(job.shotlist["crossfade_s"]), self.fps)
        frames = timeline_frames(segments)
        duration = frames / self.fps
        with tempfile.TemporaryDirectory(prefix="storyreel-post-") as tmp:
            work = Path(tmp)
            subs = None
            if job.subtitles and has_cues(job.subtitles):
                shutil.copyfile(job.subtitles, work / SUBS_NAME)
                subs = work / SUBS_NAME
            self.mix_audio(job.narration, job.music, duration, work / "mix.wav")
            master = self.master_audio(work / "mix.wav", work / "master.wav")
            picture, copied = work / "picture.mp4", True
            try:
                self.join(clips, segments, counts, work, picture)
            except CutError as exc:
                log.warning("joining by stream copy failed (%s): encoding the picture", exc)
                self.reencode(clips, segments, picture, job.threads)
                copied = False
            with atomic_path(job.out) as part:
                self.mux(picture, work / "master.wav", subs, job.language, part, work)
        return {"frames": frames, "duration_s": duration, "master": master,
                "segments": segments, "stream_copy": copied}
