"""TemplateWriter: the embedded, offline, deterministic story writer.

A premise is read with light heuristics (protagonist and descriptor, place, goal, the trouble
that turns the story, other characters, the kind of world) and expanded into a present-tense
narration that follows a story arc: setup, turn, climax, resolution. Every beat is a list of
sentence slots with several phrasings; the seeded RNG picks the phrasings and which optional
slots to use, and optional slots are added until the word budget is met. Sensory details come
from a small "world" pack chosen by the premise's keywords (sea, forest, city, snow, space,
town, or a neutral one).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from storyreel import text as tx
from storyreel.types import Budget

# --------------------------------------------------------------------------------------------
# Worlds: sensory details and actions that fit the premise's surroundings

WORLDS: dict[str, dict[str, Any]] = {
    "sea": {
        "confidant": "the gulls",
        "keywords": ("sea", "ocean", "island", "lighthouse", "boat", "ship", "harbour", "harbor",
                     "shore", "coast", "fishing", "sailor", "beach", "tide", "wave", "waves",
                     "port", "fisherman", "captain"),
        "place": "a windswept island",
        "sounds": ("the boom of the waves against the rocks", "the cry of the gulls",
                   "the groan of old timbers in the wind", "the hiss of the surf on the shingle"),
        "smells": ("salt and wet rope", "seaweed and rain", "tar and cold sea spray"),
        "sights": ("gulls wheel above the grey water", "foam runs white over the black rocks",
                   "the tide creeps in over the sand, slow and patient",
                   "spray beads on every window like tiny pearls"),
        "routines": ("{she} watches the tide come and go and writes the weather in a worn "
                     "logbook", "{she} mends what the wind breaks and counts the boats on the "
                     "horizon"),
        "trouble": "a storm rolls in from the open sea",
        "prep": "{she} pulls on {her} heavy oilskin coat",
        "struggles": ("{hero} fights {her} way along the slippery rocks, the wind tearing at "
                      "{her} coat", "rain lashes {hero}'s face as {she} climbs the slick iron "
                      "stairs"),
        "clue": "the old brass lantern in the storeroom",
        "use": "{she} lifts the lantern high, and its small flame shines out across the water",
        "calm": "the sea lies quiet and silver under a pale sky",
        "wisdom": "some lights, {she} thinks, are not made of fire at all",
    },
    "forest": {
        "confidant": "the old oak by the path",
        "keywords": ("forest", "woods", "wood", "tree", "trees", "pine", "pines", "valley",
                     "meadow", "fox", "owl", "deer", "wolf", "bear", "hill", "river", "glade"),
        "place": "a deep green valley",
        "sounds": ("the rustle of leaves overhead", "the call of a distant owl",
                   "the murmur of the river over its stones", "the creak of the old pines"),
        "smells": ("moss and pine resin", "damp earth and wild thyme", "rain on warm bark"),
        "sights": ("sunlight falls in long gold bars between the trees",
                   "mist curls low over the ferns", "a deer lifts its head and vanishes",
                   "mushrooms crowd around the roots of a fallen oak"),
        "routines": ("{she} follows the same winding paths and knows every hollow tree",
                     "{she} gathers berries at the edge of the clearing and watches the sky"),
        "trouble": "a cold wind rises and the old paths vanish under fallen leaves",
        "prep": "{she} takes a deep breath and sets off under the trees",
        "struggles": ("{hero} pushes through brambles that snag and tear at every step",
                      "branches whip past as {hero} runs, roots grabbing at {her} feet"),
        "clue": "the white stones {she} once laid along the path",
        "use": "{she} follows the pale stones one by one, and the way opens before {her_obj}",
        "calm": "birdsong fills the air and the light turns soft and gold",
        "wisdom": "the forest, {she} thinks, always shows the way to those who look closely",
    },
    "city": {
        "confidant": "the pigeons on the sill",
        "keywords": ("city", "street", "streets", "town", "market", "subway", "apartment",
                     "rooftop", "cafe", "neon", "traffic", "office", "taxi", "alley"),
        "place": "a crowded city",
        "sounds": ("the hum of traffic far below", "the clatter of a passing tram",
                   "the murmur of a thousand voices", "the rattle of shutters going up"),
        "smells": ("coffee and warm asphalt", "rain on hot pavement", "bread from the corner "
                   "bakery"),
        "sights": ("neon signs flicker on one by one", "pigeons burst from the rooftops",
                   "umbrellas bloom along the crowded pavement",
                   "steam rises from a grate in the street"),
        "routines": ("{she} takes the same tram every morning and nods to the same faces",
                     "{she} knows which corner shop opens first and which streetlight buzzes"),
        "trouble": "the lights go out across the whole district",
        "prep": "{she} grabs {her} coat and takes the stairs two at a time",
        "struggles": ("{hero} weaves through the crowd, shoulders bumping, breath short",
                      "{hero} races down the dark street as the sirens grow louder"),
        "clue": "the old map folded in {her} pocket",
        "use": "{she} spreads the map under a flickering streetlight, and the way is suddenly "
               "clear",
        "calm": "the first trams rattle by and the windows glow with morning light",
        "wisdom": "even in a city of millions, {she} thinks, one person can make a difference",
    },
    "snow": {
        "confidant": "the crackling fire",
        "keywords": ("snow", "ice", "glacier", "winter", "mountain", "mountains", "peak",
                     "frozen", "cold", "blizzard", "arctic", "sled"),
        "place": "a snowbound mountain village",
        "sounds": ("the crunch of snow underfoot", "the whistle of the wind through the pass",
                   "the crackle of a small fire", "the groan of ice on the lake"),
        "smells": ("woodsmoke and frost", "pine and cold, clean air"),
        "sights": ("snow lies deep and blue in the hollows", "icicles glitter along the eaves",
                   "the peaks glow pink in the last light",
                   "a raven circles high above the frozen pines"),
        "routines": ("{she} clears the path each morning and stacks wood by the door",
                     "{she} reads the sky for snow and rarely gets it wrong"),
        "trouble": "a blizzard sweeps down from the peaks",
        "prep": "{she} straps on {her} snowshoes and lights a lantern",
        "struggles": ("{hero} wades through drifts up to {her} knees, the cold biting at {her} "
                      "face", "the wind screams through the pass as {hero} climbs"),
        "clue": "the cairns of stone that mark the old trail",
        "use": "{she} finds the first cairn, then the next, and the trail appears in the snow",
        "calm": "the snow lies still and shining under a clear blue sky",
        "wisdom": "no winter, {she} thinks, lasts forever",
    },
    "space": {
        "confidant": "the plants in the greenhouse",
        "keywords": ("space", "star", "stars", "planet", "station", "orbit", "galaxy", "rocket",
                     "astronaut", "spaceship", "alien", "moonbase", "asteroid"),
        "place": "a small station far out among the stars",
        "sounds": ("the low hum of the engines", "the soft chime of the instruments",
                   "the hiss of the air recyclers", "the tick of cooling metal"),
        "smells": ("warm metal and recycled air", "ozone from the old wiring"),
        "sights": ("stars drift slowly past the porthole", "a blue planet turns below",
                   "warning lights blink amber along the corridor",
                   "a comet trails its silver tail across the dark"),
        "routines": ("{she} checks every gauge twice and logs the readings",
                     "{she} tends the tiny greenhouse and talks to the plants"),
        "trouble": "an alarm shatters the silence and the main power fails",
        "prep": "{she} seals {her} suit and checks the air supply",
        "struggles": ("{hero} pulls {herself} hand over hand along the outer hull",
                      "sparks fly as {hero} forces open the jammed hatch"),
        "clue": "the backup circuit {she} wired years ago, just in case",
        "use": "{she} throws the switch, and the lights stutter back to life",
        "calm": "the station hums softly again, a bright spark against the dark",
        "wisdom": "even out here, {she} thinks, no one is truly alone",
    },
    "town": {
        "confidant": "the cat on the doorstep",
        "keywords": ("village", "farm", "field", "fields", "barn", "orchard", "harvest",
                     "bakery", "baker", "bread", "kitchen", "cottage", "garden", "shop",
                     "school", "library", "house", "inn", "mill"),
        "place": "a small village",
        "sounds": ("the chime of the church bell", "the clatter of carts in the lane",
                   "the chatter of neighbours over garden walls",
                   "the creak of the old mill wheel"),
        "smells": ("fresh bread and cut grass", "apples and woodsmoke"),
        "sights": ("washing flaps on the lines behind the cottages",
                   "swallows swoop low over the fields", "lamplight spills from open doors",
                   "smoke curls from every chimney"),
        "routines": ("{she} opens the shutters at sunrise and greets every passer-by",
                     "{she} knows every neighbour by name and most of their secrets"),
        "trouble": "disaster strikes in the middle of the busiest day of the year",
        "prep": "{she} rolls up {her} sleeves and gets to work",
        "struggles": ("{hero} works without rest as the hours slip away",
                      "{hero} runs from door to door, asking for help"),
        "clue": "an old recipe in {her} grandmother's handwriting",
        "use": "{she} follows it line by line, and everything falls into place",
        "calm": "the whole village gathers, laughing, in the warm light",
        "wisdom": "the best things, {she} thinks, are made with patience",
    },
    "desert": {
        "confidant": "the patient camels",
        "keywords": ("desert", "sand", "sands", "dune", "dunes", "oasis", "caravan", "camel",
                     "well", "canyon", "mesa"),
        "place": "the edge of a great desert",
        "sounds": ("the whisper of sand blowing over the dunes", "the creak of a camel's "
                   "saddle", "the silence of the open sand", "the flap of a tent in the hot wind"),
        "smells": ("hot stone and dry grass", "dust and sun-baked earth"),
        "sights": ("the dunes ripple away to the horizon like a frozen sea",
                   "heat shimmers over the sand", "the stars come out, thick and close",
                   "a lizard darts between the stones"),
        "routines": ("{she} draws water before dawn and rests in the shade at noon",
                     "{she} reads the wind in the shape of the dunes"),
        "trouble": "a sandstorm rises and swallows the sky",
        "prep": "{she} wraps a scarf over {her} face and fills every water skin",
        "struggles": ("{hero} struggles up a dune that slides away beneath {her} feet",
                      "the wind flings sand into {hero}'s eyes as {she} trudges on"),
        "clue": "the way the old guides steered by the stars",
        "use": "{she} finds the brightest star and walks toward it, step after step",
        "calm": "the desert glows rose and gold, and the wind is still",
        "wisdom": "the desert, {she} thinks, gives its secrets only to the patient",
    },
    "plain": {
        "confidant": "the old clock on the wall",
        "keywords": (),
        "place": "a quiet corner of the world",
        "sounds": ("the tick of an old clock", "the sigh of the wind at the window",
                   "the distant bark of a dog", "the patter of rain on the roof"),
        "smells": ("rain and dust", "old books and tea"),
        "sights": ("clouds drift low and grey over the rooftops",
                   "the sky turns from grey to gold", "shadows stretch long across the ground",
                   "a kite of birds crosses the pale sky"),
        "routines": ("{she} keeps to the same small habits, one day after another",
                     "{she} notices what others miss and says little about it"),
        "trouble": "everything that can go wrong begins to go wrong",
        "prep": "{she} gathers what little {she} has and sets out",
        "struggles": ("{hero} pushes on, step by stubborn step",
                      "{hero} tries one way, then another, and neither works"),
        "clue": "something {she} learned long ago and almost forgot",
        "use": "{she} tries once more, the old way, and this time it works",
        "calm": "the world is quiet again, and the light is soft and new",
        "wisdom": "courage, {she} thinks, is just fear that keeps walking",
    },
}

# --------------------------------------------------------------------------------------------
# Beats: ordered sentence slots; priority 1 is always used, 2 and 3 fill the budget

Slot = tuple[int, tuple[str, ...]]

BEAT_SLOTS: dict[str, tuple[Slot, ...]] = {
    "setup": (
        (0, ("{hero_intro} lives {place_intro}.",
             "{place_intro_cap}, there lives {hero_intro}.",
             "For as long as anyone can remember, {hero_intro} has lived {place_intro}.")),
        (1, ("Every morning begins with {sound}, and the air smells of {smell}.",
             "Here, {sight}, and the air smells of {smell}.",
             "{sound_cap} is the first thing {she} hears each day.")),
        (2, ("Day after day, {routine}.",
             "It is a quiet life: {routine}.")),
        (3, ("{ally} visits now and then, but mostly {hero} is alone.",
             "Few people ever come this far, and {hero} has grown used to the silence.")),
        (3, ("Still, {she} sometimes wonders whether anyone would notice if {she} were gone.",
             "Nobody, least of all {hero}, suspects how much will soon depend on {her_obj}.",
             "Lately, though, small things have begun to go wrong, one after another.")),
        (3, ("In the evenings, {sight2}.",
             "Some days the only sound is {sound2}.")),
        (3, ("{hero} often talks to {confidant}, and that is company enough.",
             "{she_cap} would not trade this life for any other.")),
    ),
    "turn": (
        (0, ("Then, one {time_word}, {trouble}.",
             "But on this {time_word}, everything changes: {trouble}.",
             "It happens without warning: {trouble}.")),
        (2, ("For a long moment {hero} stands still, listening to {sound_turn}.",
             "{her_cap} heart pounds as {sound_turn} grows louder.")),
        (0, ("{hero} knows at once what {she} must do: {goal}.",
             "There is no one else, so {hero} must {goal}.",
             "Now it falls to {hero} to {goal}, and time is running out.")),
        (2, ("{she_cap} has never felt so small, or so alone.",
             "A voice inside {her_obj} whispers that it cannot be done.",
             "{her_cap} hands shake, but {she} does not turn back.")),
        (3, ("{she_cap} knows all too well what will happen if {she} fails.",
             "There is no time to wait for help, and no one to ask.")),
        (3, ("{prep}, and {she} does not look back.",)),
        (3, ("The {time_word} air is sharp, and every sound seems too loud.",)),
    ),
    "climax": (
        (0, ("{struggle}.",)),
        (3, ("All around {her_obj}, {sight3}.",
             "{sound3_cap} drowns out everything else.")),
        (2, ("For a moment, it seems that all is lost.",
             "Nothing {she} tries is working, and the darkness presses in from every side.",
             "{hero} stumbles and falls, and for a heartbeat {she} cannot rise.")),
        (3, ("{her_cap} breath comes in ragged gasps, and every step costs more than the "
             "last.",)),
        (2, ("Then {she} thinks of {stake}, and gets back to {her} feet.",
             "But {she} thinks of {stake}, and {she} refuses to give up.")),
        (0, ("Then {hero} remembers {clue}.",
             "At the last moment, {she} remembers {clue}.")),
        (0, ("{use}.",)),
        (3, ("It is not much, but it is enough.",
             "It is a small thing, and it changes everything.")),
    ),
    "resolution": (
        (0, ("At last, {hero} {goal_s}.",
             "And so, against all odds, {hero} {goal_s}.",
             "Slowly, step by step, {hero} {goal_s}.")),
        (1, ("{after_cap}, {calm}.",)),
        (2, ("{hero} smiles, tired and proud, knowing {she} was needed after all.",
             "{wisdom_cap}.")),
        (3, ("Word of what {she} did spreads far beyond {place}.",
             "No one {place_in} will forget this {time_word}.")),
        (3, ("The air smells of {smell2}, and for the first time in a long while, {hero} "
             "laughs out loud.",)),
        (3, ("And whenever trouble comes again, {hero} will be ready.",)),
    ),
}
# How many scenes each beat gets, by total scene count.
BEAT_SCENES = {4: (1, 1, 1, 1), 5: (2, 1, 1, 1), 6: (2, 1, 2, 1), 7: (2, 2, 2, 1),
               8: (2, 2, 3, 1)}
BEAT_ORDER = ("setup", "turn", "climax", "resolution")

# --------------------------------------------------------------------------------------------
# Reading the premise

SHE_WORDS = {"she", "her", "hers", "herself", "woman", "girl", "queen", "mother", "grandmother",
             "princess", "witch", "widow", "sister", "daughter", "wife", "lady", "aunt", "nun",
             "mrs", "ms", "heroine", "actress", "niece", "granddaughter", "goddess"}
HE_WORDS = {"he", "his", "him", "himself", "man", "boy", "king", "father", "grandfather",
            "prince", "wizard", "brother", "son", "husband", "lord", "uncle", "monk", "mr",
            "nephew", "grandson", "god"}
IT_WORDS = {"robot", "android", "machine", "drone", "computer", "ai", "cloud", "car", "train",
            "kite", "tree", "toy", "clock"}
SHE_ENDINGS = ("a", "ie", "elle", "ine", "y", "i", "ette", "een", "lyn", "ah")
PRONOUNS = {
    "she": {"she": "she", "her": "her", "her_obj": "her", "herself": "herself"},
    "he": {"she": "he", "her": "his", "her_obj": "him", "herself": "himself"},
    "it": {"she": "it", "her": "its", "her_obj": "it", "herself": "itself"},
}
GOAL_RE = re.compile(
    r"\b(must|has to|have to|needs? to|wants? to|tries to|sets? out to|hopes? to|learns? to|"
    r"decides? to|vows? to|is determined to|struggles to|races to|sets off to|plans to|"
    r"longs to|wishes to|is trying to|is desperate to|is forced to|promises to|dares to|"
    r"searches for|looks for|goes in search of|sets out in search of)\s+(.+?)"
    r"(?=\s+(?:on the (?:night|day|morning|evening|eve)|when|before|after|while|until|but|"
    r"because|even though|although|just as|as soon as|only to)\b|[.,;!?]|$)",
    re.I,
)
TROUBLE_RE = re.compile(
    r"(?:\bon the (?:night|day|morning|evening|eve)(?: that| when)?|\bwhen|\bjust as|"
    r"\bas soon as|\buntil|\bbut|\beven though|\balthough|\bonly to find that|\bafter)\s+"
    r"((?:a|an|the|her|his|its|their|[A-Z])[^.;!?]*)",
)
NAMED_RE = re.compile(
    r"\b((?:a|an|the)\s+(?:[\w'-]+\s+){0,4}?[\w'-]+),?\s+(?:named|called)\s+"
    r"([A-Z][\w'-]+(?:\s[A-Z][\w'-]+)?)")
APPOSITIVE_RE = re.compile(r"\b([A-Z][\w'-]+),\s+((?:a|an)\s+[^,.;]+?)[,.;]")
PLACE_RE = re.compile(r"\b(on|in|at|near|across|inside|beneath|under|aboard|deep in)\s+"
                      r"((?:a|an|the)\s+[^,.;]+)", re.I)
SETTING_RE = re.compile(
    r"\b(the\s+(?:desert|forest|woods|sea|ocean|city|mountains?|valley|island|river|village|"
    r"jungle|station|castle|cave))\b", re.I)
TIME_NOUNS = {"night", "day", "morning", "evening", "eve", "end", "middle", "way", "dark",
              "afternoon", "year", "moment", "time", "hope", "search", "summer", "winter",
              "spring", "autumn", "dead"}
NIGHT_WORDS = ("night", "midnight", "dark", "moon", "stars", "evening")
DAY_WORDS = ("morning", "noon", "afternoon", "sunny", "daylight", "today")
SEARCH_VERBS = ("searches for", "looks for", "goes in search of", "sets out in search of")
IRREGULAR_S = {"have": "has", "be": "is", "do": "does", "go": "goes"}


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
    trouble: str | None  # "the lighthouse lamp finally fails"
    stake: str  # "the lost fishing boat"
    allies: list[str] = field(default_factory=list)
    world: str = "plain"
    night: bool = True
    characters: list[str] = field(default_factory=list)


def third_person(goal: str) -> str:
    """``guide the boat home`` -> ``guides the boat home``."""
    verb, _, rest = goal.partition(" ")
    lower = verb.lower()
    if lower in IRREGULAR_S:
        spoken = IRREGULAR_S[lower]
    elif re.search(r"(s|sh|ch|x|z|o)$", lower):
        spoken = verb + "es"
    elif re.search(r"[^aeiou]y$", lower):
        spoken = verb[:-1] + "ies"
    else:
        spoken = verb + "s"
    return f"{spoken} {rest}".strip()


def _pronoun(premise: str, name: str | None, descriptor: str) -> str:
    words = {w.lower() for w in tx.tokenize(premise)}
    desc = {w.lower() for w in tx.tokenize(descriptor)}
    if words & SHE_WORDS:
        return "she"
    if words & HE_WORDS:
        return "he"
    if not name and desc & IT_WORDS:
        return "it"
    if name:
        return "she" if name.lower().endswith(SHE_ENDINGS) else "he"
    return "she"


def _hero(premise: str, names: list[str]) -> tuple[str | None, str]:
    """(name, descriptor with its article) of the protagonist; either may be missing."""
    match = NAMED_RE.search(premise)
    if match:
        return match.group(2), match.group(1)
    match = APPOSITIVE_RE.search(premise)
    if match and match.group(1).lower() not in tx.PHRASE_STOP:
        return match.group(1), tx.noun_phrase(match.group(2).split(), 0, max_words=4)
    words = premise.split()
    first = words[0].strip(",") if words else ""
    if first[:1].isupper() and first.lower() not in tx.PHRASE_STOP and first not in names and \
            len(words) > 1 and (words[0].endswith(",") or tx.noun_phrase(words, 1) == ""):
        return first, ""  # a sentence-initial name followed by a verb: "Mara must..."
    descriptor = tx.noun_phrase(words, 0, max_words=4)
    if names:
        return names[0], descriptor if premise.lower().startswith(descriptor.lower()) and \
            names[0] not in descriptor and descriptor.split()[0].lower() in tx.ARTICLES else ""
    if descriptor and descriptor.split()[0].lower() not in tx.ARTICLES | {"one"} and \
            not descriptor[:1].isupper():
        descriptor = f"{tx.indefinite_article(descriptor)} {descriptor}"
    return None, descriptor or "a traveller"


def _place(premise: str, place_names: list[str], world: str) -> tuple[str, str]:
    """(preposition, phrase) of the main place; a place name wins, else a phrase."""
    if place_names:
        match = re.search(rf"\b(\w+)\s+{re.escape(place_names[0])}", premise)
        prep = match.group(1).lower() if match else "in"
        return (prep if prep in {"on", "in", "at", "near"} else "in"), place_names[0]
    for match in PLACE_RE.finditer(premise):
        phrase = tx.noun_phrase(match.group(2).split(), 0, max_words=4)
        head = phrase.split()[-1].lower() if phrase else ""
        if phrase and len(phrase.split()) > 1 and head not in TIME_NOUNS:
            return match.group(1).lower(), phrase
    match = SETTING_RE.search(premise)
    if match:
        return "in", match.group(1)
    default = WORLDS[world]["place"]
    return ("on" if "island" in default else "in"), default


def _goal(premise: str, place_intro: str = "") -> str | None:
    """The goal as a base-form verb phrase, without the place when the premise repeats it."""
    match = GOAL_RE.search(premise)
    if not match:
        return None
    verb, goal = match.group(1).lower(), match.group(2).strip()
    if verb in SEARCH_VERBS:
        goal = f"find {goal}"
    if place_intro and goal.endswith(" " + place_intro):
        goal = goal[: -len(place_intro) - 1]
    return goal if goal.split() else None


def _trouble(premise: str, goal: str | None) -> str | None:
    start = premise.find(goal) + len(goal) if goal and goal in premise else 0
    match = TROUBLE_RE.search(premise, start) or TROUBLE_RE.search(premise)
    if not match:
        return None
    clause = match.group(1).strip().rstrip(",")
    return clause if len(clause.split()) >= 3 else None


def _world(premise: str) -> str:
    words = [w.lower() for w in tx.tokenize(premise)]
    scores = {name: sum(words.count(k) for k in pack["keywords"])
              for name, pack in WORLDS.items()}
    best = max(WORLDS, key=lambda name: scores[name])
    return best if scores[best] else "plain"


def _stake(goal: str) -> str:
    """The thing at stake for the climax: the goal's object, definite, else a fallback."""
    words = re.sub(r"\s+(home|back|away|safely|again|alone|together|forever)$", "",
                   goal).split()
    for i, word in enumerate(words):
        if word.lower() in {"her", "his", "their", "its"}:
            phrase = tx.noun_phrase(words, i + 1, max_words=4)
            if phrase:
                return f"{word} {phrase}"
        if word.lower() in tx.ARTICLES:
            phrase = tx.noun_phrase(words, i, max_words=4)
            if phrase:
                return tx.definite(phrase)
    return "everyone who is counting on {her_obj}"


