"""A job of the run as the progress model follows it: its key (rule, story, shot) and its state."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JobKey:
    rule: str
    story: str | None
    shot: str | None = None

    @property
    def label(self) -> str:
        where = "/".join(p for p in (self.story, self.shot) if p)
        return f"{self.rule}[{where}]" if where else self.rule


# --------------------------------------------------------------------------- history / costs
# --------------------------------------------------------------------------------- the model
STATES = ("pending", "running", "retrying", "done", "failed", "not run", "skipped")
LEFT = ("pending", "running", "retrying")  # states of a job the run still waits for


@dataclass
class JobState:
    key: JobKey
    cost: float
    state: str = "pending"  # one of STATES
    started: float | None = None
    ended: float | None = None
    jobid: int | None = None
    peak_rss_mb: float = 0.0
    rss_mb: float = 0.0
    log: list[str] = field(default_factory=list)
    benchmark: str | None = None
    threads: int = 1
    attempts: int = 0
    error: str | None = None

    # what the ETA reads (storyreel.ops.eta.Job)
    @property
    def rule(self) -> str:
        return self.key.rule

    @property
    def story(self) -> str | None:
        return self.key.story

    @property
    def shot(self) -> str | None:
        return self.key.shot
