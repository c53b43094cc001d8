# Rule helpers: config validation, wildcard constraints, config lookups and input functions.
# Rules call these by name; none of them holds stage logic (that lives in storyreel/stages).
# Every path comes from the stage table (storyreel/core/pipeline.py): out(), log_of(),
# benchmark_of().

import time

from storyreel.core import config as srconfig
from storyreel.core import languages, pipeline, registry, stories
from storyreel.core.artifacts import read_json
from storyreel.core.errors import ConfigError
from storyreel.core.pipeline import benchmark_of, log_of, out
from storyreel.models import diffusion
from storyreel.ops import progress as srprogress
from storyreel.ops import summary

# Validate once, before any job runs: one clear line naming the key path, defaults filled in;
# a refusal prints that line alone and exits 1 (raised, Snakemake would wrap it in three).
try:
    srconfig.load_config(config)
    # validated once, then read from .snakemake/storyreel/ by every later parse (cluster jobs)
    STORIES = stories.load_stories(config["stories"], config)
except ConfigError as exc:
    srconfig.refuse(str(exc))

# The storyreel logger plugin (--logger storyreel) follows the DAG of jobs: one log record
# hands it the workflow and the stories.
srprogress.introduce(workflow, STORIES)

RETRIES = config["retries"]
SETTINGS = config["stages"]  # every stage's validated settings
RUN_STARTED = time.time()  # the end-of-run summary reports the jobs of this run


wildcard_constraints:
    story=pipeline.STORY_ID,
    shot=pipeline.SHOT_ID,
    character=pipeline.CHARACTER_ID,


def attempt_number(wildcards, attempt):
    """The job's attempt (1, 2, ...) as a resource: the runner reads it for the backoff, the
    numbered logs and failing permanent errors fast."""
    return attempt


def story_ids():
    return list(STORIES)


def story_entry(wildcards):
    """The story's entry from the stories file, defaults applied (idea's params)."""
    return STORIES[wildcards.story]


def story_voice(wildcards):
    return STORIES[wildcards.story]["voice"]


def stage_options(stage):
    """A stage's validated config block (params: changing it reruns that stage). For the
    per-shot stages and those that hold a model, only what shapes the output
    (storyreel.models.diffusion.output_options).
    """
    if pipeline.stage(stage).per_shot or gpu_for(stage):
        return diffusion.output_options(SETTINGS[stage], bool(gpu_for(stage)))
    return SETTINGS[stage]


def gpu_for(stage):
    """1 when the stage's configured backend wants a GPU, else 0 (resources: gpu=...)."""
    backend = registry.stage_spec(stage, SETTINGS[stage])
    return int(backend.gpu) if backend else 0


def voice_natural_rate(wildcards):
    """The speaking rate at length_scale 1 of the voice that speaks the story (its backend's
    measured rate in the story's language)."""
    story = STORIES[wildcards.story]
    backend, _ = languages.pick_voice(
        story["language"], SETTINGS["voice"], story["voice"]
    )
    return languages.speaking_rate(backend, story["language"])


def mem_for(stage, embedded_mb):
    """Host memory of a per-shot job: the model's (config mem_mb) when the backend holds one."""
    return SETTINGS[stage]["mem_mb"] if gpu_for(stage) else embedded_mb


def model_priority():
    """Keyframes before clips when both hold a model: each worker is used in one stretch."""
    return 1 if gpu_for("keyframes") and gpu_for("video") else 0


def vram_for(stage):
    """GPU memory of a per-shot job (resources: vram_mb): the model's, or 0."""
    return SETTINGS[stage]["vram_mb"] if gpu_for(stage) else 0


def voice_words_per_minute(wildcards):
    """The narration pace (stages.voice.words_per_minute, else the story's voice's natural
    rate): script writes for it and revise fits the text and the voice's length_scale to it.
    """
    pace = SETTINGS["voice"]["words_per_minute"]
    return float(pace) if pace else voice_natural_rate(wildcards)


def voice_pauses():
    """Silences the voice puts between sentences and scenes (length fitting counts them)."""
    voice = SETTINGS["voice"]
    return {"sentence": voice["sentence_pause_s"], "scene": voice["scene_pause_s"]}


def shot_overrides(wildcards):
    """Per-shot overrides for one story (config key `shots`)."""
    return config["shots"].get(wildcards.story, {})


def shot_ids(story):
    """The shots of a story, known once its shotlist checkpoint has run."""
    return pipeline.shot_ids_in(checkpoints.shotlist.get(story=story).output.shots)


def active_story_ids():
    """Stories the default target makes: all but those `storyreel clean` archived (their
    intermediates are gone; ask for results/{story}/final.mp4 to make one again)."""
    return [
        s
        for s in story_ids()
        if not (pipeline.story_dir(".", s) / pipeline.ARCHIVED).exists()
    ]