def read_premise(premise: str) -> Premise:
    """Read a premise with simple, robust heuristics (see the module docstring)."""
    premise = " ".join(premise.split())
    names = tx.find_names(premise)
    people = [n.text for n in names if not n.place]
    places = [n.text for n in names if n.place]
    world = _world(premise)
    name, descriptor = _hero(premise, people)
    descriptor = descriptor.strip()
    if descriptor and descriptor.split()[0].lower() in tx.ARTICLES:
        descriptor = descriptor[0].lower() + descriptor[1:]
    if name:
        hero = name
        intro = f"{descriptor} named {name}" if descriptor else name
        visual = f"{name}, {descriptor}" if descriptor else name
    else:
        hero = tx.definite(descriptor) if descriptor.split()[0].lower() in tx.ARTICLES \
            else f"the {descriptor}"
        intro = descriptor if descriptor.split()[0].lower() in tx.ARTICLES \
            else f"{tx.indefinite_article(descriptor)} {descriptor}"
        visual = hero
    prep, place = _place(premise, places, world)
    goal = _goal(premise, f"{prep} {place}") or "set things right"
    lower = premise.lower()
    night = any(w in lower for w in NIGHT_WORDS) or not any(w in lower for w in DAY_WORDS)
    return Premise(
        hero=hero, hero_intro=intro, hero_visual=visual,
        pronoun=_pronoun(premise, name, descriptor), place=tx.definite(place),
        place_intro=f"{prep} {place}", place_prep=prep, goal=goal,
        trouble=_trouble(premise, _goal(premise)),
        stake=next((p for p in people if p != name), None) or _stake(goal),
        allies=[p for p in people if p != name], world=world, night=night,
        characters=[name] if name else [],
    )


