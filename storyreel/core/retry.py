"""The one retry policy: exponential backoff with jitter, honouring a server's Retry-After.

Two things wait before trying again, and both wait the same way:

- a Snakemake job's later attempt (the runner sleeps before it starts, with the schedule of
  config ``retry.backoff_s``);
- a request to a model server inside a job (the server chat client retries through tenacity
  with :class:`Backoff` as its wait).

The wait before retry *n* is ``schedule[n - 1]`` (the last entry repeats) times a random factor
in ``[1 - jitter, 1 + jitter]``; an exception that carries ``retry_after`` (seconds a server
asked for) waits that long instead, up to :data:`MAX_WAIT_S`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import tenacity

MAX_WAIT_S = 60.0


class Backoff(tenacity.wait.wait_base):
    """A tenacity wait: the schedule, with jitter; a server's ``retry_after`` first."""

    def __init__(self, schedule: Sequence[float], jitter: float = 0.5,
                 rng: random.Random | None = None) -> None:
        self.schedule = [float(s) for s in schedule] or [0.0]
        self.jitter = float(jitter)
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)

    def seconds(self, retry: int) -> float:
        """Seconds to wait before retry ``retry`` (1, 2, ...)."""
        if retry < 1:
            return 0.0
        base = self.schedule[min(retry - 1, len(self.schedule) - 1)]
        return max(0.0, base * (1.0 + self.rng.uniform(-self.jitter, self.jitter)))

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        asked = getattr(outcome.exception(), "retry_after", None) if outcome else None
        if asked is not None:
            return min(MAX_WAIT_S, max(0.0, float(asked)))
        return self.seconds(retry_state.attempt_number)


def exponential(first_s: float, retries: int, factor: float = 4.0) -> list[float]:
    """A schedule of ``retries`` waits: ``first_s``, then ``factor`` times longer each time."""
    return [first_s * factor ** i for i in range(max(1, retries))]


def retrying(retries: int, wait: Backoff, transient: Any, before_sleep: Any = None
             ) -> tenacity.Retrying:
    """A tenacity loop: up to ``retries`` more tries while ``transient(exception)`` is true;
    the last error is raised as it is."""
    return tenacity.Retrying(stop=tenacity.stop_after_attempt(retries + 1), wait=wait,
                             retry=tenacity.retry_if_exception(transient), reraise=True,
                             before_sleep=before_sleep)
