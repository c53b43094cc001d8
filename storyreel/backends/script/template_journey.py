"""The template writer's journey: episodes between the turn and the climax of a long story.

One pass of the story arc (:mod:`.template`) holds about two minutes of narration. A longer
target gets journey episodes, each a scene of its own: an opening sentence that moves the story
on a day ("On the third day, ..."), then what the hero hears, sees, smells and struggles with on
the way, from the ``journey`` slots of ``data/beats.yaml``. Each episode takes the world pack's
details in turn (its second sound, its third sight, ...) and the phrasings least used so far,
so that episodes differ; slots are added, in priority order, while the estimate stays within the
target.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from storyreel import text as tx
from storyreel.core.types import Budget

ROTATED = {"sound": "sounds", "sight": "sights", "smell": "smells", "struggle": "struggles",
           "routine": "routines"}
OPENERS = ("on the {n} {time}", "by the {n} {time}", "at the start of the {n} {time}")
TIMES = ("dawn", "day", "dusk", "night")
Filler = Callable[[str, dict[str, str]], str | None]


def episode_values(values: dict[str, str], pack: dict[str, Any], index: int, night: bool,
                   fill: Filler) -> dict[str, str]:
    """The placeholder values of episode ``index`` (0, 1, ...): the world's details rotated,
    and the episode's opening phrase."""
    out = dict(values)
    for key, name in ROTATED.items():
        items = list(pack[name])
        out[key] = fill(items[index % len(items)], values) or items[index % len(items)]
    opener = OPENERS[index % len(OPENERS)]
    out["episode"] = opener.format(n=tx.ordinal_to_words(index + 2),
                                   time="night" if night else "day")
    return out


def time_of(index: int, night: bool) -> str:
    """An episode's time of day: the story's own, then round the clock."""
    start = TIMES.index("night" if night else "day")
    return TIMES[(start + index) % len(TIMES)]


def episodes(slots: tuple[tuple[int, tuple[str, ...]], ...], values: dict[str, str],
             pack: dict[str, Any], night: bool, budget: Budget, counts: tuple[int, int, int],
             fill: Filler, rng: random.Random, max_episodes: int) -> list[list[str]]:
    """Episodes (each a list of sentences) for a narration that already holds ``counts``
    (words, sentences, scenes), until it reaches the target (see the module doc). ``fill``
    fills a template's placeholders (None when one has no value)."""
    words, sentences, scenes = counts
    limit = budget.duration_s * 1.05

    def fits(extra: list[str], new_scene: bool) -> bool:
        return budget.estimate(words + sum(map(tx.word_count, extra)), sentences + len(extra),
                               scenes + new_scene) <= limit

    used: Counter[str] = Counter()
    found: list[list[str]] = []
    for index in range(max_episodes):
        if budget.estimate(words, sentences, scenes) >= budget.duration_s * 0.97:
            break
        filled = episode_values(values, pack, index, night, fill)
        options = []
        for order, (priority, variants) in enumerate(slots):
            rendered = [tx.sentence_case(t) for t in (fill(v, filled) for v in variants) if t]
            if rendered:  # the phrasing used least so far, ties broken by the seeded RNG
                least = min(used[t] for t in rendered)
                options.append((priority, order,
                                rng.choice([t for t in rendered if used[t] == least])))
        if not options or not fits([options[0][2]], True):
            break
        episode = [options[0]]
        for option in sorted(options[1:], key=lambda o: (o[0], rng.random())):
            if fits([o[2] for o in episode] + [option[2]], True):
                episode.append(option)
        found.append([text for _, _, text in sorted(episode, key=lambda o: o[1])])
        used.update(found[-1])
        words += sum(map(tx.word_count, found[-1]))
        sentences += len(found[-1])
        scenes += 1
    return found
