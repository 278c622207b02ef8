"""Hostile text through the whole pipeline, on SQLite and PostgreSQL: nothing crashes, each mention is stored once,
its text comes back as sent (or in the documented storable form: NUL and lone surrogates become U+FFFD), and the
card Slack would receive never carries a live special mention, user mention or link from the text."""

from __future__ import annotations

import itertools
import json
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot import models
from bot.clock import FrozenClock
from bot.console.demo import demo_rules, demo_workspace
from bot.db import session_scope
from bot.pipeline import RulesContext, ingest_page, storable
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from monitors.sources.base import Mention, Page, PayloadInvalid
from tests.conftest import T0

HOSTILE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero-width
    "\u202e", "\u202d", "\u2067", "\u2069", "\u200f", "\u061c",  # bidi overrides and marks
    "مرحبا", "שלום", "👩‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "🇫🇷", "é", "e\u0301", "ﬁ",  # RTL, ZWJ emoji, combining
    "\x00", "\ud800", "\udfff", "\ud83d", "\x1b[31m", "\r\n", "\t",  # NUL, lone surrogates, control
    "<!channel>", "<!here>", "<!everyone>", "<@U0ADMIN>", "<#C0TRIAGE>", "<!subteam^S0123|@team>",
    "<!date^1392734382^{date}|x>", "*bold*", "_it_", "~strike~", "`code`", "```block```", "> quote",
    "<http://evil.example|your bank>", "<https://x.com>", "&lt;", "&gt;", "&amp;", "&", "<", ">", "|",
    "<script>alert(1)</script>", "<b>html</b>", "[link](http://x)", ":tada:", "@maisonlumen", "#BoycottLumen",
    "idiot", "connard", "Love the Aurore lamp", "toujours pas reçu ma commande",
]

hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE),
                                  st.text(st.characters(codec=None, exclude_categories=()), max_size=12)),
                        max_size=12).map("".join)
# What may appear between < and > in the card: the routing's owners and the card's own link, nothing else.
ANGLE = re.compile(r"<([^<>]*)>")
COUNTER = itertools.count()


def _mrkdwn(blocks: list[dict]) -> list[str]:
    """Every mrkdwn text of a message's blocks (plain_text is never parsed for mentions)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def _ingest_and_render(engine, text: str, name: str) -> None:  # type: ignore[no-untyped-def]
    workspace, clock = _WORLD["workspace"], FrozenClock(T0)
    n = next(COUNTER)
    mention = Mention(network="x", external_id=f"h{n}", kind="mention", author_handle=f"fuzz{n % 7}",
                      author_name=name or None, author_followers=n, text=text, created_at=T0, lang=None,
                      permalink=f"https://x.com/fuzz/status/{n}", raw={"id": f"h{n}", "text": text, name: [text]})
    with session_scope(engine) as session:
        first = ingest_page(session, Page([mention, mention], None), source="fuzz", workspace=workspace,
                            scorer=_WORLD["scorer"], now=T0, rules=_WORLD["rules"])
    with session_scope(engine) as session:
        again = ingest_page(session, Page([mention], None), source="fuzz", workspace=workspace,
                            scorer=_WORLD["scorer"], now=T0, rules=_WORLD["rules"])
    assert (first.stored, first.duplicates, again.stored, again.duplicates) == (1, 1, 0, 1)
    with Session(engine) as session:
        [row] = session.exec(select(models.Mention).where(models.Mention.external_id == f"h{n}")).all()
        # Round trip: as sent, or with NUL and lone surrogates replaced by U+FFFD (what UTF-8 and PG can hold).
        assert row.text == storable(text)
        assert storable(text) == text or "\x00" in text or re.search("[\ud800-\udfff]", text)
        assert row.raw["text"] == storable(text) and row.raw[storable(name)] == [storable(text)]
        author = session.get(models.Author, row.author_id)
        assert author is not None and (author.name == storable(name) or not name)  # an empty name keeps the last
        card = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.key == f"card:{row.id}")).one()
        rendered = OutboxRenderer(workspace, clock)(session, card)
    members = {f"@{user}" for r in workspace.responsibilities for user in r.owners} | {f"@{workspace.fallback_owner}"}
    own_link = f"https://x.com/fuzz/status/{n}|"
    for text_field in [*_mrkdwn(rendered.blocks), rendered.text]:
        for inside in ANGLE.findall(text_field):
            assert inside in members or inside.startswith(own_link), (inside, text_field[:300])
        assert "<!" not in text_field and "<#" not in text_field
    json.dumps(rendered.blocks)  # what slack_sdk sends: serializable, whatever the text


_WORLD: dict[str, object] = {}


def _world() -> None:
    if not _WORLD:
        workspace = demo_workspace().model_copy(update={"triage": demo_workspace().triage.model_copy(
            update={"post_interval_s": 0, "flood_threshold": 1000})})
        ruleset = demo_rules()
        _WORLD.update(workspace=workspace, scorer=SentimentScorer.for_workspace(workspace),
                      rules=RulesContext(ruleset, ruleset.new_campaign_window()))


def _examples(engine, sqlite: int, postgresql: int) -> settings:  # type: ignore[no-untyped-def]
    return settings(max_examples=sqlite if engine.dialect.name == "sqlite" else postgresql, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                    database=None)


def test_hostile_text_is_stored_once_and_rendered_inert(engine) -> None:  # type: ignore[no-untyped-def]
    _world()

    @_examples(engine, sqlite=60, postgresql=15)
    @given(text=hostile_text, name=hostile_text)
    @example(text="a\x00b\ud800 <!channel> *x* <@U0ADMIN> \u202e", name="\udfffEve\x00")
    def check(text: str, name: str) -> None:
        _ingest_and_render(engine, text, name[:200])

    check()


def test_100_kb_texts(engine) -> None:  # type: ignore[no-untyped-def]
    _world()

    @_examples(engine, sqlite=4, postgresql=2)
    @given(unit=st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=6).map("".join))
    def check(unit: str) -> None:
        text = (unit * (100_000 // len(unit) + 1))[:100_000]
        _ingest_and_render(engine, text, "Big Text")

    check()


def test_the_storable_form_is_documented_and_idempotent() -> None:
    assert storable("a\x00b\ud800c\udfffd") == "a\ufffdb\ufffdc\ufffdd"
    assert storable("👩‍👩‍👧‍👦 <!channel> \u202e") == "👩‍👩‍👧‍👦 <!channel> \u202e"  # everything else is kept as is
    text = "plain"
    assert storable(text) is text


def test_hostile_items_set_aside_are_kept_once(engine) -> None:  # type: ignore[no-untyped-def]
    _world()

    @_examples(engine, sqlite=25, postgresql=8)
    @given(text=hostile_text)
    @example(text="\x00\ud800<!here>")
    def check(text: str) -> None:
        problem = PayloadInvalid("x", f"item has no id: {text[:50]}", item={"text": text, text: [text, 1]})
        source = f"fuzz{next(COUNTER)}{text!r}"[:100]  # hypothesis may replay a text: a new source each time
        outcomes = []
        for _ in range(2):
            with session_scope(engine) as session:
                outcomes.append(ingest_page(session, Page([], None, rejected=[problem]), source=source,
                                            workspace=_WORLD["workspace"], scorer=_WORLD["scorer"], now=T0).rejected)
        assert outcomes == [1, 0]
        with Session(engine) as session:
            kept = session.exec(select(models.RejectedItem).where(
                models.RejectedItem.source == storable(source))).all()
        assert len(kept) == 1 and kept[0].raw["text"] == storable(text)

    check()
