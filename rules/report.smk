# The report's own pieces (`snakemake --report` / `storyreel report`): a contact sheet of the
# keyframes and a table of every stage's time and memory with the manifest's provenance.
# post's outputs (film, poster, subtitles, manifest) carry their report() flags in shots.smk.


localrules:
    stagetable,


rule contactsheet:
    input:
        keyframes=per_shot("results/{story}/keyframes/{shot}.png"),
        shotlist="results/{story}/shotlist.json",
    output:
        sheet=report(
            "results/{story}/contactsheet.jpg",
            caption="../report/contactsheet.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "3 contact sheet"},
        ),
    log:
        "logs/contactsheet/{story}.log",
    benchmark:
        "benchmarks/contactsheet/{story}.tsv"
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=300,
        gpu=0,
    script:
        "../scripts/contactsheet.py"


rule stagetable:
    input:
        manifest="results/{story}/manifest.json",
        shotlist="results/{story}/shotlist.json",
        post_benchmark="benchmarks/post/{story}.tsv",
    output:
        html=report(
            "results/{story}/stages.html",
            caption="../report/stages.rst",
            category="Stories",
            subcategory="{story}",
            labels={"story": "{story}", "item": "6 time and memory per stage"},
        ),
    log:
        "logs/stagetable/{story}.log",
    benchmark:
        "benchmarks/stagetable/{story}.tsv"
    retries: RETRIES
    conda:
        "../envs/storyreel.yaml"
    threads: 1
    resources:
        mem_mb=200,
        gpu=0,
    params:
        benchmarks=benchmark_files,
    script:
        "../scripts/stagetable.py"
