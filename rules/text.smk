# Text stages: idea -> script -> revise.


localrules:
    idea,


rule idea:
    output:
        idea=out("idea"),
    log:
        log_of("idea"),
    benchmark:
        benchmark_of("idea")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=200,
        attempt=attempt_number,
        gpu=0,
    params:
        entry=story_entry,
        options=stage_options("idea"),
    script:
        "../scripts/idea.py"


rule script:
    input:
        idea=out("idea"),
    output:
        script=out("script"),
    log:
        log_of("script"),
    benchmark:
        benchmark_of("script")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=500,
        attempt=attempt_number,
        gpu=gpu_for("script"),
    params:
        options=stage_options("script"),
        words_per_minute=voice_words_per_minute,
        pauses=voice_pauses(),
    script:
        "../scripts/script.py"


rule revise:
    input:
        script=out("script"),
        idea=out("idea"),
    output:
        revised=out("revise"),
    log:
        log_of("revise"),
    benchmark:
        benchmark_of("revise")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=300,
        attempt=attempt_number,
        gpu=gpu_for("revise"),
    params:
        options=stage_options("revise"),
        words_per_minute=voice_words_per_minute,
        voice_rate=voice_natural_rate,
        pauses=voice_pauses(),
    script:
        "../scripts/revise.py"
