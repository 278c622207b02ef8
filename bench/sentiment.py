"""Sentiment benchmark on public data: plain VADER against Veille, per set, and Veille's throughput on one core.

    python -m bench.sentiment            # readable lines, then one JSON object with every figure (last line)

Data is read where it lies (`$VEILLE_SHARED_DATA`, else `<repo>/../shared/data`), never copied into the repo:
TweetEval sentiment (validation split) and XLM-T French and English (train and validation). There is no test
split here, so we hold out our own, and tune on the rest only:

* English is **tuned** on XLM-T English train (1,839 tweets) and **held out** on the TweetEval validation tweets
  that are not in XLM-T English train (570: the two sets share 1,430 tweets, see their SOURCE.md), which include
  all 324 XLM-T English validation tweets. Metric: macro-recall (TweetEval's official one).
* French is **tuned** on XLM-T French train (1,839) and **held out** on XLM-T French validation (324).
  Metric: macro-F1 (XLM-T's official one).

The sets tuned on are reported too, marked as such. No method sees an item's position: the XLM-T files cycle
their labels in a fixed order, so the training script shuffles with a fixed seed, and features are text only.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

LABELS = ("negative", "neutral", "positive")
REPO = Path(__file__).resolve().parents[1]
TARGETS = {"en_macro_recall": 0.62, "fr_macro_f1": 0.60, "texts_per_second": 5000}


@dataclass(frozen=True)
class LabelledSet:
    name: str
    lang: str
    role: str  # "held-out" or "tuned on"
    texts: tuple[str, ...]
    labels: tuple[int, ...]  # 0 negative, 1 neutral, 2 positive (the mapping of both upstream repos)


def shared_data() -> Path:
    return Path(os.environ.get("VEILLE_SHARED_DATA") or REPO.parent / "shared" / "data")


def read_lines(path: Path) -> list[str]:
    """One item per line; the XLM-T files have no final newline, the TweetEval ones do: don't lose or add one."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _pair(texts_file: Path, labels_file: Path) -> tuple[list[str], list[int]]:
    texts, labels = read_lines(texts_file), [int(x) for x in read_lines(labels_file)]
    if len(texts) != len(labels):
        raise ValueError(f"{texts_file}: {len(texts)} texts but {len(labels)} labels")
    return texts, labels


def _same_text(text: str) -> str:
    return " ".join(text.lower().split())


def xlmt(lang: str, split: str) -> tuple[list[str], list[int]]:
    folder = shared_data() / "xlmt" / {"en": "english", "fr": "french"}[lang]
    return _pair(folder / f"{split}_text.txt", folder / f"{split}_labels.txt")


def tweeteval_val() -> tuple[list[str], list[int]]:
    folder = shared_data() / "tweeteval"
    return _pair(folder / "val_text.txt", folder / "val_labels.txt")


def training_set(lang: str) -> LabelledSet:
    """The only data the training script may see: XLM-T train of that language."""
    texts, labels = xlmt(lang, "train")
    return LabelledSet(f"XLM-T {lang} train", lang, "tuned on", tuple(texts), tuple(labels))


def english_held_out() -> LabelledSet:
    seen = {_same_text(t) for t in xlmt("en", "train")[0]}
    pairs = [(t, y) for t, y in zip(*tweeteval_val(), strict=True) if _same_text(t) not in seen]
    return LabelledSet("TweetEval val minus XLM-T en train", "en", "held-out",
                       tuple(t for t, _ in pairs), tuple(y for _, y in pairs))


def french_held_out() -> LabelledSet:
    texts, labels = xlmt("fr", "val")
    return LabelledSet("XLM-T fr val", "fr", "held-out", tuple(texts), tuple(labels))


def all_sets() -> list[LabelledSet]:
    texts, labels = tweeteval_val()
    whole = LabelledSet("TweetEval val (all; 1,430 also in XLM-T en train)", "en", "partly tuned on",
                        tuple(texts), tuple(labels))
    return [english_held_out(), french_held_out(), training_set("en"), training_set("fr"), whole]


def metrics(gold: Sequence[int], predicted: Sequence[int]) -> dict[str, float]:
    """Macro-recall, macro-F1 and accuracy over the three classes."""
    recalls, f1s = [], []
    for label in range(3):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        gold_n = sum(1 for g in gold if g == label)
        pred_n = sum(1 for p in predicted if p == label)
        recall = tp / gold_n if gold_n else 0.0
        precision = tp / pred_n if pred_n else 0.0
        recalls.append(recall)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    accuracy = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold)
    return {"macro_recall": round(sum(recalls) / 3, 4), "macro_f1": round(sum(f1s) / 3, 4),
            "accuracy": round(accuracy, 4)}


