# storyreel: a story idea in, a narrated, subtitled video out.
#
#   idea -> script -> revise -> voice -> asr -> shotlist -> vision (optional) -> keyframes
#        -> video -> post
#
# Output-path scheme: declared once, in the stage table (storyreel/core/pipeline.py), and read
# from there by every rule (rules/common.smk): out(stage[, artifact]) is
# results/{story}/<artifact path>, log_of(stage) is logs/{stage}/{story}[/{shot}].log (one more
# per attempt: .attemptN.log), benchmark_of(stage) is benchmarks/{stage}/{story}[/{shot}].tsv.
# {story} matches [a-z0-9][a-z0-9_-]{0,63}; {shot} matches sh[0-9]{3}. docs/output.md lists every
# file, its table generated from the stage table; logs/summary.json is the end-of-run summary.


from pathlib import Path

from snakemake.utils import min_version

from storyreel.core import config as srconfig
from storyreel.core import errors
from storyreel.ops import doctor, notify

min_version("9.0")

# Config files are refused in one line when over the size limit, nested too deep or full of
# aliases or non-finite numbers, before Snakemake reads the default one (see core/bounds.py).
for path in ["config/config.yaml", *workflow.overwrite_configfiles]:
    srconfig.check_config_file(path)


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/text.smk"
include: "rules/audio.smk"
include: "rules/shots.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets,


# Before the first job of a real run: folders that cannot be written are refused in one line
# (Snakemake would fail with a traceback when it removes an old output there); then the
# preflight (the checks of `storyreel doctor` for the stages this run covers), once the DAG is
# known: a no-op or dry run pays nothing. The GPU is checked only where the jobs run here (not
# on a cluster's head node).
onstart:
    problem = errors.first_unwritable([pipeline.RESULTS, "logs", "benchmarks"])
    if problem:
        srconfig.refuse(str(problem))
    problems = doctor.preflight(workflow, config, STORIES)
    if problems:
        srconfig.refuse_lines(problems)


# The end-of-run summary (logs/summary.json: the run's jobs from the DAG, one line per story),
# then notifications (apprise) with that summary when STORYREEL_NOTIFY_URLS is set.
onsuccess:
    summary.finish(STORIES, RUN_STARTED, log, failed_run=False, workflow=workflow)
    notify.finished(Path.cwd())


onerror:
    summary.finish(STORIES, RUN_STARTED, log, failed_run=True, workflow=workflow)
    notify.finished(Path.cwd())
