# Shot stages: shotlist (checkpoint) fans out per shot.


localrules:
    shotlist,


checkpoint shotlist:
    input:
        idea="results/{story}/idea.json",
        revised="results/{story}/revised.json",
        words="results/{story}/words.json",
    output:
        shotlist="results/{story}/shotlist.json",
        shots=directory("results/{story}/shots"),
    log:
        "logs/shotlist/{story}.log",
    benchmark:
        "benchmarks/shotlist/{story}.tsv"
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
        idea="results/{story}/idea.json",
        shotlist="results/{story}/shotlist.json",
        shots="results/{story}/shots",
    output:
        plan=directory("results/{story}/vision"),
    log:
        "logs/vision/{story}.log",
    benchmark:
        "benchmarks/vision/{story}.tsv"
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
    script:
        "../scripts/vision.py"


rule keyframes:
    input:
        plan=shot_plan,
        reference=reference_image,
    output:
        png="results/{story}/keyframes/{shot}.png",
    log:
        "logs/keyframes/{story}/{shot}.log",
    benchmark:
        "benchmarks/keyframes/{story}/{shot}.tsv"
    priority: model_priority("keyframes")
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
    script:
        "../scripts/keyframes.py"


rule video:
    input:
        png="results/{story}/keyframes/{shot}.png",
        plan=shot_plan,
        srt="results/{story}/subtitles.srt",
    output:
        clip="results/{story}/clips/{shot}.mp4",
    log:
        "logs/video/{story}/{shot}.log",
    benchmark:
        "benchmarks/video/{story}/{shot}.tsv"
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


rule post:
    input:
        clips=per_shot("results/{story}/clips/{shot}.mp4"),
        keyframes=per_shot("results/{story}/keyframes/{shot}.png"),
        shotlist="results/{story}/shotlist.json",
        idea="results/{story}/idea.json",
        script="results/{story}/script.json",
        wav="results/{story}/narration.wav",
        meta="results/{story}/voice.json",
        words="results/{story}/words.json",
        srt="results/{story}/subtitles.srt",
        vtt="results/{story}/subtitles.vtt",
        music=music_input,
    output:
        # update(): Snakemake keeps the last good film while post runs and puts it back when
        # post fails (summary.finish then dates it to the epoch so the next run remakes it).
        mp4=report(
            update("results/{story}/final.mp4"),
            caption="../report/film.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "1 film"},
        ),
        srt=report(
            update("results/{story}/final.srt"),
            caption="../report/subtitles.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "4 subtitles"},
        ),
        vtt=update("results/{story}/final.vtt"),
        poster=report(
            update("results/{story}/poster.jpg"),
            caption="../report/poster.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "2 poster"},
        ),
        manifest=report(
            update("results/{story}/manifest.json"),
            caption="../report/manifest.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "5 manifest (provenance)"},
        ),
    log:
        "logs/post/{story}.log",
    benchmark:
        "benchmarks/post/{story}.tsv"
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
