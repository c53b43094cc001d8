"""The `storyreel` command: run and operate the Snakemake workflow.

\b
    storyreel run [SNAKEMAKE OPTIONS...]     run the workflow (options go to Snakemake as they are)
    storyreel resume [SNAKEMAKE OPTIONS...]  after a crash or kill -9: verify, clean, unlock, rerun
    storyreel doctor                         can this machine run this config? (preflight)
    storyreel status                         each story's state from the files on disk
    storyreel verify                         check every artifact; remove corrupt ones
    storyreel clean                          remove intermediates of finished stories, orphans
    storyreel report                         Snakemake's report with the films (report.html)
    storyreel monitor                        web page with every job of the running workflow
    storyreel backends                       list the registered backends
    storyreel docs [--check]                 regenerate (or check) docs/config.md

Works from the virtual environment without activating it (`.venv/bin/storyreel run`): Snakemake
is taken from beside this Python. Shell completion: see docs/usage.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click

from storyreel.core import languages, pipeline, registry
from storyreel.core.errors import StoryreelError
from storyreel.ops import docs as docgen
from storyreel.ops import snakeargs
from storyreel.recovery import resume as recovery
from storyreel.recovery.resume import other_snakemake_running, resume, workdir_of
from storyreel.recovery.verify import verify as verify_artifacts

__all__ = ["cli", "main", "other_snakemake_running", "resume", "workdir_of"]

PASS = {"ignore_unknown_options": True, "allow_extra_args": True,
        "help_option_names": ["--help"]}


def snakemake_exe() -> list[str]:
    """Snakemake beside this Python (the venv's), else the one on PATH."""
    return recovery.snakemake_command()


def child_env() -> dict[str, str]:
    """PATH with this venv's bin first, so Snakemake's jobs find the same tools."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


workdir_option = click.option(
    "-d", "--directory", "workdir", type=click.Path(file_okay=False, path_type=Path),
    default=Path("."), show_default=True, help="The Snakemake working directory.")
story_option = click.option("--story", "stories", multiple=True, metavar="ID",
                            help="Only this story (repeatable).")
config_option = click.option("--config", "config", multiple=True, metavar="KEY=VALUE",
                             help="As for `storyreel run`: override a config key (repeatable).")
configfile_option = click.option(
    "--configfile", "configfiles", multiple=True, metavar="FILE",
    help="As for `storyreel run`: a config file over config/config.yaml (repeatable).")


def example(*lines: str) -> str:
    """A command's help epilog: its examples."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def snakemake_args(args: tuple[str, ...], remake: bool = False) -> list[str]:
    """Snakemake's arguments as they are meant (storyreel.ops.snakeargs); a mistake that
    Snakemake would answer with a traceback is one line here. ``remake``: targets of archived
    stories are made again."""
    parsed = snakeargs.parse(list(args))
    try:
        snakeargs.check(parsed)
    except StoryreelError as exc:
        raise click.UsageError(str(exc)) from None
    again = snakeargs.archived(parsed) if remake else []
    for target in again:
        click.echo(f"storyreel: {target}: its story was archived by `storyreel clean`; making "
                   "it again", err=True)
    return parsed.command() + (["--forcerun", *again] if again else [])


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, help=__doc__)
@click.version_option(package_name="storyreel")
def cli() -> None:
    pass


RUN_EXAMPLES = example(
    "storyreel run --cores 8 --resources gpu=1 -n   # dry run: what would run, and why",
    "storyreel run results/lighthouse/final.mp4     # one story",
    "storyreel run --config stories=my.yaml results/fox/final.mp4",
    "storyreel run -q                               # only the progress and the summary")


