"""The arguments ``storyreel run`` (``resume``, ``report``) hands to Snakemake, made to mean
what they say.

- ``-v``/``--verbose`` is verbose (Snakemake reads ``-v`` as ``--version``) and ``-q``/``--quiet``
  is quiet about jobs but not about progress (``--quiet=rules``: the storyreel logger then shows
  the progress and the summary, and its bar still ends at 100 %).
- Targets mix with options as in Snakemake's own usage line: a target written after an option
  that takes several values (``--config stories=x.yaml results/k/final.mp4``) is taken out and
  passed first, so that Snakemake does not read it as one of those values.
- A target of a story ``storyreel clean`` archived (``results/k/final.mp4``) is made again: its
  film is there but the files it is made from are not, which Snakemake alone takes for up to
  date, so the target is also passed to ``--forcerun``.
- What Snakemake would answer with a traceback is answered with one line first: a ``--config``
  entry that is not ``KEY=VALUE``, a config file that is not there, a ``NAME=VALUE`` option
  without ``=``, a target in ``results/`` of a story the stories file does not have.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from storyreel.core import pipeline
from storyreel.core.errors import ConfigError
from storyreel.ops import runconfig

_PAIR = re.compile(r"^[^=\s]+=")
_RULE_NAMES = {s.name for s in pipeline.RULES} | {"all"}
# Snakemake options that take several values, and what one of their values looks like.
_IS_PAIR: Callable[[str], bool] = lambda arg: bool(_PAIR.match(arg))  # noqa: E731
_IS_FILE: Callable[[str], bool] = lambda arg: arg.endswith((".yaml", ".yml", ".json"))  # noqa: E731
_IS_RULE: Callable[[str], bool] = lambda arg: arg in _RULE_NAMES  # noqa: E731
MULTI_VALUE: dict[str, Callable[[str], bool]] = {
    **dict.fromkeys(("--config", "-C"), _IS_PAIR),
    **dict.fromkeys(("--configfile", "--configfiles"), _IS_FILE),
    **dict.fromkeys(("--resources", "--res", "--set-threads", "--set-resources",
                     "--default-resources", "--set-scatter", "--set-resource-scopes"), _IS_PAIR),
    **dict.fromkeys(("--until", "-U", "--omit-from", "-O", "--forcerun", "-R", "--prioritize",
                     "-P", "--allowed-rules", "--batch"), _IS_RULE),
}
PAIRS = ("--resources", "--res", "--set-threads", "--set-resources", "--set-scatter",
         "--set-resource-scopes")
QUIET_CHOICES = ("all", "host", "progress", "reason", "rules")
VERBOSE = ("-v", "--verbose")
QUIET = ("-q", "--quiet")


@dataclass
class Args:
    """Snakemake's arguments: the targets taken out from behind multi-value options, the rest
    in the order given, and what storyreel reads of them."""

    moved: list[str] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)
    config: list[str] = field(default_factory=list)
    configfiles: list[str] = field(default_factory=list)
    pairs: dict[str, list[str]] = field(default_factory=dict)
    workdir: Path = field(default_factory=Path.cwd)

    def command(self) -> list[str]:
        """For Snakemake: the moved targets first, then everything else as it was."""
        return [*self.moved, *self.rest]

    @property
    def targets(self) -> list[str]:
        """Targets in ``results/`` (checked against the stories file)."""
        return [a for a in self.moved + self.rest
                if not a.startswith("-") and pipeline.split_path(a)[0] is not None]


def parse(args: list[str]) -> Args:
    """Sort ``args`` (see the module doc); nothing is checked here."""
    out = Args()
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        name, eq, value = arg.partition("=")
        if arg in VERBOSE:
            out.rest.append("--verbose")
        elif arg in QUIET:
            values = _take(args, i, QUIET_CHOICES.__contains__)  # -q progress: Snakemake's
            i += len(values)
            out.rest += ["--quiet", *values] if values else ["--quiet=rules"]
            while values and i < len(args) and not args[i].startswith("-"):
                out.moved.append(args[i])
                i += 1
        elif arg in MULTI_VALUE:
            values = _take(args, i, MULTI_VALUE[arg])
            if not values and i < len(args) and not args[i].startswith("-") \
                    and pipeline.split_path(args[i])[0] is None:
                values = [args[i]]  # its value, even a malformed one (check() says so)
            i += len(values)
            out.rest += [arg, *values]
            _note(out, arg, values)
            while i < len(args) and not args[i].startswith("-"):  # targets after the values
                out.moved.append(args[i])
                i += 1
        else:
            out.rest.append(arg)
            if eq and name in MULTI_VALUE:
                _note(out, name, [value])
            elif name in ("-d", "--directory") and eq:
                out.workdir = Path(value).resolve()
            elif arg in ("-d", "--directory") and i < len(args):
                out.workdir = Path(args[i]).resolve()
    return out


def _take(args: list[str], start: int, looks_like: Callable[[str], bool]) -> list[str]:
    values = []
    for arg in args[start:]:
        if arg.startswith("-") or not looks_like(arg):
            break
        values.append(arg)
    return values


def _note(out: Args, option: str, values: list[str]) -> None:
    if option in ("--config", "-C"):
        out.config += values
    elif option in ("--configfile", "--configfiles"):
        out.configfiles += values
    elif option in PAIRS or option == "--default-resources":
        out.pairs.setdefault(option, []).extend(values)


def archived(parsed: Args) -> list[str]:
    """The targets that belong to stories ``storyreel clean`` archived."""
    return [t for t in parsed.targets
            if (pipeline.story_dir(parsed.workdir, str(pipeline.split_path(t)[0]))
                / pipeline.ARCHIVED).exists()]


def check(parsed: Args) -> None:
    """One :class:`ConfigError` line for what Snakemake would answer with a traceback."""
    for entry in parsed.config:
        if not _PAIR.match(entry):
            raise ConfigError(f"--config {entry}: not KEY=VALUE (e.g. --config seed=7)")
    runconfig.overrides(parsed.config)
    for path in parsed.configfiles:
        where = Path(path) if Path(path).is_absolute() else Path.cwd() / path
        if not where.is_file():
            raise ConfigError(f"--configfile {path}: no such file")
    for option, values in parsed.pairs.items():
        for value in values:
            if not _PAIR.match(value):
                raise ConfigError(f"{option} {value}: not NAME=VALUE (e.g. {option} gpu=1)")
    stories = None
    for target in parsed.targets:
        story, _ = pipeline.split_path(target)
        if story is None:
            continue
        if stories is None:
            stories = runconfig.story_ids(parsed.workdir, parsed.configfiles, parsed.config)
        if stories and story not in stories:
            raise ConfigError(f"{target}: the stories file has no story '{story}' (stories: "
                              f"{', '.join(stories[:8])}{', ...' if len(stories) > 8 else ''})")
