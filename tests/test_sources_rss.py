"""The RSS/Atom connector: Google Alerts and RSS 2.0 feeds, conditional GET, link unwrapping, entry dedup."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from monitors.sources.base import NotSupported, PayloadInvalid
from monitors.sources.rss import RssConnector, RssOptions, unwrap_link
from tests.source_fakes import FakeApi, fixture_bytes, raw

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FEED = "/alerts/feeds/00000000000000000000/0000000000000000000"
ATOM = {"Content-Type": "application/atom+xml; charset=utf-8", "ETag": '"v1-abc"',
        "Last-Modified": "Fri, 20 Nov 2026 09:45:00 GMT"}


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi(now=NOW)
    yield fake
    fake.close()


def make_rss(path: str = FEED) -> RssConnector:
    options = RssOptions(url=TypeAdapter(RssOptions.model_fields["url"].annotation).validate_python(
        f"https://www.google.test{path}"))
    return RssConnector("alerts", options, backfill=timedelta(days=7))


def test_google_redirects_are_unwrapped_and_other_links_kept() -> None:
    assert unwrap_link("https://www.google.com/url?rct=j&sa=t&url=https://a.example/x%3Fy%3D1&ct=ga") == \
        "https://a.example/x?y=1"
    assert unwrap_link("https://news.example/a?url=https://elsewhere") == "https://news.example/a?url=https://elsewhere"
    assert unwrap_link("https://www.google.com/url?url=javascript:alert(1)") == \
        "https://www.google.com/url?url=javascript:alert(1)"


class TestGoogleAlerts:
    def test_first_poll_reads_entries_of_the_backfill_window_as_keywords(self, api: FakeApi) -> None:
        api.on("GET", FEED, raw(fixture_bytes("rss", "google_alerts.xml"), headers=ATOM))

        result = make_rss().poll({}, http=api.http(network="rss"), now=NOW)

        first, second = result.mentions  # the third entry is older than the backfill window
        assert first.kind == "keyword"
        assert first.external_id == "tag:google.com,2013:googlealerts/feed:11111111111111111111"
        assert first.permalink == "https://www.deco-magazine.example/aurore-maison-lumen?utm_source=alert"
        assert first.author_handle == "deco-magazine.example"
        assert first.text.startswith("La lampe Aurore de Maison Lumen séduit les décorateurs\n\nLe studio lyonnais")
        assert first.created_at == datetime(2026, 11, 20, 9, 45, tzinfo=UTC)
        assert second.permalink == "https://forum.conso.example/t/maison-lumen-livraison/4412"
        assert result.cursor["etag"] == '"v1-abc"' and result.cursor["modified"] == ATOM["Last-Modified"]
        assert len(result.cursor["seen"]) == 3

    def test_an_unchanged_feed_costs_a_304_and_yields_nothing(self, api: FakeApi) -> None:
        api.on("GET", FEED, raw(fixture_bytes("rss", "google_alerts.xml"), headers=ATOM), raw(b"", status=304))
        connector = make_rss()
        first = connector.poll({}, http=api.http(network="rss"), now=NOW)

        second = connector.poll(first.cursor, http=api.http(network="rss"), now=NOW + timedelta(minutes=15))

        conditional = api.calls(FEED)[1]
        assert conditional.headers["if-none-match"] == '"v1-abc"'
        assert conditional.headers["if-modified-since"] == ATOM["Last-Modified"]
        assert second.mentions == [] and second.cursor == first.cursor

    def test_entries_already_seen_are_not_delivered_again(self, api: FakeApi) -> None:
        body = fixture_bytes("rss", "google_alerts.xml")
        api.on("GET", FEED, raw(body, headers={"Content-Type": "application/atom+xml"}))
        connector = make_rss()
        first = connector.poll({}, http=api.http(network="rss"), now=NOW)
        again = connector.poll(first.cursor, http=api.http(network="rss"), now=NOW + timedelta(minutes=15))
        assert len(first.mentions) == 2 and again.mentions == []


class TestRss2:
    def test_items_without_an_id_are_set_aside_and_undated_ones_kept(self, api: FakeApi) -> None:
        api.on("GET", "/feed.xml", raw(fixture_bytes("rss", "feed_rss2.xml"), headers={"Content-Type": "text/xml"}))

        result = make_rss("/feed.xml").poll({}, http=api.http(network="rss"), now=NOW)

        news, blog = result.mentions
        assert (news.external_id, news.lang, news.text) == (
            "news-example-8812", "fr", "Maison Lumen ouvre une boutique à Paris\n\nLa marque lyonnaise s'installe "
                                       "rue de Charonne.")
        assert blog.created_at == NOW and blog.author_handle == "claire@blog.example (Claire)"
        [problem] = result.rejected
        assert problem.reason == "entry has neither id nor link"

    def test_hostile_text_comes_out_as_the_reader_saw_it(self, api: FakeApi) -> None:
        hostile = ("<rss><channel><title>t</title><item><guid>g1</guid><title>&lt;!channel&gt; &lt;@U1&gt; 🙋 "
                   "\u202eevil</title><description>" + "y" * 100_000 + "</description></item></channel></rss>")
        api.on("GET", "/feed.xml", raw(hostile.encode(), headers={"Content-Type": "application/rss+xml"}))
        [mention] = make_rss("/feed.xml").poll({}, http=api.http(network="rss"), now=NOW).mentions
        assert mention.text == "<!channel> <@U1> 🙋 \u202eevil\n\n" + "y" * 100_000

    def test_a_page_that_is_not_a_feed_is_a_typed_error(self, api: FakeApi) -> None:
        api.on("GET", "/feed.xml", raw(b'{"error": "not a feed"}', headers={"Content-Type": "application/json"}))
        with pytest.raises(PayloadInvalid, match="not an RSS or Atom feed"):
            make_rss("/feed.xml").poll({}, http=api.http(network="rss"), now=NOW)

    def test_feeds_cannot_be_replied_to(self, api: FakeApi) -> None:
        with pytest.raises(NotSupported):
            make_rss().reply({"id": "x"}, "hi", http=api.http(network="rss"), idempotency_key="k")
