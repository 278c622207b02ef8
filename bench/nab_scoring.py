"""The Numenta Anomaly Benchmark scoring rules (standard profile by default), written from the NAB paper and docs.

Sources: Lavin & Ahmad (2015), "Evaluating Real-time Anomaly Detection Algorithms – the Numenta Anomaly
Benchmark" (arXiv:1510.03336), and the scorer documentation of numenta/NAB v1.1. The rules, per data file:

- The first 15 % of the rows (at most 750: 15 % of 5000) are a *probationary period*: detections there
  are ignored, and rows there count in no window and as no false positive.
- Each labelled anomaly window ``[start, end]`` (inclusive timestamps) scores once. Undetected, it costs
  ``-fnWeight``. Detected, only its best (that is, earliest) detection counts, worth
  ``tpWeight * S(p) / S(-1)`` where ``p = -(end_index - i + 1) / width`` is the detection's relative position
  (``-1`` at the first row, just below 0 at the last) and ``S(p) = 2 / (1 + e^(5p)) - 1`` is the scaled
  sigmoid. Dividing by ``S(-1)`` makes a detection on the window's first row worth exactly ``tpWeight``.
- Every detection outside a window is a false positive worth ``fpWeight * S(d)``: ``d`` is its distance in
  rows past the end of the most recent window, divided by that window's width minus one, so a false
  positive just after a window costs almost nothing and one far from it (``d > 3``), or before any
  window, costs the full ``fpWeight``.
- True negatives score nothing. The TP/TN/FP/FN *counts* NAB publishes count rows, not windows.

Normalisation over a set of files: ``100 * (raw - null) / (perfect - null)``, where ``null`` is the score of
a detector that never fires (``-fnWeight`` per window) and ``perfect`` is ``tpWeight`` per window.

Detections are rows where the detector's anomaly score is at or above the threshold; a detector that
emits 0/1 alerts is scored with threshold 1 (or any value in ``(0, 1]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CostMatrix:
    """The weights of one NAB application profile."""

    tp_weight: float = 1.0
    fp_weight: float = 0.11
    fn_weight: float = 1.0
    tn_weight: float = 1.0  # NAB lists it, but true negatives carry no score in any profile.

    @classmethod
    def from_profile(cls, profile: dict[str, object]) -> CostMatrix:
        """Read one entry of NAB's ``config/profiles.json`` (``{"CostMatrix": {"tpWeight": ...}}``)."""
        raw = profile.get("CostMatrix", profile)
        if not isinstance(raw, dict):
            raise ValueError("a NAB profile needs a CostMatrix object")
        return cls(tp_weight=float(raw["tpWeight"]), fp_weight=float(raw["fpWeight"]),
                   fn_weight=float(raw["fnWeight"]), tn_weight=float(raw.get("tnWeight", 1.0)))


STANDARD = CostMatrix()

PROBATION_PERCENT = 0.15
# NAB caps the probationary period at the length it would have for a 5000-row file.
PROBATION_CAP_ROWS = 5000


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: ~0.987 at a window's start (-1), 0 at its end (0), towards -1 after it."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probationary_length(n_rows: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a file whose detections are ignored."""
    return min(math.floor(percent * n_rows), math.floor(percent * PROBATION_CAP_ROWS))


@dataclass(frozen=True, slots=True)
class WindowScore:
    """How one labelled window was scored."""

    start_index: int
    end_index: int
    first_detection: int | None  # row index of the earliest scored detection in the window
    score: float

    @property
    def width(self) -> int:
        return self.end_index - self.start_index + 1

    @property
    def delay(self) -> int | None:
        """Rows from the window's first row to its first scored detection (None when missed)."""
        return None if self.first_detection is None else self.first_detection - self.start_index


@dataclass(frozen=True, slots=True)
class FileScore:
    """One file's NAB score and the row counts NAB publishes beside it."""

    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    windows: tuple[WindowScore, ...] = field(default_factory=tuple)
    fp_score: float = 0.0
    null_score: float = 0.0
    perfect_score: float = 0.0

    @property
    def detected_windows(self) -> int:
        return sum(1 for w in self.windows if w.first_detection is not None)


def window_indices(timestamps: Sequence[datetime],
                   windows: Sequence[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """Map each window's inclusive time limits to the row indices of its first and last rows."""
    spans: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        inside = [i for i, t in enumerate(timestamps) if start <= t <= end]
        if not inside:
            raise ValueError(f"window {start} .. {end} holds no row of the file")
        spans.append((inside[0], inside[-1]))
    for (_, previous_end), (next_start, _) in zip(spans, spans[1:], strict=False):
        if next_start <= previous_end:
            raise ValueError("NAB windows of one file must not overlap")
    return spans


@dataclass(frozen=True, slots=True)
class _Rows:
    """What a detection on each row of one file would be worth: the per-row side of the NAB rules."""

    spans: list[tuple[int, int]]
    owner: list[int | None]  # the window each row lies in
    value: list[float]  # reward (in a window) or penalty (outside) of a detection on that row
    probation: int
    scorable: list[bool]  # windows that count (not wholly inside the probationary period)


def _rows(timestamps: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]], costs: CostMatrix,
          probation_percent: float) -> _Rows:
    spans = window_indices(timestamps, windows)
    probation = probationary_length(len(timestamps), probation_percent)
    max_tp = scaled_sigmoid(-1.0)
    owner: list[int | None] = [None] * len(timestamps)
    value = [0.0] * len(timestamps)
    previous: tuple[int, int] | None = None  # (end index, width) of the last window already passed
    for k, (first, last) in enumerate(spans):
        for i in range(first, last + 1):
            owner[i] = k
    for i in range(len(timestamps)):
        k = owner[i]
        if k is not None:
            first, last = spans[k]
            width = last - first + 1
            value[i] = costs.tp_weight * scaled_sigmoid(-(last - i + 1) / width) / max_tp
            if i == last:
                previous = (i, width)
        elif previous is None:
            value[i] = -costs.fp_weight
        else:
            end, width = previous
            # NAB divides by (width - 1) here but by width inside a window; we keep its convention.
            value[i] = costs.fp_weight * scaled_sigmoid((i - end) / max(width - 1, 1))
    return _Rows(spans, owner, value, probation, [last >= probation for _, last in spans])


