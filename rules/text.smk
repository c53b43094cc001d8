# Text stages: idea -> script -> revise.


localrules:
    idea,


rule idea:
    output:
        idea="results/{story}/idea.json",
    params:
        entry=story_entry,
        options=stage_options("idea"),
    log:
        "logs/idea/{story}.log",
    benchmark:
        "benchmarks/idea/{story}.tsv"
    threads: 1
    resources:
        mem_mb=200,
        gpu=0,
    retries: RETRIES
    script:
        "../scripts/idea.py"


rule script:
    input:
        idea="results/{story}/idea.json",
    output:
        script="results/{story}/script.json",
    params:
        options=stage_options("script"),
        words_per_minute=voice_words_per_minute(),
        pauses=voice_pauses(),
    log:
        "logs/script/{story}.log",
    benchmark:
        "benchmarks/script/{story}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        gpu=gpu_for("script"),
    retries: RETRIES
    script:
        "../scripts/script.py"


rule revise:
    input:
        script="results/{story}/script.json",
        idea="results/{story}/idea.json",
    output:
        revised="results/{story}/revised.json",
    params:
        options=stage_options("revise"),
        words_per_minute=voice_words_per_minute(),
        pauses=voice_pauses(),
    log:
        "logs/revise/{story}.log",
    benchmark:
        "benchmarks/revise/{story}.tsv"
    threads: 1
    resources:
        mem_mb=300,
        gpu=gpu_for("revise"),
    retries: RETRIES
    script:
        "../scripts/revise.py"
