"""What drives a spike: over-represented terms, influencers first, a few examples."""

from __future__ import annotations

from dataclasses import dataclass

from monitors.buzz import drivers
from monitors.buzz.explain import terms_of


@dataclass(frozen=True)
class Item:
    text: str
    author: str
    network: str = "x"
    negative: bool = True
    followers: int | None = None
    influencer: bool = False


BACKGROUND = [Item(f"Love the Lumen lamp, number {i}", f"fan{i}", negative=False) for i in range(30)]
SPIKE = [
    Item("Lumen lamp delivery late again, refund please", "angry1"),
    Item("Still no refund from Lumen for the broken lamp", "angry2", followers=120),
    Item("Broken lamp, no refund, Lumen ignores me", "star", followers=250_000, influencer=True),
    Item("Lumen refund? Broken on arrival", "angry3", network="mastodon"),
    Item("Nice lamp", "happy", negative=False),
]


def test_terms_are_what_is_new_not_what_is_always_there() -> None:
    result = drivers(SPIKE, BACKGROUND)
    assert result.terms[:2] == ("refund", "broken")
    assert "lumen" not in result.terms  # the brand is in every item, spike or not: not a driver


def test_influencers_come_first_then_examples_by_reach() -> None:
    result = drivers(SPIKE, BACKGROUND, max_examples=2)
    assert result.authors[0].author == "star" and result.authors[0].influencer
    assert [e.author for e in result.examples] == ["star", "angry2"]
    assert all(e.negative for e in result.examples)
    assert result.networks == (("x", 3), ("mastodon", 1))


def test_function_words_are_not_terms() -> None:
    assert terms_of("The lamp and the refund, pour les clients") == ["lamp", "refund", "clients"]


def test_without_a_background_the_most_frequent_terms_lead() -> None:
    assert drivers(SPIKE).terms[:2] == ("lumen", "refund")
