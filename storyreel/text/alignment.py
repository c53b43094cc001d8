"""Mapping recognised words onto the script's words by sequence alignment, and a voice's
timed pieces onto the written units (:func:`spread_over_pieces`).

A recogniser (faster-whisper) hears words with times, in its own spelling. :func:`map_words`
aligns them to the script's words with :class:`difflib.SequenceMatcher` over normalised words,
so that subtitles keep the script's spelling while taking the recogniser's timing.
"""

from __future__ import annotations

import difflib
import re

import numpy as np

_NOT_WORD = re.compile(r"[^a-z0-9' ]+")


def normalise(word: str) -> str:
    """Lowercase letters, digits and apostrophes of a word (for matching)."""
    return _NOT_WORD.sub("", word.lower().replace("\u2019", "'").replace("-", " ")).strip("' ")


def map_words(script: list[str], heard: list[tuple[str, float, float]], start: float,
              end: float) -> tuple[list[tuple[float, float]], int]:
    """Times for each of ``script``'s words from ``heard`` (word, start, end), and how many
    words matched.

    Matched words take the heard times; runs of unmatched script words are spread between the
    neighbouring matched words (or ``start``/``end``) by letter count.
    """
    a = [normalise(w) for w in script]
    b = [normalise(w) for w, _, _ in heard]
    times: list[tuple[float, float] | None] = [None] * len(script)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            _, s, e = heard[block.b + k]
            times[block.a + k] = (s, e)
    # A replaced run of the same length (a misheard word) keeps its heard times too.
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                _, s, e = heard[j1 + k]
                times[i1 + k] = (s, e)
    matched = sum(t is not None for t in times)
    out: list[tuple[float, float]] = []
    i = 0
    while i < len(script):
        if times[i] is not None:
            out.append(times[i])  # type: ignore[arg-type]
            i += 1
            continue
        j = i
        while j < len(script) and times[j] is None:
            j += 1
        lo = out[-1][1] if out else start
        hi = times[j][0] if j < len(script) else end  # type: ignore[index]
        hi = max(hi, lo)
        weights = np.array([max(1, len(a[k])) for k in range(i, j)], dtype=float)
        edges = lo + (hi - lo) * np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
        out.extend((float(edges[k]), float(edges[k + 1])) for k in range(j - i))
        i = j
    return out, matched


def spread_over_pieces(text: str, units: list[str], pieces: list[tuple[str, float, float]]
                       ) -> list[tuple[float, float]] | None:
    """Times of ``units`` (consecutive pieces of ``text``, as written) from ``pieces`` (pieces
    of ``text`` a voice spoke, each with its start and end): every character of ``text`` gets a
    time inside the piece it belongs to (spread by its place in the piece), and a unit spans
    its first to its last character. None when a unit or piece is not found in order."""
    clock = np.full(len(text) + 1, np.nan)
    cursor = 0
    for piece, start, end in pieces:
        at = text.find(piece, cursor)
        if at < 0:
            return None
        if not cursor and at:  # text before the first piece starts with it
            clock[:at] = start
        clock[at:at + len(piece) + 1] = np.linspace(start, end, len(piece) + 1)
        cursor = at + len(piece)
    clock[cursor:] = pieces[-1][2]
    filled = np.flatnonzero(~np.isnan(clock))  # gaps between pieces (spaces) hold still
    clock = np.interp(np.arange(len(clock)), filled, clock[filled])
    spans: list[tuple[float, float]] = []
    cursor = 0
    for unit in units:
        at = text.find(unit, cursor)
        if at < 0:
            return None
        spans.append((float(clock[at]), float(clock[at + len(unit)])))
        cursor = at + len(unit)
    return spans
