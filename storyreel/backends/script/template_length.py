"""Which lines of the template writer's story arc a story of a given length tells.

The plot (priority-0 slots) first, in :data:`PLOT_RANK` order when not all of it fits, then
detail while the estimate stays within the target; a story of a few seconds is written with the
shortest phrasings and then brought closer to its target (:func:`lengthen`). A story of several
minutes gets journey episodes on top (:mod:`.template_journey`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from storyreel import text as tx
from storyreel.core.types import Budget

BEAT_ORDER = ("setup", "turn", "climax", "resolution")
# How many scenes each beat gets, by total scene count (fewer than four: beats share scenes).
BEAT_SCENES = {1: (1, 1, 1, 1), 2: (1, 1, 1, 1), 3: (1, 1, 1, 1), 4: (1, 1, 1, 1),
               5: (2, 1, 1, 1), 6: (2, 1, 2, 1), 7: (2, 2, 2, 1), 8: (2, 2, 3, 1)}
# The beats told together in one scene, for stories of fewer than four scenes.
SHARED = {1: (BEAT_ORDER,), 2: (("setup", "turn"), ("climax", "resolution")),
          3: (("setup",), ("turn", "climax"), ("resolution",))}
# Which plot lines a story too short for all of them keeps first: how it ends, who it is
# about, then what must be done (each beat's later plot line before its earlier one).
PLOT_RANK = {"resolution": 0, "setup": 1, "turn": 2, "climax": 3}
OVER = 1.1  # how far past its target a story of seconds may be written (revise paces it)


@dataclass
class Line:
    """One candidate sentence of the story."""

    beat: str
    order: int
    priority: int
    text: str
    options: tuple[str, ...] = ()  # every phrasing of the slot this premise fills

    @property
    def words(self) -> int:
        return tx.word_count(self.text)


def lengthen(chosen: list[Line], lines: list[Line], budget: Budget, scenes: int
             ) -> list[Line]:
    """A story of a few seconds, written with the shortest phrasings, brought closer to its
    target: a longer phrasing of a chosen line or one more line, whichever comes closest
    without passing the target by more than :data:`OVER` (revise's pace takes up 10 %), until
    nothing comes closer."""
    chosen = list(chosen)

    def estimate(selection: list[Line]) -> float:
        return budget.estimate(sum(x.words for x in selection), len(selection), scenes)

    for _ in range(len(lines)):
        best, best_gap = None, abs(estimate(chosen) - budget.duration_s)
        for i, line in enumerate(chosen):
            for text in line.options:
                trial = [*chosen[:i], replace(line, text=text), *chosen[i + 1:]]
                gap = abs(estimate(trial) - budget.duration_s)
                if gap < best_gap and estimate(trial) <= budget.duration_s * OVER:
                    best, best_gap = trial, gap
        for line in (x for x in lines if all(c.order != x.order or c.beat != x.beat
                                             for c in chosen)):
            trial = [*chosen, line]
            gap = abs(estimate(trial) - budget.duration_s)
            if gap < best_gap and estimate(trial) <= budget.duration_s * OVER:
                best, best_gap = trial, gap
        if best is None:
            break
        chosen = best
    return sorted(chosen, key=lambda line: (BEAT_ORDER.index(line.beat), line.order))


def select_lines(lines: list[Line], budget: Budget, scenes: int, rng: random.Random
                 ) -> list[Line]:
    """The plot (priority-0 lines, in :data:`PLOT_RANK` order), then each beat up to one line
    per scene, then the rest in priority order (seeded within a priority), each while the
    estimate stays within the target (at least one plot line: the shortest, when none fits); a
    line that would give a scene a second sentence is promoted one priority level."""
    parts = dict(zip(BEAT_ORDER, BEAT_SCENES[scenes], strict=True))
    limit = budget.duration_s * 1.05
    chosen: list[Line] = []

    def count(beat: str) -> int:
        return sum(1 for c in chosen if c.beat == beat)

    def fits(line: Line) -> bool:
        selection = [*chosen, line]
        return budget.estimate(sum(x.words for x in selection), len(selection), scenes) <= limit

    plot = sorted((line for line in lines if line.priority == 0),
                  key=lambda line: (PLOT_RANK[line.beat], -line.order))
    for line in plot:
        if fits(line):
            chosen.append(line)
    if not chosen and plot:
        chosen.append(min(plot, key=lambda line: line.words))
    optional = sorted((line for line in lines if line.priority > 0),
                      key=lambda line: (line.priority, rng.random()))
    for line in list(optional):
        if count(line.beat) < parts[line.beat] and fits(line):
            chosen.append(line)
            optional.remove(line)
    # A line that gives a scene its second sentence counts as one priority level higher.
    optional.sort(key=lambda line: line.priority - (count(line.beat) < 2 * parts[line.beat]))
    for line in optional:
        if fits(line):
            chosen.append(line)
    return sorted(chosen, key=lambda line: (BEAT_ORDER.index(line.beat), line.order))
