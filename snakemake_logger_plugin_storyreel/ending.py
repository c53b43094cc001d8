"""Failed attempts, retries and the end of a run, for the logger plugin: a failed attempt's
error from the runner's status record, a retry that takes a failure back, then at the end the
jobs' last states from the run's summary
(:mod:`storyreel.ops.summary`, sent by the Snakefile's onsuccess/onerror), the last progress
line (100 %, or why not), the summary itself, and this run's job costs added to the history.
A mixin of :class:`LogHandler`, which owns the state it reads."""

from pathlib import Path

from storyreel.ops import costs
from storyreel.ops import progress as pg
from storyreel.ops import summary as run_summary


class Ending:
    """Retries and close() for LogHandler."""

    def _error_of(self, job: pg.JobState) -> str:
        record = run_summary.job_record(self.workdir or Path.cwd(), job.key.rule,
                                        job.key.story, job.key.shot)
        if record.get("status") == "failed" and record.get("error"):
            return str(record["error"])
        return "the job failed (see its log)"

    def _job_retrying(self, jobid: int) -> None:
        with self.lock:
            job = self.model.retrying(jobid) if self.model is not None else None
            if job is not None:
                self.failures.pop(job.key.label, None)
                self._write(f"storyreel: retrying {job.key.label} "
                            f"(attempt {job.attempts + 1})")
        self._tick(force=True)

    def close(self) -> None:
        if self.closed:
            super().close()
            return
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=2)
        self._reconcile()
        with self.lock:
            if self.model is not None:
                self._erase()
                ok = self._settle()
                snapshot = self.model.snapshot()
                snapshot["summary"] = self.summary
                self._trace(snapshot)
                self._save_state(snapshot, running=False)
                self.stream.write(self._final_line(ok) + "\n")
                self.stream.write((self.summary_text or self._fallback_summary(ok)) + "\n")
                self.stream.flush()
                self._learn()
            self.closed = True
        super().close()

    def _settle(self) -> bool:
        """The jobs' last states, as the run's summary (storyreel.ops.summary) tells them when
        the Snakefile sent it; whether the run succeeded."""
        m = self.model
        assert m is not None
        if self.summary is None:
            ok = not self.failures and all(j.state == "done" for j in m.jobs.values())
        else:
            ok = bool(self.summary.get("ok"))
            by_label = {j.key.label: j for j in m.jobs.values()}
            for entry in self.summary.get("job_states", []):
                job = by_label.get(entry.get("job"))
                if job is None:
                    continue
                if entry.get("state") in ("failed", "not run"):
                    job.state = entry["state"]
                job.error = entry.get("error") or job.error
                job.attempts = max(job.attempts, int(entry.get("attempts") or 0))
        m.end(ok)
        self.failures = {j.key.label: {"job": j.key.label, "story": j.key.story,
                                       "log": j.log, "error": j.error}
                         for j in m.jobs.values() if j.state == "failed"}
        return ok

    def _learn(self) -> None:
        """This run's job costs join the history (.snakemake/storyreel/costs.json)."""
        assert self.model is not None and self.workdir is not None
        ran = {(self.workdir / j.benchmark).resolve() for j in self.model.jobs.values()
               if j.state == "done" and j.benchmark}
        try:
            rates = costs.harvest(self.workdir, ran)
            shots = costs.harvest(self.workdir).get("shots_per_s", [])
            if ran:
                costs.save_history(self.workdir, {**rates, "shots_per_s": shots})
        except OSError:
            pass