# --------------------------------------------------------------------------------------------
# Writing

def _slots(premise: Premise, rng: random.Random) -> dict[str, str]:
    """Values for every template placeholder, with the seeded choices of details."""
    pack = WORLDS[premise.world]
    pron = PRONOUNS[premise.pronoun]
    sounds = rng.sample(pack["sounds"], k=len(pack["sounds"]))
    sights = rng.sample(pack["sights"], k=len(pack["sights"]))
    smells = rng.sample(pack["smells"], k=len(pack["smells"]))
    base = {"hero": premise.hero, **pron}
    values = {
        **base,
        "hero_intro": premise.hero_intro,
        "place": premise.place,
        "place_intro": premise.place_intro,
        "place_in": f"{premise.place_prep} {premise.place}",
        "goal": premise.goal,
        "goal_s": tx.definite(third_person(premise.goal).replace(" a ", " the ", 1)),
        "trouble": premise.trouble or pack["trouble"],
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
        "clue": pack["clue"],
        "use": pack["use"],
        "calm": pack["calm"],
        "wisdom": pack["wisdom"],
        "stake": premise.stake,
        "ally": premise.allies[0] if premise.allies else "",
    }
    # Placeholders inside the world's phrases ({she}, {hero}) are filled in two passes.
    values = {k: v.format_map(base | {"her_obj": pron["her_obj"]}) if "{" in v else v
              for k, v in values.items()}
    for key in ("place_intro", "sound", "sound3", "she", "her", "wisdom", "after"):
        values[f"{key}_cap"] = tx.sentence_case(values[key])
    return values


