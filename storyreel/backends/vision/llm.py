"""``vision/openai`` and ``vision/transformers``: a language model plans the look of a story.

On top of the embedded style (palette, light, places, silhouettes), one structured call
asks the model for

* a **character sheet**: each character's look described once (face, age, build, clothing,
  colours). The look is stored in the style as the character's ``descriptors`` and reused
  verbatim in the prompt of every shot that shows the character, so a character looks the same
  across shots;
* **one prompt per shot** that follows that shot's narration span (the words spoken while the
  shot is on screen).

The call goes through :mod:`storyreel.models.chat.structured` (JSON schema, which a local model
generates under; parse, validate, repair turns with another seed and temperature), in at most
:func:`answer_tokens` tokens. When no answer is usable the embedded style is kept and the reason
is recorded in ``style.json["fallback"]`` (the vision stage adds it to the manifest's
degradations); every rejected answer and its reason is in ``style.json["generation"]``; the
film never depends on the model's good behaviour. Only inputs
that per-shot overrides cannot change reach the model (the idea, and each shot's narration,
setting and characters), so overriding one shot still reruns only that shot.
"""

from __future__ import annotations

import logging
from typing import Any

from storyreel.backends.vision.embedded import EmbeddedVision
from storyreel.core.errors import StoryreelError
from storyreel.models.chat import ChatModel, structured

log = logging.getLogger(__name__)

SYSTEM = (
    "You are the art director of a short illustrated film. Answer with one JSON object only, "
    "no prose and no code fence, of the form "
    '{"characters": {"<name>": "<look>"}, "shots": {"sh001": "<prompt>"}}, with every '
    "listed character and every listed shot once. A look describes one character once, "
    "concretely and visually (species or age, build, face, hair or fur, clothing, colours) in "
    "at most 25 words, without the name. A shot prompt describes one picture in at most 40 "
    "words: who is seen doing what, where, the light and the framing, naming the things its "
    "narration names."
)


LOOK_WORDS, PROMPT_WORDS = 25, 40  # a look, a shot prompt
KEY_CHARS = 24  # a key, its quotes and punctuation


def answer_tokens(names: list[str], shot_ids: list[str]) -> int:
    """Tokens the answer may take: every look and every prompt at the longest
    :func:`answer_schema` allows (the grammar of a local model keeps to it)."""
    per_look = LOOK_WORDS * structured.MAX_CHARS_PER_WORD + KEY_CHARS
    per_prompt = PROMPT_WORDS * structured.MAX_CHARS_PER_WORD + KEY_CHARS
    return structured.tokens_for(40 + len(names) * per_look + len(shot_ids) * per_prompt)


def keyed(keys: list[str], max_words: int) -> dict[str, Any]:
    """An object with exactly these keys, each a string of words (at most ``max_words``)."""
    return {"type": "object", "additionalProperties": False, "required": list(keys),
            "properties": {key: structured.bounded_text(1, max_words) for key in keys}}


def answer_schema(names: list[str], shot_ids: list[str]) -> dict[str, Any]:
    """The JSON schema of the model's answer: a look for each character and a prompt for each
    shot, keyed by name and shot id, so that the schema itself asks for every one exactly once
    (a local model generating under it cannot skip or repeat one)."""
    return {"type": "object", "additionalProperties": False, "required": ["characters", "shots"],
            "properties": {"characters": keyed(names, LOOK_WORDS),
                           "shots": keyed(shot_ids, PROMPT_WORDS)}}


