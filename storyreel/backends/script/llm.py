"""``script/openai`` and ``script/transformers``: a language model writes the script.

Both ask a chat model (:mod:`storyreel.models.chat`) for the scenes as JSON following
:func:`scene_schema` (exactly the budget's number of scenes; a local model generates under it),
in at most :func:`answer_tokens` tokens (derived from the word budget), through parse, validate
and repair turns (:mod:`storyreel.models.chat.structured`); then :func:`fit_scenes` trims an
over-long answer to the word budget at sentence boundaries, so a runaway answer never becomes a
runaway narration. The script stage maps the scenes onto the script schema, and falls back to
the template writer when no answer is usable; the writer's ``generation`` record (attempts,
every rejected answer with its reason, tokens and seconds) is kept either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storyreel import text as tx
from storyreel.core import languages
from storyreel.core.types import MAX_SCENES, Budget
from storyreel.core.vocabulary import BEATS, MOODS, SINGLE_BEAT, TIMES_OF_DAY
from storyreel.models.chat import ChatModel, structured

MIN_SHARE = 0.4  # a script with fewer words than this share of the budget is sent back
MAX_CHARS_PER_WORD = 7  # a bound on a word and its space, in characters
MIN_CHARS_PER_WORD = 5  # about the shortest a spaced script's mean word and its space are
VISUAL_WORDS = 25  # a visual is one storyboard frame
SETTING_CHARS, NAME_CHARS, NAMES = 60, 30, 4  # a scene's place; its characters' names
SCENE_KEYS_CHARS = 140  # a scene's field names, enums and punctuation
CHARS_PER_TOKEN = 3.0  # prose in the BPE vocabularies of small models (SmolLM2: 3.3)


def answer_tokens(scenes: int, target_words: int) -> int:
    """Tokens an answer of ``scenes`` scenes may take: every field of every scene at the
    longest :func:`scene_schema` allows (the grammar of a local model keeps to it)."""
    names = NAMES * (NAME_CHARS + 4)
    scene = (scene_words(scenes, target_words) + VISUAL_WORDS) * MAX_CHARS_PER_WORD + (
        SETTING_CHARS + names + SCENE_KEYS_CHARS)
    return round((scenes * scene + 20) / CHARS_PER_TOKEN)


def scene_words(scenes: int, target_words: int) -> int:
    """The most words one scene's narration may have: half as many again as its even share,
    and a short sentence."""
    return -(-3 * target_words // (2 * max(1, scenes))) + 6


def min_scene_chars(scenes: int, target_words: int, language: str) -> int:
    """The fewest characters one scene's narration may have: its share of the words the
    check asks for, and two more."""
    words = -(-int(target_words * MIN_SHARE) // max(1, scenes)) + 2
    per_word = languages.CHARS_PER_WORD if languages.spaceless(language) else MIN_CHARS_PER_WORD
    return int(words * per_word)


def scene_schema(scenes: int | None = None, strict: bool = True,
                 target_words: int | None = None, language: str = "en") -> dict[str, Any]:
    """The JSON schema a script answer must follow (sent as ``response_format``; a local
    model generates under it), with exactly ``scenes`` scenes when given. With
    ``target_words`` too, every string and list is bounded (a scene's narration to
    :func:`scene_words`, a visual to 25 words), so that a model cannot spend the answer's
    tokens on one field (the narration comes first after the beat, the list of names last),
    and a scene's narration holds at least its share of the words the check asks for.

    ``strict=False`` gives the schema answers are checked against: every field must be there,
    but a beat, time of day or mood outside its list, and any number of scenes, is accepted
    (the script stage maps them onto the lists and fits the scenes), so a model is not sent
    back for a synonym.
    """
    scene: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["beat", "narration", "visual", "setting", "time_of_day", "mood",
                     "characters"],
        "properties": {
            "beat": {"type": "string", "enum": [*BEATS, SINGLE_BEAT]},
            "narration": {"type": "string", "minLength": 1},
            "visual": {"type": "string", "minLength": 1},
            "setting": {"type": "string"},
            "time_of_day": {"type": "string", "enum": list(TIMES_OF_DAY)},
            "mood": {"type": "string", "enum": list(MOODS)},
            "characters": {"type": "array", "items": {"type": "string"}},
        },
    }
    if not strict:
        for key in ("beat", "time_of_day", "mood"):
            scene["properties"][key] = {"type": "string"}
        scene["additionalProperties"] = True
    scenes_schema: dict[str, Any] = {"type": "array", "items": scene, "minItems": 1}
    if strict and scenes:
        scenes_schema.update(minItems=scenes, maxItems=scenes)
    if strict and scenes and target_words:
        fields = scene["properties"]
        fields["narration"]["minLength"] = min_scene_chars(scenes, target_words, language)
        fields["narration"]["maxLength"] = scene_words(scenes, target_words) * MAX_CHARS_PER_WORD
        fields["visual"]["maxLength"] = VISUAL_WORDS * MAX_CHARS_PER_WORD
        fields["setting"]["maxLength"] = SETTING_CHARS
        fields["characters"].update(maxItems=NAMES)
        fields["characters"]["items"]["maxLength"] = NAME_CHARS
    return {"type": "object", "additionalProperties": False, "required": ["scenes"],
            "properties": {"scenes": scenes_schema}}


SCRIPT_SYSTEM = (
    "You are a screenwriter for short narrated films. Answer with one JSON object only, no "
    "prose and no code fence, of the form "
    f'{{"scenes": [{{"beat": "{"|".join(BEATS)}", "narration": "...", "visual": "...", '
    f'"setting": "...", "time_of_day": "{"|".join(TIMES_OF_DAY)}", '
    f'"mood": "{"|".join(MOODS)}", "characters": ["..."]}}]}}. '
    "Every scene has every field. The narration is plain spoken prose: no markup, no lists, "
    "no stage directions. The visual describes one storyboard frame in at most 25 words: "
    "subject, setting, time of day, mood, naming what the narration names."
)


def script_messages(idea: dict[str, Any], scenes: int, target_words: int
                    ) -> list[dict[str, str]]:
    """The chat messages asking for a story of ``scenes`` scenes and about ``target_words``."""
    user = (
        f"Premise: {idea['premise']}\n"
        f"Language of the narration: {idea.get('language', 'en')}\n"
        f"Write {scenes} scenes following a story arc (setup, turn, climax, resolution), about "
        f"{target_words} words of narration in total (at most {int(target_words * 1.15)}), a "
        "few sentences per scene. Use the premise's own characters, places, goal and obstacle; "
        "name them in the narration and in the visuals."
    )
    return [{"role": "system", "content": SCRIPT_SYSTEM}, {"role": "user", "content": user}]


def check_script(language: str, min_words: int = 1) -> Callable[[Any], list[dict[str, Any]]]:
    """A ``check`` for :func:`generate`: the scenes, each with narration in ``language``."""

    def check(data: Any) -> list[dict[str, Any]]:
        scenes = [s for s in data["scenes"] if str(s.get("narration", "")).strip()]
        whole = " ".join(str(s["narration"]) for s in scenes)
        problem = structured.language_error(whole, language)
        if problem:
            raise structured.AnswerError(problem)
        words = tx.word_count(whole)
        if words < min_words:
            raise structured.AnswerError(
                f"the narration has {words} words; write at least {min_words}")
        return scenes

    return check


@dataclass
class Fitted:
    """Scenes fitted to a word budget, and what fitting did."""

    scenes: list[dict[str, Any]]
    words_before: int
    words_after: int
    dropped_scenes: int = 0
    trimmed_sentences: int = 0

    def record(self) -> dict[str, int]:
        return {"words_before": self.words_before, "words_after": self.words_after,
                "dropped_scenes": self.dropped_scenes,
                "trimmed_sentences": self.trimmed_sentences}


def fit_scenes(scenes: list[dict[str, Any]], max_words: int,
               max_scenes: int = MAX_SCENES) -> Fitted:
    """Trim scenes to at most ``max_scenes`` (keeping the last, the resolution) and their
    narration to at most ``max_words`` in total, by dropping whole sentences from the end of
    the longest scenes (never a scene's first sentence; a lone over-long sentence is cut at a
    word boundary as a last resort)."""
    before = sum(tx.word_count(str(s["narration"])) for s in scenes)
    out = [dict(s) for s in scenes]
    dropped = 0
    while len(out) > max_scenes:
        del out[-2]
        dropped += 1
    parts = [tx.split_sentences(str(s["narration"])) or [str(s["narration"])] for s in out]
    trimmed = 0

    def total() -> int:
        return sum(tx.word_count(p) for sentences in parts for p in sentences)

    while total() > max_words:
        longest = max(range(len(parts)), key=lambda i: (len(parts[i]) > 1,
                                                         sum(map(tx.word_count, parts[i]))))
        if len(parts[longest]) > 1:
            parts[longest].pop()
            trimmed += 1
            continue
        excess = total() - max_words  # every scene is one sentence: cut the longest
        words = parts[longest][0].split()
        keep = max(3, len(words) - excess)
        if keep >= len(words):
            break
        parts[longest][0] = " ".join(words[:keep]).rstrip(",;:") + "."
        trimmed += 1
    for scene, sentences in zip(out, parts, strict=True):
        scene["narration"] = " ".join(sentences)
    return Fitted(out, before, total(), dropped, trimmed)


def write_scenes(model: ChatModel, idea: dict[str, Any], scenes: int,
                 target_words: int, max_repairs: int, tolerance: float = 0.15,
                 rejected: list[dict[str, Any]] | None = None
                 ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Raw scenes for a premise from any chat model, through parse → validate → repair →
    length fitting; and a record of what happened (attempts, rejected answers, fitting).
    Rejected answers also go to ``rejected`` as they happen (kept when no answer is usable)."""
    language = str(idea.get("language", "en"))
    result = structured.generate(
        model, script_messages(idea, scenes, target_words),
        scene_schema(scenes, target_words=target_words, language=language),
        check_script(language, int(target_words * MIN_SHARE)),
        seed=int(idea.get("seed", 0)), max_repairs=max_repairs,
        accept=scene_schema(strict=False),
        max_tokens=answer_tokens(scenes, target_words), rejected=rejected)
    fitted = fit_scenes(result.value, int(target_words * (1 + tolerance)))
    record = {"attempts": result.attempts, "rejected": result.rejected,
              "fitting": fitted.record()}
    return fitted.scenes, record


