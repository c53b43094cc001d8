# Audio stages: voice -> asr.


rule voice:
    input:
        revised="results/{story}/revised.json",
    output:
        wav="results/{story}/narration.wav",
        meta="results/{story}/voice.json",
    params:
        options=stage_options("voice"),
        voice=story_voice,
    log:
        "logs/voice/{story}.log",
    benchmark:
        "benchmarks/voice/{story}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        gpu=gpu_for("voice"),
    retries: RETRIES
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
    params:
        options=stage_options("asr"),
    log:
        "logs/asr/{story}.log",
    benchmark:
        "benchmarks/asr/{story}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        gpu=gpu_for("asr"),
    retries: RETRIES
    script:
        "../scripts/asr.py"
