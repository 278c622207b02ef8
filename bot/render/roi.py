"""Render `/kpi roi` as Block Kit: each campaign's counts, CTR, conversion rate and cost per lead against targets."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.messages import Lang, t
from bot.render.cards import Rendered
from bot.render.escape import escape, truncate
from bot.services.roi import METRICS, CampaignFigures, RoiSummary, Verdict

SHOWN = 20  # campaigns listed one by one; Block Kit allows 50 blocks
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "JPY": "¥"}


def _number(value: float, lang: Lang, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    # French: narrow no-break space between thousands, decimal comma.
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def money(amount: float, currency: str, lang: Lang) -> str:
    """An amount as people read it: "€1,234.50" in English, "1 234,50 €" in French."""
    symbol = _SYMBOLS.get(currency, f"{currency} ").strip() if lang == "fr" else _SYMBOLS.get(currency, f"{currency} ")
    return f"{_number(amount, lang, 2)} {symbol}" if lang == "fr" else f"{symbol}{_number(amount, lang, 2)}"


def _percent(value: float, lang: Lang) -> str:
    return f"{_number(100 * value, lang, 1)} %" if lang == "fr" else f"{_number(100 * value, lang, 1)}%"


def figure(metric: str, value: float | None, currency: str, lang: Lang) -> str:
    """A metric's value in its unit (rates as percentages, cost per lead as money); "n/a" without one."""
    if value is None:
        return t("roi_no_figure", lang)
    return money(value, currency, lang) if metric == "cost_per_lead" else _percent(value, lang)


def _verdict(verdict: Verdict, currency: str, lang: Lang) -> str:
    target = figure(verdict.metric, verdict.target, currency, lang)
    op = "≤" if verdict.lower_is_better else "≥"
    key = {True: "roi_target_met", False: "roi_target_missed", None: "roi_target_unknown"}[verdict.met]
    return t(key, lang, op=op, target=target)


def campaign_text(item: CampaignFigures, currency: str, lang: Lang, *, name: str) -> str:
    totals = item.totals
    lines = [f"*{name}*", t("roi_counts", lang, impressions=_number(totals.impressions, lang),
                              clicks=_number(totals.clicks, lang), conversions=_number(totals.conversions, lang),
                              leads=_number(totals.leads, lang), spend=money(totals.spend, currency, lang))]
    rates = []
    for metric in METRICS:
        part = f"{t(f'roi_{metric}', lang)} *{figure(metric, totals.metric(metric), currency, lang)}*"
        if metric in item.verdicts:
            part += f" ({_verdict(item.verdicts[metric], currency, lang)})"
        rates.append(part)
    lines.append(" · ".join(rates))
    return truncate("\n".join(lines), 3000)


def render_roi(summary: RoiSummary, *, lang: Lang, span: str) -> Rendered:
    """The `/kpi roi` answer: all campaigns together, then each campaign, biggest spend first."""
    title = t("roi_title", lang, span=span)
    blocks: list = [HeaderBlock(text=truncate(title, 150))]
    if not summary.campaigns:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=t("roi_empty", lang))))
        return Rendered(f"{title}: {t('roi_empty', lang)}", [b.to_dict() for b in blocks])
    overall_name = escape(summary.overall.campaign) if summary.overall.campaign else t("roi_total", lang)
    blocks.append(SectionBlock(text=MarkdownTextObject(
        text=campaign_text(summary.overall, summary.currency, lang, name=overall_name))))
    if len(summary.campaigns) > 1 or not summary.overall.campaign:
        for item in summary.campaigns[:SHOWN]:
            blocks.append(SectionBlock(text=MarkdownTextObject(
                text=campaign_text(item, summary.currency, lang, name=escape(item.campaign)))))
        if len(summary.campaigns) > SHOWN:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(
                text=t("roi_more", lang, n=len(summary.campaigns) - SHOWN))]))
    totals = summary.overall.totals
    counts = t("roi_counts", lang, impressions=_number(totals.impressions, lang), clicks=_number(totals.clicks, lang),
               conversions=_number(totals.conversions, lang), leads=_number(totals.leads, lang),
               spend=money(totals.spend, summary.currency, lang))
    text = f"{title}: {counts}"
    return Rendered(truncate(text, 4000), [b.to_dict() for b in blocks])
