"""Stories in many languages, measured (issue 20).

Runs the ten-language stories file (tests/data/languages.yaml) through the whole workflow with
the embedded default and prints, per language: narration seconds per character, the start
error of each cue against the voice's own word timings (median, p95; English against
pocketsphinx's alignment, Piper reporting none), the worst characters per second of any cue,
and each stage's time against English.

    python benchmarks/languages.py [--duration 7] [--cores 2] [--keep DIR] [--measure DIR]
    python benchmarks/languages.py --rates    # espeak-ng's words per minute per language
    python benchmarks/languages.py --long     # cue start errors on longer paragraphs

``--long`` speaks and aligns a longer paragraph in Japanese, German and Chinese (without
Snakemake), where a sentence needs several cues and the reading speed moves some of them.

``--rates`` speaks each story's sentences with espeak-ng at length_scale 1 and prints the words
per minute (storyreel.core.languages.count_words) that ``RATES`` in
storyreel/backends/voice/espeak.py holds.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from storyreel.core import languages  # noqa: E402
from storyreel.core.artifacts import read_json  # noqa: E402
from storyreel.core.config import load_config, options_for  # noqa: E402
from storyreel.media.subtitles import parse_subtitles  # noqa: E402
from storyreel.text.words import written_units  # noqa: E402

STORIES = REPO / "tests" / "data" / "languages.yaml"
STAGES = ("revise", "voice", "asr", "video", "post")


def rates() -> None:
    from storyreel.backends.revise.rules import RulesReviser
    from storyreel.backends.voice.espeak import EspeakTTS
    from storyreel.stages.voice import speak_sentence

    config = load_config({})
    for story in yaml.safe_load(STORIES.read_text(encoding="utf-8"))["stories"]:
        tag = story["language"]
        backend, voice = languages.pick_voice(tag, {**config["stages"]["voice"],
                                                    "backend": "espeak"})
        tts = EspeakTTS({"voice": voice, "language": tag})
        reviser = RulesReviser({**options_for("revise"), "language": tag})
        sentences = [s for p in story["idea"].split("\n\n") for s in reviser.edit(p)[0]]
        seconds = sum(len(speak_sentence(tts, s, 1.0)[0]) / tts.sample_rate for s in sentences)
        words = sum(languages.count_words(s) for s in sentences)
        print(f"{tag:6} {backend}/{voice:8} {words / seconds * 60:6.1f} words/min")


LONG = {
    "ja": "東京に住むキツネのタマは、毎晩いちばん高い丘に登って、池に映る月をじっと見つめて"
          "いました。ある秋の夜、月が松の木の後ろに低く沈んだので、タマは走って走って、古い水車"
          "小屋の池で休んでいる月を見つけました。",
    "de": "Jede Nacht kletterte die kleine rote Füchsin Tilly auf den höchsten Hügel im Tal, um "
          "den Mond anzusehen, und sie wünschte sich, ihn nur ein einziges Mal halten zu dürfen. "
          "Eines Herbstabends rutschte der Mond tief hinter die Kiefern, und Tilly rannte, bis sie "
          "ihn im stillen Wasser des alten Mühlteichs ruhen sah.",
    "zh": "每天晚上，一只名叫蒂莉的小红狐狸都会爬上山谷里最高的小山去看月亮，她多么希望能把"
          "月亮抱在怀里哪怕只有一次。一个秋天的傍晚，月亮低低地沉到松树后面，蒂莉一直跑，直到"
          "在老磨坊池塘平静的水面上找到了它。",
}


def cue_errors(cues: list, words: list[dict]) -> list[float]:
    """Each cue's start against its own first word's (the cues hold the words in order)."""
    errors, first = [], 0
    for cue in cues:
        errors.append(abs(cue.start - float(words[first]["start"])))
        first += len(written_units(" ".join(cue.lines)))
    return errors


def long_paragraphs() -> None:
    from storyreel.backends.revise.rules import RulesReviser
    from storyreel.stages.asr import run_asr
    from storyreel.stages.voice import run_voice

    for tag, text in LONG.items():
        sentences = RulesReviser({**options_for("revise"), "language": tag}).edit(text)[0]
        revised = {"story": tag, "title": tag, "language": tag,
                   "length_scale": 1.1 if tag == "de" else 1.5,
                   "scenes": [{"id": "sc01", "sentences": [
                       {"id": f"sc01_{i:02d}", "text": t} for i, t in enumerate(sentences, 1)]}]}
        work = Path(tempfile.mkdtemp(prefix="storyreel-long-"))
        meta = run_voice(revised, options_for("voice"), None, work / "n.wav", work / "v.json")
        doc = run_asr(revised, meta, work / "n.wav", options_for("asr"), work / "w.json",
                      work / "s.srt", work / "s.vtt")
        cues = parse_subtitles(work / "s.srt")
        errors = cue_errors(cues, doc["words"])
        worst = max(len(" ".join(c.lines)) / (c.end - c.start) for c in cues)
        print(f"{tag}: {len(cues)} cues, start error median {statistics.median(errors):.3f} s, "
              f"p95 {percentile(errors, 0.95):.3f} s, worst {worst:.2f} chars/s, narration "
              f"{meta['duration_s']:.1f} s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def stage_seconds(work: Path, story: str) -> dict[str, float]:
    out = {}
    for stage in STAGES:
        total = 0.0
        for tsv in [work / "benchmarks" / stage / f"{story}.tsv",
                    *(work / "benchmarks" / stage / story).glob("*.tsv")]:
            if tsv.is_file():
                with tsv.open(encoding="utf-8") as fh:
                    total += sum(float(row["s"]) for row in csv.DictReader(fh, delimiter="\t"))
        out[stage] = total
    return out


def measure(work: Path, story: dict) -> dict[str, float | str]:
    folder = work / "results" / story["id"]
    meta = read_json(folder / "voice.json", "voice")
    words = read_json(folder / "words.json", "words")
    cues = parse_subtitles(folder / "final.srt")
    speech = sum(s["end"] - s["start"] for s in meta["sentences"])
    chars = sum(len(s["text"]) for s in meta["sentences"])
    # for espeak's stories words.json holds the voice's timings mapped onto the written units
    errors = cue_errors(cues, words["words"])
    return {"tag": story["language"], "voice": f"{meta['backend']}/{meta['voice']}",
            "aligner": words["backend"], "s_per_char": speech / chars,
            "err_median": statistics.median(errors), "err_p95": percentile(errors, 0.95),
            "worst_cps": max(len(" ".join(c.lines)) / (c.end - c.start) for c in cues)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", action="store_true")
    parser.add_argument("--long", action="store_true")
    parser.add_argument("--duration", type=float, default=7)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--measure", type=Path, help="only measure a kept work folder")
    args = parser.parse_args()
    if args.rates or args.long:
        rates() if args.rates else long_paragraphs()
        return
    stories = yaml.safe_load(STORIES.read_text(encoding="utf-8"))["stories"]
    work = args.measure or args.keep or Path(tempfile.mkdtemp(prefix="storyreel-languages-"))
    if not args.measure:
        run(work, stories, args)
    report(work, stories)


def run(work: Path, stories: list[dict], args: argparse.Namespace) -> None:
    (work / "config").mkdir(parents=True, exist_ok=True)
    (work / "config" / "config.yaml").write_text((REPO / "config" / "config.yaml").read_text())
    (work / "config" / "stories.yaml").write_text(yaml.safe_dump(
        {"stories": [dict(s, duration_s=args.duration) for s in stories]},
        allow_unicode=True), encoding="utf-8")
    subprocess.run([str(Path(sys.executable).parent / "snakemake"), "-s", str(REPO / "Snakefile"),
                    "-d", str(work), "--workflow-profile", str(REPO / "profiles" / "test"),
                    "--cores", str(args.cores), "-q"], check=True)


def report(work: Path, stories: list[dict]) -> None:
    english = stage_seconds(work, "en")
    print(f"{'lang':6} {'voice':14} {'aligner':12} {'s/char':>7} {'err med':>8} {'err p95':>8} "
          f"{'worst cps':>9}  " + " ".join(f"{s:>6}" for s in STAGES) + "  (x English)")
    for story in stories:
        row = measure(work, story)
        seconds = stage_seconds(work, story["id"])
        ratios = " ".join(f"{seconds[s] / english[s]:6.2f}" if english[s] else "     -"
                          for s in STAGES)
        print(f"{row['tag']:6} {row['voice']:14} {row['aligner']:12} {row['s_per_char']:7.4f} "
              f"{row['err_median']:8.3f} {row['err_p95']:8.3f} {row['worst_cps']:9.2f}  {ratios}")
    print("English stage seconds: " + ", ".join(f"{s} {english[s]:.2f}" for s in STAGES))
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
