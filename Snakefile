# storyreel: a story idea in, a narrated, subtitled video out.
#
#   idea -> script -> revise -> voice -> asr -> shotlist -> vision (optional) -> keyframes
#        -> video -> post
#
# Output-path scheme (the one place it is written down; docs/output.md explains each file).
# {story} matches [a-z0-9][a-z0-9_-]{0,63}; {shot} matches sh[0-9]{3}.
#
#   results/{story}/idea.json              idea      normalised story entry
#   results/{story}/script.json            script    scenes: narration + visual description
#   results/{story}/revised.json           revise    speakable sentences, fitted length, changes
#   results/{story}/narration.wav          voice     the whole narration, one WAV
#   results/{story}/voice.json             voice     sample rate, sentence boundaries
#   results/{story}/words.json             asr       word timings (forced alignment) and WER
#   results/{story}/subtitles.{srt,vtt}    asr       subtitles built from the word timings
#   results/{story}/shotlist.json          shotlist  (checkpoint) every shot, tiling the timeline
#   results/{story}/shots/{shot}.json      shotlist  one file per shot
#   results/{story}/vision/style.json      vision    (checkpoint) the story's style bible
#   results/{story}/vision/{shot}.json     vision    enriched prompt per shot
#   results/{story}/keyframes/{shot}.png   keyframes one image per shot
#   results/{story}/clips/{shot}.mp4       video     one clip per shot
#   results/{story}/final.{mp4,srt,vtt}    post      the finished video and its subtitles
#   results/{story}/poster.jpg             post      a poster frame
#   results/{story}/manifest.json          post      every artifact's sha256 and provenance
#   results/{story}/contactsheet.jpg       contactsheet  the keyframes on one page (report)
#   results/{story}/stages.html            stagetable    time and memory per stage (report)
#
#   logs/{stage}/{story}.log, logs/{stage}/{story}/{shot}.log             one log per job
#   logs/{stage}/{story}.attemptN.log ...                                  one log per attempt
#   logs/summary.json                      the end-of-run summary (storyreel/ops/summary.py)
#   benchmarks/{stage}/{story}.tsv, benchmarks/{stage}/{story}/{shot}.tsv one benchmark per job


from pathlib import Path

from snakemake.utils import min_version

from storyreel.ops import notify

min_version("9.0")


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


# The end-of-run summary (logs/summary.json, one line per story), then notifications (apprise)
# with that summary when STORYREEL_NOTIFY_URLS is set.
onsuccess:
    summary.finish(STORIES, RUN_STARTED, log, failed_run=False)
    notify.finished(Path.cwd(), ok=True)


onerror:
    summary.finish(STORIES, RUN_STARTED, log, failed_run=True)
    notify.finished(Path.cwd(), ok=False)
