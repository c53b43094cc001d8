"""Subtitles from word timings: cue building, SRT and WebVTT writers, and a parser for both.

SRT is written and parsed with the ``srt`` library; WebVTT shares its timestamps (with a dot)
and is read by reducing it to SRT (header, NOTE blocks, identifiers and cue settings dropped).

Cue rules (:func:`build_cues`):

* a cue never spans two sentences, and starts at its first word's aligned start;
* at most ``max_lines`` lines of at most ``max_line_chars`` characters (lines balanced); words
  are joined with spaces, except in scripts written without them (Chinese, Japanese), whose
  units are characters (:func:`storyreel.text.words.join_units`), so a line breaks between
  any two of them; right-to-left text (Arabic, Hebrew) is kept in logical order, as written:
  the renderer (libass with FriBiDi and HarfBuzz) lays it out and shapes it;
* at most ``max_cps`` characters per second: a cue's end is extended into the following
  silence when that is possible, else the sentence is split into more (one-line) cues;
* cues are at least ``min_cue_s`` long where the gap to the next cue allows, and never overlap;
* finally every cue is held to ``max_cps`` whichever aligner produced the timings
  (:func:`hold_reading_speed`): a cue that still reads too fast takes time from the silence
  before it, and, only if that is not enough, delays the next cue a little. Only when the whole
  narration has more text than ``max_cps`` allows can a cue stay faster.

Times are handled in integer milliseconds so that what is written is exactly what was checked.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import srt

from storyreel.core.artifacts import write_text
from storyreel.text.words import join_units

MIN_CUE_S = 0.8
GAP_S = 0.04  # a short gap kept before the next cue when a cue is extended


@dataclass(frozen=True)
class Cue:
    """One subtitle: start and end in seconds, and its lines."""

    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The lines joined with newlines."""
        return "\n".join(self.lines)

    @property
    def chars(self) -> int:
        """Characters shown (line breaks count as one space)."""
        return len(" ".join(self.lines))


@dataclass(frozen=True)
class _Word:
    text: str
    start_ms: int
    end_ms: int
    sentence: str


# --------------------------------------------------------------------------------------------
# Layout


def wrap(words: Sequence[str], max_chars: int, max_lines: int) -> list[str] | None:
    """Balanced line breaking: the fewest lines, then the shortest longest line.

    Returns ``None`` when the words do not fit in ``max_lines`` lines of ``max_chars``
    (a single word longer than a line is allowed on a line of its own).
    """
    n = len(words)
    if n == 0:
        return []

    def line(i: int, j: int) -> str:
        return join_units(list(words[i:j]))

    def fits(i: int, j: int) -> bool:
        return j - i == 1 or len(line(i, j)) <= max_chars

    # best[k][i]: the smallest possible longest line when words[i:] use exactly k lines.
    inf = float("inf")
    best: list[list[float]] = [[inf] * (n + 1) for _ in range(max_lines + 1)]
    cut: list[list[int]] = [[n] * (n + 1) for _ in range(max_lines + 1)]
    best[0][n] = 0
    for k in range(1, max_lines + 1):
        for i in range(n - 1, -1, -1):
            for j in range(i + 1, n + 1):
                if not fits(i, j):
                    break
                score = max(len(line(i, j)), best[k - 1][j])
                if score < best[k][i]:
                    best[k][i], cut[k][i] = score, j
    for k in range(1, max_lines + 1):
        if best[k][0] < inf:
            lines, i = [], 0
            for used in range(k, 0, -1):
                j = cut[used][i]
                lines.append(line(i, j))
                i = j
            return lines
    return None


def partition(words: Sequence[str], parts: int, max_chars: int, max_lines: int
              ) -> list[int] | None:
    """Cut points splitting ``words`` into ``parts`` cues that each fit the line limits, with
    the longest cue as short as possible (balanced); ``None`` when impossible."""
    n = len(words)
    if parts > n:
        return None
    inf = float("inf")

    def cost(i: int, j: int) -> float:
        if wrap(words[i:j], max_chars, max_lines) is None:
            return inf
        return len(join_units(list(words[i:j])))

    # best[k][i]: the smallest longest cue when words[i:] make exactly k cues.
    best = [[inf] * (n + 1) for _ in range(parts + 1)]
    cut = [[n] * (n + 1) for _ in range(parts + 1)]
    best[0][n] = 0
    for k in range(1, parts + 1):
        for i in range(n - 1, -1, -1):
            for j in range(i + 1, n - k + 2):
                score = max(cost(i, j), best[k - 1][j])
                if score < best[k][i]:
                    best[k][i], cut[k][i] = score, j
    if best[parts][0] == inf:
        return None
    cuts, i = [], 0
    for k in range(parts, 0, -1):
        i = cut[k][i]
        cuts.append(i)
    return cuts


# --------------------------------------------------------------------------------------------
# Timing


