"""The terminal side of the logger plugin: the live block, the plain progress lines and the
end-of-run summary. A mixin of :class:`LogHandler`, which owns the state it reads."""

import shutil
import time

from storyreel.core import pipeline
from storyreel.ops import progress as pg

MAX_STORIES = 12  # on the terminal; the web monitor shows them all


class Display:
    """Rendering for LogHandler: reads its model, stream, memory figures and failures."""

    def _plain_progress(self, force: bool) -> None:
        now = time.monotonic()
        if force or now - self.last_plain >= self.plain_every:
            self.last_plain = now
            with self.lock:
                self._erase()
                self.stream.write(self._status_line() + "\n")
                self.stream.flush()

    def _status_line(self) -> str:
        m = self.model
        if m is None:
            return "storyreel"
        counts = m.counts()
        frac = m.shown_fraction()
        mem = f" · RSS {self.rss_mb:.0f} MB (peak {self.peak_rss_mb:.0f})" if self.tty else ""
        if self.gpu_mb is not None:
            mem += f" · GPU {self.gpu_mb:.0f} MB (peak {self.peak_gpu_mb:.0f})"
        estimated = sum(m.costs.shots(m.length(s)) * len(pg.PER_SHOT) for s in m.phantoms)
        jobs = f"{len(m.jobs)}" + (f"+~{estimated}" if estimated else "")
        return (f"[{frac * 100:5.1f}%] {counts['done']}/{jobs} jobs"
                f" · elapsed {pg.fmt_duration(time.monotonic() - m.started)}"
                f" · ETA {pg.fmt_duration(m.eta())}{mem}")

    def _lines(self) -> list[str]:
        m = self.model
        if m is None:
            return []
        width = shutil.get_terminal_size((100, 20)).columns
        lines = [f"storyreel {pg.bar(m.shown_fraction(), 30)} {self._status_line()}"]
        fractions = m.story_fractions()
        stories = m.story_ids()
        active = [s for s in stories if fractions.get(s, 1.0) < 1.0] or stories
        for story in active[:MAX_STORIES]:
            frac = fractions.get(story, 1.0)
            lines.append(f"  {story[:20]:20} {pg.bar(frac, 20)} "
                         f"{frac * 100:5.1f}%  {m.current(story)}")
        if len(active) > MAX_STORIES:
            lines.append(f"  … {len(active) - MAX_STORIES} more stories (storyreel monitor)")
        now = time.monotonic()
        running = [j for j in m.jobs.values() if j.state == "running"]
        for job in running[:8]:
            rss = job.rss_mb
            lines.append(f"    ▸ {job.key.label:32} {now - (job.started or now):6.1f} s"
                         + (f"  {rss:5.0f} MB" if rss else ""))
        if len(running) > 8:
            lines.append(f"    … {len(running) - 8} more running")
        return [line[: width - 1] for line in lines]

    def _erase(self) -> None:
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F\x1b[J")
            self.drawn = 0

    def _draw(self) -> None:
        if not self.tty or self.model is None or self.closed:
            return
        lines = self._lines()
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self.drawn = len(lines)

    def _summary(self, ok: bool) -> str:
        m = self.model
        assert m is not None
        counts = m.counts()
        elapsed = time.monotonic() - m.started
        head = "finished" if ok else ("failed" if self.failures else "stopped")
        lines = [f"storyreel: {head}: {counts['done']} of {len(m.jobs)} jobs done in "
                 f"{pg.fmt_duration(elapsed)}; peak RSS {self.peak_rss_mb:.0f} MB"
                 + (f", peak GPU {self.peak_gpu_mb:.0f} MB" if self.peak_gpu_mb else "")]
        for story in m.story_ids():
            jobs = [j for j in m.jobs.values() if j.key.story == story]
            done = sum(j.state == "done" for j in jobs)
            seconds = sum((j.ended or 0) - (j.started or 0) for j in jobs if j.ended)
            peak = max((j.peak_rss_mb for j in jobs), default=0.0)
            final = pipeline.path(pipeline.story_dir("", story), pipeline.FINAL.name)
            where = f" → {final}" if (m.workdir / final).exists() and ok else ""
            lines.append(f"  {story:20} {m.current(story):8} {done}/{len(jobs)} jobs, "
                         f"{seconds:.1f} s of job time, peak {peak:.0f} MB{where}")
        for failure in self.failures:
            logs = ", ".join(failure["log"]) or "no log"
            lines.append(f"  FAILED {failure['job']}: see {logs}")
        return "\n".join(lines)
