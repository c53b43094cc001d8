"""The chaos matrix of issue 16, run by ``benchmarks/chaos.py`` (``make chaos``).

Every case ends in one :class:`Case`: whether recovery gave the uninterrupted run's artifacts
(*healed*), whether the failure was said in one classified line (*classified*), whether a
traceback reached the console, whether a command ran past its time limit (*hang*).

- ``artifacts``: every artifact kind of the stage table (one of each per-shot kind) made
  zero bytes, replaced by garbage of the same size with its old time stamp, or deleted; then
  ``storyreel resume``;
- ``disk``: ``results/`` on a small tmpfs, filled up just before each rule runs (root only);
  then space is freed and ``storyreel resume`` runs;
- ``readonly``: ``results/`` on a read-only file system (refused before the first job), and
  a read-only output file that a rule must replace;
- ``faults``: a permanent and a transient fault in every rule, the report rules included;
- ``numbers``: NaN, infinity and a huge number in every numeric key of the config and of a
  story, through ``snakemake -n``;
- ``yaml``: alias bombs, a recursive alias, deep nesting, oversized and non-UTF-8 files, an
  impossible date.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from storyreel.core import pipeline
from storyreel.core.artifacts import sha256_file
from storyreel.core.config import config_schema, load_config
from storyreel.job import faults

TRACEBACK = "Traceback (most recent call last)"
TIMED = ("manifest.json", "stages.html")  # artifacts that record times: not compared
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))


@dataclass
class Case:
    section: str
    name: str
    healed: bool | None = None  # None: not a recovery case
    classified: bool | None = None  # None: no failure to classify
    traceback: bool = False
    hang: bool = False

    def line(self) -> str:
        marks = [f"{k}={v}" for k, v in (("healed", self.healed),
                                          ("classified", self.classified)) if v is not None]
        marks += ["TRACEBACK"] * self.traceback + ["HANG"] * self.hang
        return f"  {self.section:9} {self.name:44} {' '.join(marks)}"


def call(command: list[str], env: dict[str, str], timeout: float = 900
         ) -> tuple[int, str, bool]:
    """(exit status, stdout and stderr, whether it hung): a hung command's whole process
    group is killed."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out, False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return -9, out, True


def snapshot(story_dir: Path) -> dict[str, str]:
    """sha256 of every artifact of a story that records no time."""
    return {p.relative_to(story_dir).as_posix(): sha256_file(p)
            for p in sorted(story_dir.rglob("*")) if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(story_dir).parts)
            and p.name not in TIMED}


