"""Animatic renderer: an illustrated storyboard frame per shot, drawn procedurally (Pillow).

A frame is built like a storyboard artist's animatic panel: a sky graded by the time of day and
mood (sun, moon, stars, clouds), layered scenery chosen from what the plan names (mountains,
hills, sea, islands, dunes, forest, city, village, ponds, or a room with a window), props
(lighthouse, boat, trees, castle, mill, lamp light, rain, train, garden) and silhouettes of the
cast and other figures (people, animals, whales, robots, dragons), with ink outlines,
atmospheric perspective (far layers fade into the horizon haze), a soft vignette and paper
grain. Colours come from the story's palette, so shots hold one look.

Every subject a plan may name (:data:`storyreel.core.vocabulary.DRAWABLE`) has its drawing in
:data:`DRAWINGS`; a test renders each one and checks that it shows.

Deterministic: every random choice comes from ``numpy.random.default_rng(plan["seed"])``.
The image is rendered at the output preset's size times ``headroom`` so that the camera move
of the video stage has room.

Modules: ``canvas`` (the canvas and drawing primitives), ``sky``, ``scenery``, ``props``,
``figures``, ``creatures`` (whale, robot, dragon, train, garden), and ``compose`` (which
layers a plan gets, in which order).
"""

from __future__ import annotations

from storyreel.backends.keyframes.animatic.compose import (
    DRAWINGS,
    MOOD_TONE,
    AnimaticRenderer,
)

__all__ = ["DRAWINGS", "MOOD_TONE", "AnimaticRenderer"]