def vision_messages(idea: dict[str, Any], shots: list[dict[str, Any]],
                     names: list[str]) -> list[dict[str, str]]:
    """The request: the premise, the characters to describe, every shot's narration span."""
    lines = [f"Film: {idea['title']}. Style: {idea['style']}."]
    if idea.get("premise"):
        lines.append(f"Premise: {idea['premise']}")
    lines.append("Characters to describe: " + (", ".join(names) if names else "none"))
    lines.append("Shots (id, setting, characters, narration spoken during the shot):")
    for shot in shots:
        cast = ", ".join(shot["characters"]) or "-"
        lines.append(f"{shot['id']} | {shot['setting']} | {shot['time_of_day']} | {cast} | "
                     f"{shot['narration']}")
    lines.append("Give every listed character a look and every shot a prompt.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def check_answer(names: list[str], shot_ids: list[str]):
    """A ``check`` for :func:`structured.generate`: every character and every shot has words
    (the schema has made sure each is there)."""

    def check(data: Any) -> tuple[dict[str, str], dict[str, str]]:
        looks = {str(k).strip().lower(): " ".join(str(v).split())
                 for k, v in data["characters"].items()}
        prompts = {str(k): " ".join(str(v).split()) for k, v in data["shots"].items()}
        missing = [n for n in names if not looks.get(n.lower())]
        if missing:
            raise structured.AnswerError(f"characters: no look for {', '.join(missing)}")
        missing = [i for i in shot_ids if not prompts.get(i)]
        if missing:
            raise structured.AnswerError(f"shots: no prompt for {', '.join(missing)}")
        return {n: looks[n.lower()] for n in names}, {i: prompts[i] for i in shot_ids}

    return check


class ModelVision(EmbeddedVision):
    """The embedded vision backend, with the character sheet and shot prompts from a chat model."""

    name = "llm"

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.max_repairs = int(options["max_repairs"])
        self.chat = self.make_chat(options)
        self.model = self.chat.model

    def make_chat(self, options: dict[str, Any]) -> ChatModel:
        raise NotImplementedError

    def usage(self) -> dict[str, Any] | None:
        return None

    def style(self, idea: dict[str, Any], shots: list[dict[str, Any]]) -> dict[str, Any]:
        """The embedded style with the model's character looks and shot prompts."""
        style = super().style(idea, shots)
        names = [c["name"] for c in style["characters"]]
        shot_ids = [s["id"] for s in shots]
        rejected: list[dict[str, Any]] = []
        generation: dict[str, Any] = {"backend": self.chat.name, "model": self.model,
                                      "attempts": 0, "rejected": rejected}
        try:
            result = structured.generate(
                self.chat, vision_messages(idea, shots, names),
                answer_schema(names, shot_ids), check_answer(names, shot_ids),
                seed=int(idea["seed"]), max_repairs=self.max_repairs,
                max_tokens=answer_tokens(names, shot_ids), rejected=rejected)
        except StoryreelError as exc:  # no usable answer, a server down or timed out
            log.warning("vision: %s; the embedded style is kept", exc)
            style["fallback"] = {"backend": "embedded", "from": self.chat.name,
                                 "reason": str(exc).splitlines()[0]}
            generation["attempts"] = len(rejected)
        else:
            looks, prompts = result.value
            for character in style["characters"]:
                character["descriptors"] = f"{character['name']}, {looks[character['name']]}"
            style["shot_prompts"] = prompts
            generation["attempts"] = result.attempts
        generation.update(self.chat.stats())
        usage = self.usage()
        if usage:
            generation["model_usage"] = usage
        style["generation"] = generation
        return style

    def plan_shot(self, shot: dict[str, Any], style: dict[str, Any],
                  crossfade_s: float) -> dict[str, Any]:
        """The embedded plan, its prompt led by the model's prompt for the shot; the
        characters' looks come verbatim from the character sheet."""
        llm_prompt = style.get("shot_prompts", {}).get(shot["id"])
        if not llm_prompt:
            return super().plan_shot(shot, style, crossfade_s)
        plan = super().plan_shot(dict(shot, prompt=f"{llm_prompt} {shot['prompt']}"), style,
                                 crossfade_s)
        plan["shot_prompt"] = shot["prompt"]
        return plan


class OpenAIVision(ModelVision):
    """``vision/openai``: the character sheet and shot prompts from an OpenAI-compatible
    server."""

    name = "openai"

    def make_chat(self, options: dict[str, Any]) -> ChatModel:
        from storyreel.models.chat.server import ServerChat

        return ServerChat(options, "vision")


class TransformersVision(ModelVision):
    """``vision/transformers``: the character sheet and shot prompts from a local causal LM
    (loaded once per job)."""

    name = "transformers"

    def make_chat(self, options: dict[str, Any]) -> ChatModel:
        from storyreel.models.chat.local import LocalChat

        return LocalChat(options)

    def usage(self) -> dict[str, Any] | None:
        from storyreel.models.chat.local import usage

        return usage()
