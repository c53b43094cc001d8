"""The terminal side of the logger plugin: the live block, the plain progress lines and the
end-of-run summary. A mixin of :class:`LogHandler`, which owns the state it reads."""

import shutil
import time

from storyreel.ops import progress as pg
from storyreel.ops.eta import fmt_duration, fmt_estimate

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
                f" · elapsed {fmt_duration(time.monotonic() - m.started)}"
                f" · ETA {fmt_estimate(m.estimate())}{mem}")

    def _lines(self) -> list[str]:
        m = self.model
        if m is None:
            return []
        width = shutil.get_terminal_size((100, 20)).columns
        lines = [f"storyreel {bar(m.shown_fraction(), 30)} {self._status_line()}"]
        fractions = m.story_fractions()
        stories = m.story_ids()
        active = [s for s in stories if fractions.get(s, 1.0) < 1.0] or stories
        for story in active[:MAX_STORIES]:
            frac = fractions.get(story, 1.0)
            lines.append(f"  {story[:20]:20} {bar(frac, 20)} "
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

    def _final_line(self, ok: bool) -> str:
        """The last progress line: 100 %, or where the run stopped and why."""
        m = self.model
        counts = m.counts()
        elapsed = fmt_duration(time.monotonic() - m.started)
        peak = f" · peak RSS {self.peak_rss_mb:.0f} MB" if self.peak_rss_mb else ""
        if self.peak_gpu_mb:
            peak += f", GPU {self.peak_gpu_mb:.0f} MB"
        ran = counts["done"] + counts["failed"] + counts["not run"]
        if ok:
            return f"[100.0%] {counts['done']}/{ran} jobs · elapsed {elapsed}{peak}"
        why = ", ".join(f"{counts[k]} {k}" for k in ("failed", "not run") if counts[k])
        return (f"[{m.completed() * 100:5.1f}%] stopped: {counts['done']}/{ran} jobs done"
                + (f", {why}" if why else "") + f" · elapsed {elapsed}{peak}")

    def _fallback_summary(self, ok: bool) -> str:
        """Without the run's summary (a Snakefile without storyreel's onsuccess/onerror)."""
        m = self.model
        lines = [f"storyreel: {'finished' if ok else 'failed'}: {m.counts()['done']} of "
                 f"{len(m.jobs)} jobs done"]
        lines += [f"  FAILED {f['job']}: {f['error']}  (log: {', '.join(f['log']) or 'none'})"
                  for f in self.failures.values()]
        return "\n".join(lines)


def bar(fraction: float, width: int = 24) -> str:
    filled = int(round(fraction * width))
    return "█" * filled + "░" * (width - filled)