@dataclass
class Line:
    """One candidate sentence of the story."""

    beat: str
    order: int
    priority: int
    text: str

    @property
    def words(self) -> int:
        return tx.word_count(self.text)


def _render(template: str, values: dict[str, str]) -> str | None:
    """Fill a template; ``None`` when it needs a value this premise lacks."""
    needed = re.findall(r"{(\w+)}", template)
    if any(not values.get(key) for key in needed):
        return None
    return tx.sentence_case(template.format_map(values))


def candidate_lines(values: dict[str, str], rng: random.Random) -> list[Line]:
    """One seeded phrasing for every slot of every beat (slots whose placeholders this
    premise cannot fill are left out)."""
    lines: list[Line] = []
    for beat in BEAT_ORDER:
        for order, (priority, variants) in enumerate(BEAT_SLOTS[beat]):
            options = [t for t in (_render(v, values) for v in variants) if t]
            if options:
                lines.append(Line(beat, order, priority, rng.choice(options)))
    return lines


def select_lines(lines: list[Line], budget: Budget, scenes: int, rng: random.Random
                 ) -> list[Line]:
    """Priority-0 lines (the plot), then each beat up to one line per scene, then the rest
    in priority order (seeded within a priority) while the estimate stays within the target;
    a line that would give a scene a second sentence is promoted one priority level."""
    parts = dict(zip(BEAT_ORDER, BEAT_SCENES[scenes], strict=True))
    chosen = [line for line in lines if line.priority == 0]
    optional = sorted((line for line in lines if line.priority > 0),
                      key=lambda line: (line.priority, rng.random()))

    def count(beat: str) -> int:
        return sum(1 for c in chosen if c.beat == beat)

    for line in list(optional):
        if count(line.beat) < parts[line.beat]:
            chosen.append(line)
            optional.remove(line)

    def estimate(selection: list[Line]) -> float:
        return budget.estimate(sum(x.words for x in selection), len(selection), scenes)

    # A line that gives a scene its second sentence counts as one priority level higher.
    optional.sort(key=lambda line: line.priority - (count(line.beat) < 2 * parts[line.beat]))
    for line in optional:
        if estimate([*chosen, line]) <= budget.duration_s * 1.05:
            chosen.append(line)
    return sorted(chosen, key=lambda line: (BEAT_ORDER.index(line.beat), line.order))


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
    light = {"dawn": "at dawn", "day": "by day", "dusk": "at dusk", "night": "at night"}
    action = {
        "setup": ("{hero_visual} " + premise.place_intro + "; " + values["sight"],
                  "{hero_visual} going about the daily round; " + values["sight2"]),
        "turn": ("{hero_visual} looking up in alarm as " + values["trouble"],
                 "{hero_visual} setting out with determination; " + values["sight3"]),
        "climax": (values["struggle"],
                   "{hero_visual} at the lowest point, alone in the dark",
                   "{hero_visual} in the moment of breakthrough: " + values["use"]),
        "resolution": ("{hero_visual} at peace as " + values["calm"],),
    }[beat]
    if beat == "climax" and index == parts - 1 and parts > 1:
        index = len(action) - 1
    subject = premise.hero_visual + ("," if "," in premise.hero_visual else "")
    text = action[min(index, len(action) - 1)].replace("{hero_visual}", subject)
    return (f"{tx.sentence_case(text)}. Setting: {premise.place}, {light[time_of_day]}. "
            f"Mood: {mood}.")


