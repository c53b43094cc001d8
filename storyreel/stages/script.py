"""script: write the narration, scene by scene, each with a visual description.

A premise is expanded by the configured writer backend (``template`` by default: embedded,
offline, deterministic; ``openai``: any OpenAI-compatible server). A full text is never
rewritten: it is split into scenes by paragraph and each scene is described with keyword
heuristics. Whatever a writer returns is repaired into the script schema (ids, beats, enums).

The writer aims at a word budget: the target duration at the voice's speaking rate, less the
silences the voice puts between sentences and scenes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from storyreel import text as tx
from storyreel.core import registry
from storyreel.core.artifacts import read_json, write_json
from storyreel.core.errors import StoryreelError, UnusableAnswerError
from storyreel.core.types import MAX_SCENES, Budget
from storyreel.core.vocabulary import BEATS, MOODS, SINGLE_BEAT, TIME_PHRASES, TIMES_OF_DAY
from storyreel.job.context import JobContext
from storyreel.job.fallback import with_fallback

log = logging.getLogger(__name__)

SCENE_WORDS = (10, 110)  # a full-text scene shorter than this is merged, longer is split


def budget_for(idea: dict[str, Any], words_per_minute: float,
               pauses: dict[str, float]) -> Budget:
    """The budget of a story from its idea and the voice's rate and pauses."""
    return Budget(float(idea["duration_s"]), float(words_per_minute),
                  float(pauses.get("sentence", 0.3)), float(pauses.get("scene", 0.7)))


# --------------------------------------------------------------------------------------------
# Describing a passage (full texts, and repairs of writer output)

PLACE_WORDS = (
    "lighthouse", "island", "harbour", "harbor", "shore", "beach", "coast", "sea", "ocean",
    "boat", "ship", "river", "lake", "pond", "bridge", "forest", "woods", "wood", "valley",
    "hill", "mountain", "meadow", "field", "garden", "farm", "barn", "orchard", "village",
    "town", "city", "street", "market", "square", "station", "tower", "castle", "palace",
    "house", "cottage", "kitchen", "bakery", "shop", "school", "library", "church", "cave",
    "desert", "road", "attic", "cellar", "room", "hall", "roof", "rooftop", "space",
    "planet", "nest", "den", "camp", "workshop", "laboratory", "lab", "office",
)
_PLACE_RE = re.compile(
    r"\b((?:the|a|an|her|his|their|its)\s+(?:[\w'-]+\s+){0,2}?(?:" + "|".join(PLACE_WORDS)
    + r")s?)\b(?:\s+(?:of|in)\s+the\s+([\w-]+))?",
    re.I,
)
TIME_WORDS = {
    "night": ("night", "midnight", "moon", "moonlight", "stars", "dark", "darkness", "lamp",
              "candle", "owls", "asleep", "sleep", "dream"),
    "dusk": ("evening", "dusk", "sunset", "twilight", "nightfall", "autumn evening"),
    "dawn": ("dawn", "sunrise", "daybreak", "first light"),
    "day": ("morning", "noon", "afternoon", "sunlight", "sunny", "sun", "day", "bright"),
}
MOOD_WORDS = {
    "tense": ("storm", "danger", "fear", "afraid", "run", "ran", "chase", "fail", "fails",
              "scream", "hurry", "race", "fight", "trap", "lost", "could not", "panic", "crash",
              "must", "grew dark", "desperate"),
    "somber": ("grief", "alone", "lonely", "cold", "cry", "cried", "tears", "loss", "died",
               "dead", "empty", "grey", "gray", "sad", "mourn", "missing"),
    "mysterious": ("strange", "shadow", "secret", "whisper", "moon", "mist", "fog", "hidden",
                   "wonder", "wished", "wish", "reflection", "silent", "glow", "magic"),
    "joyful": ("laugh", "smile", "happy", "joy", "sing", "dance", "play", "delight", "warm",
               "carried", "careful", "gift", "friend"),
    "triumphant": ("at last", "finally", "saved", "victory", "won", "home", "bright again",
                   "knew her name", "knew his name", "cheered", "proud", "returned", "rescued"),
    "calm": ("quiet", "still", "gentle", "peace", "calm", "slow", "every night", "rest",
             "resting", "soft"),
}


def passage_setting(passage: str, previous: str | None) -> str:
    """The main place of a passage (``the old mill pond``), else the previous scene's."""
    match = _PLACE_RE.search(passage)
    if not match:
        return previous or "an open landscape"
    place = match.group(1)
    place = re.sub(r"^(?:her|his|their|its)\s+", "the ", place, flags=re.I)
    if match.group(2):
        place += f" {match.group(0)[len(match.group(1)):].strip()}"
    return place[0].lower() + place[1:]


def _keyword_scores(passage: str, table: dict[str, tuple[str, ...]]) -> dict[str, int]:
    lower = f" {passage.lower()} "
    return {key: sum(len(re.findall(rf"\b{re.escape(word)}\b", lower)) for word in words)
            for key, words in table.items()}


