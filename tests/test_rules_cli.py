"""`veille rules explain` and `veille rules test`: the rules checked against examples and against stored items."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from bot import models
from bot.cli import main
from bot.db import make_engine
from bot.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "veille.example.yaml")


def explain(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str,
            *args: str) -> list[dict[str, object]]:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert main(["rules", "explain", "--config", EXAMPLE, "--at", "2026-11-16T11:00+01:00", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


class TestExplain:
    def test_one_json_object_per_line_with_violations_engagement_and_route(self, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
        lines = "T'es un c0nn@rd\nMerci pour la lampe Aurore !\n\nVous livrez en Belgique ?\n"
        out = explain(monkeypatch, capsys, lines, "--lang", "fr", "--sentiment", "neutral")
        assert [o["line"] for o in out] == [1, 2, 3, 4]
        assert out[0]["violations"] == [{"clause": "insultes", "title": "Insultes et attaques personnelles",
                                         "severity": "high", "action": ["hide", "report"], "start": 8, "end": 15,
                                         "matched": "c0nn@rd", "how": "term 'connard'"}]
        assert [e["rule"] for e in out[0]["engagement"]] == ["rappeler-la-charte"]
        assert out[0]["route"]["reason"] == "no responsibility matched: triage · fallback owner U0CM1"
        assert out[2]["text"] == "" and out[2]["violations"] == []
        assert [e["rule"] for e in out[3]["engagement"]] == ["repondre-questions"]
        assert out[3]["engagement"][0]["reply"].startswith("Bonjour @line4")

    def test_the_item_context_comes_from_the_options(self, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
        [out] = explain(monkeypatch, capsys, "Ma commande n'arrive pas, c'est une honte\n", "--network", "instagram",
                        "--followers", "250000", "--lang", "fr", "--sentiment", "negative", "--kind", "comment")
        assert (out["network"], out["kind"], out["influencer_tier"]) == ("instagram", "comment", "macro")
        assert out["route"]["responsibility"] == "influencers" and out["route"]["priority"] == "high"
        assert "escalader-influenceurs" in [e["rule"] for e in out["engagement"]]

    def test_repeated_lines_show_the_campaign_detector(self, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
        line = "Boycott Maison Lumen, leurs lampes sont fabriquées dans des conditions indignes\n"
        out = explain(monkeypatch, capsys, line * 3, "--lang", "fr", "--sentiment", "negative")
        assert [[v["clause"] for v in o["violations"]] for o in out] == [[], [], ["spam-arnaques"]]

    def test_sentiment_is_scored_as_the_pipeline_does_when_not_given(self, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
        [out] = explain(monkeypatch, capsys, "I love this lamp, it is wonderful!\n")
        assert out["sentiment"] == "positive" and "thank-positive" not in out  # fr rule ids in the example
        assert [e["rule"] for e in out["engagement"]] == ["remercier-positifs"]

    def test_from_a_shell(self) -> None:
        result = subprocess.run([sys.executable, "-m", "bot.cli", "rules", "explain", "--config", EXAMPLE,
                                 "--sentiment", "neutral", "--lang", "en"], input="call me on +44 7700 900123\n",
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        [out] = [json.loads(line) for line in result.stdout.splitlines()]
        assert out["violations"][0]["clause"] == "personal-data" and out["violations"][0]["matched"] == \
            "+44 7700 900123"


class TestReplay:
    @pytest.fixture
    def stored(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> datetime:
        url = f"sqlite:///{tmp_path / 'veille.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        engine = make_engine(url)
        upgrade(engine)
        now = datetime.now(UTC)
        with Session(engine) as session:
            for i, (text, label, days) in enumerate([
                ("Quel connard ce livreur", "negative", 1),
                ("Merci pour la lampe, superbe !", "positive", 2),
                ("Ma commande est en retard", "negative", 3),
                ("Trop vieux pour compter : connard", "negative", 30),
            ]):
                author = models.Author(network="x", handle=f"user{i}", name=f"User {i}", followers=100,
                                       first_seen_at=now, last_seen_at=now)
                session.add(author)
                session.flush()
                session.add(models.Mention(network="x", external_id=f"t{i}", source="x-main", kind="mention",
                                           author_id=author.id, text=text, lang="fr",
                                           created_at=now - timedelta(days=days), ingested_at=now, raw={},
                                           sentiment_label=label, sentiment_compound=0.0))
            session.commit()
        engine.dispose()
        return now

    def test_prints_what_an_edited_file_would_change(self, stored: datetime, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
        charter = (ROOT / "rules" / "examples" / "charter.fr.yaml").read_text(encoding="utf-8")
        edited = tmp_path / "charter.fr.yaml"
        edited.write_text(charter.replace("        - connard\n", "").replace("fuzzy: 88", "fuzzy: 99"),
                          encoding="utf-8")
        assert main(["rules", "test", "--config", EXAMPLE, "--since", "7d", str(edited)]) == 0
        out = capsys.readouterr().out
        assert "replaying 3 item(s)" in out
        assert "x:t0 @user0" in out and "charter: - insultes 'connard'" in out
        assert "engagement: - rappeler-la-charte (reply)" in out
        assert "3 item(s) replayed, 1 would change." in out
        assert "charter clauses (items): insultes 1→0" in out

    def test_an_invalid_edit_is_refused_with_its_line(self, stored: datetime, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
        edited = tmp_path / "engagement.fr.yaml"
        edited.write_text((ROOT / "rules" / "examples" / "engagement.fr.yaml").read_text(encoding="utf-8")
                          .replace("within: 24h", "within: demain"), encoding="utf-8")
        assert main(["rules", "test", "--config", EXAMPLE, str(edited)]) == 2
        err = capsys.readouterr().err
        assert f"{edited}:" in err and "'demain' is not a duration" in err

    def test_no_change_says_so(self, stored: datetime, capsys) -> None:  # type: ignore[no-untyped-def]
        assert main(["rules", "test", "--config", EXAMPLE, str(ROOT / "rules" / "examples" / "charter.en.yaml")]) == 0
        out = capsys.readouterr().out
        assert "3 item(s) replayed, 0 would change." in out and "routing (items): no change" in out
