"""`veille rules explain` and `veille rules test`: check the rules against examples before they go live.

explain: one text per line on standard input -> one JSON object per line on standard output, with the
charter violations (clause, span), the impersonation flag, the engagement rules matched and the
routing decision with its reason, under the current config. Lines are treated as items from different
authors, in order: repeating a line three times shows the campaign detector at work, and round-robin
turns are visible across lines.

test: replays the items stored over a period through the current rules and through edited files,
and prints what would change, item by item, then a summary. Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from rules.compile import Decision, ItemContext, RuleSet
from rules.conditions import short
from rules.loader import load_rules
from rules.routing import MemoryAssignmentState
from rules.schema import KINDS, NETWORKS, SENTIMENTS, parse_duration


def add_rules_parser(sub: Any) -> None:
    """Add `rules explain` and `rules test` to the `veille` command line (`sub`: its subparsers)."""
    rules = sub.add_parser("rules", help="check the charter, engagement and routing rules against examples")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)

    explain = rules_sub.add_parser("explain", help="read one text per line on stdin, print one JSON decision per line")
    explain.add_argument("--config", default=None, help="veille.yaml (default: $VEILLE_CONFIG or veille.yaml)")
    explain.add_argument("--network", default="x", choices=NETWORKS, help="the items' network (default: x)")
    explain.add_argument("--kind", default="mention", choices=KINDS, help="the items' kind (default: mention)")
    explain.add_argument("--lang", default=None, help="the items' language, like fr or en (default: detected)")
    explain.add_argument("--followers", type=int, default=None, help="the author's follower count")
    explain.add_argument("--handle", default=None, help="the author's handle (default: a different one per line)")
    explain.add_argument("--name", default=None, help="the author's display name")
    explain.add_argument("--sentiment", default=None, choices=SENTIMENTS,
                         help="the items' sentiment (default: scored as the pipeline does)")
    explain.add_argument("--at", default=None,
                         help="when the items arrive, ISO 8601 like 2026-11-20T22:30+01:00 (default: now)")
    explain.set_defaults(func=cmd_explain)

    test = rules_sub.add_parser("test", help="replay stored items through edited rule files and print the changes")
    test.add_argument("edited", nargs="+",
                      help="edited files: a veille.yaml replaces the config, a rules file replaces the one "
                           "with the same name (or is added)")
    test.add_argument("--since", default="7d", help="how far back to replay, like 24h or 7d (default: 7d)")
    test.add_argument("--config", default=None, help="the current veille.yaml (default: $VEILLE_CONFIG or veille.yaml)")
    test.add_argument("--limit", type=int, default=50, help="changed items to print in full (default: 50)")
    test.set_defaults(func=cmd_test)


def _config(args: argparse.Namespace) -> str:
    from bot.settings import Settings

    return str(args.config or Settings().veille_config)


# ---------------------------------------------------------------------------------------------
# explain


def explain_lines(ruleset: RuleSet, lines: Iterable[str], *, network: str = "x", kind: str = "mention",
                  lang: str | None = None, followers: int | None = None, handle: str | None = None,
                  name: str | None = None, sentiment: str | None = None, at: datetime,
                  score: Any = None) -> Iterable[dict[str, Any]]:
    """One decision per text, as JSON-ready dicts; `score(text, lang)` gives (label, lang) when sentiment is None."""
    state = MemoryAssignmentState()
    window = ruleset.new_campaign_window()
    for number, line in enumerate(lines, 1):
        text = line.rstrip("\r\n")
        label, item_lang = sentiment or "neutral", lang
        if sentiment is None and score is not None:
            label, detected = score(text, lang)
            item_lang = lang or detected
        item = ItemContext(text=text, network=network, kind=kind, lang=item_lang, sentiment=label,
                           author_handle=handle or f"line{number}", author_name=name, author_followers=followers,
                           key=f"explain:{number}", created_at=at)
        decision = ruleset.evaluate(item, now=at, assignment=state, campaigns=window)
        state.record(decision.route)
        yield {"line": number, "text": text, "network": network, "kind": kind, "lang": item_lang,
               "sentiment": label, **decision.to_dict()}


def _scorer() -> Any:
    """The pipeline's sentiment scorer, as (text, lang) -> (label, detected language)."""
    from bot.sentiment import SentimentScorer

    scorer = SentimentScorer()

    def score(text: str, lang: str | None) -> tuple[str, str | None]:
        result = scorer.score(text, lang=lang)
        return result.label, result.lang

    return score


