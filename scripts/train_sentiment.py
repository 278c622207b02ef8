"""Train the sentiment models shipped in bot/sentiment/data/model_{en,fr}.json, reproducibly, on allowed data only.

    python -m scripts.train_sentiment            # both languages (about a minute on one core)
    python -m scripts.train_sentiment --lang fr

Each language sees only its XLM-T train split (`bench.sentiment.training_set`); the held-out sets of
`bench.sentiment` are never read here. The items are shuffled with a fixed seed before the 5 folds are cut, and
no feature depends on an item's position (the XLM-T files cycle their labels in a fixed order).

For every candidate setting (L2 strength, bigrams) we fit a 3-class logistic regression on four folds and score
the fifth; on those out-of-fold scores, blended with the lexicon rules' compound in a few proportions, we choose
the two thresholds that maximise the language's official metric (macro-recall for English as in TweetEval,
macro-F1 for French as in XLM-T). The best setting is refitted on the whole split and written out with its
blend and thresholds. numpy is the only dependency; the fit is full-batch Adam from zeros, hence
deterministic.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.sentiment import metrics, training_set
from bot.sentiment import SentimentScorer
from bot.sentiment.model import CLASSES, DENSE, Analysis, features

SEED = 20240817
FOLDS = 5
ITERATIONS = 400
LEARNING_RATE = 0.05
MIN_DF = 2
OUT = Path(__file__).resolve().parents[1] / "bot" / "sentiment" / "data"
GRID = {
    "l2": (0.1, 0.3, 1.0),
    "bigrams": (False, True),
    # Words alone were tried too and lost in every cross-validation, in both languages.
    "char_ngrams": ((3, 4, 5),),
}
# Share of the lexicon rules' compound in the final score: raw = (1 - b)·(p(pos) - p(neg)) + b·compound.
# Besides helping in cross-validation, it keeps a clear lexicon signal ("génial", "😍") from being outvoted by
# topic words learned from 1,839 tweets of one domain (the French ones are mostly about ecology politics).
BLENDS = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8)
METRIC = {"en": "macro_recall", "fr": "macro_f1"}


@dataclass(frozen=True)
class Setting:
    l2: float
    bigrams: bool
    char_ngrams: tuple[int, ...]
    blend: float


class Design:
    """A sparse design matrix (row, column, value triplets) over a fixed vocabulary, plus the dense features."""

    def __init__(self, sparse: Sequence[Counter[str]], dense: np.ndarray, vocabulary: dict[str, int]) -> None:
        rows, cols, vals = [], [], []
        for row, found in enumerate(sparse):
            # The same scaling as LinearModel.probabilities: every feature the text has counts, known or not.
            total = sum(found.values())
            scale = 1.0 / np.sqrt(total) if total else 0.0
            for name, count in found.items():
                column = vocabulary.get(name)
                if column is not None:
                    rows.append(row)
                    cols.append(column)
                    vals.append(count * scale)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.vals = np.asarray(vals, dtype=np.float64)
        self.dense = dense
        self.n = len(sparse)
        self.d = len(vocabulary)

    def logits(self, weights: np.ndarray, dense_w: np.ndarray, bias: np.ndarray) -> np.ndarray:
        z = self.dense @ dense_w + bias
        for k in range(3):
            z[:, k] += np.bincount(self.rows, weights=self.vals * weights[self.cols, k], minlength=self.n)
        return z

    def sparse_gradient(self, residual: np.ndarray) -> np.ndarray:
        grad = np.zeros((self.d, 3))
        for k in range(3):
            grad[:, k] = np.bincount(self.cols, weights=self.vals * residual[self.rows, k], minlength=self.d)
        return grad


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def vocabulary(sparse: Sequence[Counter[str]]) -> dict[str, int]:
    counts = Counter(name for found in sparse for name in found)
    return {name: i for i, name in enumerate(sorted(n for n, c in counts.items() if c >= MIN_DF))}


def fit(design: Design, labels: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise mean cross-entropy + l2/(2n)·|W|² with full-batch Adam from zeros."""
    params = [np.zeros((design.d, 3)), np.zeros((design.dense.shape[1], 3)), np.zeros(3)]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    onehot = np.eye(3)[labels]
    for step in range(1, ITERATIONS + 1):
        weights, dense_w, bias = params
        residual = (_softmax(design.logits(weights, dense_w, bias)) - onehot) / design.n
        grads = [design.sparse_gradient(residual) + l2 * weights / design.n,
                 design.dense.T @ residual + l2 * dense_w / design.n, residual.sum(axis=0)]
        for param, grad, (m, v) in zip(params, grads, moments, strict=True):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= LEARNING_RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return params[0], params[1], params[2]