@cli.command(context_settings=PASS, add_help_option=False, epilog=RUN_EXAMPLES)
@click.option("--help", "show_help", is_flag=True, help="This help, then Snakemake's options.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(show_help: bool, args: tuple[str, ...]) -> None:
    """Run the workflow. Options and targets go to Snakemake; profiles/default (progress with
    an ETA via `--logger storyreel`) is picked up when you run it from the workflow's folder,
    and a preflight (the checks of `storyreel doctor`) runs before the first job.

    \b
    Options that mean what they say here:
      -v, --verbose       everything Snakemake says, and the jobs' INFO lines
                          (Snakemake's own -v would print its version)
      -q, --quiet         only the progress and the summary (--quiet=rules)
      --config KEY=VALUE  override config keys; targets may follow, as in Snakemake"""
    if show_help:
        click.echo(click.get_current_context().get_help())
        click.echo("\nSnakemake's options (all accepted):\n")
        sys.exit(subprocess.call([*snakemake_exe(), "--help"], env=child_env()))
    command = [*snakemake_exe(), *snakemake_args(args, remake=True)]
    sys.exit(subprocess.call(command, env=child_env()))


@cli.command("resume", context_settings=PASS,
             epilog=example("storyreel resume --cores all", "storyreel resume -d /runs/batch7"))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def resume_cmd(args: tuple[str, ...]) -> None:
    """After a crash or kill -9: verify the artifacts, remove leftovers and a stale lock, then
    rerun what was cut off.

    ARGS: options and targets for Snakemake, as for `run`."""
    sys.exit(resume(snakemake_args(args)))


@cli.command(epilog=example("storyreel status", "storyreel status --config stories=my.yaml",
                            "storyreel status -d /runs/batch7 --story lighthouse --json"))
@workdir_option
@story_option
@config_option
@configfile_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(workdir: Path, stories: tuple[str, ...], config: tuple[str, ...],
           configfiles: tuple[str, ...], as_json: bool) -> None:
    """Each story's state from the files on disk (runs nothing): the stage it has reached,
    stale outputs, outputs a live run is writing (or a killed one left incomplete), the last
    failure and its log."""
    from storyreel.ops import runconfig
    from storyreel.ops import status as st

    workdir = workdir.resolve()
    runconfig.raw(workdir, configfiles, config)  # a broken --config is one line
    run = st.Run.of(workdir)
    statuses = st.collect(workdir, list(stories) or None, configfiles, config, run)
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in statuses], indent=2))
    else:
        click.echo(st.render(statuses, run))


@cli.command(epilog=example("storyreel doctor", "storyreel doctor --offline",
                            "storyreel doctor --config stories=my.yaml -d /runs/batch7"))
@workdir_option
@config_option
@configfile_option
@click.option("--offline", is_flag=True,
              help="Also check that nothing will reach the network (model hubs switched off; "
                   "HF_HUB_OFFLINE=1 set means the same).")
def doctor(workdir: Path, config: tuple[str, ...], configfiles: tuple[str, ...],
           offline: bool) -> None:
    """Whether this machine can run this config, in a few lines: the extras of every
    configured backend, the models on disk, disk space for the planned films, the GPU and its
    memory, fonts for the stories' text, ffmpeg. Each failed check names its fix; exit status 1
    when one failed."""
    from storyreel.ops import doctor as dr

    report = dr.examine(workdir.resolve(), configfiles, config, offline=offline or None)
    click.echo(dr.render(report))
    sys.exit(0 if report.ok else 1)


@cli.command(epilog=example("storyreel verify --dry-run", "storyreel verify --story lighthouse"))
@workdir_option
@story_option
@click.option("--dry-run", is_flag=True, help="Say what would be repaired, change nothing.")
def verify(workdir: Path, stories: tuple[str, ...], dry_run: bool) -> None:
    """Check every artifact of every story (schemas, media decode, the manifest's sha256 of
    finished films); remove what is corrupt and what depends on it, so that the next run
    remakes exactly that. Exit status 2 when something was corrupt."""
    report = verify_artifacts(workdir.resolve(), list(stories) or None, dry_run=dry_run)
    for line in report.lines():
        click.echo(line)
    sys.exit(0 if report.ok else 2)


@cli.command(epilog=example("storyreel clean --dry-run", "storyreel clean --older-than 7d",
                            "storyreel clean --story lighthouse"))
@workdir_option
@story_option
@click.option("--older-than", metavar="AGE", help="Only stories finished before AGE ago "
              "(30m, 12h, 7d, 2w).")
