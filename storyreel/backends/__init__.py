"""Backends, one folder per stage: ``storyreel/backends/<stage>/``.

A backend *kind* is named after its stage (``script``, ``revise``, ``voice``, ``asr``,
``vision``, ``keyframes``, ``video``, ``post``). Each kind's interface is a ``typing.Protocol`` in
``storyreel/backends/<stage>/__init__.py``: every backend is built as ``Backend(options)`` from
the stage's validated config block (schema defaults filled in) and offers the kind's method(s).
Backends are found through :mod:`storyreel.core.registry` (built-ins and the ``storyreel.backends``
entry-point group). No backend imports :mod:`storyreel.stages`; what they exchange with the stages
lives in :mod:`storyreel.core.types`.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

STAGES_WITH_BACKENDS = ("script", "revise", "voice", "asr", "vision", "keyframes", "video",
                        "post")


@cache
def _defaults() -> dict[str, Any]:
    from storyreel.core.config import load_config

    return load_config({})


def options_for(stage: str, **overrides: Any) -> dict[str, Any]:
    """A stage's config block as the workflow hands it to a backend: the schema's defaults with
    ``overrides`` on top (for tests, notebooks and third-party backends)."""
    if overrides:
        from storyreel.core.config import load_config

        return load_config({"stages": {stage: dict(overrides)}})["stages"][stage]
    return copy.deepcopy(_defaults()["stages"][stage])


def output_for(**overrides: Any) -> dict[str, Any]:
    """The ``output`` config block (fps, crf, x264 preset) with defaults, ``overrides`` on top."""
    from storyreel.core.config import load_config

    return load_config({"output": dict(overrides)})["output"]
