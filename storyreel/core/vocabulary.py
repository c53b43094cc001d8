"""The shared vocabularies, each written once.

Stages, backends, prompts and the artifact schemas all speak these words; a test checks every
schema ``enum`` that names one of them against this module (``tests/test_vocabulary.py``), and
that every drawable subject below has a drawing in the animatic renderer and keywords in the
embedded vision backend, so a word added here without a drawing is a test failure.
"""

from __future__ import annotations

# Story-arc beats of a script's scenes, in story order (a one-scene story has the beat "scene").
BEATS = ("setup", "turn", "climax", "resolution")
SINGLE_BEAT = "scene"

# Times of day a scene can take place at, and how a visual description phrases each.
TIMES_OF_DAY = ("dawn", "day", "dusk", "night")
TIME_PHRASES = {"dawn": "at dawn", "day": "in daylight", "dusk": "at dusk", "night": "at night"}

# Moods of a scene (and of its shots).
MOODS = ("calm", "tense", "joyful", "somber", "mysterious", "triumphant")

# Camera moves of a shot (the video stage's Ken Burns moves).
CAMERA_MOVES = ("push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "hold")

# Shot transitions into the next shot.
TRANSITIONS = ("cut", "crossfade")

# What a vision plan may ask a keyframe to show (``plan["elements"]``), by group. The embedded
# vision backend finds these in a prompt by keyword; the animatic renderer has a drawing for each.
SCENERY = ("interior", "sea", "island", "mountains", "hills", "forest", "city", "village",
           "water", "desert", "snow")
PROPS = ("lighthouse", "boat", "tree", "lamp", "rain", "castle", "mill", "moon", "stars",
         "train", "garden")
FIGURES = ("fox", "dog", "cat", "deer", "bird", "small", "whale", "dragon", "robot", "person")
DRAWABLE = {"scenery": SCENERY, "props": PROPS, "figures": FIGURES}

# Sky bodies the lighting of a time of day names.
CELESTIAL = ("sun", "moon")
