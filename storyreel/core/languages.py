"""A story's language: BCP 47 tags, detection, and what the configured backends speak.

Each story has a ``language`` (BCP 47: ``es``, ``de-DE``, ``pt-BR``, ``zh-Hans``), else the
config's ``defaults.language``; ``auto`` (the default) detects it from the idea with py3langid
(a naive Bayes model over byte n-grams trained on 97 languages: 4.5 MB, about 0.1 ms a text
once loaded; lingua is more accurate on very short texts but its models are tens of MB).
Detection only chooses among the languages that every configured stage handles.

Backends declare the languages they handle in their specs
(:attr:`storyreel.core.registry.BackendSpec.languages`; voices through their catalogue). A tag
is handled when one of its lower-cased prefixes is (``pt-br``, then ``pt``): a backend that
declares ``pt`` handles ``pt-BR``. Before any job runs, :func:`check_story` finds for each
stage what will do the story's language (the voice and its backend, the aligner) and refuses a
story that no configured backend can do, in one line naming the stage and the languages it has.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from storyreel.core import registry
from storyreel.core.errors import ConfigError

# BCP 47's language[-script][-region] in its canonical case (``sr-Latn-RS``); the schemas
# hold the same pattern.
TAG = re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?\Z")
AUTO = "auto"
FALLBACK = "en"  # taken when detection has too little to go on
MIN_CONFIDENCE = 0.5
# Writing systems without spaces between words: a character is a unit of reading there.
SPACELESS = re.compile("[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                       "\u3000-\u303f\uff00-\uffef]")
# Words: runs of letters and digits keeping inner apostrophes, hyphens and decimal points.
WORD = re.compile(r"[^\W_]+(?:['\u2019\-.][^\W_]+)*", re.UNICODE)
# Characters of a spaceless script that count as one word in length estimates. The mean word
# of written Chinese and Japanese is about 1.5 characters; 1.25 makes the default pace of 160
# words a minute 200 characters (3.3 a second), under the 4 a second that Japanese subtitles
# may ask of a reader, with room for punctuation.
CHARS_PER_WORD = 1.25
SPACELESS_LANGUAGES = ("ja", "zh", "yue", "cmn")  # written in a spaceless script


def prefixes(tag: str) -> list[str]:
    """The lower-cased tag, then each shorter prefix: ``pt-BR`` -> ``pt-br``, ``pt``."""
    parts = tag.lower().split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def primary(tag: str) -> str:
    """The language subtag: ``pt-BR`` -> ``pt``."""
    return tag.split("-", 1)[0].lower()


def handles(languages: Iterable[str] | None, tag: str) -> bool:
    """Whether a backend that declares ``languages`` (None: any) handles ``tag``."""
    if languages is None:
        return True
    have = {lang.lower() for lang in languages}
    return any(p in have for p in prefixes(tag))


def speaks(spoken: Iterable[str], tag: str) -> bool:
    """Whether a voice that speaks ``spoken`` speaks ``tag``: a prefix of the tag, or the same
    language in another region (``es-419`` speaks ``es``)."""
    spoken = list(spoken)
    return handles(spoken, tag) or primary(tag) in {primary(s) for s in spoken}


def spaceless(tag: str) -> bool:
    """Whether language ``tag`` is written without spaces between words."""
    return primary(tag) in SPACELESS_LANGUAGES


def count_words(text: str) -> int:
    """Words of a text for length estimates: words of spaced scripts, plus the characters of
    spaceless scripts (Chinese, Japanese) as :data:`CHARS_PER_WORD` characters a word."""
    spaceless = len(SPACELESS.findall(text))
    spaced = len(WORD.findall(SPACELESS.sub(" ", text))) if spaceless else len(
        WORD.findall(text))
    return spaced + round(spaceless / CHARS_PER_WORD)


def scripts(text: str) -> dict[str, int]:
    """Letters of ``text`` counted by writing system (``LATIN``, ``ARABIC``, ``CJK`` for Han,
    kana and Hangul, ...), as Unicode names them."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "UNKNOWN").split(" ")[0]
            if name in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL"):
                name = "CJK"
            counts[name] = counts.get(name, 0) + 1
    return counts