def build_scenes(premise: Premise, lines: list[Line], scenes: int, rng: random.Random,
                 values: dict[str, str]) -> list[dict[str, Any]]:
    """Group the chosen lines into scenes and describe each scene."""
    out: list[dict[str, Any]] = []
    for beat, parts in zip(BEAT_ORDER, BEAT_SCENES[scenes], strict=True):
        runs = _split_even([line for line in lines if line.beat == beat], parts)
        for index, run in enumerate(runs):
            narration = " ".join(line.text for line in run)
            if beat == "resolution":
                mood = rng.choice(ENDING_MOODS)
            else:
                mood = SCENE_MOODS[beat][len(runs)][index]
            time_of_day = _time_of_day(beat, index, len(runs), premise.night)
            cast = premise.characters + [a for a in premise.allies if a in narration]
            out.append({
                "id": f"sc{len(out) + 1:02d}", "beat": beat, "narration": narration,
                "visual": _visual(premise, values, beat, index, len(runs), time_of_day, mood),
                "setting": premise.place, "time_of_day": time_of_day, "mood": mood,
                "characters": cast or [premise.hero],
            })
    return out


class TemplateWriter:
    """The embedded writer: deterministic for a given premise, seed and budget."""

    model: str | None = None

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def write(self, idea: dict[str, Any], budget: Budget) -> list[dict[str, Any]]:
        """Scenes for a premise (the script stage uses a full text verbatim)."""
        rng = random.Random(int(idea.get("seed", 0)))
        premise = read_premise(idea["premise"])
        scenes = budget.scenes
        values = _slots(premise, rng)
        lines = select_lines(candidate_lines(values, rng), budget, scenes, rng)
        return build_scenes(premise, lines, scenes, rng, values)


__all__ = ["Premise", "TemplateWriter", "candidate_lines", "read_premise", "select_lines",
           "third_person"]
