"""Embedded vision: a deterministic style and per-shot render plans (offline).

The style fixes what must not drift between shots: a palette of hex colours, the light of
each time of day, and for every recurring character and place a fixed description, colour and
silhouette. It is built only from inputs that per-shot overrides cannot change (the idea, the
shots' settings, characters and narration), so overriding one shot's prompt, seed or camera
changes that shot's plan and nothing else.

The keyword tables here are the shared visual vocabulary: the vision backend lists what a shot shows
(``elements``), and the animatic renderer draws exactly those things. A bare shot (vision
disabled) gets a plan from :meth:`EmbeddedVision.fallback_plan`, with a palette derived from the
story id, so shots still share a look.
"""

from __future__ import annotations

import colorsys
import re
from typing import Any

from PIL import ImageColor

from storyreel import text as tx
from storyreel.core.types import stable_seed

# What the renderer can draw, and the words in a prompt that ask for it (singular forms; an
# "s" or "es" plural also matches).
SCENERY: dict[str, tuple[str, ...]] = {
    "interior": ("room", "kitchen", "inside", "indoors", "hall", "library", "bedroom", "attic",
                 "workshop", "interior", "cabin", "parlour", "study", "fireside", "hearth",
                 "space_station", "spaceship", "starship", "corridor", "laboratory", "lab",
                 "greenhouse", "cockpit", "hatch", "train_carriage", "museum", "classroom"),
    "sea": ("sea", "ocean", "wave", "shore", "coast", "harbour", "harbor", "bay", "beach",
            "tide", "surf", "gull", "sailor", "fishing", "whale", "dolphin", "seal", "fish",
            "shark", "turtle", "octopus", "reef", "mermaid"),
    "island": ("island", "isle", "cliff", "rock", "headland"),
    "mountains": ("mountain", "peak", "summit", "ridge", "alp", "crag", "glacier"),
    "hills": ("hill", "valley", "meadow", "field", "countryside", "farm", "pasture", "moor"),
    "forest": ("forest", "wood", "woods", "pine", "jungle", "grove", "thicket", "glade"),
    "city": ("city", "street", "skyline", "market", "station", "avenue", "rooftop",
             "train_station", "subway", "alley", "neon", "office", "apartment"),
    "village": ("village", "house", "cottage", "hut", "home", "farmhouse", "town", "hamlet"),
    "water": ("pond", "lake", "river", "stream", "pool", "creek", "reflection", "puddle"),
    "desert": ("desert", "dune", "sand", "oasis"),
    "snow": ("snow", "winter", "ice", "frozen", "frost", "blizzard"),
}
PROPS: dict[str, tuple[str, ...]] = {
    "lighthouse": ("lighthouse", "beacon"),
    "boat": ("boat", "ship", "sail", "canoe", "raft", "vessel", "trawler", "fishing boat"),
    "tree": ("tree", "oak", "orchard", "willow", "birch", "acorn", "plant", "seedling",
             "sapling", "vine", "greenhouse"),
    "lamp": ("lamp", "lantern", "candle", "fire", "torch", "light"),
    "rain": ("rain", "storm", "downpour", "thunder", "stormy", "gale"),
    "castle": ("castle", "fortress", "palace", "tower", "kingdom", "throne"),
    "mill": ("mill", "windmill", "watermill"),
    "moon": ("moon", "moonlight", "moonlit"),
    "stars": ("star", "starlight", "starry", "space", "space_station", "spaceship", "orbit",
              "galaxy", "planet", "asteroid", "comet", "astronaut", "starship", "nebula"),
    "train": ("train", "locomotive", "railway", "railroad", "train_station", "train_carriage",
              "tram", "steam engine"),
    "garden": ("garden", "flower", "flowerbed", "blossom", "bloom", "allotment", "vegetable",
               "tulip", "daisy", "sunflower"),
}
FIGURES: dict[str, tuple[str, ...]] = {
    "fox": ("fox", "vixen"),
    "dog": ("dog", "wolf", "puppy", "hound"),
    "cat": ("cat", "kitten", "lynx"),
    "deer": ("deer", "stag", "doe", "horse", "pony", "mare", "elk"),
    "bird": ("bird", "owl", "gull", "crow", "raven", "sparrow", "robin", "eagle", "hawk",
             "parrot", "pigeon", "dove", "swan", "duck", "heron", "penguin", "hen", "goose"),
    "small": ("rabbit", "hare", "hedgehog", "mouse", "squirrel", "badger", "frog", "hamster",
              "rat", "mole", "otter", "beaver", "toad", "lizard"),
    "whale": ("whale", "orca", "humpback"),
    "dragon": ("dragon", "wyvern", "dragonling"),
    "robot": ("robot", "android", "droid", "automaton"),
    "person": ("man", "woman", "girl", "boy", "child", "children", "keeper", "king", "queen",
               "fisherman", "sailor", "people", "villager", "crowd", "traveller", "stranger",
               "mother", "father", "grandmother", "grandfather", "friend", "knight",
               "farmer", "captain", "figure", "person", "baker", "doctor", "scientist",
               "detective", "pilot", "engineer", "teacher", "student", "nurse", "musician",
               "painter", "soldier", "prince", "princess", "witch", "wizard", "thief",
               "inventor", "explorer", "astronaut", "mechanic", "librarian", "sister",
               "brother", "daughter", "son", "grandson", "granddaughter", "chef", "gardener",
               "miner", "courier", "clerk"),
}

