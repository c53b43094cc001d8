"""keyframes: render one picture per shot from its plan.

The input is ``vision/{shot}.json`` (schema ``plan``) when vision is enabled, else the bare
shot ``shots/{shot}.json`` (schema ``shot``), which :func:`read_plan` turns into a plan once,
where it is read: the embedded vision backend plans it alone, with the story's own style. Every
renderer then gets a plan. The picture is the output preset's size times ``headroom``, so that
the camera move of the video stage has room.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyreel.core import pipeline, registry
from storyreel.core.artifacts import read_json
from storyreel.core.types import ShotPlan
from storyreel.job.context import JobContext
from storyreel.job.fallback import record, with_fallback
from storyreel.models import worker
from storyreel.models.diffusion import injected_ooms, job_options
from storyreel.stages import candidates

log = logging.getLogger(__name__)


def read_plan(path: str | Path, vision: bool, idea: dict[str, Any] | None = None,
              crossfade_s: float = 0.0) -> ShotPlan:
    """The plan a shot is rendered from: the vision stage's (schema ``plan``), or with vision
    off the bare shot of the shot list (schema ``shot``), planned here by the embedded vision
    backend with the story's ``idea`` (its style and seed) and the shot list's
    ``crossfade_s``."""
    if vision:
        return read_json(path, "plan")
    if idea is None:
        raise ValueError("a bare shot is planned with the story's idea")
    shot = read_json(path, "shot")
    return registry.create("vision", {"backend": "embedded"}).plan_alone(shot, idea, crossfade_s)


def shot_plan(smk: Any) -> ShotPlan:
    """The plan of a keyframes or video job (its inputs ``plan`` and ``idea``)."""
    return read_plan(smk.input.plan, bool(smk.config["stages"]["vision"]["enabled"]),
                     read_json(smk.input.idea, "idea"), float(smk.params.crossfade_s))


def keyframe_plan(smk: Any) -> ShotPlan:
    """A keyframes job's plan with the portraits of its characters (its input ``portraits``,
    in the order the shot names them) as ``references``."""
    return {**shot_plan(smk), "references": [str(Path(p).resolve())
                                             for p in smk.input.portraits]}


def with_references(plan: ShotPlan, story: str | Path, portraits: bool) -> ShotPlan | None:
    """The plan with ``references``: the portraits of the characters it shows, in the order
    the shot names them (``[]`` without portraits); None when one is not drawn yet."""
    if not portraits:
        return {**plan, "references": []}
    paths = pipeline.portraits_of(story, plan)
    if not all(p.exists() for p in paths):
        return None
    return {**plan, "references": [str(p.resolve()) for p in paths]}


def pending_peers(smk: Any, job: JobContext, plan: ShotPlan) -> list[dict[str, Any]]:
    """The story's other shots whose output of this stage is not made yet (for clips: whose
    keyframe is), with their plans: a warm worker may render them in the same pipeline call
    and keep them until their own jobs ask (``storyreel.models.batching``)."""
    folder = Path(smk.input.plan).parent
    story = Path(smk.output[0]).parents[1]
    vision = bool(smk.config["stages"]["vision"]["enabled"])
    idea = read_json(smk.input.idea, "idea")
    peers = []
    for shot in pipeline.shot_ids_in(folder):
        png = pipeline.path(story, "keyframes", shot=shot)
        if shot == plan["id"] or pipeline.path(story, job.stage, shot=shot).exists() or (
                job.stage == "video" and not png.exists()):
            continue
        peer: ShotPlan | None = read_plan(folder / f"{shot}.json", vision, idea,
                                          float(smk.params.crossfade_s))
        if job.stage == "keyframes":  # like the job's own plan (keyframe_plan): the same key
            peer = with_references(peer, story, pipeline.runs(pipeline.stage("portraits"),
                                                               smk.config["stages"]))
        if peer is None:  # its portraits are not drawn yet
            continue
        peers.append({"plan": peer, "png": str(png.resolve()),
                      "inject_oom": injected_ooms(job.stage, shot)})
    return peers


def render_shot(job: JobContext, options: dict[str, Any], method: str,
                kwargs: dict[str, Any], here: Callable[[Any], dict[str, Any]],
                peers: Callable[[], list[dict[str, Any]]] | None = None,
                kind: str | None = None) -> dict[str, Any]:
    """One shot of a per-shot stage through its configured backend (of ``kind``, by default
    the job's stage: portraits draw with the keyframes backends), then its fallbacks.

    A backend that holds a model renders in the stage's warm worker (``storyreel.models.worker``:
    ``method(**kwargs)``), any other here (``here(backend)``); when a shot runs out of GPU
    memory even with its memory savers, it falls back to the next backend of ``fallback``, and
    a shot that only the memory savers could render is flagged (``storyreel.job.fallback``).
    ``peers()`` (:func:`pending_peers`, asked only for a model's worker) go with the shot.
    Returns what the backend reported (and ``oom``, the out-of-memory message or None).
    """
    kind = kind or job.stage

    def call(name: str) -> dict[str, Any]:
        opts = {**options, "backend": name}
        if registry.spec(kind, name).gpu:
            inject = injected_ooms(job.stage, str(job.shot))
            return worker.call(kind, opts, method,
                               {**kwargs, "inject_oom": inject,
                                "peers": peers() if peers else []},
                               job.observe)
        return {**here(registry.create(kind, opts)), "oom": None}

    info = with_fallback(job, options, call)
    if info["oom"]:
        record(job, options["backend"], f"{info['oom']}; rendered with "
               f"{', '.join(info['savers'])}")
    return info


def render_keyframe(plan: ShotPlan, out: str | Path, options: dict[str, Any],
                    job: JobContext | None = None,
                    peers: Callable[[], list[dict[str, Any]]] | None = None) -> float:
    """Render one keyframe PNG (or a portrait) with the configured keyframes backend; returns
    the seconds it took."""
    started = time.perf_counter()
    job = job or JobContext.alone("keyframes", plan["story"], plan["id"])
    info = render_shot(job, options, "save_shot",
                       {"plan": plan, "path": str(Path(out).resolve())},
                       lambda backend: {"size": backend.save(plan, out)}, peers, "keyframes")
    if info.get("left_out"):
        log.info("keyframe %s: over the text encoder's token budget, left out: %s", plan["id"],
                 " | ".join(info["left_out"]))
    return time.perf_counter() - started


def main(smk: Any, job: JobContext) -> None:
    """Snakemake entry point (rule ``keyframes``): one picture, or the best of several
    (:mod:`storyreel.stages.candidates`) when candidates or a quality gate are asked for."""
    plan = keyframe_plan(smk)
    options = job_options(dict(smk.params.options), dict(smk.config), "keyframes")
    scorer = dict(smk.params.scorer)
    if not candidates.wanted(options, scorer):
        seconds = render_keyframe(plan, smk.output.png, options, job,
                                  lambda: pending_peers(smk, job, plan))
        log.info("keyframe %s rendered in %.2f s", plan["id"], seconds)
        return
    scorer = job_options(scorer, dict(smk.config), "score")

    def embed(method: str, items: list[str]) -> list[list[float]]:
        key = "paths" if method == "embed_images" else "texts"
        return worker.call("score", scorer, method, {key: items}, job.observe)

    record = candidates.choose(
        plan, smk.output.png, options, scorer,
        lambda p, path, peers: render_keyframe(p, path, options, job, lambda: peers), embed, job)
    log.info("keyframe %s: kept seed %d of %d candidates%s", plan["id"], record["kept"],
             len(record["candidates"]), " (flagged: below the gate)" if record["flagged"] else "")