def best_thresholds(raw: np.ndarray, labels: np.ndarray, metric: str) -> tuple[float, float, float]:
    """The (negative_at, positive_at) pair on raw = p(pos) - p(neg) that maximises `metric`."""
    grid = np.round(np.arange(-0.8, 0.81, 0.02), 2)
    best = (-1.0, -0.05, 0.05)
    for lo, hi in itertools.combinations(grid, 2):
        predicted = np.where(raw >= hi, 2, np.where(raw <= lo, 0, 1))
        value = metrics(labels.tolist(), predicted.tolist())[metric]
        if value > best[0] + 1e-9:
            best = (value, float(lo), float(hi))
    return best


def train_language(lang: str) -> dict[str, object]:
    data = training_set(lang)
    # Rules only: the model must learn on top of the lexicon scores, never on its own earlier output.
    scorer = SentimentScorer(default_lang=lang, use_models=False)
    analyses: list[Analysis] = [scorer.analyze(text, lang) for text in data.texts]
    labels = np.asarray(data.labels)
    dense = np.asarray([a.dense() for a in analyses], dtype=np.float64)
    order = np.random.default_rng(SEED).permutation(len(labels))
    folds = np.array_split(order, FOLDS)
    metric = METRIC[lang]
    compound = dense[:, 0]
    results = []
    for l2, bigrams, char_ngrams in itertools.product(GRID["l2"], GRID["bigrams"], GRID["char_ngrams"]):
        sparse = [features(a.words, bigrams=bigrams, char_ngrams=char_ngrams) for a in analyses]
        raw = np.zeros(len(labels))
        for k, held in enumerate(folds):
            fitted = np.concatenate([f for j, f in enumerate(folds) if j != k])
            vocab = vocabulary([sparse[i] for i in fitted])
            model = fit(Design([sparse[i] for i in fitted], dense[fitted], vocab), labels[fitted], l2)
            p = _softmax(Design([sparse[i] for i in held], dense[held], vocab).logits(*model))
            raw[held] = p[:, 2] - p[:, 0]
        for blend in BLENDS:
            value, lo, hi = best_thresholds((1 - blend) * raw + blend * compound, labels, metric)
            print(f"  {lang} l2={l2:<4} bigrams={bigrams!s:5} chars={char_ngrams!s:9} blend={blend:<4} "
                  f"cross-validated {metric} {value:.4f} (thresholds {lo:+.2f} / {hi:+.2f})", flush=True)
            results.append((value, Setting(l2, bigrams, char_ngrams, blend), lo, hi))
    # The best cross-validated setting; on a tie, the one giving the lexicon the most say.
    value, setting, lo, hi = max(results, key=lambda r: (r[0], r[1].blend))
    best = value
    sparse = [features(a.words, bigrams=setting.bigrams, char_ngrams=setting.char_ngrams) for a in analyses]
    vocab = vocabulary(sparse)
    weights, dense_w, bias = fit(Design(sparse, dense, vocab), labels, setting.l2)
    names = sorted(vocab, key=vocab.__getitem__)
    spec = {
        "lang": lang, "classes": list(CLASSES), "dense_features": list(DENSE),
        "bigrams": setting.bigrams, "char_ngrams": list(setting.char_ngrams), "blend": setting.blend,
        "bias": [round(float(b), 5) for b in bias],
        "dense": [[round(float(x), 5) for x in row] for row in dense_w],
        "thresholds": [lo, hi],
        "trained_on": f"{data.name} ({len(labels)} items), shuffled with seed {SEED}",
        "cross_validated": {metric: round(best, 4), "folds": FOLDS, "l2": setting.l2},
        # Features whose three weights all round to zero change nothing: leave them out of the file.
        "weights": {n: [round(float(x), 4) for x in weights[vocab[n]]] for n in names
                    if np.abs(weights[vocab[n]]).max() >= 5e-5},
    }
    print(f"{lang}: chose l2={setting.l2} bigrams={setting.bigrams} chars={setting.char_ngrams} "
          f"blend={setting.blend}, "
          f"{len(spec['weights'])} features, cross-validated {metric} {value:.4f}")  # type: ignore[arg-type]
    return spec


def main() -> None:
    parser = argparse.ArgumentParser(description="Train Veille's sentiment models on XLM-T train splits.")
    parser.add_argument("--lang", choices=("en", "fr", "both"), default="both")
    args = parser.parse_args()
    for lang in ("en", "fr") if args.lang == "both" else (args.lang,):
        spec = train_language(lang)
        path = OUT / f"model_{lang}.json"
        path.write_text(json.dumps(spec, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
