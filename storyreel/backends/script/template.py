"""TemplateWriter: the embedded, offline, deterministic story writer.

A premise is read with light heuristics (:mod:`.template_premise`: the hero and descriptor,
place, goal, the obstacle or trouble that turns the story, what is at stake, other characters,
the kind of world) and expanded into a present-tense narration that follows a story arc: setup,
turn, climax, resolution. The premise's hero, place, goal, obstacle and stake carry every beat;
nothing of the plot comes from anywhere else. Sensory details (sounds, smells, sights) come
from a "world" pack chosen by the premise's keywords (sea, forest, city, snow, space, town,
desert, or a neutral one).

The arc and the world packs are package data (``storyreel/backends/script/data/beats.yaml`` and
``worlds.yaml``, schema ``template.schema.yaml``). Every beat is a list of sentence slots with
several phrasings; the seeded RNG picks the phrasings and which optional slots to use, and
optional slots are added until the word budget is met.

The writer is total: any premise string gives a valid script. Premise text only ever *fills*
placeholders (one regular-expression pass over our own templates), it is never used as a format
string.
"""

from __future__ import annotations

import functools
import random
import re
from importlib import resources
from typing import Any

import jsonschema
import yaml

from storyreel import text as tx
from storyreel.backends.script import template_journey as journey
from storyreel.backends.script.grammar import third_person
from storyreel.backends.script.lexicon import PRONOUNS
from storyreel.backends.script.template_length import (
    BEAT_ORDER,
    BEAT_SCENES,
    SHARED,
    Line,
    lengthen,
    select_lines,
)
from storyreel.backends.script.template_premise import HAZARDS, Premise
from storyreel.backends.script.template_premise import read_premise as _read
from storyreel.core import languages
from storyreel.core.errors import PermanentError
from storyreel.core.types import Budget
from storyreel.core.vocabulary import SINGLE_BEAT

MAX_SCENE_IDS = 99  # scene ids are sc01 ... sc99
Slot = tuple[int, tuple[str, ...]]
PREFERRED = ("opening", "against")  # placeholders only a premise that names them fills
_PLACEHOLDER = re.compile(r"{(\w+)}")


