# Audio stages: voice -> asr.


rule voice:
    input:
        revised="results/{story}/revised.json",
    output:
        wav="results/{story}/narration.wav",
        meta="results/{story}/voice.json",
    log:
        "logs/voice/{story}.log",
    benchmark:
        "benchmarks/voice/{story}.tsv"
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        attempt=attempt_number,
        gpu=gpu_for("voice"),
    params:
        options=stage_options("voice"),
        voice=story_voice,
    script:
        "../scripts/voice.py"


rule asr:
    input:
        revised="results/{story}/revised.json",
        meta="results/{story}/voice.json",
        wav="results/{story}/narration.wav",
    output:
        words="results/{story}/words.json",
        srt="results/{story}/subtitles.srt",
        vtt="results/{story}/subtitles.vtt",
    log:
        "logs/asr/{story}.log",
    benchmark:
        "benchmarks/asr/{story}.tsv"
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        attempt=attempt_number,
        gpu=gpu_for("asr"),
    params:
        options=stage_options("asr"),
    script:
        "../scripts/asr.py"