@click.option("--dry-run", "-n", is_flag=True, help="List what would go and the space freed.")
def clean(workdir: Path, stories: tuple[str, ...], older_than: str | None,
          dry_run: bool) -> None:
    """Remove intermediates of finished stories (keeps final.*, poster.jpg, manifest.json and
    the report's contact sheet and stage table) and the orphans of killed runs."""
    from storyreel.ops import clean as cl

    workdir = workdir.resolve()
    try:
        age = cl.parse_age(older_than) if older_than else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    plan = cl.plan(workdir, list(stories) or None, age,
                   running=other_snakemake_running(workdir))
    if not dry_run:
        cl.apply(workdir, plan)
    click.echo(cl.render(workdir, plan, dry_run))


@cli.command(context_settings=PASS,
             epilog=example("storyreel report", "storyreel report --out report.zip -d /runs/b7"))
@click.option("--out", default="report.html", show_default=True,
              help="report.html (one self-contained page) or report.zip.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def report(out: str, args: tuple[str, ...]) -> None:
    """Snakemake's report: per story the film, poster, contact sheet, subtitles, provenance
    and a timing and memory table. Stories `storyreel clean` archived are left out, and named.

    ARGS: options for Snakemake (e.g. -d DIR, --config KEY=VALUE)."""
    from storyreel.ops import runconfig

    parsed = snakeargs.parse(list(args))
    command = snakemake_args(args)
    ids = runconfig.story_ids(parsed.workdir, parsed.configfiles, parsed.config)
    archived = [s for s in ids if (pipeline.story_dir(parsed.workdir, s)
                                   / pipeline.ARCHIVED).exists()]
    if archived:
        remake = pipeline.out(pipeline.FINAL.name).format(story=archived[0])
        click.echo(f"storyreel report: left out {len(archived)} archived "
                   f"{'story' if len(archived) == 1 else 'stories'} ({', '.join(archived)}): "
                   "`storyreel clean` removed their intermediates; to include one, make it "
                   f"again: storyreel run {remake}", err=True)
        if len(archived) == len(ids):
            raise click.ClickException("nothing to report: every story is archived")
    sys.exit(subprocess.call([*snakemake_exe(), *command, "--report", out], env=child_env()))


@cli.command(epilog=example("storyreel monitor",
                            "storyreel monitor -d /runs/batch7 --host 0.0.0.0 --port 9000"))
@workdir_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free one).")
def monitor(workdir: Path, host: str, port: int) -> None:
    """Serve a web page showing every job of the workflow running in DIR and its state.

    Runs started with the storyreel logger (profiles/default) feed it; open the printed
    address in a browser. Ctrl-C stops it."""
    from storyreel.ops import monitor as web

    try:
        web.serve(workdir.resolve(), host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: "
                                   f"{exc.strerror or exc}") from None


@cli.command(epilog=example("storyreel backends"))
def backends() -> None:
    """List the registered backends."""
    for kind in registry.kinds():
        for name in registry.known(kind):
            spec = registry.spec(kind, name)
            gpu = " (GPU)" if spec.gpu else ""
            click.echo(f"{kind:8} {name:14} {spec.summary}{gpu}")
            click.echo(f"{'':8} {'':14} languages: {backend_languages(kind, name)}")


def backend_languages(kind: str, name: str) -> str:
    """The languages a backend handles, for the listing (why, when they cannot be listed)."""
    try:
        return languages.shown(registry.languages(kind, name), limit=200)
    except Exception as exc:  # noqa: BLE001 (a backend whose extra is missing)
        return f"not listed ({type(exc).__name__}: {exc})"


@cli.command(epilog=example("storyreel docs", "storyreel docs --check"))
@click.option("--check", is_flag=True, help="Fail if docs/config.md is stale.")
def docs(check: bool) -> None:
    """Regenerate docs/config.md from the schemas."""
    if check:
        stale = docgen.is_stale()
        click.echo("docs/config.md is stale: run `storyreel docs`" if stale else "up to date")
        sys.exit(int(stale))
    docgen.write()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (tests call it with a list of arguments)."""
    try:
        cli.main(args=argv, prog_name="storyreel", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted!", err=True)
        return 130
    except StoryreelError as exc:  # bad input or config: one line, no traceback
        click.echo(f"storyreel: {exc}", err=True)
        return 2
    except OSError as exc:
        click.echo(f"storyreel: {exc.strerror or exc}"
                   + (f": {exc.filename}" if exc.filename else ""), err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