def is_premise(idea: str, max_words: int) -> bool:
    """A premise is one paragraph of at most ``max_words`` words; anything else is a text."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", idea) if p.strip()]
    return len(paragraphs) <= 1 and count_words(idea) <= max_words


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str, among: Iterable[str] | None = None) -> tuple[str, float]:
    """The language of ``text`` among ``among`` (None: any py3langid knows) and the model's
    confidence; :data:`FALLBACK` with confidence 0 when a text in Latin script leaves the
    model under :data:`MIN_CONFIDENCE` (a text in another script has narrowed it down)."""
    identifier = _identifier()
    identifier.set_languages(None)  # its labels are those of the last restriction
    known = set(identifier.labels)
    allowed = sorted(known & {primary(t) for t in among}) if among is not None else None
    identifier.set_languages(allowed or None)
    language, confidence = identifier.classify(text)
    counts = scripts(text)
    latin = counts.get("LATIN", 0) >= sum(counts.values()) / 2
    if confidence < MIN_CONFIDENCE and latin:  # another script narrows it down enough
        return FALLBACK, 0.0
    return str(language), round(float(confidence), 3)


def detectable(config: Mapping[str, Any]) -> list[str]:
    """Languages that detection may choose: those every configured stage handles (the
    script stage's writer aside: it concerns premises only)."""
    stages = config["stages"]
    found: set[str] | None = None
    for kind in registry.kinds():
        if kind == "script":  # a full text needs no writer, so any language will do there
            continue
        have = stage_languages(kind, stages[kind])
        if have is not None:
            found = set(have) if found is None else found & set(have)
    return sorted({primary(t) for t in found or {FALLBACK}})


# -- what each stage's backends handle ------------------------------------------------------


def backend_languages(kind: str, name: str) -> tuple[str, ...] | None:
    """The languages a backend declares (None: any language)."""
    try:
        return registry.languages(kind, name)
    except Exception as exc:  # noqa: BLE001 (a backend that cannot list its languages)
        raise ConfigError(f"config: stages.{kind}.backend: the languages of {kind}/{name} "
                          f"could not be listed: {exc}") from None


def chain(options: Mapping[str, Any]) -> list[str]:
    """A stage's configured backend, then its fallbacks (no repeats)."""
    names = [str(options["backend"])]
    fallback = options.get("fallback") or []
    for name in [fallback] if isinstance(fallback, str) else fallback:
        if str(name) not in names:
            names.append(str(name))
    return names


def stage_languages(kind: str, options: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Every language some backend of a stage's chain handles (None: any)."""
    found: set[str] = set()
    for name in chain(options):
        have = backend_languages(kind, name)
        if have is None:
            return None
        found |= set(have)
    return tuple(sorted(found))


def speaking_rate(backend: str, tag: str) -> float:
    """A voice backend's words per minute at length_scale 1 in ``tag``: its measured rate for
    the tag or its language, else its ``words_per_minute``."""
    spec = registry.spec("voice", backend)
    rates = registry.attribute(spec.rates) if spec.rates else {}
    rate = next((rates[p] for p in prefixes(tag) if p in rates), spec.words_per_minute)
    return float(rate or 0.0)


def shown(languages: Iterable[str] | None, limit: int = 24) -> str:
    if languages is None:
        return "any language"
    items = sorted(set(languages))
    return ", ".join(items[:limit]) + (f" ... ({len(items)} in all)" if len(items) > limit
                                       else "")


def _voice_rank(tag: str, voice: str, spoken: tuple[str, ...]) -> tuple[int, int, int, str]:
    """How well a voice fits a tag (lower is better): the most specific prefix it speaks, where
    that language stands in its list, a voice named like the tag, the shorter name."""
    lowered = [s.lower() for s in spoken]
    for depth, prefix in enumerate(prefixes(tag)):
        if prefix in lowered:
            return depth, lowered.index(prefix), int(voice.lower() != prefix), voice
    return 99, 99, 1, voice  # the language in another region only


def best_voice(tag: str, catalogue: Mapping[str, tuple[str, ...]], default: str | None
               ) -> str | None:
    """The backend's voice for ``tag``: its default voice when that speaks the language, else
    the catalogue's best match, else None."""
    if default and handles(catalogue.get(default, ()), tag):
        return default
    fits = [v for v, spoken in catalogue.items() if speaks(spoken, tag)]
    return min(fits, key=lambda v: _voice_rank(tag, v, catalogue[v])) if fits else None


def _named_voice(name: str, names: list[str]) -> tuple[str, str] | None:
    """(backend, voice) of ``backend/voice`` or of a bare name one of ``names`` offers."""
    if "/" in name:
        backend, _, voice = name.partition("/")
        return backend, voice
    base = name.split("+", 1)[0].lower()
    for backend in names:
        if base in {v.lower() for v in registry.voices(backend)}:
            return backend, name
    return None


def pick_voice(tag: str, options: Mapping[str, Any], requested: str | None = None
               ) -> tuple[str, str]:
    """(backend, voice) that speaks a story in ``tag``: the story's ``voice``, else
    ``stages.voice.voices`` for the tag (or its language), else the first backend of the
    stage's chain with a voice for it (Piper where it has one, espeak-ng's otherwise).

    Raises ValueError with what went wrong (the caller names the key)."""
    names = chain(options)
    mapping = {k.lower(): v for k, v in (options.get("voices") or {}).items()}
    wanted = requested or next((mapping[p] for p in prefixes(tag) if p in mapping), None)
    if wanted:
        found = _named_voice(wanted, names)
        if found is None or found[0] not in registry.known("voice"):
            raise ValueError(f"unknown voice '{wanted}' (voices of {', '.join(names)}: "
                             + "; ".join(f"{b}: {shown(registry.voices(b), 12)}" for b in names)
                             + ")")
        backend, voice = found
        catalogue = {v.lower(): s for v, s in registry.voices(backend).items()}
        spoken = catalogue.get(voice.split("+", 1)[0].lower())
        if spoken is None:
            raise ValueError(f"unknown voice '{voice}' for the {backend} backend; voices: "
                             f"{shown(catalogue, 20)}")
        if not speaks(spoken, tag):
            able = [v for v, s in sorted(catalogue.items()) if speaks(s, tag)]
            raise ValueError(f"voice '{voice}' speaks {', '.join(spoken) or 'no known language'}"
                             f", not the story's language '{tag}'; voices that speak it: "
                             f"{', '.join(able[:20]) or 'none'}")
        return backend, voice
    for backend in names:
        voice = best_voice(tag, registry.voices(backend), registry.spec("voice",
                                                                          backend).default_voice)
        if voice:
            return backend, voice
    raise ValueError(f"no voice speaks '{tag}' ("
                     + "; ".join(f"voice/{b} speaks {shown(_spoken(b), 30)}" for b in names)
                     + ")")


def _spoken(backend: str) -> set[str]:
    return {lang for spoken in registry.voices(backend).values() for lang in spoken}


def pick_aligner(tag: str, options: Mapping[str, Any], voice_backend: str) -> str:
    """The asr backend for a story in ``tag``: the first of the stage's chain that knows the
    language and, for one that reads the voice's word timings, whose voice reports them.

    Raises ValueError naming what the chain knows."""
    timed = registry.spec("voice", voice_backend).word_timings
    for name in chain(options):
        spec = registry.spec("asr", name)
        if handles(backend_languages("asr", name), tag) and (timed or not spec.word_timings):
            return name
    return_msg = "; ".join(
        f"asr/{n} knows {shown(backend_languages('asr', n), 12)}"
        + (" from voices that report word timings" if registry.spec("asr", n).word_timings
           else "") for n in chain(options))
    raise ValueError(f"no aligner knows '{tag}' with voice/{voice_backend} ({return_msg})")


def premise_refusal(writer: str, tag: str) -> str | None:
    """Why script/``writer`` cannot expand a premise in ``tag``, naming the writers that
    would (None when it can)."""
    if handles(backend_languages("script", writer), tag):
        return None
    able = [n for n in registry.known("script") if handles(backend_languages("script", n), tag)]
    return (f"'{tag}': the idea is a one-line premise and stage script's writer script/{writer} "
            f"writes {shown(backend_languages('script', writer))} only; a writer that would: "
            f"{', '.join(f'script/{n}' for n in able) or 'none'} (stages.script.backend), or "
            "give the full text, which is narrated verbatim")


def check_story(key: str, tag: str, premise: bool, requested_voice: str | None,
                config: Mapping[str, Any]) -> dict[str, str]:
    """What does the story's language in each stage: ``{"voice_backend", "voice",
    "aligner"}``; a ConfigError naming the stage and the languages it has when nothing can."""
    stages = config["stages"]
    revise = str(stages["revise"]["backend"])
    if not handles(backend_languages("revise", revise), tag):
        raise ConfigError(f"{key}.language: '{tag}' is not supported by stage revise "
                          f"(revise/{revise} handles "
                          f"{shown(backend_languages('revise', revise))})")
    try:
        backend, voice = pick_voice(tag, stages["voice"], requested_voice)
    except ValueError as exc:
        where = ".voice" if requested_voice else ".language: stage voice"
        raise ConfigError(f"{key}{where}: {exc}") from None
    try:
        aligner = pick_aligner(tag, stages["asr"], backend)
    except ValueError as exc:
        raise ConfigError(f"{key}.language: stage asr: {exc}") from None
    refusal = premise_refusal(str(stages["script"]["backend"]), tag) if premise else None
    if refusal:
        raise ConfigError(f"{key}.language: {refusal}")
    return {"voice_backend": backend, "voice": voice, "aligner": aligner}
