"""`veille buzz score --in FILE.csv --out OUT.csv`: NAB format in, timestamp,value,anomaly_score,alert out."""

from __future__ import annotations

import csv
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main

SPIKE_ROW = 450  # past the one-day warm-up


def write_series(path: Path, rows: int = 600, spike: bool = True) -> list[tuple[str, str]]:
    rng = random.Random(3)
    t0 = datetime(2015, 2, 26, 21, 42, 53)
    data = []
    for i in range(rows):
        t = t0 + timedelta(minutes=5 * i)
        lam = 30 * (1 + 0.5 * math.sin(2 * math.pi * (t.hour + t.minute / 60) / 24))
        value = max(0, round(rng.gauss(lam, math.sqrt(lam))))
        if spike and i == SPIKE_ROW:
            value += 400
        data.append((t.strftime("%Y-%m-%d %H:%M:%S"), str(value)))
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["timestamp", "value"])
        writer.writerows(data)
    return data


def read_output(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_scores_a_nab_file(tmp_path: Path) -> None:
    data = write_series(tmp_path / "in.csv")
    assert main(["buzz", "score", "--in", str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv")]) == 0
    with (tmp_path / "out.csv").open() as f:
        assert f.readline().strip() == "timestamp,value,anomaly_score,alert"
    rows = read_output(tmp_path / "out.csv")
    assert [(r["timestamp"], r["value"]) for r in rows] == data
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)
    assert {r["alert"] for r in rows} <= {"0", "1"}
    assert [i for i, r in enumerate(rows) if r["alert"] == "1"] == [SPIKE_ROW]
    assert float(rows[SPIKE_ROW]["anomaly_score"]) > 0.5
    assert not (tmp_path / "out.csv.tmp").exists()


def test_each_row_is_scored_from_the_past_only(tmp_path: Path) -> None:
    write_series(tmp_path / "full.csv")
    write_series(tmp_path / "cut.csv", rows=SPIKE_ROW)
    write_series(tmp_path / "other.csv", spike=False)
    for name in ("full", "cut", "other"):
        assert main(["buzz", "score", "--in", str(tmp_path / f"{name}.csv"), "--out",
                     str(tmp_path / f"{name}.out.csv")]) == 0
    full = read_output(tmp_path / "full.out.csv")
    assert read_output(tmp_path / "cut.out.csv") == full[:SPIKE_ROW]
    assert read_output(tmp_path / "other.out.csv")[:SPIKE_ROW] == full[:SPIKE_ROW]


def test_writes_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_series(tmp_path / "in.csv", rows=20, spike=False)
    assert main(["buzz", "score", "--in", str(tmp_path / "in.csv"), "--out", "-"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "timestamp,value,anomaly_score,alert" and len(out) == 21


def test_a_bad_row_is_named_and_nothing_is_left_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.csv").write_text("timestamp,value\n2015-02-26 21:42:53,3\nyesterday,4\n")
    assert main(["buzz", "score", "--in", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "out.csv")]) == 2
    assert "line 3" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.tmp").exists()


def test_a_wrong_header_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.csv").write_text("time,count\n2015-02-26 21:42:53,3\n")
    assert main(["buzz", "score", "--in", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "out.csv")]) == 2
    assert "timestamp,value" in capsys.readouterr().err
