"""ROI: campaign results pushed through the signed webhook or imported from CSV, and `/kpi roi`'s numbers
(click-through rate, conversion rate, cost per lead) against the objectives, checked by hand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session, func, select

from bot import models
from bot.cli import main
from bot.console import slack_requests
from bot.errors import ConfigError
from bot.render.roi import money, render_roi
from bot.runtime import Runtime, RuntimeOptions
from bot.services.kpi import Period
from bot.services.kpi_objectives import measure
from bot.services.roi import ResultIn, campaign_summary, days_in, import_csv, roi_metric, store_results
from bot.workspace import parse_workspace
from monitors.roi_webhook import roi_hooks_from_config
from monitors.webhooks import sign
from tests.conftest import T0, WORKSPACE_YAML
from tests.slackbot import SECRET, wait_until

TZ = "Europe/Paris"  # the team's time zone: ROI results are counted in its days
PARIS = ZoneInfo(TZ)
HOOK_SECRET = "roi-secret-0123456789abcdef"
ROI_YAML = WORKSPACE_YAML + """
objectives:
  - {id: ctr, title: "CTR of 2 %", metric: ctr, target: 0.02}
  - {id: cpl, title: "Leads under 60 €", metric: cost_per_lead, target: 60}
roi:
  currency: EUR
  hooks:
    ads:
      secret: ${ROI_ADS_SECRET}
  objectives:
    black-friday: {conversion_rate: 0.05}