def _chars(chunk: Sequence[_Word]) -> int:
    return len(join_units([w.text for w in chunk]))


def _cps(chunk: Sequence[_Word], limit_ms: int) -> float:
    """Reading speed if the cue could last from its first word to ``limit_ms``."""
    span = max(1, limit_ms - chunk[0].start_ms)
    return _chars(chunk) * 1000.0 / span


def _chunks_at(run: Sequence[_Word], cuts: list[int]) -> list[list[_Word]]:
    starts = [0, *cuts[:-1]]
    return [list(run[a:b]) for a, b in zip(starts, cuts, strict=True)]


def _worst_cps(chunks: Sequence[Sequence[_Word]], limit_ms: int) -> float:
    limits = [c[0].start_ms for c in chunks[1:]] + [limit_ms]
    return max(_cps(c, lim) for c, lim in zip(chunks, limits, strict=True))


def _fewest_chunks(run: Sequence[_Word], max_chars: int, max_lines: int) -> list[list[_Word]]:
    """The fewest balanced cues that fit the line limits."""
    texts = [w.text for w in run]
    parts = 1
    while (cuts := partition(texts, parts, max_chars, max_lines)) is None:
        parts += 1  # always ends: one word per cue fits
    return _chunks_at(run, cuts)


def sentence_chunks(run: Sequence[_Word], limit_ms: int, max_chars: int, max_lines: int,
                    max_cps: float) -> list[list[_Word]]:
    """One sentence's words as cues.

    Cues tile the speech, so when a cue reads faster than ``max_cps`` even with its end
    extended up to the next cue, no regrouping can slow it down; the sentence is then split
    into more, one-line cues so that each holds less text to take in at once.
    """
    chunks = _fewest_chunks(run, max_chars, max_lines)
    if max_lines > 1 and _worst_cps(chunks, limit_ms) > max_cps:
        return _fewest_chunks(run, max_chars, 1)
    return chunks


def _sentence_runs(words: Sequence[_Word]) -> list[list[_Word]]:
    runs: list[list[_Word]] = []
    for word in words:
        if runs and runs[-1][-1].sentence == word.sentence:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


def _cue_end(chunk: Sequence[_Word], limit_ms: int, max_cps: float, min_cue_ms: int) -> int:
    """The cue's end: its last word's end, extended for reading speed and minimum length."""
    start, spoken = chunk[0].start_ms, chunk[-1].end_ms
    wanted = max(spoken, start + min_cue_ms, start + int(round(_chars(chunk) * 1000 / max_cps)))
    ceiling = max(min(spoken, limit_ms), limit_ms - int(GAP_S * 1000))
    return max(start + 1, min(wanted, ceiling))


def build_cues(words: Iterable[Mapping[str, Any]], max_line_chars: int = 42, max_lines: int = 2,
               max_cps: float = 20.0, duration_s: float | None = None,
               min_cue_s: float = MIN_CUE_S) -> list[Cue]:
    """Cues from word timings (dicts with ``text``, ``start``, ``end``, ``sentence``).

    ``duration_s`` (the narration's length) bounds the last cue; without it the last cue may
    extend ``min_cue_s`` past its last word.
    """
    items = [_Word(str(w["text"]), int(round(float(w["start"]) * 1000)),
                   int(round(float(w["end"]) * 1000)), str(w["sentence"])) for w in words]
    if not items:
        return []
    final_ms = (int(round(duration_s * 1000)) if duration_s is not None
                else items[-1].end_ms + int(min_cue_s * 1000))
    chunks: list[list[_Word]] = []
    runs = _sentence_runs(items)
    for r, run in enumerate(runs):
        limit = runs[r + 1][0].start_ms if r + 1 < len(runs) else final_ms
        chunks.extend(sentence_chunks(run, limit, max_line_chars, max_lines, max_cps))
    cues: list[Cue] = []
    for i, chunk in enumerate(chunks):
        limit = chunks[i + 1][0].start_ms if i + 1 < len(chunks) else max(final_ms,
                                                                          chunk[-1].end_ms)
        end = _cue_end(chunk, limit, max_cps, int(min_cue_s * 1000))
        lines = wrap([w.text for w in chunk], max_line_chars, max_lines) or [
            join_units([w.text for w in chunk])]
        cues.append(Cue(chunk[0].start_ms / 1000, end / 1000, tuple(lines)))
    return hold_reading_speed(cues, max_cps, max(final_ms, items[-1].end_ms) / 1000)


