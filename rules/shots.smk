# Shot stages: shotlist (checkpoint) fans out per shot.


localrules:
    shotlist,


checkpoint shotlist:
    input:
        idea=out("idea"),
        revised=out("revise"),
        words=out("asr"),
    output:
        shotlist=out("shotlist"),
        shots=directory(out("shotlist", "shots")),
    log:
        log_of("shotlist"),
    benchmark:
        benchmark_of("shotlist")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=200,
        attempt=attempt_number,
        gpu=0,
    params:
        options=stage_options("shotlist"),
        overrides=shot_overrides,
    script:
        "../scripts/shotlist.py"


checkpoint vision:
    input:
        idea=out("idea"),
        shotlist=out("shotlist"),
        shots=out("shotlist", "shots"),
    output:
        plan=directory(out("vision")),
    log:
        log_of("vision"),
    benchmark:
        benchmark_of("vision")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=300,
        attempt=attempt_number,
        gpu=gpu_for("vision"),
    params:
        options=stage_options("vision"),
        characters=character_edits,
    script:
        "../scripts/vision.py"


rule portraits:
    input:
        sheet=character_sheet,
    output:
        png=out("portraits"),
    log:
        log_of("portraits"),
    benchmark:
        benchmark_of("portraits")
    priority: model_priority()
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=mem_for("keyframes", 800),
        attempt=attempt_number,
        gpu=gpu_for("keyframes"),
        vram_mb=vram_for("keyframes"),
    params:
        options=stage_options("portraits"),
        keyframes=stage_options("keyframes"),
    script:
        "../scripts/portraits.py"


rule keyframes:
    input:
        plan=shot_plan,
        idea=out("idea"),
        reference=reference_image,
        portraits=shot_portraits,
    output:
        png=out("keyframes"),
    log:
        log_of("keyframes"),
    benchmark:
        benchmark_of("keyframes")
    priority: model_priority()
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=mem_for("keyframes", 800),
        attempt=attempt_number,
        gpu=gpu_for("keyframes"),
        vram_mb=vram_for("keyframes"),
    params:
        options=stage_options("keyframes"),
        scorer=keyframes_scorer(),
        crossfade_s=stage_options("shotlist")["crossfade_s"],
    script:
        "../scripts/keyframes.py"


rule video:
    input:
        png=out("keyframes"),
        plan=shot_plan,
        idea=out("idea"),
        srt=out("asr", "srt"),
    output:
        clip=out("video"),
    log:
        log_of("video"),
    benchmark:
        benchmark_of("video")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=mem_for("video", 800),
        attempt=attempt_number,
        gpu=gpu_for("video"),
        vram_mb=vram_for("video"),
    params:
        options=stage_options("video"),
        output=config["output"],
        crossfade_s=stage_options("shotlist")["crossfade_s"],
        burn_subtitles=stage_options("post")["burn_subtitles"],
    script:
        "../scripts/video.py"


rule score:
    input:
        keyframes=per_shot(out("keyframes")),
        clips=per_shot(out("video")),
        plans=per_shot(plan_pattern()),
        idea=out("idea"),
        portraits=story_portraits,
    output:
        scores=out("score"),
    log:
        log_of("score"),
    benchmark:
        benchmark_of("score")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=SETTINGS["score"]["mem_mb"],
        attempt=attempt_number,
        gpu=gpu_for("score"),
        vram_mb=vram_for("score"),
    params:
        options=stage_options("score"),
        crossfade_s=stage_options("shotlist")["crossfade_s"],
    script:
        "../scripts/score.py"


rule post:
    input:
        clips=per_shot(out("video")),
        keyframes=per_shot(out("keyframes")),
        shotlist=out("shotlist"),
        idea=out("idea"),
        script=out("script"),
        wav=out("voice"),
        meta=out("voice", "meta"),
        words=out("asr"),
        srt=out("asr", "srt"),
        vtt=out("asr", "vtt"),
        music=music_input,
        scores=scores_input,
    output:
        # update(): Snakemake keeps the last good film while post runs and puts it back when
        # post fails (summary.finish then dates it to the epoch so the next run remakes it).
        mp4=report(
            update(out("post")),
            caption="../report/film.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "1 film"},
        ),
        srt=report(
            update(out("post", "srt")),
            caption="../report/subtitles.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "4 subtitles"},
        ),
        vtt=update(out("post", "vtt")),
        poster=report(
            update(out("post", "poster")),
            caption="../report/poster.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "2 poster"},
        ),
        manifest=report(
            update(out("post", "manifest")),
            caption="../report/manifest.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "5 manifest (provenance)"},
        ),
    log:
        log_of("post"),
    benchmark:
        benchmark_of("post")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 2
    resources:
        mem_mb=1500,
        attempt=attempt_number,
        gpu=gpu_for("post"),
    params:
        options=stage_options("post"),
        output=config["output"],
        provenance=provenance(),
        benchmarks=benchmark_files,
        peaks=peak_files,
    script:
        "../scripts/post.py"