# Curated base palettes per style name; the story seed shifts their hue a little.
BASE_PALETTES: dict[str, dict[str, str]] = {
    "storybook": {"land_far": "#7d8fa8", "land_near": "#4f6b4a", "foliage": "#3e5a3a",
                  "water": "#3f6f8f", "stone": "#b9a98c", "roof": "#a4513d", "accent": "#e0a33a",
                  "ink": "#2a2320", "paper": "#f3ead8"},
    "noir": {"land_far": "#6b6f78", "land_near": "#3c3f45", "foliage": "#2f3633",
             "water": "#3a4650", "stone": "#9a968e", "roof": "#5a4a48", "accent": "#d8c27a",
             "ink": "#111111", "paper": "#e8e4dc"},
    "watercolor": {"land_far": "#9fb3c8", "land_near": "#7fa07a", "foliage": "#5f8a6a",
                   "water": "#6fa3c0", "stone": "#d4c3a3", "roof": "#c0705a", "accent": "#f0b860",
                   "ink": "#4a3f3a", "paper": "#f7f1e3"},
}
# Light per time of day: sky gradient, light colour, the body in the sky and how high it is.
LIGHTING: dict[str, dict[str, Any]] = {
    "dawn": {"sky_top": "#5b6fa3", "sky_horizon": "#f2b48a", "light": "#ffd9a8",
             "celestial": "sun", "elevation": 0.12, "ambient": 0.8, "stars": False,
             "description": "low rose-gold dawn light, long soft shadows"},
    "day": {"sky_top": "#5f9fd6", "sky_horizon": "#cfe4ef", "light": "#fff6df",
            "celestial": "sun", "elevation": 0.75, "ambient": 1.0, "stars": False,
            "description": "clear bright daylight, crisp edges"},
    "dusk": {"sky_top": "#3b3f78", "sky_horizon": "#f08a5d", "light": "#ffb070",
             "celestial": "sun", "elevation": 0.06, "ambient": 0.7, "stars": False,
             "description": "warm amber dusk, the sun on the horizon"},
    "night": {"sky_top": "#0c1430", "sky_horizon": "#2d3f6b", "light": "#dfe8ff",
              "celestial": "moon", "elevation": 0.6, "ambient": 0.45, "stars": True,
              "description": "deep blue moonlit night, cool rim light"},
}
KIND_DESCRIPTORS: dict[str, tuple[str, ...]] = {
    "person": ("in a long weathered coat", "in a hooded cloak", "with a wide-brimmed hat",
               "in a knitted scarf and boots", "in a plain work jacket"),
    "fox": ("small red fox with a white-tipped tail", "lean russet fox with dark socks"),
    "dog": ("shaggy grey dog", "brown dog with floppy ears"),
    "cat": ("slim black cat", "striped tabby cat"),
    "deer": ("slender deer with tall legs", "bay horse with a dark mane"),
    "bird": ("round-bodied owl", "small dark bird"),
    "small": ("small round hedgehog", "quick grey rabbit"),
    "whale": ("vast blue-grey whale with a pale belly", "young humpback whale with long flippers"),
    "dragon": ("green dragon with leathery wings", "small copper-scaled dragon with a spiked tail"),
    "robot": ("small dented maintenance robot with lamp eyes",
              "tall brass robot with a square head"),
}
NEGATIVE = ("photorealistic, text, watermark, logo, extra limbs, deformed hands, "
            "blurry, oversaturated, modern objects out of period")


# Two-word names that mean something else than their words: a space station is not a city.
COMPOUNDS = {"space station": "space_station", "train station": "train_station",
             "railway station": "train_station", "train carriage": "train_carriage",
             "research station": "laboratory", "fire station": "station",
             "police station": "station", "star ship": "starship",
             "generation ship": "starship", "space ship": "spaceship", "rocket ship": "spaceship"}