def hold_reading_speed(cues: Sequence[Cue], max_cps: float, final_s: float,
                       gap_s: float = GAP_S) -> list[Cue]:
    """Cues that each last at least ``chars / max_cps``, without overlapping.

    Forward pass: a cue too short for its text is lengthened, pushing the next cue's start
    later when it must. Backward pass: a cue pushed past the next cue (or past ``final_s``) is
    pulled back, starting earlier into the silence before it. Cues that already read slowly
    enough are not moved. Times stay in whole milliseconds.
    """
    gap = int(round(gap_s * 1000))
    starts = [int(round(c.start * 1000)) for c in cues]
    ends = [int(round(c.end * 1000)) for c in cues]
    need = [int(-(-c.chars * 1000 // max_cps)) for c in cues]
    final = max(int(round(final_s * 1000)), ends[-1] if ends else 0)
    if not cues or all(e - s >= n for s, e, n in zip(starts, ends, need, strict=True)):
        return list(cues)
    for i in range(len(cues)):
        if ends[i] - starts[i] < need[i]:
            ends[i] = starts[i] + need[i]
            if i + 1 < len(cues) and ends[i] + gap > starts[i + 1]:
                starts[i + 1] = ends[i] + gap  # the text needs this long: delay the next cue
                ends[i + 1] = max(ends[i + 1], starts[i + 1] + 1)
    following: int | None = None  # the start of the cue after this one
    for i in range(len(cues) - 1, -1, -1):
        if following is None and ends[i] > final:
            ends[i] = final
        elif following is not None and ends[i] > following:
            ends[i] = following - gap
        if ends[i] - starts[i] < need[i]:  # start earlier; the cue before gives way in turn
            starts[i] = max(0, min(starts[i], ends[i] - need[i]))
        starts[i] = min(starts[i], ends[i] - 1)
        following = starts[i]
    return [replace(c, start=s / 1000, end=e / 1000)
            for c, s, e in zip(cues, starts, ends, strict=True)]


# --------------------------------------------------------------------------------------------
# Writing


def _delta(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(milliseconds=int(round(seconds * 1000)))


def _subtitles(cues: Sequence[Cue]) -> list[srt.Subtitle]:
    return [srt.Subtitle(i, _delta(c.start), _delta(c.end), c.text)
            for i, c in enumerate(cues, 1)]


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text (the ``srt`` library): numbered cues, ``HH:MM:SS,mmm`` times."""
    return srt.compose(_subtitles(cues), reindex=False) if cues else ""


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text (the ``webvtt-py`` library): the ``WEBVTT`` header, ``HH:MM:SS.mmm``
    times."""
    import webvtt

    def stamp(seconds: float) -> str:
        return srt.timedelta_to_srt_timestamp(_delta(seconds)).replace(",", ".")

    return webvtt.WebVTT(captions=[webvtt.Caption(stamp(c.start), stamp(c.end), list(c.lines))
                                   for c in cues]).content


def write_srt(path: str | os.PathLike[str], cues: Sequence[Cue]) -> None:
    """Write an SRT file atomically."""
    write_text(path, to_srt(cues))


def write_vtt(path: str | os.PathLike[str], cues: Sequence[Cue]) -> None:
    """Write a WebVTT file atomically."""
    write_text(path, to_vtt(cues))


# --------------------------------------------------------------------------------------------
# Parsing

_TIMING = re.compile(
    r"^\s*((?:\d+:)?\d{1,2}:\d{2}[,.]\d{3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[,.]\d{3})(?:\s.*)?$"
)


def _as_srt(text: str) -> str:
    """SRT or WebVTT text reduced to plain SRT blocks (identifiers, NOTE/STYLE blocks, the
    header and cue settings dropped; short ``MM:SS.mmm`` times completed).

    Kept rather than webvtt-py's reader, which refuses what players accept and users bring: a
    VTT cue timed with a comma, a byte-order mark, CRLF lines, an SRT file named .vtt."""
    out: list[str] = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\ufeff", "").strip())
    for block in blocks:
        lines = block.split("\n")
        for i, line in enumerate(lines):
            match = _TIMING.match(line)
            if match:
                start, end = (_full(match.group(k)) for k in (1, 2))
                body = [t for t in (x.strip() for x in lines[i + 1:]) if t]
                out.append(f"{len(out) + 1}\n{start} --> {end}\n" + "\n".join(body) + "\n")
                break
    return "\n".join(out)


def _full(stamp: str) -> str:
    stamp = stamp.replace(".", ",")
    return stamp if stamp.count(":") == 2 else "00:" + stamp


def parse_text(text: str) -> list[Cue]:
    """Cues of SRT or WebVTT text (cue numbers/identifiers, NOTE blocks and settings ignored)."""
    return [Cue(round(sub.start.total_seconds(), 3), round(sub.end.total_seconds(), 3),
                tuple(t for t in (x.strip() for x in sub.content.split("\n")) if t))
            for sub in srt.parse(_as_srt(text))]


def parse_subtitles(path: str | os.PathLike[str]) -> list[Cue]:
    """Cues of an ``.srt`` or ``.vtt`` file."""
    return parse_text(Path(path).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# Checking