def all_targets(wildcards):
    """The default target: every story's finished video and manifest."""
    final = pipeline.FINAL
    patterns = [out(final.name), out(final.name, "manifest")]
    patterns += [out(r.name) for r in pipeline.REPORTS]
    return expand(patterns, story=active_story_ids())


def vision_enabled():
    return pipeline.runs(pipeline.stage("vision"), SETTINGS)


def keyframes_scorer():
    """The scorer's settings when keyframes are chosen among candidates or gated, else nothing
    (so that scorer settings rerun no keyframe that does not use them)."""
    keyframes, score = SETTINGS["keyframes"], SETTINGS["score"]
    if keyframes["candidates"] > 1 or score["min_clip_score"] is not None:
        return stage_options("score")
    return {}


def portraits_enabled():
    return pipeline.runs(pipeline.stage("portraits"), SETTINGS)


def character_edits(wildcards):
    """Per-character edits of one story's cast (config key `characters`): vision's params."""
    return config["characters"].get(wildcards.story, {})


def character_sheet(wildcards):
    """A character's sheet, written by the vision checkpoint (the portrait's input)."""
    checkpoints.vision.get(story=wildcards.story)
    sheets = pipeline.path(pipeline.story_dir("", wildcards.story), "vision", "sheets")
    return (sheets / f"{wildcards.character}.json").as_posix()


def character_ids(story):
    """The ids of a story's characters once its vision checkpoint has run (none without
    portraits)."""
    if not portraits_enabled():
        return []
    checkpoints.vision.get(story=story)
    return pipeline.character_ids_in(pipeline.story_dir("", story))


def story_portraits(wildcards):
    """Every portrait of a story (the score job's input), when portraits are drawn."""
    story = pipeline.story_dir("", wildcards.story)
    return [
        pipeline.path(story, "portraits", character=c).as_posix()
        for c in character_ids(wildcards.story)
    ]


def shot_portraits(wildcards):
    """The portraits of the characters a shot shows, in the order it names them (a keyframe's
    input: editing one character reruns only its shots)."""
    if not portraits_enabled():
        return []
    plan = read_json(shot_plan(wildcards))
    story = pipeline.story_dir("", wildcards.story)
    return [p.as_posix() for p in pipeline.portraits_of(story, plan)]


def score_enabled():
    return pipeline.runs(pipeline.stage("score"), SETTINGS)


def scores_input(wildcards):
    """The story's scores, an input of post when a scorer is configured."""
    return [out("score").format(story=wildcards.story)] if score_enabled() else []


def plan_pattern():
    """The per-shot plan path with ``{story}`` and ``{shot}`` left in (vision's or the shot's)."""
    story = pipeline.story_dir("", "{story}")
    return pipeline.plan_path(story, "{shot}", vision_enabled()).as_posix()


def shot_plan(wildcards):
    """The per-shot plan keyframes and video read: vision's when enabled, else shotlist's."""
    made_by = checkpoints.vision if vision_enabled() else checkpoints.shotlist
    made_by.get(story=wildcards.story)
    story = pipeline.story_dir("", wildcards.story)
    return pipeline.plan_path(story, wildcards.shot, vision_enabled()).as_posix()


def per_shot(pattern):
    """An input function: ``pattern`` (with ``{story}`` and ``{shot}``) for every shot of the
    story, in shot order (post's clips and keyframes).

    With vision on, it first waits on the vision checkpoint itself: Snakemake 9 re-evaluates
    only the direct dependents of a checkpoint that need not rerun, so without this a resumed
    run (vision done, some keyframes missing) would leave the keyframe jobs' plan unresolved.
    """

    def files(wildcards):
        if vision_enabled():
            checkpoints.vision.get(story=wildcards.story)
        return [
            pattern.format(story=wildcards.story, shot=s)
            for s in shot_ids(wildcards.story)
        ]

    return files


def music_input(wildcards):
    """The optional music bed, as an input so that changing the file reruns post."""
    music = SETTINGS["post"]["music"]
    return [music] if music else []


def reference_image(wildcards):
    """The keyframes IP-Adapter's reference image, an input so that a new picture reruns them."""
    options = SETTINGS["keyframes"]
    adapter = options["ip_adapter"] if options["backend"] == "diffusers" else None
    return [adapter["image"]] if adapter and adapter["image"] else []


def provenance():
    """Every stage's settings, recorded in the manifest (and rerunning post when they change)."""
    return {"seed": config["seed"], "output": config["output"], "stages": SETTINGS}


def peak_files(wildcards):
    """Log files of the story's jobs, beside which storyreel.models.peaks writes their peaks."""
    story = wildcards.story
    return pipeline.job_files(
        log_of, story, shot_ids(story), SETTINGS, characters=character_ids(story)
    )


def benchmark_files(wildcards):
    """Benchmark files of the story's jobs, read by post for the manifest's timings."""
    story = wildcards.story
    return pipeline.job_files(
        benchmark_of, story, shot_ids(story), SETTINGS, characters=character_ids(story)
    )
