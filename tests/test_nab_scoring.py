"""The NAB scoring rules on tiny hand-computed files, and against a published NAB row when the data is here."""

from __future__ import annotations

import csv
import json
import math
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bench.nab_scoring import (
    STANDARD,
    CostMatrix,
    detections_at,
    normalized_score,
    normalized_total,
    probationary_length,
    scaled_sigmoid,
    score_file,
    threshold_sweep,
)

T0 = datetime(2015, 3, 1)
N = 100  # rows; the probationary period is floor(0.15 * 100) = 15 rows
STAMPS = [T0 + timedelta(minutes=5 * i) for i in range(N)]
WINDOW = (STAMPS[40], STAMPS[49])  # rows 40..49, width 10


def hits(*rows: int) -> list[bool]:
    return [i in rows for i in range(N)]


def s(x: float) -> float:
    """The scaled sigmoid written independently: 2 / (1 + e^(5x)) - 1 == tanh(-2.5 x)."""
    return math.tanh(-2.5 * x)


class TestScaledSigmoid:
    def test_matches_the_paper_landmarks(self) -> None:
        assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
        assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
        assert scaled_sigmoid(0.0) == 0.0
        assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
        assert scaled_sigmoid(3.5) == -1.0  # far behind a window: the full penalty

    def test_probationary_period_is_15_percent_capped_at_750_rows(self) -> None:
        assert probationary_length(100) == 15
        assert probationary_length(4999) == 749
        assert probationary_length(15831) == 750


class TestScoreFile:
    def test_detection_on_the_first_row_of_a_window_is_worth_exactly_tp_weight(self) -> None:
        result = score_file(STAMPS, hits(40), [WINDOW])
        assert result.score == pytest.approx(1.0)
        assert (result.tp, result.fp, result.fn) == (1, 0, 9)
        assert result.windows[0].delay == 0

    def test_detection_on_the_last_row_is_worth_little(self) -> None:
        # position -(49 - 49 + 1) / 10 = -0.1, normalised by S(-1)
        result = score_file(STAMPS, hits(49), [WINDOW])
        assert result.score == pytest.approx(s(-0.1) / s(-1.0))
        assert result.score == pytest.approx(0.24824, abs=1e-5)

    def test_only_the_earliest_detection_in_a_window_counts(self) -> None:
        result = score_file(STAMPS, hits(45, 41, 48), [WINDOW])
        assert result.score == pytest.approx(s(-0.9) / s(-1.0))
        assert result.tp == 3  # NAB's published counts are rows, not windows

    def test_false_positive_just_after_a_window_costs_almost_nothing(self) -> None:
        # The window is missed (-1); row 50 is 1 row past its end: distance 1 / (10 - 1).
        result = score_file(STAMPS, hits(50), [WINDOW])
        assert result.score == pytest.approx(-1.0 + 0.11 * s(1 / 9))
        assert 0.11 * s(1 / 9) == pytest.approx(-0.0298, abs=1e-4)
        assert (result.tp, result.fp) == (0, 1)

    def test_false_positive_far_after_a_window_or_before_any_costs_fp_weight(self) -> None:
        assert score_file(STAMPS, hits(20), [WINDOW]).score == pytest.approx(-1.11)  # before any window
        assert score_file(STAMPS, hits(90), [WINDOW]).score == pytest.approx(-1.11)  # 41 rows past: > 3 widths

    def test_a_missed_window_costs_fn_weight(self) -> None:
        result = score_file(STAMPS, hits(), [WINDOW])
        assert result.score == -1.0
        assert (result.null_score, result.perfect_score) == (-1.0, 1.0)
        assert result.windows[0].first_detection is None

    def test_detections_in_the_probationary_period_are_ignored(self) -> None:
        result = score_file(STAMPS, hits(3, 14), [WINDOW])
        assert result.score == -1.0
        assert result.fp == 0
        assert result.tp + result.tn + result.fp + result.fn == N - 15

    def test_a_window_inside_the_probationary_period_does_not_count(self) -> None:
        early = (STAMPS[2], STAMPS[5])
        result = score_file(STAMPS, hits(), [early, WINDOW])
        assert len(result.windows) == 1
        assert result.null_score == -1.0

    def test_profiles_change_the_weights(self) -> None:
        low_fn = CostMatrix.from_profile({"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11,
                                                         "tnWeight": 1.0}})
        assert score_file(STAMPS, hits(), [WINDOW], costs=low_fn).score == -2.0

    def test_timestamps_and_detections_must_line_up(self) -> None:
        with pytest.raises(ValueError, match="length"):
            score_file(STAMPS, [False], [WINDOW])


class TestNormalisation:
    def test_null_is_0_and_perfect_is_100(self) -> None:
        assert normalized_score(-3.0, -3.0, 3.0) == 0.0
        assert normalized_score(3.0, -3.0, 3.0) == 100.0
        files = [score_file(STAMPS, hits(40), [WINDOW]), score_file(STAMPS, hits(), [WINDOW])]
        assert normalized_total(files) == pytest.approx(100 * (0.0 + 2) / 4)

    def test_threshold_sweep_agrees_with_scoring_each_threshold(self) -> None:
        scores = [0.0] * N
        scores[45], scores[20], scores[60], scores[10] = 0.9, 0.7, 0.5, 0.95
        curve = dict(threshold_sweep([(STAMPS, scores, [WINDOW])]))
        assert 0.95 not in curve  # row 10 is in the probationary period: not a threshold that changes anything
        for threshold in (0.9, 0.7, 0.5, 0.0):
            expected = score_file(STAMPS, detections_at(scores, threshold), [WINDOW]).score
            assert curve[threshold] == pytest.approx(expected)


def _nab_dir() -> Path:
    root = os.environ.get("VEILLE_SHARED_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return base / "nab"


@pytest.mark.skipif(not (_nab_dir() / "results" / "numenta" / "realTweets").is_dir(),
                    reason="the shared NAB data is not here")
def test_reproduces_a_published_nab_row() -> None:
    """numenta on Twitter_volume_CRM: our scorer must give NAB's published Score and row counts."""
    nab = _nab_dir()
    key = "realTweets/Twitter_volume_CRM.csv"
    with (nab / "results/numenta/numenta_standard_scores.csv").open() as f:
        published = next(r for r in csv.DictReader(f) if r["File"] == key)
    with (nab / "results/numenta/realTweets/numenta_Twitter_volume_CRM.csv").open() as f:
        rows = list(csv.DictReader(f))
    windows = [(datetime.fromisoformat(a), datetime.fromisoformat(b))
               for a, b in json.loads((nab / "labels/combined_windows.json").read_text())[key]]
    result = score_file([datetime.fromisoformat(r["timestamp"]) for r in rows],
                        detections_at([float(r["anomaly_score"]) for r in rows], float(published["Threshold"])),
                        windows, costs=STANDARD)
    assert result.score == pytest.approx(float(published["Score"]), abs=1e-9)
    assert (result.tp, result.tn, result.fp, result.fn) == tuple(int(published[k]) for k in ("TP", "TN", "FP", "FN"))
