# The report's own pieces (`snakemake --report` / `storyreel report`): a contact sheet of the
# keyframes (with their scores when a scorer runs) and a table of every stage's time and memory
# with the manifest's provenance and scores.
# post's outputs (film, poster, subtitles, manifest) carry their report() flags in shots.smk.


localrules:
    stagetable,


rule contactsheet:
    input:
        keyframes=per_shot(out("keyframes")),
        shotlist=out("shotlist"),
        scores=scores_input,
    output:
        sheet=report(
            out("contactsheet"),
            caption="../report/contactsheet.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "3 contact sheet"},
        ),
    log:
        log_of("contactsheet"),
    benchmark:
        benchmark_of("contactsheet")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=300,
        attempt=attempt_number,
        gpu=0,
    script:
        "../scripts/contactsheet.py"


rule stagetable:
    input:
        manifest=out("post", "manifest"),
        shotlist=out("shotlist"),
        portraits=story_portraits,
    output:
        html=report(
            out("stagetable"),
            caption="../report/stages.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "6 time and memory per stage"},
        ),
    log:
        log_of("stagetable"),
    benchmark:
        benchmark_of("stagetable")
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=200,
        attempt=attempt_number,
        gpu=0,
    script:
        "../scripts/stagetable.py"