def cmd_explain(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    ruleset = load_rules(_config(args))
    at = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    out = stdout or sys.stdout
    for record in explain_lines(ruleset, stdin or sys.stdin, network=args.network, kind=args.kind, lang=args.lang,
                                followers=args.followers, handle=args.handle, name=args.name,
                                sentiment=args.sentiment, at=at,
                                score=None if args.sentiment else _scorer()):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()  # one answer per line as it comes, for interactive use
    return 0


# ---------------------------------------------------------------------------------------------
# test


def summarize(decision: Decision) -> dict[str, Any]:
    """The parts of a decision a rule change can change, in a comparable form."""
    return {
        "charter": sorted({f"{v.clause_id} '{short(v.matched, 30)}'" for v in decision.violations}),
        "impersonation": decision.impersonation.lookalike_of if decision.impersonation else None,
        "engagement": sorted(f"{m.rule_id} ({m.action}{', suppressed' if m.suppressed_by else ''})"
                             for m in decision.engagement),
        "route": f"{decision.route.responsibility or 'triage'} → {decision.route.channel}"
                 + (" (high priority)" if decision.route.priority == "high" else ""),
    }


def diff_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Human-readable differences between two summaries ([] when equal)."""
    lines = []
    for part in ("charter", "engagement"):
        removed = [x for x in before[part] if x not in after[part]]
        added = [x for x in after[part] if x not in before[part]]
        if removed or added:
            lines.append(f"  {part}: " + "  ".join([f"- {x}" for x in removed] + [f"+ {x}" for x in added]))
    if before["impersonation"] != after["impersonation"]:
        lines.append(f"  impersonation: {before['impersonation'] or 'none'} → {after['impersonation'] or 'none'}")
    if before["route"] != after["route"]:
        lines.append(f"  route: {before['route']} ⇒ {after['route']}")
    return lines


def replay(old: RuleSet, new: RuleSet, items: Sequence[ItemContext], *, out: TextIO, limit: int = 50) -> int:
    """Evaluate items (in time order) with both rule sets; print the changes and a summary; return how many changed."""
    states = (MemoryAssignmentState(), MemoryAssignmentState())
    windows = (old.new_campaign_window(), new.new_campaign_window())
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("old_clause", "new_clause", "old_rule", "new_rule",
                                                              "old_route", "new_route")}
    changed = 0
    for item in items:
        at = item.created_at or datetime.now(UTC)
        decisions = []
        for ruleset, state, window, side in ((old, states[0], windows[0], "old"), (new, states[1], windows[1], "new")):
            decision = ruleset.evaluate(item, now=at, assignment=state, campaigns=window)
            state.record(decision.route)
            counts[f"{side}_clause"].update({v.clause_id for v in decision.violations})
            counts[f"{side}_rule"].update(m.rule_id for m in decision.engagement if m.creates_task)
            counts[f"{side}_route"][decision.route.responsibility or "triage"] += 1
            decisions.append(decision)
        lines = diff_lines(summarize(decisions[0]), summarize(decisions[1]))
        if lines:
            changed += 1
            if changed <= limit:
                out.write(f"{item.key} @{item.author_handle} {at:%Y-%m-%d %H:%M} “{short(item.text)}”\n")
                out.write("\n".join(lines) + "\n")
    if changed > limit:
        out.write(f"… and {changed - limit} more changed item(s) (raise --limit to see them)\n")
    out.write(f"\n{len(items)} item(s) replayed, {changed} would change.\n")
    for label, key in (("charter clauses (items)", "clause"), ("engagement tasks", "rule"),
                       ("routing (items)", "route")):
        names = sorted(set(counts[f"old_{key}"]) | set(counts[f"new_{key}"]))
        moves = [f"{n} {counts[f'old_{key}'][n]}→{counts[f'new_{key}'][n]}" for n in names
                 if counts[f"old_{key}"][n] != counts[f"new_{key}"][n]]
        out.write(f"  {label}: {', '.join(moves) if moves else 'no change'}\n")
    return changed


def stored_items(database_url: str, since: datetime) -> list[ItemContext]:
    """Mentions stored since `since`, oldest first, as the rules see them."""
    from sqlmodel import Session, select

    from bot import models
    from bot.db import make_engine

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(models.Mention, models.Author).join(models.Author, models.Author.id == models.Mention.author_id)
                .where(models.Mention.created_at >= since).order_by(models.Mention.created_at, models.Mention.id)
            ).all()
            return [ItemContext(text=m.text, network=m.network, kind=m.kind, lang=m.lang, sentiment=m.sentiment_label,
                                author_handle=a.handle, author_name=a.name, author_followers=a.followers,
                                key=f"{m.network}:{m.external_id}", created_at=m.created_at) for m, a in rows]
    finally:
        engine.dispose()


def cmd_test(args: argparse.Namespace, *, stdout: TextIO | None = None, now: datetime | None = None) -> int:
    from bot.settings import Settings

    config = _config(args)
    try:
        since = parse_duration(args.since)
    except ValueError as exc:
        raise SystemExit(f"--since: {exc}") from None
    if not isinstance(since, timedelta):
        raise SystemExit("--since: write it like 24h or 7d")
    old = load_rules(config)
    new = load_rules(config, replace=args.edited)
    out = stdout or sys.stdout
    start = (now or datetime.now(UTC)) - since
    items = stored_items(Settings().database_url, start)
    out.write(f"replaying {len(items)} item(s) stored since {start:%Y-%m-%d %H:%M} UTC: rules {old.version} → "
              f"{new.version} ({new.summary()})\n\n")
    replay(old, new, items, out=out, limit=args.limit)
    return 0
