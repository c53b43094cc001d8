"""Reading a premise for the template writer: hero, place, goal, obstacle, stake, world.

Light, total heuristics (no tagger): any string gives something usable (neutral fallbacks).
The premise is read, never formatted: its text only ever fills placeholders. E.g. "An old
lighthouse keeper befriends a lost whale calf and guides it back to its mother through a winter
storm": hero "the old lighthouse keeper", goal "befriend a lost whale calf and guide it back to
its mother", obstacle "a winter storm", stake "the lost whale calf".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from storyreel import text as tx
from storyreel.backends.script.grammar import (
    NOT_VERBS,
    base_form,
    finite_at,
    looks_finite,
    third_person,
)
from storyreel.backends.script.lexicon import LEXICON, PRONOUNS, hero_pronoun

# Where a goal ends and the trouble (or the time) begins.
_GOAL_END = (r"(?=\s+(?:on the (?:night|day|morning|evening|eve)|when|before|after|while|until|"
             r"but|because|even though|although|just as|as soon as|only to|despite|"
             r"in spite of)\b|[.;!?]|,\s*(?:but|when|before|until|while|despite)\b|$)")
GOAL_RE = re.compile(
    r"\b(must|has to|have to|needs? to|wants? to|tries to|sets? out to|hopes? to|learns? to|"
    r"decides? to|vows? to|is determined to|struggles to|races to|sets off to|plans to|"
    r"longs to|wishes to|is trying to|is desperate to|is forced to|promises to|dares to|"
    r"searches for|looks for|goes in search of|sets out in search of)\s+(.+?)" + _GOAL_END,
    re.I,
)
SEARCH_VERBS = ("searches for", "looks for", "goes in search of", "sets out in search of")
TROUBLE_RE = re.compile(
    r"(?:\bon the (?:night|day|morning|evening|eve)(?: that| when)?|\bwhen|\bjust as|"
    r"\bas soon as|\buntil|\bbut|\beven though|\balthough|\bonly to find that|\bafter|"
    r"\bbefore)\s+"
    r"((?:a|an|the|her|his|its|their|[A-Z])[^.;!?]*)",
)
# "through a winter storm", "despite the war": an obstacle named as a noun phrase.
OBSTACLE_RE = re.compile(
    r"\b(despite|in spite of|through|during|amid|against)\s+((?:a|an|the|her|his|its|their)\s+"
    r"[^.,;!?]+)", re.I)
HAZARDS: dict[str, str] = LEXICON["hazards"]  # hazard word -> how it arrives
NAMED_RE = re.compile(
    r"\b((?:a|an|the)\s+(?:[\w'-]+\s+){0,4}?[\w'-]+),?\s+(?:named|called)\s+"
    r"([A-Z][\w'-]+(?:\s[A-Z][\w'-]+)?)")
APPOSITIVE_RE = re.compile(r"\b([A-Z][\w'-]+),\s+((?:a|an)\s+[^,.;]+?)[,.;]")
PLACE_RE = re.compile(r"\b(on|in|at|near|across|inside|beneath|under|aboard|deep in)\s+"
                      r"((?:a|an|the)\s+[^,.;]+)", re.I)
SETTING_RE = re.compile(
    r"\b(the\s+(?:desert|forest|woods|sea|ocean|city|mountains?|valley|island|river|village|"
    r"jungle|station|castle|cave))\b", re.I)
OPENING_RE = re.compile(
    r"^((?:on|in|at|one|every|by|after|before|during|since|last|this|long ago|once upon a time|"
    r"years? later|tonight|today)\b[^,]{0,40}),\s*", re.I)
TITLE_RE = re.compile(r"^((?:Dr|Mr|Mrs|Ms|Prof|Capt|Lt|Sgt|Col|Gen|Rev|Sir|Dame|Lady|Lord|"
                      r"Captain|Doctor|Professor|Aunt|Uncle|Detective|Inspector|Officer|Agent|"
                      r"Sheriff|Judge|Coach|Nurse|Sister|Brother|Father|Mother|Grandma|Grandpa|"
                      r"Queen|King|Prince|Princess|Granny|Chef|Admiral|Commander)\.?)\s+"
                      r"([A-Z][\w'-]+(?:\s[A-Z][\w'-]+)?)")
NAME_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")  # Mara, Jean-Luc, O'Neil
TIME_NOUNS = set("night day morning evening eve end middle way dark afternoon year moment time "
                 "hope search summer winter spring autumn dead".split())
NIGHT_WORDS, DAY_WORDS = (("night", "midnight", "dark", "moon", "stars", "evening"),
                          ("morning", "noon", "afternoon", "sunny", "daylight", "today"))
MAX_GOAL_WORDS = 14
GROUPS = {"two": "a pair of ", "twin": "a pair of twin ", "three": "a trio of "}
GROUP_RE = re.compile(r"^(?:(?:a|an|the)\s+)?(two|twin|three|several|\d+)\s+", re.I)
_plain = functools.partial(re.sub, "\x00", "")  # a goal without _goal's verb marks


@dataclass
class Premise:
    """What the template writer reads from a premise."""

    hero: str  # how the narration names the hero: "Mara" or "the old keeper"
    hero_intro: str  # first mention: "an old lighthouse keeper named Mara"
    hero_visual: str  # for visuals: "Mara, an old lighthouse keeper"
    pronoun: str  # she / he / it
    place: str  # definite: "the storm-beaten island"
    place_intro: str  # with preposition and original article: "on a storm-beaten island"
    place_prep: str  # "on"
    goal: str  # base form: "guide a lost fishing boat home"
    goal_s: str  # third person: "guides the lost fishing boat home"
    trouble: str | None  # a clause: "the lighthouse lamp finally fails"
    stake: str  # "the lost fishing boat"
    allies: list[str] = field(default_factory=list)
    world: str = "plain"
    night: bool = True
    characters: list[str] = field(default_factory=list)
    obstacle: str | None = None  # a noun phrase: "a winter storm"
    opening: str = ""  # a leading time or place phrase: "In 2049"
    deadline: bool = False  # the trouble is a deadline: "before the river floods"


def clean_premise(premise: str) -> str:
    """The premise as words: brackets and markup characters become spaces, quotes plain."""
    out = re.sub(r"[{}\[\]<>*_#|~`\\^]+", " ", premise)
    out = out.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    out = "".join(c if c.isprintable() else " " for c in out)
    return " ".join(out.split())


def words_only(phrase: str) -> str:
    """The leading run of real words of a phrase (letters, digits, inner ``'``, ``-``, ``.``):
    ``keeper … 50%`` -> ``keeper``."""
    out = []
    for word in phrase.split():
        if not re.fullmatch(r"[^\W_]+(?:['\-.][^\W_]+)*\.?", word) or \
                not any(c.isalpha() for c in word):
            break
        out.append(word)
    return " ".join(out)


def _wordy(phrase: str) -> bool:
    """Whether a phrase has a word of letters that is not a function word."""
    return any(w.isalpha() and w.lower() not in tx.PHRASE_STOP for w in phrase.split())


def _hero(premise: str, names: list[str]) -> tuple[str | None, str]:
    """(name, descriptor with its article) of the protagonist; either may be missing."""
    match = NAMED_RE.search(premise)
    if match and _wordy(match.group(1)) and match.group(1).split()[1].lower() not in \
            tx.PHRASE_STOP:  # "a must ß named Tokyo" names no one
        return match.group(2), match.group(1)
    match = APPOSITIVE_RE.search(premise)
    if match and match.group(1).lower() not in tx.PHRASE_STOP:
        descriptor = tx.noun_phrase(match.group(2).split(), 0, max_words=4)
        return match.group(1), descriptor if _wordy(descriptor) else ""
    title = TITLE_RE.match(premise)
    if title and title.group(2).split()[0].lower() not in tx.PHRASE_STOP:
        return f"{title.group(1)} {title.group(2)}", ""
    words = premise.split()
    first = words[0].strip(",") if words else ""
    if first[:1].isupper() and NAME_WORD.fullmatch(first) and \
            first.lower() not in tx.PHRASE_STOP and first not in names and len(words) > 1 and \
            (words[0].endswith(",") or tx.noun_phrase(words, 1) == "" or
             looks_finite(words[1], "", words[2] if len(words) > 2 else "")):
        return first, ""  # a sentence-initial name followed by a verb: "Mara must..."
    descriptor = tx.noun_phrase(words, 0, max_words=4)
    if not _wordy(descriptor):
        descriptor = ""
    if names:
        keep = descriptor and premise.lower().startswith(descriptor.lower()) and \
            names[0] not in descriptor and descriptor.split()[0].lower() in tx.ARTICLES
        return names[0], descriptor if keep else ""
    if descriptor and descriptor.split()[0].lower() not in tx.ARTICLES | {"one"}:
        if descriptor[:1].isupper():
            descriptor = descriptor[0].lower() + descriptor[1:]
        descriptor = f"{tx.indefinite_article(descriptor)} {descriptor}"
    return None, descriptor or "a traveller"


def _place(premise: str, place_names: list[str], world_place: str) -> tuple[str, str]:
    """(preposition, phrase) of the main place; a place name wins, else a phrase."""
    for name in place_names:
        match = re.search(rf"\b(\w+)\s+{re.escape(name)}", premise)
        prep = match.group(1).lower() if match else "in"
        if prep not in {"from", "to", "toward", "towards", "into", "for"}:  # not a journey's end
            return (prep if prep in {"on", "in", "at", "near"} else "in"), name
    for match in PLACE_RE.finditer(premise):
        phrase = words_only(tx.noun_phrase(match.group(2).split(), 0, max_words=4))
        head = phrase.split()[-1].lower() if phrase else ""
        if phrase and len(phrase.split()) > 1 and head not in TIME_NOUNS and head.isalpha():
            return match.group(1).lower(), phrase
    match = SETTING_RE.search(premise)
    if match:
        return "in", match.group(1)
    if place_names:
        return "in", place_names[0]
    return ("on" if "island" in world_place else "in"), world_place


def _cap_words(goal: str) -> str:
    """A goal of at most :data:`MAX_GOAL_WORDS` words, cut at a clause boundary if needed."""
    words = goal.split()
    if len(words) <= MAX_GOAL_WORDS:
        return goal
    for cut in range(MAX_GOAL_WORDS, 2, -1):
        if words[cut].lower() in {"and", "then", "so", "to", "with", "while"} or \
                words[cut - 1].endswith(","):
            return " ".join(words[:cut]).rstrip(",;:")
    return " ".join(words[:MAX_GOAL_WORDS]).rstrip(",;:")


def _clause_words(clause: str) -> list[str]:
    """A clause's words up to a lone mark or a token mixing letters and symbols (``@A``),
    without trailing punctuation or function words."""
    words = []
    for word in clause.split():
        if (any(c.isalpha() for c in word) and not re.fullmatch(
                r"[^\W_]+(?:['\-.\x00][^\W_]*)*[,.;:!?\x00]*", word)) or \
                (not any(c.isalnum() for c in word) and word != "&"):
            break
        words.append(word)
    words[-1:] = [w.rstrip(",.;:!?") for w in words[-1:]]
    keep = {"home", "back", "away", "up", "out", "it", "them", "her", "him"}
    while words and (not any(c.isalpha() for c in words[-1]) or
                     words[-1].lower() in NOT_VERBS - keep):
        words.pop()
    return words


def _tidy_goal(goal: str) -> str | None:
    words = _clause_words(_cap_words(goal.strip().rstrip(",;:-")))
    if not words or not words[0].isalpha() or not words[0].islower() or words[0] in NOT_VERBS:
        return None
    return " ".join(words)


def _goal(premise: str, hero_end: int, place_intro: str = "") -> str | None:
    """The goal as a base-form verb phrase: after a modal (``must cross the desert``), else the
    main verb after the hero (``befriends a whale`` -> ``befriend a whale``); a coordinated
    verb is turned too (``... and guides it home`` -> ``... and guide it home``)."""
    match = GOAL_RE.search(premise)
    if match:
        verb, goal = match.group(1).lower(), match.group(2).strip()
        if verb in SEARCH_VERBS:
            goal = f"find {goal}"
    else:
        words = premise[hero_end:].split()
        start = finite_at(words)
        if start is None:
            return None
        rest = " ".join([base_form(words[start].strip(","))] + words[start + 1:])
        end = re.search(_GOAL_END, rest[1:])
        goal = rest[: end.start() + 1] if end else rest
        goal = re.sub(r"\b(and|then)\s+([a-z]+)\b",
                      lambda m: f"{m.group(1)} {base_form(m.group(2))}" + "\x00"
                      if looks_finite(m.group(2)) and
                      base_form(m.group(2)) != m.group(2)
                      else m.group(0), goal)
    obstacle = OBSTACLE_RE.search(goal)
    if obstacle and _hazard(obstacle.group(2)):
        goal = goal[: obstacle.start()]
    if place_intro and goal.rstrip("\x00").endswith(" " + place_intro):
        goal = goal.rstrip("\x00")[: -len(place_intro) - 1]
    return _tidy_goal(goal)


def goal_third_person(goal: str) -> str:
    """The goal as the hero does it: ``find the key and open the door`` -> ``finds the key and
    opens the door`` (verbs marked by :func:`_goal` after ``and``/``then`` turn too)."""
    spoken = third_person(goal)
    return re.sub(r"\b([a-z]+)\x00", lambda m: third_person(m.group(1)), spoken)


def _hazard(phrase: str) -> str | None:
    """The hazard word a noun phrase names (``a winter storm`` -> ``storm``), if any."""
    words = [w.lower() for w in tx.tokenize(phrase)]
    return next((w for w in reversed(words) if w in HAZARDS), None)


def _obstacle(premise: str) -> str | None:
    """A noun-phrase obstacle: ``through a winter storm``, ``despite the war``."""
    for match in OBSTACLE_RE.finditer(premise):
        phrase = words_only(tx.noun_phrase(match.group(2).split(), 0, max_words=4))
        always = match.group(1).lower() in {"despite", "in spite of"}
        if phrase and len(phrase.split()) > 1 and (always or _hazard(phrase)):
            return phrase
    return None


def _trouble(premise: str, goal_at: int) -> str | None:
    match = TROUBLE_RE.search(premise, goal_at) or TROUBLE_RE.search(premise)
    if not match:
        return None
    words = _clause_words(" ".join(match.group(1).split()[:16]))
    if len(words) < 3 or finite_at(words[1:], 16, copula=True) is None:
        return None
    return " ".join(words)


def _world(premise: str, place: str, worlds: dict[str, tuple[str, ...]]) -> str:
    """The world pack whose keywords the premise uses most (the place counts twice)."""
    words = [w.lower() for w in tx.tokenize(f"{premise} {place}")]
    scores = {name: sum(words.count(k) for k in keys) for name, keys in worlds.items()}
    best = max(worlds, key=lambda name: scores[name])
    return best if scores[best] else "plain"


def _stake(goal: str, fallback: str) -> str:
    """The thing at stake for the climax: the goal's object, definite, else ``fallback``."""
    words = re.sub(r"\s+(home|back|away|safely|again|alone|together|forever)$", "",
                   goal).split()
    for i, word in enumerate(words):
        if word.lower() in {"her", "his", "their", "its", "my", "our"}:
            phrase = words_only(tx.noun_phrase(words, i + 1, max_words=4))
            if _wordy(phrase):
                return f"{word} {phrase}"
        if word.lower() in tx.ARTICLES:
            phrase = words_only(tx.noun_phrase(words, i, max_words=4))
            if _wordy(phrase) and len(phrase.split()) > 1:
                return tx.definite(phrase)
    return fallback


def read_premise(premise: str, worlds: dict[str, tuple[str, ...]],
                 world_places: dict[str, str]) -> Premise:
    """Read a premise (see the module docstring). ``worlds`` maps a world pack to its
    keywords, ``world_places`` to its default place."""
    premise = clean_premise(premise)
    opening = OPENING_RE.match(premise)
    body = premise[opening.end():] if opening else premise
    names = [n for n in tx.find_names(premise) if n.text in body]
    people = [n.text for n in names if not n.place]
    places = [n.text for n in names if n.place]
    name, descriptor = _hero(body, people)
    descriptor = GROUP_RE.sub(lambda m: GROUPS.get(m.group(1).lower(), "a band of "),
                              words_only(descriptor))  # "two bakers" -> "a pair of bakers"
    if not _wordy(descriptor):
        descriptor = "" if name else "a traveller"
    if descriptor and descriptor.split()[0].lower() in tx.ARTICLES:
        descriptor = descriptor[0].lower() + descriptor[1:]
    if name:
        hero = name
        intro = f"{descriptor} named {name}" if descriptor else name
        visual = f"{name}, {descriptor}" if descriptor else name
    else:
        hero = tx.definite(descriptor) if descriptor.split()[0].lower() in tx.ARTICLES \
            else f"the {descriptor}"
        intro, visual = descriptor, hero
    hero_end = body.find(name) + len(name) if name and name in body else \
        len(tx.noun_phrase(body.split(), 0, max_words=4)) if not name else 0
    world = _world(body, "", worlds)
    prep, place = _place(body, places, world_places[world])
    world = _world(body, place, worlds)
    goal = _goal(body, hero_end, f"{prep} {place}")
    lower = body.lower()
    night = any(w in lower for w in NIGHT_WORDS) or not any(w in lower for w in DAY_WORDS)
    pronoun = hero_pronoun(body, name, descriptor, titled=bool(name and TITLE_RE.match(name)))
    goal_at = body.find(_plain(goal).split()[-1]) if goal else 0
    allies = [p for p in people if p != name and p not in (hero or "")]
    fallback_stake = "everyone who is counting on " + PRONOUNS[pronoun]["her_obj"]
    return Premise(
        hero=hero, hero_intro=intro, hero_visual=visual, pronoun=pronoun,
        place=tx.definite(place), place_intro=f"{prep} {place}", place_prep=prep,
        goal=_plain(goal or "set things right"),
        goal_s=tx.definite(goal_third_person(goal or "set things right")
                           .replace(" a ", " the ", 1)),
        trouble=(trouble := _trouble(body, max(0, goal_at))),
        stake=allies[0] if allies else _stake(_plain(goal or ""), fallback_stake),
        allies=allies, world=world, night=night, characters=[name] if name else [],
        obstacle=_obstacle(body), opening=opening.group(1) if opening else "",
        deadline=bool(trouble and re.search(rf"\bbefore\s+{re.escape(trouble)}", body)),
    )