NOT_NOUNS = {"does", "doesn't"}  # verbs that look like a keyword's plural ("doe" + "s")
_COMPOUND_RE = re.compile(r"\b(" + "|".join(COMPOUNDS) + r")s?\b")


def words_of(text: str, place: str = "") -> list[str]:
    """Lower-case words of a text (letters, digits, apostrophes and hyphens); the two-word
    names of :data:`COMPOUNDS` become one word (``space station`` -> ``space_station``), and so
    does a bare ``station`` when the story's ``place`` is a space station."""
    lower = _COMPOUND_RE.sub(lambda m: COMPOUNDS[m.group(1)].replace("_", "\u2019"),
                             text.lower().replace("\u2019", "'"))
    words = [w.replace("\u2019", "_") for w in tx.tokenize(lower) if w not in NOT_NOUNS]
    aliases = {name.split()[-1]: token for name, token in COMPOUNDS.items()
               if name in place.lower()}
    return [aliases.get(w, w) for w in words] if aliases else words


def named_subjects(text: str) -> list[str]:
    """The drawable things a text names, in the text's own words and order (``whale``,
    ``space station``, ``garden``): what a shot's prompt must show."""
    keys = {k for table in (SCENERY, PROPS, FIGURES) for keys in table.values() for k in keys}
    out: list[str] = []
    for word in words_of(text):
        base = next((w for w in (word, word[:-1], word[:-2]) if w in keys), None)
        if base and word.replace("_", " ") not in out:
            out.append(word.replace("_", " "))
    return out


def _matches(words: list[str], keywords: tuple[str, ...]) -> bool:
    joined = " " + " ".join(words) + " "
    for key in keywords:
        for form in (key, key + "s", key + "es"):
            if f" {form} " in joined:
                return True
    return False


def find_elements(text: str, place: str = "") -> dict[str, list[str]]:
    """What a text asks to be drawn: scenery, props and figures (table order, no repeats);
    ``place`` is the shot's setting (see :func:`words_of`)."""
    words = words_of(text, place)
    return {
        "scenery": [name for name, keys in SCENERY.items() if _matches(words, keys)],
        "props": [name for name, keys in PROPS.items() if _matches(words, keys)],
        "figures": [name for name, keys in FIGURES.items() if _matches(words, keys)],
    }


def shift_hue(colour: str, degrees: float, saturation: float = 1.0) -> str:
    """A hex colour with its hue turned by ``degrees`` and saturation scaled."""
    r, g, b = (c / 255 for c in ImageColor.getrgb(colour)[:3])
    h, light, s = colorsys.rgb_to_hls(r, g, b)
    r, g, b = colorsys.hls_to_rgb((h + degrees / 360) % 1.0, light, min(1.0, s * saturation))
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def make_palette(style: str, key: object) -> dict[str, str]:
    """The story palette: the style's base palette, hue-shifted by up to ±12° from ``key``."""
    base = BASE_PALETTES.get(style.lower(), BASE_PALETTES["storybook"])
    turn = stable_seed("palette", key) % 25 - 12
    return {name: shift_hue(colour, turn) if name not in ("ink", "paper") else colour
            for name, colour in base.items()}


def make_lighting() -> dict[str, dict[str, Any]]:
    """Lighting per time of day (a copy of the fixed table)."""
    return {tod: dict(entry) for tod, entry in LIGHTING.items()}


def character_kind(name: str, context: str) -> str:
    """Whether a named character is a person or an animal, from how the text introduces them.

    Reads "a small red fox named Tilly" (the words before "named"/"called") and "Tilly, a
    small red fox," (the appositive after the name); a person when neither names an animal.
    """
    own = _first_kind(words_of(name))
    if own:
        return own
    tokens = re.findall(r"[A-Za-z0-9'-]+|[.,;:!?]", context)
    first = name.split()[0]
    for i, word in enumerate(tokens):
        if word != first:
            continue
        if i >= 1 and tokens[i - 1].lower() in ("named", "called"):
            kind = _first_kind(_clause(reversed(tokens[max(0, i - 7):i - 1])))
            if kind:
                return kind
        if i + 1 < len(tokens) and tokens[i + 1] == ",":
            kind = _first_kind(_clause(tokens[i + 2:i + 9]))
            if kind:
                return kind
    return "person"


def _clause(tokens: Any) -> list[str]:
    """Words up to the first punctuation mark or "and"."""
    out = []
    for word in tokens:
        if word in ".,;:!?" or word.lower() == "and":
            break
        out.append(word.lower())
    return out