class Matrix:
    """The cases, run on clones of one uninterrupted reference run (``Work`` of chaos.py)."""

    def __init__(self, root: Path, reference: Any, clone: Callable[[Any, Path], Any],
                 workers: int) -> None:
        self.root, self.reference, self.clone, self.workers = root, reference, clone, workers
        self.story = "film"
        self.good = snapshot(reference.path / pipeline.RESULTS / self.story)
        self.cases: list[Case] = []

    def record(self, case: Case) -> Case:
        self.cases.append(case)
        print(case.line(), flush=True)
        return case

    def healed(self, work: Any, status: int) -> bool:
        return status == 0 and snapshot(work.path / pipeline.RESULTS / self.story) == self.good

    def parallel(self, run: Callable[[Any], Case], items: list[Any]) -> None:
        with ThreadPoolExecutor(self.workers) as pool:
            for case in pool.map(run, items):
                self.record(case)

    # -- artifacts ------------------------------------------------------------------------

    def artifact_files(self) -> list[str]:
        story_dir = self.reference.path / pipeline.RESULTS / self.story
        names = []
        for path, _, _ in pipeline.files(story_dir, pipeline.RULES, ["sh001"]):
            if path.is_dir():  # a folder artifact: its first shot's file, and style.json
                names += sorted(p.relative_to(story_dir).as_posix()
                                for p in path.glob("*.json") if p.stem in ("sh001", "style"))
            elif path.is_file():
                names.append(path.relative_to(story_dir).as_posix())
        return names

    def artifacts(self) -> None:
        items = [(name, how) for name in self.artifact_files()
                 for how in ("empty", "garbage", "delete")]

        def run(item: tuple[str, str]) -> Case:
            name, how = item
            work = self.clone(self.reference, self.root / "artifacts" /
                              f"{how}-{name.replace('/', '-')}")
            path = work.path / pipeline.RESULTS / self.story / name
            damage(path, how)
            status, out, hang = call(work.resume_command(), work.env())
            said = f"{pipeline.RESULTS}/{self.story}/{name}" in out
            made_again = name in [a.path for a in pipeline.FINAL.artifacts] or \
                pipeline.producer(path)[0].report  # deleted, Snakemake just makes it again
            healed = self.healed(work, status)
            if healed:
                shutil.rmtree(work.path, ignore_errors=True)
            return Case("artifacts", f"{how} {name}", healed,
                        None if how == "delete" and made_again else said,
                        TRACEBACK in out, hang)

        self.parallel(run, items)

    # -- a full disk, a read-only disk ----------------------------------------------------

    @contextlib.contextmanager
    def mounted(self, work: Any) -> Iterator[Path]:
        """``results/`` of ``work`` moved onto a small tmpfs (unmounted afterwards)."""
        results = work.path / pipeline.RESULTS
        keep = work.path / "results.kept"
        results.rename(keep)
        results.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(results)],
                       check=True)
        try:
            subprocess.run(["cp", "-a", f"{keep}/.", str(results)], check=True)
            shutil.rmtree(keep)
            yield results
        finally:
            subprocess.run(["umount", "-l", str(results)], check=False)

    def can_mount(self) -> bool:
        probe = self.root / "mount-probe"
        probe.mkdir(parents=True, exist_ok=True)
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], check=False)
        return ok

    def remove_from(self, story_dir: Path, rule: str) -> None:
        """What a run must make again so that ``rule`` runs first: its outputs (its first
        shot's, per shot) and what is made from them, the film included (a report rule: its
        own output only)."""
        own = pipeline.stage(rule)
        for path, stage, shot in pipeline.files(story_dir, pipeline.RULES,
                                                pipeline.shot_ids_in(story_dir / "shots")):
            if own.report:
                gone = stage is own
            else:
                later = pipeline.order(stage.name) >= pipeline.order(rule) and not stage.report
                gone = later and (not own.per_shot or shot in (None, "sh001"))
            if gone and path.is_dir():
                shutil.rmtree(path)
            elif gone:
                path.unlink(missing_ok=True)

    def disk(self) -> None:
        if not self.can_mount():
            print("  disk      skipped: mounting a tmpfs needs root (CI runs as root)")
            return
        for rule in self.rules():
            work = self.clone(self.reference, self.root / "disk" / rule)
            with self.mounted(work) as results:
                self.remove_from(results / self.story, rule)
                fill(results / "filler")
                status, out, hang = call(work.command(), work.env())
                said = any(line.startswith(f"storyreel {rule} ") and "is full: " in line
                           for line in out.splitlines())
                (results / "filler").unlink()
                again, out2, hang2 = call(work.resume_command(), work.env())
                healed = self.healed(work, again)
            self.record(Case("disk", f"full before {rule}", healed, said and status != 0,
                             TRACEBACK in out + out2, hang or hang2))
            shutil.rmtree(work.path, ignore_errors=True)

    def readonly(self) -> None:
        if self.can_mount():
            work = self.clone(self.reference, self.root / "readonly" / "filesystem")
            with self.mounted(work) as results:
                self.remove_from(results / self.story, "stagetable")
                subprocess.run(["mount", "-o", "remount,ro", str(results)], check=True)
                status, out, hang = call(work.command(), work.env())
                said = "a read-only file system; make it writable" in out
                subprocess.run(["mount", "-o", "remount,rw", str(results)], check=True)
                again, out2, hang2 = call(work.resume_command(), work.env())
                self.record(Case("readonly", "results/ on a read-only file system",
                                 self.healed(work, again), said and status != 0,
                                 TRACEBACK in out + out2, hang or hang2))
        work = self.clone(self.reference, self.root / "readonly" / "file")
        script = work.path / pipeline.RESULTS / self.story / "script.json"
        script.chmod(0o444)
        status, out, hang = call(work.command("--forcerun", "script"), work.env())
        self.record(Case("readonly", "a read-only script.json to replace",
                         self.healed(work, status), None, TRACEBACK in out, hang))

    # -- faults in every rule --------------------------------------------------------------

    def transient_seed(self, rule: str, keys: list[str], attempts: int) -> str:
        """A seed with which a 0.5 transient fault fails some job's first attempt and leaves
        every job an attempt that passes."""
        for seed in range(1000):
            os.environ[faults.SEED_ENV] = str(seed)
            draws = {k: [faults.draw(f"{rule}|transient|{k}|{a}") < 0.5
                         for a in range(1, attempts + 1)] for k in keys}
            if any(d[0] for d in draws.values()) and all(not all(d) for d in draws.values()):
                os.environ.pop(faults.SEED_ENV)
                return str(seed)
        raise AssertionError(f"no seed for {rule}")

    def rules(self) -> list[str]:
        """The rules that run with the reference's config (an optional stage that does not,
        the score stage without a scorer, has nothing to fail)."""
        config = yaml.safe_load((self.reference.path / "config" / "config.yaml").read_text())
        settings = load_config(config)["stages"]
        return [s.name for s in pipeline.RULES if pipeline.runs(s, settings)]

    def faults(self) -> None:
        shots = pipeline.shot_ids_in(self.reference.path / pipeline.RESULTS / self.story /
                                     "shots")
        for rule in self.rules():
            st = pipeline.stage(rule)
            keys = [f"{rule}/{self.story}" + (f"/{s}" if st.per_shot else "")
                    for s in (shots if st.per_shot else [None])]
            work = self.clone(self.reference, self.root / "faults" / f"permanent-{rule}")
            env = {**work.env(), faults.ENV: f"{rule}:permanent"}
            status, out, hang = call(work.command("--forcerun", rule), env)
            summary = (f"{self.story:20} done:" if st.report else
                       f"FAILED at {rule}") in out
            said = f"injected permanent fault in {rule}" in out and "not retried" in out
            again, out2, hang2 = call(work.resume_command(), work.env())  # the cause gone
            self.record(Case("faults", f"permanent in {rule}", self.healed(work, again),
                             said and summary and status != 0, TRACEBACK in out + out2,
                             hang or hang2))
            shutil.rmtree(work.path, ignore_errors=True)
            work = self.clone(self.reference, self.root / "faults" / f"transient-{rule}")
            env = {**work.env(), faults.ENV: f"{rule}:transient:0.5",
                   faults.SEED_ENV: self.transient_seed(rule, keys, 2)}
            status, out, hang = call(work.command("--forcerun", rule), env)
            logs = "".join(p.read_text(errors="replace")
                           for p in (work.path / "logs" / rule).rglob("*.attempt1.log"))
            said = "FAILED (transient, will retry)" in logs
            self.record(Case("faults", f"transient in {rule}", self.healed(work, status),
                             said, TRACEBACK in out, hang))
            shutil.rmtree(work.path, ignore_errors=True)

    # -- bad numbers and hostile YAML --------------------------------------------------------

    def numeric_keys(self) -> list[tuple[str, ...]]:
        """Key paths of every number in the config schema (``*``: any name)."""
        found: list[tuple[str, ...]] = []

        def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
            kinds = node.get("type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if {"number", "integer"} & set(kinds):
                found.append(path)
            for key, sub in (node.get("properties") or {}).items():
                walk(sub, (*path, key))
            if isinstance(node.get("items"), dict):
                walk(node["items"], (*path, "[]"))
            if isinstance(node.get("additionalProperties"), dict):
                walk(node["additionalProperties"], (*path, "*"))

        walk(config_schema(), ())
        return found

    def numbers(self, make: Callable[[Path, dict | None, list[dict]], Any],
                base: dict[str, Any], story: dict[str, Any]) -> None:
        items = [("config", path, value) for path in self.numeric_keys()
                 for value in (float("nan"), float("inf"), 1e300)]
        items += [("story", (key,), value) for key in ("duration_s", "seed")
                  for value in (float("nan"), float("-inf"), 1e300)]

        def run(item: tuple[str, tuple[str, ...], float]) -> Case:
            where, path, value = item
            name = f"{where} {'.'.join(path)} = {value:g}"
            folder = self.root / "numbers" / f"{where}-{'.'.join(path)}-{value:g}"
            config, entry = copy.deepcopy(base), dict(story)
            if where == "config":
                put(config, path, value, story["id"])
            else:
                entry[path[0]] = value
            work = make(folder, config, [entry])
            status, out, hang = call(work.command("-n"), work.env(), timeout=300)
            lines = [line for line in out.splitlines() if line.startswith("storyreel: ")]
            key = [k for k in path if k not in ("[]", "*")][-1]  # the key the line names
            said = status == 1 and len(lines) == 1 and key in lines[0]
            shutil.rmtree(folder, ignore_errors=True)
            return Case("numbers", name, None, said, TRACEBACK in out, hang)

        self.parallel(run, items)

    def yaml_abuse(self, make: Callable[[Path, dict | None, list[dict]], Any],
                   story: dict[str, Any]) -> None:
        entry = f"stories:\n  - id: {story['id']}\n    idea: A cat finds a key.\n"
        cases = {
            "config alias bomb": ("config", BOMB),
            "config nested 100 000 deep": ("config", "x: " + "[" * 100_000 + "]" * 100_000),
            "config of 2 MiB": ("config", "# " + "x" * (2 << 20) + "\n"),
            "stories alias bomb": ("stories", BOMB + entry + "    title: *i\n"),
            "stories recursive alias": ("stories", "stories: &s\n  - id: k01\n    idea: x\n"
                                                   "  - *s\n"),
            "stories nested 100 000 deep": ("stories", entry + "    title: " + "[" * 100_000
                                            + "]" * 100_000 + "\n"),
            "stories of 17 MiB": ("stories", entry + "    title: >-\n" + ("      " + "w " * 40
                                                                         + "\n") * 210_000),
            "stories not UTF-8": ("stories", None),
            "stories with 2024-13-45": ("stories", entry + "    title: 2024-13-45\n"),
        }
        for name, (kind, text) in cases.items():
            folder = self.root / "yaml" / name.replace(" ", "-")
            work = make(folder, None, [story])
            target = folder / "config" / ("config.yaml" if kind == "config" else
                                          "stories.yaml")
            if kind == "config":
                target.write_text(target.read_text() + "\n" + text)
            elif text is None:
                target.write_bytes("stories:\n  - id: k01\n    idea: caf\xe9\n".encode("latin-1"))
            else:
                target.write_text(text)
            started = time.monotonic()
            status, out, hang = call(work.command("-n"), work.env(), timeout=120)
            lines = [line for line in out.splitlines() if line.startswith("storyreel: ")]
            self.record(Case("yaml", f"{name} ({time.monotonic() - started:.1f} s)", None,
                             status == 1 and len(lines) == 1, TRACEBACK in out, hang))
            shutil.rmtree(folder, ignore_errors=True)

    # -- the figures ---------------------------------------------------------------------------

    def report(self) -> str:
        healed = [c.healed for c in self.cases if c.healed is not None]
        classified = [c.classified for c in self.cases if c.classified is not None]

        def share(values: list[bool]) -> str:
            return f"{sum(values)}/{len(values)} ({100 * sum(values) / max(1, len(values)):.0f} %)"

        return (f"chaos matrix: {len(self.cases)} cases: healed {share(healed)}, classified "
                f"{share(classified)}, {sum(c.traceback for c in self.cases)} tracebacks, "
                f"{sum(c.hang for c in self.cases)} hangs")


def damage(path: Path, how: str) -> None:
    """``empty``: zero bytes; ``garbage``: as many bytes of noise, the old time stamp kept;
    ``delete``: gone."""
    if how == "delete":
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        return
    stat = path.stat()
    path.write_bytes(b"" if how == "empty" else os.urandom(stat.st_size))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def fill(path: Path) -> None:
    """Fill the file system that holds ``path`` to its last page."""
    with open(path, "wb", buffering=0) as fh:  # unbuffered: closing it writes nothing
        for size in (1 << 20, 1 << 16, 4096, 512, 1):
            block = b"\0" * size
            while True:
                try:
                    fh.write(block)
                except OSError:
                    break


def put(config: dict[str, Any], path: tuple[str, ...], value: float, story: str) -> None:
    """Set a config key path to ``value``: ``*`` a name (the story and its first shot under
    ``shots``, a rule under ``retry.timeout_s``), ``[]`` a list of the one value."""
    names = iter([story, "sh001"] if path[0] == "shots" else ["video"])
    keys = [next(names) if key == "*" else key for key in path]
    node = config
    for index, key in enumerate(keys):
        if index == len(keys) - 1:
            node[key] = value
            return
        if keys[index + 1] == "[]":
            node[key] = [value]
            return
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