def passage_time(passage: str, previous: str | None) -> str:
    """dawn/day/dusk/night from keywords, else the previous scene's, else day."""
    scores = _keyword_scores(passage, TIME_WORDS)
    best = max(TIMES_OF_DAY, key=lambda t: (scores[t], t == previous))
    return best if scores[best] else (previous or "day")


def passage_mood(passage: str, position: float) -> str:
    """The mood whose keywords a passage uses most; ties go by story position."""
    scores = _keyword_scores(passage, MOOD_WORDS)
    by_position = ("calm", "mysterious", "tense", "triumphant")
    preferred = by_position[min(3, int(position * 4))]
    return max(MOODS, key=lambda m: (scores[m], m == preferred))


def passage_visual(passage: str, characters: list[str], setting: str, time_of_day: str,
                   mood: str) -> str:
    """What the storyboard frame shows: the passage's first sentence as action, then
    subject, setting, time of day and mood."""
    sentences = tx.split_sentences(passage)
    action = sentences[0] if sentences else passage
    words = action.split()
    if len(words) > 30:
        action = " ".join(words[:30]).rstrip(",;:") + "…"
    subject = ", ".join(characters) if characters else "The scene"
    return (f"{action} Subject: {subject}. Setting: {setting}, {TIME_PHRASES[time_of_day]}. "
            f"Mood: {mood}.")


def story_characters(text: str) -> list[str]:
    """Names of the characters (not places) in a text, in order of appearance."""
    return [name.text for name in tx.find_names(text) if not name.place]