def _first_kind(words: list[str]) -> str | None:
    for kind in ("fox", "dog", "cat", "deer", "bird", "small", "whale", "dragon", "robot"):
        if _matches(words, FIGURES[kind]):
            return kind
    return None


def make_character(name: str, kind: str, seed: int, palette: dict[str, str]) -> dict[str, Any]:
    """A recurring character's fixed look: descriptors, colours and silhouette."""
    pick = stable_seed("character", seed, name)
    options = KIND_DESCRIPTORS[kind]
    descriptor = options[pick % len(options)]
    if kind == "fox":
        colour = "#c4562a"
    elif kind == "person":
        colour = shift_hue(palette["roof"], (pick >> 4) % 120 - 60, 0.8)
    else:
        colour = shift_hue("#6e5a48", (pick >> 4) % 40 - 20)
    return {"name": name, "kind": kind, "descriptors": f"{name}, {descriptor}",
            "colour": colour, "accent": palette["accent"],
            "silhouette": f"{kind}:{pick % 3}"}


def make_place(name: str, seed: int) -> dict[str, Any]:
    """A recurring place: the scenery its name calls for, fixed descriptors."""
    elements = find_elements(name)
    scenery = elements["scenery"] or ["hills"]
    props = [p for p in elements["props"] if p not in ("moon", "stars", "rain", "lamp")]
    detail = ("weathered", "quiet", "wind-swept", "old", "lonely")[stable_seed("place", seed, name)
                                                                     % 5]
    return {"name": name, "scenery": scenery, "props": props,
            "descriptors": f"{name}, {detail}, {', '.join(scenery + props)}"}


class EmbeddedVision:
    """Deterministic style and prompt enrichment, no model needed."""

    name = "embedded"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def style(self, idea: dict[str, Any], shots: list[dict[str, Any]]) -> dict[str, Any]:
        """The story's style (built from inputs that shot overrides cannot change)."""
        seed = int(idea["seed"])
        palette = make_palette(idea["style"], f"{idea['story']}:{seed}")
        context = " ".join([idea.get("premise") or "", idea.get("text") or ""]
                           + [s["narration"] for s in shots])
        names = sorted({c for s in shots for c in s["characters"]})
        places = sorted({s["setting"] for s in shots if s["setting"]})
        return {
            "story": idea["story"],
            "title": idea["title"],
            "style": idea["style"],
            "seed": seed,
            "palette": palette,
            "lighting": make_lighting(),
            "characters": [make_character(n, character_kind(n, context), seed, palette)
                           for n in names],
            "places": [make_place(p, seed) for p in places],
        }

    def plan_shot(self, shot: dict[str, Any], style: dict[str, Any],
                  crossfade_s: float) -> dict[str, Any]:
        """One shot's render plan: the shot, an enriched prompt and the style it needs."""
        cast = [c for c in style["characters"] if c["name"] in shot["characters"]]
        place = next((p for p in style["places"] if p["name"] == shot["setting"]), None)
        lighting = style["lighting"][shot["time_of_day"]]
        elements = find_elements(shot["prompt"], shot["setting"])
        if place:
            elements["scenery"] = _merge(place["scenery"], elements["scenery"])
            elements["props"] = _merge(place["props"], elements["props"])
        if "lighthouse" in elements["props"] and "castle" in elements["props"]:
            elements["props"].remove("castle")  # "the tower" of a lighthouse story
        parts = [f"{style['style']} storyboard animatic frame", lighting["description"],
                 f"{shot['mood']} mood"]
        parts += [place["descriptors"]] if place else []
        parts += [c["descriptors"] for c in cast]
        subjects = named_subjects(shot["narration"])
        parts += [f"showing {', '.join(subjects)}"] if subjects else []
        parts.append(shot["prompt"])
        plan = dict(shot)
        plan.update({
            "prompt": "; ".join(parts),
            "shot_prompt": shot["prompt"],
            "negative_prompt": NEGATIVE,
            "seed": int(shot["seed"]),
            "style": style["style"],
            "style_seed": int(style["seed"]),
            "palette": dict(style["palette"]),
            "lighting": dict(lighting),
            "place": place,
            "cast": cast,
            "elements": elements,
            "crossfade_s": round(float(crossfade_s), 3),
        })
        return plan

    def plan_alone(self, shot: dict[str, Any], idea: dict[str, Any],
                   crossfade_s: float) -> dict[str, Any]:
        """The plan of a shot read without the vision stage (vision off): the story's style
        (its palette and seed come from ``idea``, so every shot of a story shares them) built
        from this shot alone."""
        return self.plan_shot(shot, self.style(idea, [shot]), crossfade_s)


def _merge(first: list[str], second: list[str]) -> list[str]:
    return first + [x for x in second if x not in first]