class ModelWriter:
    """A writer backed by a chat model (:meth:`make_chat`); ``generation`` records how it
    went, whether or not an answer was usable."""

    name = "llm"

    def __init__(self, options: dict[str, Any]) -> None:
        self.chat = self.make_chat(options)
        self.model = self.chat.model
        self.max_repairs = int(options["max_repairs"])
        self.generation: dict[str, Any] = {}

    def make_chat(self, options: dict[str, Any]) -> ChatModel:
        raise NotImplementedError

    def usage(self) -> dict[str, Any] | None:
        """The model's loads and peak memory in this job (local models)."""
        return None

    def write(self, idea: dict[str, Any], budget: Budget) -> list[dict[str, Any]]:
        """Raw scenes for a premise (the script stage maps them onto the script schema)."""
        rejected: list[dict[str, Any]] = []
        self.generation = {"backend": self.name, "model": self.model, "attempts": 0,
                           "rejected": rejected}
        try:
            scenes, record = write_scenes(self.chat, idea, budget.scenes,
                                          budget.target_words(), self.max_repairs,
                                          rejected=rejected)
            self.generation.update(record)
        finally:
            self.generation["attempts"] = self.generation["attempts"] or len(rejected)
            self.generation.update(self.chat.stats())
            usage = self.usage()
            if usage:
                self.generation["model_usage"] = usage
        return scenes


class OpenAIWriter(ModelWriter):
    """``script/openai``: a writer backed by an OpenAI-compatible server."""

    name = "openai"

    def make_chat(self, options: dict[str, Any]) -> ChatModel:
        from storyreel.models.chat.server import ServerChat

        return ServerChat(options, "writer")


class TransformersWriter(ModelWriter):
    """``script/transformers``: the script from a local causal LM (loaded once per job)."""

    name = "transformers"

    def make_chat(self, options: dict[str, Any]) -> ChatModel:
        from storyreel.models.chat.local import LocalChat

        return LocalChat(options)

    def usage(self) -> dict[str, Any] | None:
        from storyreel.models.chat.local import usage

        return usage()
