"""Engagement: rules fan out into tasks with deadlines and varied replies; consistency, nudges and escalations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rules.compile import ItemContext, RuleSet
from rules.engagement import Tally, Task, consistency, escalations_due, nudge_due
from rules.loader import rules_from_yaml

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Paris

WORKSPACE = """
brand: {name: Maison Lumen, language: fr, timezone: Europe/Paris}
admins: [U0ADMIN]
channels: {triage: C0TRIAGE}
fallback_owner: U0LEAD
influencers: {tiers: {micro: 10000, macro: 100000}}
responsibilities:
  - {name: support, owners: [U0SUP1], keywords: [commande, order]}
  - {name: community, owners: [U0CM1], sentiment: positive}
"""

RULES = """
charter:
  link: {fr: https://maisonlumen.fr/charte}
  clauses:
    - {id: spam, title: Spam, wording: Pas de spam., action: hide, detect: [shortener]}
    - {id: insults, title: Insultes, wording: Pas d'insultes., severity: high, action: hide, terms: [connard]}
schedules:
  business-hours: {days: [mon, tue, wed, thu, fri], hours: "09:00-18:00"}
engagement:
  - {id: ignore-spam, title: Ignorer le spam, when: {violation: [spam]}, action: ignore}
  - id: thank-positive
    title: Remercier chaque mention positive
    when: {sentiment: positive, question: false, not: {violation: true}}
    action: thank
    within: 24h
    template: thanks
  - {id: answer-questions, title: Répondre aux questions, when: {question: true}, action: reply, within: 2h,
     template: question, nudge_before: 30m}
  - id: influencer-complaints
    title: Escalader les plaintes d'influenceurs
    when: {influencer: true, sentiment: negative}
    action: escalate
    within: 1h
    owner: U0LEAD
    escalate_to: U0DIRECTOR
  - id: charter-reminder
    title: Rappeler la charte
    when: {any: [{violation: [insults]}, {severity: critical}]}
    action: reply
    within: 4h
    template: charter
  - {id: like-instagram, title: Aimer, when: {networks: instagram, sentiment: positive, kinds: comment}, action: like,
     within: 24h}
  - {id: after-hours, title: Hors heures, outside: business-hours, when: {sentiment: negative}, action: escalate,
     within: 1h}
templates:
  thanks:
    fr: ["Merci {author} !", "Merci beaucoup {name} 💛", "Un grand merci de toute l'équipe {brand} !"]
    en: ["Thanks {author}!", "Thank you so much {name}!"]
  question:
    fr: ["Bonjour {author}, on vous répond en message privé."]
  charter:
    fr: ["{author}, merci de respecter notre charte : {charter_link}"]
"""


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return rules_from_yaml(WORKSPACE, RULES)


def matches(ruleset: RuleSet, text: str, *, now: datetime = NOW, **item: object) -> dict[str, object]:
    fields: dict[str, object] = {"text": text, "lang": "fr", "author_handle": "lea", "key": "x:1"} | item
    decision = ruleset.evaluate(ItemContext(**fields), now=now)  # type: ignore[arg-type]
    return {m.rule_id: m for m in decision.engagement}


class TestRules:
    def test_a_positive_mention_is_thanked_within_24_hours_by_the_routed_owner(self, ruleset: RuleSet) -> None:
        thank = matches(ruleset, "Superbe lampe !", sentiment="positive")["thank-positive"]
        assert (thank.action, thank.owner, thank.due_at, thank.nudge_at, thank.escalate_to) == (
            "thank", "U0CM1", NOW + timedelta(hours=24), NOW + timedelta(hours=18), "U0LEAD")
        assert thank.reason == "positive, not a question, not (a violation)"
        assert thank.reply is not None and thank.reply.lang == "fr"
        assert thank.creates_task

    def test_rules_fan_out_and_a_rule_owner_overrides_routing(self, ruleset: RuleSet) -> None:
        found = matches(ruleset, "Ma commande est en retard, honteux", sentiment="negative", author_followers=50_000)
        assert set(found) == {"influencer-complaints"}
        assert (found["influencer-complaints"].owner, found["influencer-complaints"].escalate_to) == ("U0LEAD",
                                                                                                    "U0DIRECTOR")
        found = matches(ruleset, "Superbe ! Dispo en blanc ?", sentiment="positive", network="instagram",
                        kind="comment")
        assert set(found) == {"answer-questions", "like-instagram"}
        assert found["answer-questions"].nudge_at == NOW + timedelta(minutes=90)

    def test_an_ignore_rule_vetoes_the_other_tasks(self, ruleset: RuleSet) -> None:
        found = matches(ruleset, "Une question ? https://bit.ly/x", sentiment="neutral")
        assert found["ignore-spam"].action == "ignore" and not found["ignore-spam"].creates_task
        assert found["answer-questions"].suppressed_by == "ignore-spam"
        assert not found["answer-questions"].creates_task

    def test_violations_and_severity_as_conditions(self, ruleset: RuleSet) -> None:
        found = matches(ruleset, "connard", sentiment="negative")
        assert found["charter-reminder"].reason == "violation insults"
        assert found["charter-reminder"].reply.text == "@lea, merci de respecter notre charte : " \
                                                       "https://maisonlumen.fr/charte"

    def test_a_scheduled_rule_only_applies_while_in_force(self, ruleset: RuleSet) -> None:
        assert "after-hours" not in matches(ruleset, "bof", sentiment="negative")
        evening = matches(ruleset, "bof", sentiment="negative", now=datetime(2026, 11, 16, 19, tzinfo=UTC))
        assert evening["after-hours"].reason == "negative (outside business-hours)"


class TestReplies:
    def test_variants_are_stable_per_item_and_varied_across_items(self, ruleset: RuleSet) -> None:
        first = [matches(ruleset, "Top !", sentiment="positive", key=f"x:{i}")["thank-positive"].reply
                 for i in range(30)]
        again = [matches(ruleset, "Top !", sentiment="positive", key=f"x:{i}")["thank-positive"].reply
                 for i in range(30)]
        assert first == again
        assert {r.variant for r in first if r} == {0, 1, 2}
        texts = {r.text for r in first if r}
        assert texts == {"Merci @lea !", "Merci beaucoup lea 💛", "Un grand merci de toute l'équipe Maison Lumen !"}

    def test_an_item_without_key_picks_by_its_text_even_a_broken_one(self, ruleset: RuleSet) -> None:
        reply = matches(ruleset, "Top \ud800 !", sentiment="positive", key="")["thank-positive"].reply
        assert reply is not None and reply.text.startswith(("Merci", "Un grand merci"))

    def test_the_item_language_then_the_brand_language(self, ruleset: RuleSet) -> None:
        english = matches(ruleset, "Love it!", sentiment="positive", lang="en", key="x:2")["thank-positive"].reply
        assert english is not None and english.lang == "en"
        german = matches(ruleset, "Toll!", sentiment="positive", lang="de")["thank-positive"].reply
        assert german is not None and german.lang == "fr"  # no German variants: the brand's language
        question = matches(ruleset, "Do you ship?", lang="en")["answer-questions"].reply
        assert question is not None and question.lang == "fr"  # the only language the template has


def task(rule: str, owner: str, due_h: float, done_h: float | None = None, **extra: object) -> Task:
    fields: dict[str, object] = {"rule_id": rule, "action": "thank", "owner": owner, "created_at": NOW,
                                 "due_at": NOW + timedelta(hours=due_h),
                                 "done_at": None if done_h is None else NOW + timedelta(hours=done_h)} | extra
    return Task(**fields)  # type: ignore[arg-type]


class TestConsistency:
    TASKS = [
        task("thank", "U1", 24, 2),  # on time
        task("thank", "U1", 24, 23.9),  # on time
        task("thank", "U2", 24, 30),  # late
        task("thank", "U2", 24, 10),  # on time
        task("thank", "U2", 100),  # still open, not yet due: pending
        task("thank", "U1", 24, cancelled=True),  # out of every count
        task("reply", "U1", 2),  # open and past due: overdue
        task("reply", "U2", 2, 1, action="reply"),  # on time
    ]
    NOW_ = NOW + timedelta(hours=48)

    def test_thanked_3_of_4(self) -> None:
        report = consistency(self.TASKS, self.NOW_)
        thank = report.by_rule["thank"]
        assert (thank.overall.on_time, thank.overall.late, thank.overall.overdue, thank.overall.pending) == (3, 1, 0, 1)
        assert thank.overall.share == 0.75 and thank.overall.matched == 5
        assert thank.overall.describe("thank") == "thanked 3 of 4 — 75%"
        assert thank.overall.describe("thank", "fr") == "remercié 3 sur 4 — 75\u202f%"

    def test_per_owner_and_overall(self) -> None:
        report = consistency(self.TASKS, self.NOW_)
        thank = report.by_rule["thank"]
        assert thank.by_owner["U1"].share == 1.0 and thank.by_owner["U2"].share == 0.5
        assert report.by_rule["reply"].overall.describe("reply") == "answered 1 of 2 — 50%"
        assert (report.by_owner["U1"].on_time, report.by_owner["U1"].decided) == (2, 3)
        assert (report.by_owner["U2"].on_time, report.by_owner["U2"].decided) == (2, 3)
        assert (report.overall.on_time, report.overall.decided, report.overall.share) == (4, 6, 4 / 6)

    def test_nothing_decided_yet(self) -> None:
        assert Tally().share is None and Tally().describe("thank") == "thanked 0 of 0 — n/a"
        assert consistency([], NOW).overall.decided == 0

    def test_done_exactly_at_the_deadline_is_on_time(self) -> None:
        assert consistency([task("thank", "U1", 24, 24)], NOW).overall.on_time == 1


class TestNudgesAndEscalations:
    def test_nudged_before_the_deadline_then_escalated_after_it(self) -> None:
        open_task = task("thank", "U1", 24, nudge_at=NOW + timedelta(hours=18))
        assert nudge_due([open_task], NOW + timedelta(hours=17)) == []
        assert nudge_due([open_task], NOW + timedelta(hours=18)) == [open_task]
        assert escalations_due([open_task], NOW + timedelta(hours=23)) == []
        assert nudge_due([open_task], NOW + timedelta(hours=25)) == []  # too late to nudge: it escalates
        assert escalations_due([open_task], NOW + timedelta(hours=24)) == [open_task]

    def test_done_nudged_escalated_or_cancelled_tasks_are_left_alone(self) -> None:
        at = NOW + timedelta(hours=30)
        tasks = [task("t", "U1", 24, 3, nudge_at=NOW), task("t", "U1", 24, nudged_at=NOW, nudge_at=NOW),
                 task("t", "U1", 24, escalated_at=at), task("t", "U1", 24, cancelled=True)]
        assert nudge_due(tasks, NOW + timedelta(hours=1)) == []
        assert escalations_due(tasks, at) == [tasks[1]]

    def test_a_decision_gives_its_tasks(self, ruleset: RuleSet) -> None:
        decision = ruleset.evaluate(ItemContext(text="Superbe !", sentiment="positive", lang="fr", key="x:9"),
                                    now=NOW)
        [only] = decision.tasks(created_at=NOW, item=42)
        assert (only.rule_id, only.owner, only.due_at, only.item, only.open) == (
            "thank-positive", "U0CM1", NOW + timedelta(hours=24), 42, True)
