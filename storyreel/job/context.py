"""What one job is: its stage, story and shot, its attempt, and where its records go.

The runner (:mod:`storyreel.job.runner`) builds a :class:`JobContext` from the Snakemake job and
hands it to the stage's ``main``, which passes it on to what needs it (fallbacks, model workers);
nothing reads the running job from a module global. A stage function called outside Snakemake
(a test, a notebook) gets :meth:`JobContext.alone`: its last attempt, records under
``results/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel.core import pipeline
from storyreel.models.peaks import Observer


@dataclass(frozen=True)
class JobContext:
    """One job of the workflow, from its rule, wildcards and attempt."""

    stage: str
    story: str | None = None
    shot: str | None = None  # the shot (per-shot stages), or the character (portraits)
    attempt: int = 1
    attempts: int = 1
    results: Path = Path(pipeline.RESULTS)  # where the story folders are
    observe: Observer | None = None  # adds a model worker's peak memory to the job's

    @classmethod
    def of(cls, smk: Any, observe: Observer | None = None) -> JobContext:
        """The context of a Snakemake job (its ``snakemake`` object in a ``script:``)."""
        wildcards = dict(smk.wildcards.items())
        config = dict(getattr(smk, "config", {}) or {})
        try:
            attempt = max(1, int(smk.resources["attempt"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            attempt = 1
        item = wildcards.get("shot") or wildcards.get("character")  # a portrait's: its character
        return cls(smk.rule, wildcards.get("story"), item, attempt,
                   int(config.get("retries", 0)) + 1, observe=observe)

    @classmethod
    def alone(cls, stage: str, story: str | None = None, shot: str | None = None,
              results: str | Path = pipeline.RESULTS) -> JobContext:
        """A stage run outside Snakemake: one attempt, which is the last."""
        return cls(stage, story, shot, results=Path(results))

    @property
    def key(self) -> str:
        """``rule/story/shot``: the job's name in logs, status records and fault draws."""
        return "/".join(filter(None, (self.stage, self.story, self.shot)))

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.attempts

    @property
    def where(self) -> str:
        """``stage story/shot`` for messages."""
        return f"{self.stage} {self.story or ''}{'/' + self.shot if self.shot else ''}".strip()

    def for_shot(self, shot: str) -> JobContext:
        """The same job, about one shot."""
        return JobContext(self.stage, self.story, shot, self.attempt, self.attempts,
                          self.results, self.observe)