def score_file(timestamps: Sequence[datetime], detections: Sequence[bool],
               windows: Sequence[tuple[datetime, datetime]], *, costs: CostMatrix = STANDARD,
               probation_percent: float = PROBATION_PERCENT) -> FileScore:
    """Score one file's per-row detections against its labelled windows under one profile."""
    if len(timestamps) != len(detections):
        raise ValueError("timestamps and detections differ in length")
    rows = _rows(timestamps, windows, costs, probation_percent)
    best: list[float | None] = [None] * len(rows.spans)
    first_hit: list[int | None] = [None] * len(rows.spans)
    fp_score = 0.0
    tp = tn = fp = fn = 0
    for i in range(rows.probation, len(timestamps)):
        k, hit = rows.owner[i], detections[i]
        if k is not None:
            if hit:
                tp += 1
                current = best[k]
                if current is None or rows.value[i] > current:
                    best[k] = rows.value[i]
                if first_hit[k] is None:
                    first_hit[k] = i
            else:
                fn += 1
        elif hit:
            fp += 1
            fp_score += rows.value[i]
        else:
            tn += 1

    window_scores: list[WindowScore] = []
    total = fp_score
    for k, (first, last) in enumerate(rows.spans):
        if not rows.scorable[k]:
            continue
        found = best[k]
        value = found if found is not None else -costs.fn_weight
        total += value
        window_scores.append(WindowScore(first, last, first_hit[k], value))
    n_windows = len(window_scores)
    return FileScore(score=total, tp=tp, tn=tn, fp=fp, fn=fn, windows=tuple(window_scores), fp_score=fp_score,
                     null_score=-costs.fn_weight * n_windows, perfect_score=costs.tp_weight * n_windows)


def threshold_sweep(files: Sequence[tuple[Sequence[datetime], Sequence[float], Sequence[tuple[datetime, datetime]]]],
                    *, costs: CostMatrix = STANDARD,
                    probation_percent: float = PROBATION_PERCENT) -> list[tuple[float, float]]:
    """The summed raw score of a set of files at every distinct threshold, highest threshold first.

    Each file is (timestamps, anomaly scores, windows). Detections are rows with score >= threshold,
    as in `detections_at`; one sort of all rows replaces re-scoring every file at every threshold.
    """
    events: list[tuple[float, int, int, float]] = []  # (anomaly score, file, window or -1, value)
    total = 0.0
    offsets = []
    n_windows = 0
    for f, (timestamps, scores, windows) in enumerate(files):
        if len(timestamps) != len(scores):
            raise ValueError("timestamps and scores differ in length")
        rows = _rows(timestamps, windows, costs, probation_percent)
        offsets.append(n_windows)
        n_windows += len(rows.spans)
        total -= costs.fn_weight * sum(rows.scorable)
        for i in range(rows.probation, len(timestamps)):
            k = rows.owner[i]
            events.append((scores[i], f, -1 if k is None else offsets[f] + k, rows.value[i]))
    events.sort(key=lambda e: -e[0])
    best: list[float | None] = [None] * n_windows
    curve: list[tuple[float, float]] = []
    for n, (score, _, window, value) in enumerate(events):
        if window < 0:
            total += value
        else:
            current = best[window]
            if current is None:
                total += value + costs.fn_weight
                best[window] = value
            elif value > current:
                total += value - current
                best[window] = value
        if n + 1 == len(events) or events[n + 1][0] != score:
            curve.append((score, total))
    return curve


def detections_at(scores: Sequence[float], threshold: float) -> list[bool]:
    """Turn anomaly scores into detections the way NAB does: a row detects when its score >= threshold."""
    return [s >= threshold for s in scores]


def normalized_score(raw: float, null: float, perfect: float) -> float:
    """NAB's normalised score: 0 for the never-firing detector, 100 for a perfect one."""
    if perfect == null:
        raise ValueError("perfect and null scores are equal; nothing to normalise against")
    return 100.0 * (raw - null) / (perfect - null)


def normalized_total(files: Sequence[FileScore]) -> float:
    """Normalised score of a set of files scored with the same profile."""
    return normalized_score(sum(f.score for f in files), sum(f.null_score for f in files),
                            sum(f.perfect_score for f in files))