@functools.cache
def story_data() -> dict[str, Any]:
    """The writer's package data (beats and worlds), loaded once and validated."""
    folder = resources.files("storyreel.backends.script") / "data"
    data = {name: yaml.safe_load((folder / f"{name}.yaml").read_text(encoding="utf-8"))
            for name in ("beats", "worlds", "lexicon")}
    schema = yaml.safe_load((folder / "template.schema.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    return data


def beat_slots() -> dict[str, tuple[Slot, ...]]:
    """Every beat's ordered slots: (priority, phrasings)."""
    return {beat: tuple((slot["priority"], tuple(slot["variants"])) for slot in slots)
            for beat, slots in story_data()["beats"].items()}


def worlds() -> dict[str, dict[str, Any]]:
    """The world packs by name (``plain`` is the neutral one)."""
    return story_data()["worlds"]


def read_premise(premise: str) -> Premise:
    """Read a premise with simple, robust heuristics (see :mod:`.template_premise`)."""
    packs = worlds()
    return _read(premise, {name: tuple(p["keywords"]) for name, p in packs.items()},
                 {name: p["place"] for name, p in packs.items()})


def fill(template: str, values: dict[str, str]) -> str | None:
    """Fill ``{name}`` placeholders in one pass (values are never re-read); ``{name_cap}`` is
    the value with a capital first letter. ``None`` when a placeholder has no value."""
    found: dict[str, str] = {}
    for key in _PLACEHOLDER.findall(template):
        value = values.get(key.removesuffix("_cap"))
        if not value:
            return None
        found[key] = tx.sentence_case(value) if key.endswith("_cap") else value
    return _PLACEHOLDER.sub(lambda m: found[m.group(1)], template)


# --------------------------------------------------------------------------------------------
# Writing

def _against(premise: Premise) -> str:
    """How the climax names what stands in the way: ``through the winter storm`` or ``even
    though the well runs dry`` (``""`` when the premise names neither)."""
    if premise.obstacle:
        prep = "through" if _hazard_of(premise.obstacle) else "despite"
        return f"{prep} {tx.definite(premise.obstacle)}"
    if premise.trouble:
        return f"{'before' if premise.deadline else 'even though'} {premise.trouble}"
    return ""


def _hazard_of(phrase: str) -> str:
    """The hazard word a phrase names (``a winter storm`` -> ``storm``), else ``""``."""
    return next((w for w in reversed(tx.tokenize(phrase.lower())) if w in HAZARDS), "")


def _trouble(premise: Premise, pack: dict[str, Any]) -> str:
    """The turn's clause: the premise's trouble, else its obstacle arriving, else the world's."""
    if premise.trouble:  # a deadline ("before the river floods") comes closer
        return f"time runs short before {premise.trouble}" if premise.deadline \
            else premise.trouble
    if premise.obstacle:
        verb = HAZARDS.get(_hazard_of(premise.obstacle), "stands in the way")
        return f"{premise.obstacle} {verb}"
    return str(pack["trouble"])


def _slots(premise: Premise, rng: random.Random) -> dict[str, str]:
    """Values for every template placeholder, with the seeded choices of details."""
    pack = worlds()[premise.world]
    pron = PRONOUNS[premise.pronoun]
    sounds = rng.sample(pack["sounds"], k=len(pack["sounds"]))
    sights = rng.sample(pack["sights"], k=len(pack["sights"]))
    smells = rng.sample(pack["smells"], k=len(pack["smells"]))
    base = {"hero": premise.hero, **pron}
    trouble = _trouble(premise, pack)
    values = {
        **base,
        "hero_intro": premise.hero_intro,
        "opening": premise.opening,
        "place": premise.place,
        "place_intro": premise.place_intro,
        "place_in": f"{premise.place_prep} {premise.place}",
        "goal": premise.goal,
        "goal_s": premise.goal_s,
        "trouble": trouble,
        "against": _against(premise),
        "time_word": "night" if premise.night else "day",
        "after": rng.choice(("by dawn", "when morning comes") if premise.night
                            else ("by evening", "when the sun goes down")),
        "sound": sounds[0], "sound2": sounds[1], "sound_turn": sounds[2], "sound3": sounds[3],
        "sight": sights[0], "sight2": sights[1], "sight3": sights[-1],
        "smell": smells[0], "smell2": smells[-1],
        "confidant": pack["confidant"],
        "routine": rng.choice(pack["routines"]),
        "prep": pack["prep"],
        "struggle": rng.choice(pack["struggles"]),
        "calm": pack["calm"],
        "wisdom": pack["wisdom"],
        "stake": premise.stake,
        "ally": premise.allies[0] if premise.allies else "",
    }
    # The world's phrases hold {she}, {hero}...: filled once, from our own templates.
    return {k: fill(v, base | {"her_obj": pron["her_obj"]}) or v for k, v in values.items()}


def _render(template: str, values: dict[str, str]) -> str | None:
    """Fill a template; ``None`` when it needs a value this premise lacks."""
    out = fill(template, values)
    return tx.sentence_case(out) if out else None


def candidate_lines(values: dict[str, str], rng: random.Random, shortest: bool = False
                    ) -> list[Line]:
    """One seeded phrasing for every slot of every beat (slots whose placeholders this
    premise cannot fill are left out); the shortest one with ``shortest`` (a story of a few
    seconds)."""
    lines: list[Line] = []
    slots = beat_slots()
    for beat in BEAT_ORDER:
        for order, (priority, variants) in enumerate(slots[beat]):
            rendered = [(v, _render(v, values)) for v in variants]
            usable = [(v, t) for v, t in rendered if t]
            # A phrasing that uses more of the premise ("In 2049, ...", "Through the storm,
            # ...") is preferred to a generic one.
            usable = [(v, t) for v, t in usable if any(f"{{{k}" in v for k in PREFERRED)] \
                or usable
            options = [t for _, t in usable]
            if options:
                text = rng.choice(options)
                if shortest:
                    text = min((t for _, t in rendered if t), key=tx.word_count)
                lines.append(Line(beat, order, priority, text,
                                  tuple(t for _, t in rendered if t)))
    return lines


def _split_even(lines: list[Line], parts: int) -> list[list[Line]]:
    """Split a beat's lines into ``parts`` contiguous runs of about equal word count."""
    total = sum(line.words for line in lines)
    runs: list[list[Line]] = [[] for _ in range(parts)]
    done = 0
    for index, line in enumerate(lines):
        left = len(lines) - index
        run = min(parts - 1, int(done * parts / max(1, total)))
        empty_after = sum(1 for r in runs[run + 1:] if not r)
        if runs[run] and left <= empty_after:
            run += 1
        runs[run].append(line)
        done += line.words
    return [r for r in runs if r]


# Scene moods by beat and by how many scenes the beat has.
SCENE_MOODS = {"setup": {1: ("calm",), 2: ("calm", "mysterious")},
               "turn": {1: ("tense",), 2: ("mysterious", "tense")},
               "climax": {1: ("tense",), 2: ("tense", "triumphant"),
                          3: ("tense", "somber", "triumphant")}}
ENDING_MOODS = ("triumphant", "joyful")


def _time_of_day(beat: str, index: int, parts: int, night: bool) -> str:
    if beat == "resolution":
        return "dawn" if night else "day"
    if beat == "setup":
        return "dusk" if night and index == parts - 1 else "day"
    return "night" if night else "day"


def _visual(premise: Premise, values: dict[str, str], beat: str, index: int, parts: int,
            time_of_day: str, mood: str) -> str:
    """What a scene's frames show: the hero doing that beat's part of the premise (the goal's
    object, the obstacle, the place), then setting, light and mood."""
    light = {"dawn": "at dawn", "day": "by day", "dusk": "at dusk", "night": "at night"}
    hero = premise.hero_visual + ("," if "," in premise.hero_visual else "")
    action = {
        "setup": (f"{hero} {premise.place_intro}; {values['sight']}",
                  f"{hero} going about the daily round {premise.place_intro}; "
                  f"{values['sight2']}"),
        "turn": (f"{hero} looking up in alarm as {values['trouble']}",
                 f"{hero} setting out to {premise.goal}"),
        "climax": (f"{hero} struggling on {values['against']}, toward {premise.stake}",
                   f"{hero} at the lowest point, {values['against']}",
                   f"{hero} in the moment of breakthrough, with {premise.stake}"),
        "resolution": (f"{hero} at peace as {values['calm']}; {hero} {premise.goal_s}",),
    }[beat]
    if beat == "climax" and index == parts - 1 and parts > 1:
        index = len(action) - 1
    text = action[min(index, len(action) - 1)]
    return (f"{tx.sentence_case(text)}. Setting: {premise.place}, {light[time_of_day]}. "
            f"Mood: {mood}.")


def _scene(premise: Premise, values: dict[str, str], beat: str, index: int, parts: int,
           narration: str, rng: random.Random, label: str | None = None) -> dict[str, Any]:
    """One scene of ``beat`` (its ``index`` of ``parts``), described for the pictures."""
    if beat == "resolution":
        mood = rng.choice(ENDING_MOODS)
    else:
        mood = SCENE_MOODS[beat][parts][index]
    time_of_day = _time_of_day(beat, index, parts, premise.night)
    cast = premise.characters + [a for a in premise.allies if a in narration]
    return {"id": "", "beat": label or beat, "narration": narration,
            "visual": _visual(premise, values, beat, index, parts, time_of_day, mood),
            "setting": premise.place, "time_of_day": time_of_day, "mood": mood,
            "characters": cast or [premise.hero]}


def build_scenes(premise: Premise, lines: list[Line], scenes: int, rng: random.Random,
                 values: dict[str, str]) -> list[dict[str, Any]]:
    """Group the chosen lines into scenes and describe each scene (a story of fewer than
    four scenes tells several beats in one: :data:`SHARED`)."""
    out: list[dict[str, Any]] = []
    if scenes < len(BEAT_ORDER):
        for group in SHARED[scenes]:
            told = [b for b in group if any(line.beat == b for line in lines)]
            if told:
                narration = " ".join(line.text for line in lines if line.beat in told)
                label = SINGLE_BEAT if scenes == 1 else None
                out.append(_scene(premise, values, told[0], 0, 1, narration, rng, label))
    else:
        for beat, parts in zip(BEAT_ORDER, BEAT_SCENES[scenes], strict=True):
            runs = _split_even([line for line in lines if line.beat == beat], parts)
            out += [_scene(premise, values, beat, index, len(runs),
                           " ".join(line.text for line in run), rng)
                    for index, run in enumerate(runs)]
    return out


def _journey_scene(premise: Premise, values: dict[str, str], index: int,
                   sentences: list[str]) -> dict[str, Any]:
    """An episode of the journey as a scene: on the way, with the episode's sight."""
    time_of_day = journey.time_of(index, premise.night)
    mood = ("tense", "mysterious", "somber")[index % 3]
    light = {"dawn": "at dawn", "day": "by day", "dusk": "at dusk", "night": "at night"}
    sight = journey.episode_values(values, worlds()[premise.world], index, premise.night,
                                   fill)["sight"]
    visual = (f"{tx.sentence_case(premise.hero_visual)} on the way to {premise.stake}; "
              f"{sight}. Setting: {premise.place}, {light[time_of_day]}. Mood: {mood}.")
    return {"id": "", "beat": "turn", "narration": " ".join(sentences), "visual": visual,
            "setting": premise.place, "time_of_day": time_of_day, "mood": mood,
            "characters": premise.characters or [premise.hero]}


class TemplateWriter:
    """The embedded writer: deterministic for a given premise, seed and budget."""

    model: str | None = None

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def write(self, idea: dict[str, Any], budget: Budget) -> list[dict[str, Any]]:
        """Scenes for a premise (the script stage uses a full text verbatim), as long as the
        budget asks: fewer and shorter sentences for a story of seconds, journey episodes for
        one of minutes; a premise in a language it cannot write is refused, naming the writers
        that would."""
        refusal = languages.premise_refusal("template", str(idea.get("language") or "en"))
        if refusal:
            raise PermanentError(f"script: {refusal}")
        rng = random.Random(int(idea.get("seed") or 0))
        premise = read_premise(str(idea.get("premise") or ""))
        scenes = budget.scenes
        values = _slots(premise, rng)
        lines = candidate_lines(values, rng)
        tight = sum(line.words for line in lines if line.priority == 0) > budget.target_words()
        if tight:
            lines = candidate_lines(values, rng, shortest=True)
        chosen = select_lines(lines, budget, scenes, rng)
        if tight:
            chosen = lengthen(chosen, lines, budget, scenes)
        out = build_scenes(premise, chosen, scenes, rng, values)
        counts = (sum(line.words for line in chosen), len(chosen), len(out))
        trips = journey.episodes(beat_slots()["journey"], values, worlds()[premise.world],
                                 premise.night, budget, counts, fill, rng,
                                 MAX_SCENE_IDS - len(out))
        if trips:
            climax = next(i for i, scene in enumerate(out) if scene["beat"] == "climax")
            out[climax:climax] = [_journey_scene(premise, values, i, sentences)
                                  for i, sentences in enumerate(trips)]
        for number, scene in enumerate(out, start=1):
            scene["id"] = f"sc{number:02d}"
        return out


__all__ = ["Premise", "TemplateWriter", "candidate_lines", "read_premise", "select_lines",
           "third_person"]
