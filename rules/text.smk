# Text stages: idea -> script -> revise.


localrules:
    idea,


rule idea:
    output:
        idea="results/{story}/idea.json",
    log:
        "logs/idea/{story}.log",
    benchmark:
        "benchmarks/idea/{story}.tsv"
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
        idea="results/{story}/idea.json",
    output:
        script="results/{story}/script.json",
    log:
        "logs/script/{story}.log",
    benchmark:
        "benchmarks/script/{story}.tsv"
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
        words_per_minute=voice_words_per_minute(),
        pauses=voice_pauses(),
    script:
        "../scripts/script.py"


rule revise:
    input:
        script="results/{story}/script.json",
        idea="results/{story}/idea.json",
    output:
        revised="results/{story}/revised.json",
    log:
        "logs/revise/{story}.log",
    benchmark:
        "benchmarks/revise/{story}.tsv"
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
        words_per_minute=voice_words_per_minute(),
        voice_rate=voice_natural_rate(),
        pauses=voice_pauses(),
    script:
        "../scripts/revise.py"