def _vader() -> Callable[[str], int]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def predict(text: str) -> int:
        compound = analyzer.polarity_scores(text)["compound"]
        # VADER's recommended cut-offs, as the walking skeleton used them.
        return 2 if compound >= 0.05 else 0 if compound <= -0.05 else 1

    return predict


def _throughput(predict: Callable[[str], object], texts: Sequence[str], seconds: float = 2.0) -> tuple[float, float]:
    """Texts per second of `predict`, single thread: (per CPU second of this process, per wall-clock second).

    The target is per CPU second: it is what one core delivers, whatever else the machine runs meanwhile
    (the wall-clock figure drops when other processes share the cores). Scoring is single-threaded pure
    Python, so the process's CPU time is that one thread's.
    """
    done, cpu, wall = 0, time.process_time(), time.perf_counter()
    while True:
        for text in texts:
            predict(text)
        done += len(texts)
        if time.perf_counter() - wall >= seconds:
            return done / (time.process_time() - cpu), done / (time.perf_counter() - wall)


def main() -> int:
    from bot.sentiment import LABELS as SCORER_LABELS
    from bot.sentiment import SentimentScorer

    sets = all_sets()
    vader = _vader()
    # The brand default is English: French texts have to be recognised as French, as in production.
    scorer = SentimentScorer(default_lang="en")
    index = {label: i for i, label in enumerate(SCORER_LABELS)}
    results: dict[str, object] = {}
    print(f"data: {shared_data()}")
    for labelled in sets:
        plain = metrics(labelled.labels, [vader(t) for t in labelled.texts])
        ours = metrics(labelled.labels, [index[scorer.score(t).label] for t in labelled.texts])
        results[_key(labelled)] = {"lang": labelled.lang, "role": labelled.role, "n": len(labelled.texts),
                        "vader": plain, "veille": ours}
        print(f"{labelled.name} [{labelled.lang}, {labelled.role}, n={len(labelled.texts)}]")
        for name, figures in (("plain VADER", plain), ("Veille", ours)):
            print(f"  {name:12s} macro-recall {figures['macro_recall']:.3f}  macro-F1 {figures['macro_f1']:.3f}  "
                  f"accuracy {figures['accuracy']:.3f}")
    mixed = list(sets[0].texts) + list(sets[1].texts)
    speed, speed_wall = _throughput(lambda t: scorer.score(t), mixed)
    vader_speed, _ = _throughput(vader, mixed)
    print(f"throughput, one core (per CPU second), held-out texts of both languages, language detection included: "
          f"Veille {speed:,.0f} texts/s ({speed_wall:,.0f} per wall-clock second), plain VADER {vader_speed:,.0f}")
    en_recall = results[_key(sets[0])]["veille"]["macro_recall"]  # type: ignore[index]
    fr_f1 = results[_key(sets[1])]["veille"]["macro_f1"]  # type: ignore[index]
    targets = {
        "en_macro_recall": {"target": TARGETS["en_macro_recall"], "value": en_recall,
                            "met": en_recall >= TARGETS["en_macro_recall"]},
        "fr_macro_f1": {"target": TARGETS["fr_macro_f1"], "value": fr_f1, "met": fr_f1 >= TARGETS["fr_macro_f1"]},
        "texts_per_second": {"target": TARGETS["texts_per_second"], "value": round(speed),
                             "met": speed >= TARGETS["texts_per_second"]},
    }
    for name, target in targets.items():
        print(f"target {name}: {target['value']} (>= {target['target']}): {'met' if target['met'] else 'NOT met'}")
    throughput = {"veille": round(speed), "veille_wall_clock": round(speed_wall), "vader": round(vader_speed)}
    print(json.dumps({"sets": results, "texts_per_second": throughput,
                      "held_out": {"en": sets[0].name, "fr": sets[1].name}, "targets": targets}))
    return 0


def _key(labelled: LabelledSet) -> str:
    return re.sub(r"[^a-z0-9]+", "_", labelled.name.lower().split(" (")[0]).strip("_")


if __name__ == "__main__":
    sys.exit(main())
