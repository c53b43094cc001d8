"""``vision/openai`` and ``vision/transformers``: a language model plans the look of a story.

On top of the embedded style (palette, light, places, silhouettes), one structured call
asks the model for

* a **character sheet**: each character's look described once (face, age, build, clothing,
  colours). The look is stored in the style as the character's ``descriptors`` and reused
  verbatim in the prompt of every shot that shows the character, so a character looks the same
  across shots;
* **one prompt per shot** that follows that shot's narration span (the words spoken while the
  shot is on screen).

The call goes through :mod:`storyreel.models.structured` (JSON schema, parse, validate, repair
turns).
When no answer is usable the embedded style is kept and the reason is recorded in
``style.json["fallback"]``; the film never depends on the model's good behaviour. Only inputs
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
    '{"characters": [{"name": "...", "look": "..."}], "shots": [{"id": "sh001", '
    '"prompt": "..."}]}. A look describes one character once, concretely and visually '
    "(species or age, build, face, hair or fur, clothing, colours) in at most 25 words, without "
    "the name. A shot prompt describes one picture in at most 40 words: who is seen doing "
    "what, where, the light and the framing, naming the things its narration names."
)


def answer_schema(names: list[str], shot_ids: list[str]) -> dict[str, Any]:
    """The JSON schema of the model's answer."""
    return {
        "type": "object", "additionalProperties": False, "required": ["characters", "shots"],
        "properties": {
            "characters": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["name", "look"],
                "properties": {"name": {"type": "string"},
                               "look": {"type": "string", "minLength": 1}}}},
            "shots": {"type": "array", "minItems": len(shot_ids), "items": {
                "type": "object", "additionalProperties": False, "required": ["id", "prompt"],
                "properties": {"id": {"type": "string", "enum": shot_ids},
                               "prompt": {"type": "string", "minLength": 1}}}},
        },
    }


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
    """A ``check`` for :func:`structured.generate`: every character and every shot answered."""

    def check(data: Any) -> tuple[dict[str, str], dict[str, str]]:
        looks = {str(c["name"]).strip().lower(): " ".join(str(c["look"]).split())
                 for c in data["characters"]}
        prompts = {str(s["id"]): " ".join(str(s["prompt"]).split()) for s in data["shots"]}
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
        generation: dict[str, Any] = {"backend": self.chat.name, "model": self.model}
        try:
            result = structured.generate(
                self.chat, vision_messages(idea, shots, names),
                answer_schema(names, shot_ids), check_answer(names, shot_ids),
                seed=int(idea["seed"]), max_repairs=self.max_repairs)
        except StoryreelError as exc:  # no usable answer, or a server that stays unreachable
            log.warning("vision: %s; the embedded style is kept", exc)
            style["fallback"] = {"backend": "embedded", "from": self.chat.name,
                                 "reason": str(exc)}
            generation["rejected"] = getattr(exc, "errors", [])
        else:
            looks, prompts = result.value
            for character in style["characters"]:
                character["descriptors"] = f"{character['name']}, {looks[character['name']]}"
            style["shot_prompts"] = prompts
            generation.update({"attempts": result.attempts, "rejected": result.errors})
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