"""

# Two days of results (18 and 19 November) and one row outside every window below (10 November).
RESULTS = [
    {"campaign": "black-friday", "day": "2026-11-18", "network": "instagram", "impressions": 10000, "clicks": 200,
     "conversions": 10, "leads": 8, "spend": 300},
    {"campaign": "black-friday", "day": "2026-11-19", "network": "instagram", "impressions": 5000, "clicks": 100,
     "conversions": 5, "leads": 2, "spend": 150.5},
    {"campaign": "black-friday", "day": "2026-11-19", "network": "facebook", "impressions": 5000, "clicks": 50,
     "conversions": 0, "leads": 0, "spend": "49.50"},
    {"campaign": "newsletter", "day": "2026-11-19"},
    {"campaign": "newsletter", "day": "2026-11-10", "impressions": 999, "clicks": 999, "leads": 1, "spend": 999},
]
START = datetime(2026, 11, 18, tzinfo=PARIS)
END = datetime(2026, 11, 20, tzinfo=PARIS)  # days 18 and 19


@pytest.fixture
def roi_workspace():  # type: ignore[no-untyped-def]
    return parse_workspace(ROI_YAML, "test.yaml")


def store(engine, items: list[dict]) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        store_results(session, [ResultIn.model_validate(i) for i in items], source="test", currency="EUR", now=T0)
        session.commit()


def rows(engine) -> list[models.CampaignResult]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(models.CampaignResult).order_by(models.CampaignResult.campaign,
                                                                        models.CampaignResult.day,
                                                                        models.CampaignResult.network)).all())


class TestFigures:
    def test_days_counted_are_those_whose_midnight_falls_in_the_period(self) -> None:
        assert days_in(START, END, TZ) == (date(2026, 11, 18), date(2026, 11, 20))
        # "the last 7 days" at 10:00 in Paris: today and the 6 days before, each once.
        start = datetime(2026, 11, 13, 10, tzinfo=PARIS)
        assert days_in(start, datetime(2026, 11, 20, 10, tzinfo=PARIS), TZ) == (date(2026, 11, 14),
                                                                                date(2026, 11, 21))

    def test_rates_over_all_campaigns_and_per_network(self, engine) -> None:
        store(engine, RESULTS)
        with Session(engine) as session:
            # All networks, 18-19 Nov: impressions 10000 + 5000 + 5000 = 20000; clicks 200 + 100 + 50 = 350;
            # conversions 10 + 5 + 0 = 15; leads 8 + 2 + 0 = 10; spend 300 + 150.50 + 49.50 = 500.00.
            assert roi_metric(session, "ctr", START, END, tz=TZ) == pytest.approx(350 / 20000)  # 0.0175
            assert roi_metric(session, "conversion_rate", START, END, tz=TZ) == pytest.approx(15 / 350)  # 0.0429
            assert roi_metric(session, "cost_per_lead", START, END, tz=TZ) == pytest.approx(500 / 10)  # 50.00
            # Instagram only: 300 / 15000 = 0.02; 15 / 300 = 0.05; (300 + 150.50) / (8 + 2) = 45.05.
            assert roi_metric(session, "ctr", START, END, "instagram", tz=TZ) == pytest.approx(0.02)
            assert roi_metric(session, "conversion_rate", START, END, "instagram", tz=TZ) == pytest.approx(0.05)
            assert roi_metric(session, "cost_per_lead", START, END, "instagram", tz=TZ) == pytest.approx(45.05)
            # Facebook: no lead, so no cost per lead (not 0, not infinity); 0 conversions of 50 clicks = 0.
            assert roi_metric(session, "cost_per_lead", START, END, "facebook", tz=TZ) is None
            assert roi_metric(session, "conversion_rate", START, END, "facebook", tz=TZ) == 0.0
            # A day without results: every rate is None.
            empty = (datetime(2026, 11, 1, tzinfo=PARIS), datetime(2026, 11, 2, tzinfo=PARIS))
            assert [roi_metric(session, m, *empty, tz=TZ) for m in ("ctr", "conversion_rate", "cost_per_lead")] == [
                None, None, None]
            with pytest.raises(ValueError, match="unknown ROI metric"):
                roi_metric(session, "roas", START, END, tz=TZ)

    def test_each_campaign_against_its_objectives(self, engine, roi_workspace) -> None:
        store(engine, RESULTS)
        with Session(engine) as session:
            summary = campaign_summary(session, START, END, workspace=roi_workspace, tz=TZ)
        assert [c.campaign for c in summary.campaigns] == ["black-friday", "newsletter"]  # biggest spend first
        bf = summary.campaigns[0]
        assert (bf.totals.impressions, bf.totals.clicks, bf.totals.conversions, bf.totals.leads,
                bf.totals.spend_cents) == (20000, 350, 15, 10, 50000)
        # CTR 0.0175 < 0.02: missed. Conversion rate 15 / 350 = 0.0429 < the campaign's own 0.05: missed.
        # Cost per lead 50.00 <= 60: met (lower is better).
        assert {m: v.met for m, v in bf.verdicts.items()} == {"ctr": False, "conversion_rate": False,
                                                              "cost_per_lead": True}
        # The newsletter has no impression, click nor lead: no figure, so no verdict either way.
        newsletter = summary.campaigns[1]
        assert {m: v.met for m, v in newsletter.verdicts.items()} == {"ctr": None, "cost_per_lead": None}
        assert summary.overall.totals.spend_cents == 50000

    def test_an_objective_counts_the_teams_days_like_kpi_roi(self, engine, roi_workspace) -> None:
        store(engine, RESULTS)
        # A rolling period of two days ending 19 Nov 23:30 UTC, i.e. 18 Nov 00:30 -> 20 Nov 00:30 in Paris: the
        # midnights inside are Paris's 19 and 20 Nov, so only the 19th's rows count (the 18th's did in UTC days).
        period = Period(datetime(2026, 11, 17, 23, 30, tzinfo=UTC), datetime(2026, 11, 19, 23, 30, tzinfo=UTC),
                            "2d")
        [ctr] = [o for o in roi_workspace.objectives if o.metric == "ctr"]
        with Session(engine) as session:
            measured = measure(session, ctr, period, workspace=roi_workspace, cache={})
            shown = campaign_summary(session, period.start, period.end, workspace=roi_workspace,
                                     tz=TZ).overall.totals.metric("ctr")
        assert measured == shown == pytest.approx(150 / 10000)  # 19 Nov: (100 + 50) clicks / (5000 + 5000)

    def test_the_roi_answer_reads_well_in_both_languages(self, engine, roi_workspace) -> None:
        store(engine, RESULTS)
        with Session(engine) as session:
            summary = campaign_summary(session, START, END, workspace=roi_workspace, tz=TZ,
                                       campaign="black-friday")
        english = json.dumps(render_roi(summary, lang="en", span="Nov 18 → Nov 19").blocks, ensure_ascii=False)
        assert "20,000 impressions · 350 clicks · 15 conversions · 10 leads · spend €500.00" in english
        assert "CTR *1.8%* (⚠️ below target ≥ 2.0%)" in english  # 350 / 20000 = 1.75 % shown as 1.8 %
        assert "Cost per lead *€50.00* (✅ target ≤ €60.00)" in english
        french = json.dumps(render_roi(summary, lang="fr", span="18/11 → 19/11").blocks, ensure_ascii=False)
        assert "Coût par lead *50,00 €*" in french and "Taux de conversion *4,3 %*" in french  # 15 / 350 = 4.29 %
        assert money(1234.5, "EUR", "fr") == "1\u202f234,50 €" and money(1234.5, "USD", "en") == "$1,234.50"


class TestStore:
    def test_a_repush_replaces_the_day_and_never_duplicates(self, engine) -> None:
        store(engine, RESULTS[:1])
        store(engine, [{**RESULTS[0], "clicks": 260, "spend": 320.25}])
        stored = rows(engine)
        assert len(stored) == 1
        assert (stored[0].clicks, stored[0].spend_cents) == (260, 32025)

    def test_the_last_of_two_equal_keys_in_one_batch_wins(self, engine) -> None:
        with Session(engine) as session:
            outcome = store_results(session, [ResultIn.model_validate(RESULTS[0]),
                                              ResultIn.model_validate({**RESULTS[0], "leads": 9})],
                                    source="test", currency="EUR", now=T0)
            session.commit()
        assert (outcome.stored, outcome.updated) == (1, 0)
        assert rows(engine)[0].leads == 9


# ---------------------------------------------------------------------------------------------
# Webhook


@pytest.fixture
def runtime(db_url, fake_slack, roi_workspace, clock) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    hooks = roi_hooks_from_config(roi_workspace.roi, environ={"ROI_ADS_SECRET": HOOK_SECRET})
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=roi_workspace, clock=clock, outbox_idle_s=0.05,
                                     roi_hooks=hooks))
    runtime.start(poll=False)
    yield runtime
    runtime.stop()


def push(runtime: Runtime, body: bytes | object, *, secret: str = HOOK_SECRET, signed: bool = True,
         timestamp: int | None = None, name: str = "ads") -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = int(T0.timestamp()) if timestamp is None else timestamp  # the bot's clock is frozen at T0
    headers = {"Content-Type": "application/json"}
    if signed:
        headers |= {"X-Veille-Timestamp": str(ts), "X-Veille-Signature": sign(secret, ts, raw)}
    return httpx.post(f"{runtime.url}/hooks/roi/{name}", content=raw, headers=headers, timeout=10)


class TestWebhook:
    def test_a_signed_push_is_stored_and_a_duplicate_push_updates(self, runtime) -> None:
        first = push(runtime, RESULTS)
        assert first.status_code == 202, first.text
        assert first.json() == {"stored": 5, "updated": 0, "errors": []}
        again = push(runtime, RESULTS)
        assert again.json() == {"stored": 0, "updated": 5, "errors": []}
        assert len(rows(runtime.engine)) == 5
        revised = push(runtime, {**RESULTS[0], "leads": 12})
        assert revised.json() == {"stored": 0, "updated": 1, "errors": []}
        assert next(r for r in rows(runtime.engine) if r.network == "instagram").leads == 12

    def test_unsigned_wrongly_signed_and_stale_pushes_are_refused(self, runtime) -> None:
        unsigned = push(runtime, RESULTS, signed=False)
        assert unsigned.status_code == 401 and "missing X-Veille-Timestamp" in unsigned.json()["error"]
        wrong = push(runtime, RESULTS, secret="another-secret-0123456789")
        assert wrong.status_code == 401 and "does not match" in wrong.json()["error"]
        stale = push(runtime, RESULTS, timestamp=int(T0.timestamp()) - 600)
        assert stale.status_code == 401 and "more than 5 minutes" in stale.json()["error"]
        assert rows(runtime.engine) == []

    def test_bad_json_and_bad_shapes_get_clear_4xx(self, runtime) -> None:
        not_json = push(runtime, b"{campaign: bf")
        assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["error"]
        scalar = push(runtime, 42)
        assert scalar.status_code == 422 and "send an object or a list" in scalar.json()["error"]
        bad_day = push(runtime, {"campaign": "bf", "day": "20/11/2026", "clicks": 3})
        assert bad_day.status_code == 422
        assert bad_day.json()["error"] == "day: must be a date like 2026-11-20 (YYYY-MM-DD)"
        unknown = push(runtime, {"campaign": "bf", "day": "2026-11-20", "clikcs": 3})
        assert unknown.status_code == 422 and unknown.json()["error"].startswith("clikcs: unknown field")
        assert push(runtime, RESULTS, name="nope").status_code == 404
        assert rows(runtime.engine) == []

    def test_in_a_list_bad_items_are_set_aside_and_good_ones_kept(self, runtime) -> None:
        answer = push(runtime, [RESULTS[0], {"campaign": "bf", "day": "2026-11-19", "clicks": -1},
                                {**RESULTS[1], "currency": "USD"}, {**RESULTS[2], "clicks": 12.5}])
        assert answer.status_code == 202
        body = answer.json()
        assert (body["stored"], body["updated"]) == (1, 0)
        assert [e["index"] for e in body["errors"]] == [1, 2, 3]
        assert body["errors"][0]["error"] == "[1].clicks: Input should be greater than or equal to 0"
        assert "currency USD differs from the workspace's EUR" in body["errors"][1]["error"]
        assert body["errors"][2]["error"] == "[3].clicks: must be a whole number like 120"
        assert len(rows(runtime.engine)) == 1

    def test_hook_secrets_come_from_the_environment_and_must_be_long(self, roi_workspace) -> None:
        with pytest.raises(ConfigError) as unset:
            roi_hooks_from_config(roi_workspace.roi, environ={})
        assert "roi.hooks.ads.secret: environment variable ROI_ADS_SECRET is not set" in str(unset.value)
        with pytest.raises(ConfigError) as short:
            roi_hooks_from_config(roi_workspace.roi, environ={"ROI_ADS_SECRET": "short"})
        assert "at least 16 characters" in str(short.value) and "short" not in str(short.value).split(": ")[1]


# ---------------------------------------------------------------------------------------------
# CSV


CSV = """campaign;day;network;impressions;clicks;conversions;leads;spend
black-friday;2026-11-18;instagram;10 000;200;10;8;300,00
black-friday;2026-11-31;instagram;1;1;1;1;1
newsletter;2026-11-19;;0;0;0;0;0
promo;2026-11-19;instagram;abc;1;1;1;1
;2026-11-19;x;1;1;1;1;1
promo;2026-11-19;x;1;1;1;1
"""


class TestCsv:
    def test_bad_lines_are_listed_good_ones_kept_and_a_reimport_changes_nothing(self, engine) -> None:
        with Session(engine) as session:
            report = import_csv(session, CSV, currency="EUR", now=T0)
            session.commit()
        assert (report.stored, report.updated) == (2, 0)
        assert [(e.line, e.column) for e in report.errors] == [(3, "day"), (5, "impressions"), (6, "campaign"),
                                                               (7, "(line)")]
        assert "write the day as YYYY-MM-DD" in report.errors[0].message
        assert str(report.errors[1]) == ("line 5, column impressions: must be a whole number like 120; "
                                         "write a whole number like 120")
        assert "has 7 cells but the header has 8" in report.errors[3].message
        stored = rows(engine)
        # "10 000" and the French "300,00" read as people write them; an empty network means all networks.
        assert [(r.campaign, r.network, r.impressions, r.spend_cents) for r in stored] == [
            ("black-friday", "instagram", 10000, 30000), ("newsletter", "all", 0, 0)]
        with Session(engine) as session:
            again = import_csv(session, CSV, currency="EUR", now=T0 + timedelta(hours=1))
            session.commit()
        assert (again.stored, again.updated, len(again.errors)) == (0, 2, 4)
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(models.CampaignResult)).one() == 2

    def test_an_unknown_column_stops_the_import_before_any_line(self, engine) -> None:
        with Session(engine) as session:
            report = import_csv(session, "campaign,day,clics\nbf,2026-11-18,3\n", currency="EUR", now=T0)
        assert report.stored == 0
        assert [(e.line, e.column) for e in report.errors] == [(1, "clics")]
        assert "the columns are campaign, day, network" in report.errors[0].message

    def test_the_command_line_import(self, db_url, tmp_path, monkeypatch, capsys) -> None:
        config = tmp_path / "veille.yaml"
        config.write_text(ROI_YAML, encoding="utf-8")
        data = tmp_path / "results.csv"
        data.write_text(CSV, encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", db_url)
        monkeypatch.setenv("VEILLE_CONFIG", str(config))
        assert main(["roi", "import", str(data)]) == 1  # some lines refused; the good ones are stored
        out, err = capsys.readouterr()
        assert "2 new result(s), 0 updated, 4 line(s) refused" in out
        assert "line 3, column day:" in err and "line 7, column (line):" in err
        assert main(["roi", "import", str(data)]) == 1
        assert "0 new result(s), 2 updated" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# /kpi roi


def kpi(runtime: Runtime, fake, text: str) -> dict:  # type: ignore[no-untyped-def]
    before = len(fake.responses())
    body = slack_requests.slash_command("/kpi", text, user_id="U0CM1", channel_id="C0TRIAGE",
                                        response_url=fake.response_url(f"roi-{time.monotonic_ns()}"))
    signed = slack_requests.sign(body, SECRET)
    response = httpx.post(f"{runtime.url}/slack/events", content=signed.body, headers=signed.headers, timeout=10)
    assert response.status_code == 200
    wait_until(lambda: len(fake.responses()) > before, what="the /kpi roi answer")
    return fake.responses()[-1].body


class TestKpiRoiCommand:
    def test_the_last_7_days_per_campaign_against_objectives(self, runtime, fake_slack) -> None:
        push(runtime, RESULTS)
        answer = kpi(runtime, fake_slack, "roi 7d")
        assert answer["response_type"] == "ephemeral"
        shown = json.dumps(answer["blocks"], ensure_ascii=False)
        # 7 days ending 20 Nov 10:00 in Paris: 14-20 Nov, so the 10 Nov newsletter row is left out.
        assert "Campaign ROI — Nov 14, 2026 → Nov 20, 2026" in shown
        assert "*All campaigns*" in shown and "*black-friday*" in shown and "*newsletter*" in shown
        assert "20,000 impressions · 350 clicks · 15 conversions · 10 leads · spend €500.00" in shown
        assert "Conversion rate *4.3%* (⚠️ below target ≥ 5.0%)" in shown

    def test_one_campaign_by_name_and_an_empty_period(self, runtime, fake_slack) -> None:
        push(runtime, RESULTS)
        one = json.dumps(kpi(runtime, fake_slack, "roi 30d newsletter")["blocks"], ensure_ascii=False)
        # 30 days include 10 Nov: 999 impressions, 999 clicks, 1 lead for 999 € -> CTR 100 %, cost per lead 999.
        assert "*newsletter*" in one and "black-friday" not in one
        assert "CTR *100.0%*" in one and "Cost per lead *€999.00*" in one
        empty = kpi(runtime, fake_slack, "roi 2026-10-01..2026-10-07")
        assert "No campaign results for this period" in empty["text"]