def describe_passage(passage: str, cast: list[str], position: float,
                     previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Setting, time of day, mood, characters and a visual description of a passage.

    ``cast`` is the story's characters; ``position`` the passage's place in the story (0-1);
    ``previous`` the scene before, whose setting and time carry over when none is found.
    """
    previous = previous or {}
    characters = [name for name in cast if re.search(rf"\b{re.escape(name)}\b", passage)]
    setting = passage_setting(passage, previous.get("setting"))
    time_of_day = passage_time(passage, previous.get("time_of_day"))
    mood = passage_mood(passage, position)
    return {
        "setting": setting,
        "time_of_day": time_of_day,
        "mood": mood,
        "characters": characters,
        "visual": passage_visual(passage, characters, setting, time_of_day, mood),
    }


def beat_at(index: int, count: int) -> str:
    """Story-arc beat of scene ``index`` of ``count`` by position."""
    if count == 1:
        return SINGLE_BEAT
    if index == 0:
        return "setup"
    if index == count - 1:
        return "resolution"
    return "turn" if index / (count - 1) <= 0.5 else "climax"


# --------------------------------------------------------------------------------------------
# Full texts

def _split_passage(paragraph: str, max_words: int) -> list[str]:
    """Split a long paragraph at sentence boundaries into parts of about equal length."""
    sentences = tx.split_sentences(paragraph)
    total = tx.word_count(paragraph)
    parts = max(1, min(len(sentences), -(-total // max_words)))
    if parts == 1:
        return [paragraph]
    out: list[list[str]] = [[]]
    done = 0
    for sentence in sentences:
        if out[-1] and done >= total * len(out) / parts and len(out) < parts:
            out.append([])
        out[-1].append(sentence)
        done += tx.word_count(sentence)
    return [" ".join(part) for part in out]


def _merge_passages(passages: list[str], min_words: int, max_scenes: int) -> list[str]:
    """Merge short passages into a neighbour until each is long enough and there are at
    most ``max_scenes``; always merge the shortest adjacent pair first."""
    passages = list(passages)
    while len(passages) > 1:
        counts = [tx.word_count(p) for p in passages]
        if len(passages) <= max_scenes and min(counts) >= min_words:
            break
        pair = min(range(len(passages) - 1), key=lambda i: (counts[i] + counts[i + 1], i))
        passages[pair:pair + 2] = [passages[pair] + " " + passages[pair + 1]]
    return passages


def text_passages(text: str) -> list[str]:
    """A full text's scenes: its paragraphs, long ones split, short ones merged (≤ 8)."""
    passages: list[str] = []
    for paragraph in tx.split_paragraphs(text):
        passages += _split_passage(paragraph, SCENE_WORDS[1])
    return _merge_passages(passages, SCENE_WORDS[0], MAX_SCENES)


def scenes_from_text(text: str) -> list[dict[str, Any]]:
    """Scenes of a full text, verbatim, each described by keyword heuristics."""
    passages = text_passages(text)
    cast = story_characters(text)
    scenes: list[dict[str, Any]] = []
    for index, passage in enumerate(passages):
        position = index / max(1, len(passages) - 1)
        scene = {"id": f"sc{index + 1:02d}", "beat": beat_at(index, len(passages)),
                 "narration": passage}
        scene.update(describe_passage(passage, cast, position, scenes[-1] if scenes else None))
        scenes.append(_ordered(scene))
    return scenes


# --------------------------------------------------------------------------------------------
# Repairing writer output

SCENE_KEYS = ("id", "beat", "narration", "visual", "setting", "time_of_day", "mood",
              "characters")


def _ordered(scene: dict[str, Any]) -> dict[str, Any]:
    return {key: scene[key] for key in SCENE_KEYS}


def _clean_field(value: Any) -> str:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return tx.normalise_whitespace(tx.strip_markup(str(value or "")), keep_paragraphs=False)


def repair_scenes(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Coerce a writer's scenes into the script schema.

    Narration is stripped of markup; scenes without narration are dropped; ids are
    renumbered; beats, times and moods outside the allowed values are replaced by the
    heuristics' guesses; missing visuals, settings and characters are derived.
    """
    kept = [scene for scene in raw if isinstance(scene, dict) and _clean_field(
        scene.get("narration") or scene.get("text"))]
    whole = " ".join(_clean_field(s.get("narration") or s.get("text")) for s in kept)
    cast: list[str] | None = None
    scenes: list[dict[str, Any]] = []
    for index, scene in enumerate(kept):
        narration = _clean_field(scene.get("narration") or scene.get("text"))
        beat = str(scene.get("beat", "")).lower()
        time_of_day = str(scene.get("time_of_day", "")).lower()
        mood = str(scene.get("mood", "")).lower()
        characters = scene.get("characters")
        complete = time_of_day in TIMES_OF_DAY and mood in MOODS and isinstance(characters, list) \
            and _clean_field(scene.get("visual")) and _clean_field(scene.get("setting"))
        # The heuristics' guesses are worked out only when a field needs one.
        if not complete and cast is None:
            cast = story_characters(whole)
        guess = {} if complete else describe_passage(
            narration, cast or [], index / max(1, len(kept) - 1), scenes[-1] if scenes else None)
        fixed = {
            "id": f"sc{index + 1:02d}",
            "beat": beat if beat in (*BEATS, SINGLE_BEAT) else beat_at(index, len(kept)),
            "narration": narration,
            "visual": _clean_field(scene.get("visual")) or guess["visual"],
            "setting": _clean_field(scene.get("setting")) or guess["setting"],
            "time_of_day": time_of_day if time_of_day in TIMES_OF_DAY else guess["time_of_day"],
            "mood": mood if mood in MOODS else guess["mood"],
            "characters": ([_clean_field(c) for c in characters if _clean_field(c)]
                           if isinstance(characters, list) else guess["characters"]),
        }
        scenes.append(fixed)
    return scenes


# --------------------------------------------------------------------------------------------
# The stage

def write_script(idea: dict[str, Any], options: dict[str, Any], words_per_minute: float,
                 pauses: dict[str, float], job: JobContext | None = None) -> dict[str, Any]:
    """The script of a story: a premise through the writer backend, a full text verbatim.

    A model writer whose answers stay unusable after its repair turns (or whose server cannot
    be reached after its retries, or timed out) is replaced by the first backend of
    ``fallback`` (the template writer). ``script.json["backend"]`` names the writer that wrote
    the script; when it is not the configured one, ``configured_backend`` names that one and
    ``fallback`` says why (post copies it into the manifest, whose degradations list it too).
    The configured model writer's ``generation`` (its attempts and every rejected answer with
    its reason) is kept either way.
    """
    budget = budget_for(idea, words_per_minute, pauses)
    generation: dict[str, Any] | None = None
    fallback: dict[str, Any] | None = None
    configured = backend = "verbatim"
    if idea["kind"] == "text":
        scenes, model = scenes_from_text(idea["text"]), None
    else:
        failures: list[str] = []
        writers: dict[str, Any] = {}

        def write_with(name: str) -> tuple[list[dict[str, Any]], str]:
            try:
                writers[name] = registry.create("script", {**options, "backend": name})
                written = repair_scenes(writers[name].write(idea, budget))
                if not written:
                    raise UnusableAnswerError(f"writer '{name}' returned no scene with narration")
            except StoryreelError as exc:
                failures.append(f"{name}: {str(exc).splitlines()[0]}")
                raise
            return written, name

        configured = options["backend"]
        job = job or JobContext.alone("script", idea["story"])
        scenes, backend = with_fallback(job, options, write_with)
        model = getattr(writers[backend], "model", None)
        generation = getattr(writers.get(configured), "generation", None) or None
        if backend != configured:
            fallback = {"backend": backend, "from": configured, "reason": "; ".join(failures)}
    if not scenes:
        raise UnusableAnswerError(f"writer '{backend}' returned no scene with narration")
    words = sum(tx.word_count(s["narration"]) for s in scenes)
    log.info("%s script%s: %d scenes, %d words (target %d)", backend,
             f" (configured {configured}, which failed)" if fallback else "", len(scenes), words,
             budget.target_words())
    script = {
        "story": idea["story"],
        "title": idea["title"],
        "language": idea["language"],
        "kind": idea["kind"],
        "seed": idea["seed"],
        "backend": backend,
        "model": model,
        "scenes": scenes,
    }
    if generation:
        script["generation"] = generation
    if fallback:
        script.update(configured_backend=configured, fallback=fallback)
    return script


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point: idea.json -> script.json."""
    idea = read_json(smk.input.idea, "idea")
    script = write_script(idea, dict(smk.params.options), float(smk.params.words_per_minute),
                          dict(smk.params.pauses), job)
    write_json(smk.output.script, script, "script")
