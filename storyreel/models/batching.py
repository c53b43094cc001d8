"""Several shots per pipeline call, with per-shot results and per-shot out-of-memory handling.

Keyframe and clip jobs stay one per shot. A job that asks a warm worker for its shot also names
the story's other shots still to be made (its *peers*: their plans, and for clips their
keyframes). The worker's :class:`Batcher` renders the asked shot together with up to
``limit - 1`` peers in one pipeline call (a batch of prompts, or of keyframes, each with its own
seeded generator), answers the asked shot, and keeps the peers' pictures or frames, keyed by
everything that shapes them (the exact plan and keyframe; the worker itself is keyed by the
stage's settings), until their own jobs ask: those then only finish and write their shot.

A batch that runs out of memory is split in halves (and the limit lowered), down to single
shots, which then go through the memory savers and the fallback exactly as before
(:func:`storyreel.models.diffusion.with_savers`). A peer that cannot be made is simply not kept:
its own job meets the same error and degrades on its own.

The limit is ``batch`` when configured, else measured: the first shot runs alone, and the memory
it took on top of the loaded model sizes the batch to the declared ``vram_mb`` (on a GPU) or
``mem_mb`` (on the CPU), at most :data:`MAX_BATCH`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from storyreel.models import diffusion

log = logging.getLogger(__name__)

MAX_BATCH = 8  # shots in one call at most (beyond this a GPU gains little)
KEEP = 2 * MAX_BATCH  # peers' results kept at most (oldest dropped first)


@dataclass(frozen=True)
class Shot:
    """One shot to render: its id, what the backend renders it from, and its cache key."""

    id: str
    args: Any
    key: str
    inject: int = 0  # injected out-of-memory errors (tests: STORYREEL_INJECT_OOM)


def shot_key(*parts: Any) -> str:
    """A key of everything that shapes a shot's generated output."""
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


Result = tuple[Any, list[str], str | None]  # (output, savers used, first OOM message)


class Batcher:
    """Renders a shot with its pending peers; keeps the peers' outputs until they are asked."""

    def __init__(self, pipe: Any, device: str, limit: int | None,
                 budget_mb: float) -> None:
        self.pipe, self.device = pipe, device
        self.limit = limit  # None: measured at the first shot
        self.budget_mb = budget_mb
        self.kept: OrderedDict[str, Result] = OrderedDict()
        self.savers: list[str] = []  # memory savers switched on (stay on)
        self.on_oom: Any = None  # set by a warm worker: frees the card of other workers' models
        self.calls = 0  # pipeline calls made (the benchmark reports shots per call)

    def render(self, shot: Shot, peers: Sequence[Shot],
               many: Callable[[list[Shot], float], list[Any]]) -> Result:
        """The asked shot's output: kept from an earlier batch, or rendered now together with
        up to ``limit - 1`` pending peers. ``many(shots, scale)`` calls the pipeline once."""
        if shot.key in self.kept:
            log.info("%s: made earlier in a batch", shot.id)
            return self.kept.pop(shot.key)
        seen = {shot.key}
        batch = [shot]
        for peer in peers:
            if len(batch) >= (self.limit or 1):
                break
            if peer.key not in seen and peer.key not in self.kept:
                seen.add(peer.key)
                batch.append(peer)
        measuring = self.limit is None
        before = diffusion.memory_mark(self.device) if measuring else 0.0
        results = self._run(batch, many, asked=shot)
        if measuring:
            self._size(before, diffusion.memory_peak(self.device))
        for peer, result in zip(batch[1:], results[1:], strict=True):
            if result is not None:
                self.kept[peer.key] = result
        while len(self.kept) > KEEP:
            self.kept.popitem(last=False)
        first = results[0]
        assert first is not None  # the asked shot raises rather than returning None
        return first

    def _size(self, before: float, after: float) -> None:
        """The batch limit from the first shot's memory on top of the loaded model."""
        per_shot = max(after - before, 1.0)
        self.limit = max(1, min(MAX_BATCH, int(max(self.budget_mb - before, 0) // per_shot)))
        log.info("one shot took %.0f MB on top of %.0f MB: up to %d shots per call",
                 per_shot, before, self.limit)

    def _run(self, shots: list[Shot], many: Callable[[list[Shot], float], list[Any]],
             asked: Shot) -> list[Result | None]:
        if len(shots) == 1:
            return [self._alone(shots[0], many, asked)]
        try:
            for s in shots:
                if s.inject:
                    diffusion.raise_oom(s.id)
            scale = diffusion.SMALLER if "smaller_size" in self.savers else 1.0
            self.calls += 1
            outputs = many(shots, scale)
            return [(out, list(self.savers), None) for out in outputs]
        except Exception as exc:
            if not diffusion.is_oom(exc):
                raise
            if self.on_oom is not None:
                self.on_oom()
            diffusion.free_memory()
            half = len(shots) // 2
            self.limit = max(1, min(self.limit or half, half))
            log.warning("a batch of %d shots ran out of memory: splitting it (limit now %d)",
                        len(shots), self.limit)
            return self._run(shots[:half], many, asked) + self._run(shots[half:], many, asked)

    def _alone(self, shot: Shot, many: Callable[[list[Shot], float], list[Any]],
               asked: Shot) -> Result | None:
        def once(scale: float) -> Any:
            self.calls += 1
            return many([shot], scale)[0]

        try:
            return diffusion.with_savers(once, self.pipe, self.device, shot.id, shot.inject,
                                         self.savers, self.on_oom)
        except diffusion.ModelOutOfMemory:
            if shot is asked:
                raise
            return None


class Batched:
    """A backend that renders through a :class:`Batcher` (both diffusers backends)."""

    batcher: Batcher

    @property
    def on_oom(self) -> Any:
        """Called at a first out-of-memory error (a warm worker frees the card of others)."""
        return self.batcher.on_oom

    @on_oom.setter
    def on_oom(self, callback: Any) -> None:
        self.batcher.on_oom = callback
