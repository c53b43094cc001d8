# Audio stages: voice -> asr.


rule voice:
    input:
        revised=out("revise"),
    output:
        wav=out("voice"),
        meta=out("voice", "meta"),
    log:
        log_of("voice"),
    benchmark:
        benchmark_of("voice")
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
        revised=out("revise"),
        meta=out("voice", "meta"),
        wav=out("voice"),
    output:
        words=out("asr"),
        srt=out("asr", "srt"),
        vtt=out("asr", "vtt"),
    log:
        log_of("asr"),
    benchmark:
        benchmark_of("asr")
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
