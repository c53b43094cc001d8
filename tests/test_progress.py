"""The progress model and the storyreel logger plugin, without running Snakemake."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_interface_logger_plugins.tests import MockOutputSettings, TestLogHandlerBase

import snakemake_logger_plugin_storyreel as plugin
from storyreel.ops import costs, eta
from storyreel.ops import progress as pg
from storyreel.ops.progress import JobKey

TEXT = ["idea", "script", "revise", "voice", "asr", "shotlist"]


@pytest.fixture(autouse=True)
def _restore_stderr_level(monkeypatch, tmp_path):
    """The plugin sets STORYREEL_STDERR_LEVEL for its jobs and writes its state under the
    working directory: leave the test process and the repository as they were."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORYREEL_STDERR_LEVEL", "unset")
    monkeypatch.delenv("STORYREEL_STDERR_LEVEL")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def model(tmp_path: Path, stories: dict | None = None, cores: int = 1) -> tuple[pg.Progress,
                                                                               Clock]:
    clock = Clock()
    stories = stories or {"a": {"duration_s": 40}}
    return pg.Progress(tmp_path, stories, cores=cores, costs=costs.Costs(), clock=clock), clock


def run_job(m: pg.Progress, clock: Clock, key: JobKey, jobid: int, seconds: float) -> None:
    m.start(key, jobid)
    clock.now += seconds
    m.finish(jobid)


def test_shots_are_estimated_before_the_shot_list_and_the_bar_never_goes_back(tmp_path):
    m, clock = model(tmp_path)
    first = [JobKey(r, "a") for r in [*TEXT, "vision", "post", "contactsheet", "stagetable"]]
    m.plan(first)
    assert m.phantoms["a"] > 0  # 40 s of narration: about ten shots expected
    shown = []
    for i, key in enumerate(first[:7]):
        run_job(m, clock, key, i, m.jobs[key].cost)
        shown.append(m.shown_fraction())
    # the checkpoint ran: the real shots replace the estimate (here more than estimated)
    m.plan(first + [JobKey(r, "a", f"sh{i:03d}") for i in range(1, 15)
                    for r in ("keyframes", "video")])
    assert m.phantoms == {}
    shown.append(m.shown_fraction())
    for i, key in enumerate([k for k in m.jobs if m.jobs[k].state == "pending"], 100):
        run_job(m, clock, key, i, m.jobs[key].cost)
        shown.append(m.shown_fraction())
    assert shown == sorted(shown), shown
    assert shown[-1] == pytest.approx(1.0)
    # without the estimate the fraction after the text stages would have been far higher
    assert shown[5] < 0.5


def test_until_counts_only_the_jobs_it_runs(tmp_path):
    m, clock = model(tmp_path)
    keys = [JobKey(r, "a") for r in TEXT]  # --until shotlist: no post job, no shot estimate
    m.plan(keys)
    assert m.phantoms == {}
    for i, key in enumerate(keys):
        run_job(m, clock, key, i, 1.0)
    assert m.fraction() == 1.0 and m.shown_fraction() == 1.0


def write_tsv(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:01\t100.0\n")


def test_costs_come_from_earlier_benchmarks_scaled_by_narration_length(tmp_path):
    write_tsv(tmp_path / "benchmarks" / "voice" / "old.tsv",  # 20 s of narration
              costs.JOB_OVERHEAD_S + 20.0)
    (tmp_path / "results" / "old").mkdir(parents=True)
    (tmp_path / "results" / "old" / "voice.json").write_text(json.dumps({"duration_s": 20.0}))
    m = pg.Progress(tmp_path, {"short": {"duration_s": 10}, "long": {"duration_s": 40}})
    assert "voice" in m.costs.from_history
    short, long = m.expected(JobKey("voice", "short")), m.expected(JobKey("voice", "long"))
    assert short == pytest.approx(costs.JOB_OVERHEAD_S + 10.0)
    assert long == pytest.approx(costs.JOB_OVERHEAD_S + 40.0)
    costs.save_history(tmp_path, costs.harvest(tmp_path))
    assert costs.load_history(tmp_path)["voice"] == [pytest.approx(1.0)]


def test_a_portrait_costs_one_picture_whatever_the_story_length(tmp_path):
    write_tsv(tmp_path / "benchmarks" / "portraits" / "old" / "mara.tsv", 3.0)
    m = pg.Progress(tmp_path, {"short": {"duration_s": 10}, "long": {"duration_s": 300}})
    assert m.costs.rates["portraits"] == pytest.approx((3.0 - costs.JOB_OVERHEAD_S)
                                                       / costs.SHOT_S)
    short = m.expected(JobKey("portraits", "short", "mara"))
    assert short == m.expected(JobKey("portraits", "long", "tom")) == pytest.approx(3.0)


def test_eta_calibrates_to_the_observed_speed(tmp_path):
    m, clock = model(tmp_path, cores=1)
    keys = [JobKey(r, "a") for r in TEXT]
    m.plan(keys)
    total = sum(m.jobs[k].cost for k in keys)
    gaps = len(keys) * eta.GAP_DEFAULT_S  # Snakemake's bookkeeping between jobs
    assert m.eta() == pytest.approx(total + gaps)  # first guess: the expected costs in a row
    for i, key in enumerate(keys[:4]):  # the machine turns out twice as slow
        run_job(m, clock, key, i, 2 * m.jobs[key].cost)
    left = sum(m.jobs[k].cost for k in keys[4:])
    assert left * 1.3 < m.eta() < left * 2.0 + gaps


def test_eta_plays_out_the_shots_side_by_side_on_the_cores(tmp_path):
    m, clock = model(tmp_path, {"a": {"duration_s": 40}}, cores=2)
    shots = [JobKey("keyframes", "a", f"sh00{i}") for i in range(1, 5)]
    m.plan(shots)
    for key in shots:
        m.jobs[key].cost = 10.0
    # four ten-second jobs on two cores: two rounds, not four
    assert m.eta() == pytest.approx(2 * (10.0 + eta.GAP_DEFAULT_S))
    one = eta.Job("post", "a", None, 10.0, threads=2)  # a job that takes both cores waits
    calibration = eta.Calibration()
    assert eta.play_out([*m.jobs.values(), one], calibration, 2, clock.now) == pytest.approx(
        3 * (10.0 + eta.GAP_DEFAULT_S))


def test_eta_is_a_range_until_the_run_has_measured_its_stages(tmp_path):
    m, clock = model(tmp_path, cores=1)
    keys = [JobKey(r, "a") for r in TEXT]
    m.plan(keys)
    first = m.estimate()
    assert not first.sure and first.low < first.seconds < first.high
    assert re.fullmatch(r"[\dhms]+ \([\dhms]+–[\dhms]+\)", eta.fmt_estimate(first))
    for i, key in enumerate(keys[:5]):  # every stage but the last measured, all on time
        run_job(m, clock, key, i, m.jobs[key].cost)
    later = m.estimate()
    assert (later.high - later.low) / later.seconds < (first.high - first.low) / first.seconds


def first_attempt_failed(tmp_path: Path) -> tuple[pg.Progress, Clock, list[JobKey]]:
    """A model whose first text job has just failed its first attempt."""
    m, clock = model(tmp_path)
    keys = [JobKey(r, "a") for r in TEXT]
    m.plan(keys)
    m.start(keys[0], 1)
    m.finish(1, ok=False)
    return m, clock, keys


def test_a_retried_job_is_done_with_its_attempts_and_dropped_jobs_leave_the_plan(tmp_path):
    m, clock, keys = first_attempt_failed(tmp_path)
    m.retrying(1)
    assert m.jobs[keys[0]].state == "retrying" and m.counts()["failed"] == 0
    run_job(m, clock, keys[0], 1, 1.0)
    assert m.jobs[keys[0]].state == "done" and m.jobs[keys[0]].attempts == 2
    # after a checkpoint the DAG no longer needs the last two jobs: they leave the plan
    m.plan(keys[1:4])
    assert set(m.jobs) == set(keys[:4])
    for i, key in enumerate(keys[1:4], 2):
        run_job(m, clock, key, i, 1.0)
    assert m.fraction() == 1.0


def test_at_the_end_jobs_that_never_ran_are_skipped_or_not_run(tmp_path):
    m, _, keys = first_attempt_failed(tmp_path)
    m.end(ok=False)
    assert [m.jobs[k].state for k in keys] == ["failed"] + ["not run"] * 5
    assert m.counts()["pending"] == 0
    done, _ = model(tmp_path)
    done.plan(keys)
    done.end(ok=True)
    assert {j.state for j in done.jobs.values()} == {"skipped"} and done.shown_fraction() == 1.0


def test_current_stage_and_shot_per_story(tmp_path):
    m, _ = model(tmp_path, {"a": {"duration_s": 8}, "b": {"duration_s": 8}})
    m.plan([JobKey("keyframes", "a", "sh001"), JobKey("keyframes", "a", "sh002"),
            JobKey("voice", "b")])
    m.start(JobKey("keyframes", "a", "sh002"), 1)
    assert m.current("a") == "keyframes sh002/2"
    assert m.current("b") == "waiting"
    m.start(JobKey("voice", "b"), 2)
    m.finish(2, ok=False)
    assert m.current("b") == "failed"
    snap = m.snapshot()
    assert {j["state"] for j in snap["jobs"]} == {"pending", "running", "failed"}


# ------------------------------------------------------------------------------ the plugin
class TestStoryreelLogHandler(TestLogHandlerBase):
    """snakemake-interface-logger-plugins' own conformance tests."""

    __test__ = True

    def get_log_handler_cls(self):
        return plugin.LogHandler

    def get_log_handler_settings(self):
        return plugin.LogHandlerSettings()


def introduction(workflow, stories) -> logging.LogRecord:
    """The record the Snakefile sends the plugin (storyreel.ops.progress.introduce)."""
    return record(LogEvent.DEBUG_DAG, "storyreel: following the jobs",
                  **{pg.RUN_ATTRIBUTE: {"workflow": workflow, "stories": stories}})


def record(event, msg="", level=logging.INFO, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("snakemake", level, "x.py", 1, msg, (), None)
    rec.event = event
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def fake_job(rule, **wildcards):
    return SimpleNamespace(rule=SimpleNamespace(name=rule), wildcards_dict=wildcards)


@pytest.fixture
def handler(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STORYREEL_STDERR_LEVEL", raising=False)
    jobs = [fake_job(r, story="a") for r in TEXT]
    workflow = SimpleNamespace(dag=SimpleNamespace(_needrun=jobs),
                               config={"stages": {"vision": {"enabled": True}}},
                               resource_settings=SimpleNamespace(cores=2))
    settings = MockOutputSettings()
    settings.printshellcmds = False
    h = plugin.LogHandler(common_settings=settings, settings=plugin.LogHandlerSettings())
    h.stream = io.StringIO()
    h.tty = False
    h.emit(introduction(workflow, {"a": {"duration_s": 8}}))
    yield h
    h.close()


def test_plugin_prints_plain_progress_lines_and_a_summary(handler, tmp_path):
    handler.emit(record(None, "Building DAG of jobs..."))
    handler.emit(record(LogEvent.RUN_INFO, "Job stats", stats={"total": 6}))
    for i, rule in enumerate(TEXT):
        handler.emit(record(LogEvent.JOB_INFO, jobid=i, rule_name=rule, wildcards={"story": "a"},
                            log=[f"logs/{rule}/a.log"], benchmark=None))
        handler.emit(record(LogEvent.JOB_FINISHED, job_id=i))
        handler.emit(record(LogEvent.PROGRESS, done=i + 1, total=6))
    handler.close()
    out = handler.stream.getvalue()
    assert "Building DAG" not in out  # Snakemake's chatter only with -v
    done = [line for line in out.splitlines() if "· done " in line]
    assert len(done) == 6 and "done voice[a]" in out
    percents = [float(line.split("%]")[0].strip("[ ")) for line in done]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert "storyreel: finished: 6 of 6 jobs" in out
    state = json.loads((tmp_path / ".snakemake" / "storyreel" / "progress.json").read_text())
    assert state["running"] is False and state["counts"]["done"] == 6
    trace = (tmp_path / ".snakemake" / "storyreel" / "trace.jsonl").read_text().splitlines()
    assert json.loads(trace[-1])["fraction"] == 1.0
    assert plugin.os.environ["STORYREEL_STDERR_LEVEL"] == "WARNING"


def test_plugin_reports_a_failed_job_with_its_log(handler):
    handler.emit(record(LogEvent.RUN_INFO, "Job stats", stats={"total": 6}))
    handler.emit(record(LogEvent.JOB_INFO, jobid=3, rule_name="voice", wildcards={"story": "a"},
                        log=["logs/voice/a.log"], benchmark=None))
    handler.emit(record(LogEvent.JOB_ERROR, "Error in rule voice", logging.ERROR, jobid=3,
                        rule_name="voice", rule_msg=None, input=[], output=[],
                        log=["logs/voice/a.log"], conda_env=None, shellcmd=None, aux={},
                        indent=False))
    handler.close()
    out = handler.stream.getvalue()
    assert "Error in rule voice" not in out  # Snakemake's block: with -v only
    line = "storyreel: voice[a] failed (attempt 1): the job failed (see its log)  (log: " \
           "logs/voice/a.log)"
    assert line in out.splitlines()
    assert out.count("FAILED voice[a]") == 1
    assert "stopped: 0/6 jobs done, 1 failed, 5 not run" in out


def test_plugin_counts_a_retried_job_done_and_lists_a_failure_once(handler):
    handler.emit(record(LogEvent.RUN_INFO, "Job stats", stats={"total": 6}))
    error = dict(rule_name="idea", rule_msg=None, input=[], output=[], log=["logs/idea/a.log"],
                 conda_env=None, shellcmd=None, aux={}, indent=False)
    for attempt in (1, 2):  # the first attempt fails, Snakemake restarts it, the second works
        handler.emit(record(LogEvent.JOB_INFO, jobid=1, rule_name="idea",
                            wildcards={"story": "a"}, log=["logs/idea/a.log"], benchmark=None))
        if attempt == 1:
            handler.emit(record(LogEvent.JOB_ERROR, "Error in rule idea", logging.ERROR,
                                jobid=1, **error))
            handler.emit(record(None, "Trying to restart job 1."))
    handler.emit(record(LogEvent.JOB_FINISHED, job_id=1))
    for attempt in (1, 2):  # a job that fails on both attempts
        handler.emit(record(LogEvent.JOB_INFO, jobid=2, rule_name="script",
                            wildcards={"story": "a"}, log=["logs/script/a.log"], benchmark=None))
        handler.emit(record(LogEvent.JOB_ERROR, "Error in rule script", logging.ERROR, jobid=2,
                            **{**error, "rule_name": "script", "log": ["logs/script/a.log"]}))
        if attempt == 1:
            handler.emit(record(None, "Trying to restart job 2."))
    handler.close()
    out = handler.stream.getvalue()
    assert "storyreel: retrying idea[a] (attempt 2)" in out
    assert "FAILED idea[a]" not in out
    assert out.count("FAILED script[a]") == 1
    state = json.loads((Path(".snakemake") / "storyreel" / "progress.json").read_text())
    jobs = {j["rule"]: j for j in state["jobs"]}
    assert jobs["idea"]["state"] == "done" and jobs["idea"]["attempts"] == 2
    assert jobs["script"]["state"] == "failed" and jobs["script"]["attempts"] == 2
    assert jobs["revise"]["state"] == "not run"


def test_quiet_shows_only_progress_and_summary(tmp_path, monkeypatch):
    # Under -q Snakemake sends no job-finished events (its print_progress is off): the plugin
    # reads the DAG's finished jobs instead.
    monkeypatch.chdir(tmp_path)
    idea = SimpleNamespace(jobid=1, **vars(fake_job("idea", story="a")))
    dag = SimpleNamespace(_needrun=[idea], _finished=[])
    settings = MockOutputSettings()
    settings.quiet = {"progress", "rules"}
    h = plugin.LogHandler(common_settings=settings, settings=plugin.LogHandlerSettings())
    h.stream, h.tty = io.StringIO(), False
    h.emit(introduction(SimpleNamespace(dag=dag, config={},
                                        resource_settings=SimpleNamespace(cores=1)), {}))
    h.emit(record(LogEvent.RUN_INFO, "Job stats", stats={"total": 1}))
    h.emit(record(LogEvent.JOB_INFO, jobid=1, rule_name="idea", wildcards={"story": "a"},
                  log=[], benchmark=None))
    dag._finished.append(idea)
    h.close()
    out = h.stream.getvalue()
    assert "· done" not in out and "storyreel: finished: 1 of 1 jobs" in out, out


def test_snakemake_finds_the_logger_plugin_from_any_folder(tmp_path):
    # Snakemake looks for logger plugins with pkgutil.iter_modules, which sees a .pth with the
    # project folder but not setuptools' import-hook editable finder: without pyproject.toml's
    # package-dir, `--logger storyreel` fails outside the repository after `pip install -e .`.
    import subprocess
    import sys

    found = subprocess.run(
        [sys.executable, "-c", "import pkgutil; print(sorted(m.name for m in pkgutil.iter_modules()"
         " if m.name.startswith('snakemake_logger_plugin_')))"],
        cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "snakemake_logger_plugin_storyreel" in found, found



def test_a_taller_frame_makes_its_shots_cost_more(tmp_path):
    m, _ = model(tmp_path, {"wide": {"duration_s": 20},
                            "tall": {"duration_s": 20, "aspect": "9:16"}})
    wide, tall = (m.expected(JobKey("video", s, "sh001")) - costs.JOB_OVERHEAD_S
                  for s in ("wide", "tall"))
    assert tall == pytest.approx(2.25 * wide)  # 1080x1920 against 1280x720
    assert m.expected(JobKey("voice", "tall")) == m.expected(JobKey("voice", "wide"))
