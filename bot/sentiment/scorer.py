"""The one sentiment entry point: `SentimentScorer.score(text, lang=...)` → label, compound in -1..1, language.

For each text: normalise it; take the language from the source when it is French or English, else detect it
(the brand's language when the text is too short to tell); apply the brand's phrases and Slack corrections,
then the built-in idioms and emoji; score the result with the language's lexicon rules (VADER for English, the
French rules for French); let the language's small trained model weigh those scores with the words; map the
result to a compound whose sign and ±0.05 cut-offs give the label. A text a member corrected in Slack gets
the member's label.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Literal

from bot.sentiment.english import EnglishRules
from bot.sentiment.french import CLAUSE_BREAKS, FrenchRules, french_idioms
from bot.sentiment.french import tokens as french_tokens
from bot.sentiment.lang import LANGUAGES, LanguageDetector, normalize_lang
from bot.sentiment.model import Analysis, LinearModel, english_words, markers
from bot.sentiment.phrases import PREFIX, PhraseRewriter, emoji_rewriter, words_of
from bot.sentiment.resources import load_json, load_tsv
from bot.sentiment.text import fold, prepare, strip_handles

if TYPE_CHECKING:
    from bot.workspace import Workspace

logger = logging.getLogger(__name__)

Label = Literal["negative", "neutral", "positive"]
LABELS: tuple[Label, ...] = ("negative", "neutral", "positive")

# The label cut-offs on the compound score, VADER's own (README of vaderSentiment). Each language's raw score
# is mapped onto this scale with thresholds chosen on data (see `calibrate`), so `label_for` holds for all.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05

# Valence given to a term a member corrected in Slack (VADER's scale runs from -4 to +4; 2 is "clearly").
CORRECTION_VALENCE: dict[Label, float] = {"negative": -2.0, "neutral": 0.0, "positive": 2.0}
# Compound reported for a text whose label a member corrected, when the scorer's own compound disagrees.
CORRECTED_COMPOUND: dict[Label, float] = {"negative": -0.5, "neutral": 0.0, "positive": 0.5}

# Complaints about delays: a duration after "for", "since", "depuis"... ("waiting for 3 days", "depuis 2 semaines").
_EN_UNITS = frozenset({"days", "weeks", "months"})
_FR_UNITS = frozenset({"jours", "semaines", "mois"})
_DURATION_EN = (
    (r"\b(?:for|since|after|over|in)\s+(?:\d+|two|three|four|five|six|several|many)\s+(?:days|weeks|months)\b", -1.2,
     _EN_UNITS),
    (r"\b\d+\s+(?:days|weeks|months)\s+(?:later|now|and\s+still|and\s+no)\b", -1.2, _EN_UNITS),
)
_DURATION_FR = (
    (r"\b(?:depuis|[çc]a\s+fait|cela\s+fait|apr[èe]s|plus\s+de)\s+(?:\d+|deux|trois|quatre|cinq|plusieurs)\s+"
     r"(?:jours|semaines|mois)\b", -1.2, _FR_UNITS),
    (r"\b\d+\s+(?:jours|semaines|mois)\s+(?:que|sans|plus\s+tard)\b", -1.2, _FR_UNITS),
)


# Elided French articles and pronouns ("j'adore", "c'est", "n'importe"): English rarely has them.
_FRENCH_CUES = re.compile(r"(?<![\w'])(?:c|j|n|qu|d|l|m|t|s)'[^\W\d_]{2,}")


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: Label
    compound: float
    lang: str | None


@dataclass(frozen=True, slots=True)
class Correction:
    """A member's correction from Slack: this whole text (kind "text") or this term (kind "term") is `label`."""

    text: str
    label: Label
    kind: Literal["text", "term"] = "text"


@dataclass(frozen=True, slots=True)
class BrandOverrides:
    """The brand's own words: `overrides` maps a term or phrase to a valence (-4..4); neutral terms weigh 0."""

    overrides: Mapping[str, float] = field(default_factory=dict)
    neutral_terms: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = ()

    def merged(self, other: BrandOverrides) -> BrandOverrides:
        return BrandOverrides({**self.overrides, **other.overrides}, self.neutral_terms + other.neutral_terms,
                              self.corrections + other.corrections)

    def term_valences(self) -> dict[str, float]:
        table = {term: 0.0 for term in self.neutral_terms}
        table.update(self.overrides)
        # Corrections come last: what a member said in Slack beats the config.
        table.update({c.text: CORRECTION_VALENCE[c.label] for c in self.corrections if c.kind == "term"})
        # Terms are matched in text whose hashtags are unwrapped ("#AuroreLamp" → "Aurore Lamp"): same for them.
        return {strip_handles(prepare(term)): valence for term, valence in table.items()}

    def text_labels(self) -> dict[str, Label]:
        return {_text_key(c.text): c.label for c in self.corrections if c.kind == "text"}


def label_for(compound: float) -> Label:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def calibrate(raw: float, negative_at: float, positive_at: float) -> float:
    """Map a raw score in -1..1 piecewise-linearly so `negative_at`/`positive_at` land on the ±0.05 cut-offs."""
    if raw >= positive_at:
        span = 1.0 - positive_at
        value = POSITIVE_AT + (raw - positive_at) / span * (1.0 - POSITIVE_AT) if span > 0 else 1.0
        return max(POSITIVE_AT, min(1.0, round(value, 4)))
    if raw <= negative_at:
        span = 1.0 + negative_at
        value = NEGATIVE_AT - (negative_at - raw) / span * (1.0 + NEGATIVE_AT) if span > 0 else -1.0
        return min(NEGATIVE_AT, max(-1.0, round(value, 4)))
    value = NEGATIVE_AT + (raw - negative_at) / (positive_at - negative_at) * (POSITIVE_AT - NEGATIVE_AT)
    # Strictly inside the neutral band, whatever the rounding.
    return max(NEGATIVE_AT + 1e-4, min(POSITIVE_AT - 1e-4, round(value, 4)))


def _text_key(text: str) -> str:
    return " ".join(fold(prepare(text)).split())


@cache
def _models() -> dict[str, LinearModel]:
    return {lang: LinearModel(load_json(f"model_{lang}.json")) for lang in LANGUAGES}


@cache
def _builtin_phrases(lang: str) -> PhraseRewriter:
    if lang == "fr":
        return PhraseRewriter({**french_idioms(), **load_tsv("phrases_fr.tsv")}, _DURATION_FR)
    return PhraseRewriter(load_tsv("phrases_en.tsv"), _DURATION_EN)


@cache
def _french_rules() -> FrenchRules:
    return FrenchRules()


class SentimentScorer:
    """Score French and English texts. Build once (the first build loads ~1 s of resources), then share.

    Args:
        default_lang: the brand's language, used when a text is too short or ambiguous to tell.
        overrides: brand terms or phrases → valence on VADER's -4..+4 scale ("killer deal": 2.0).
        neutral_terms: brand terms that carry no sentiment for this brand (a product called "Killer").
        corrections: members' corrections from Slack (see `Correction`); they win over everything else.
        use_models: False scores with the lexicon rules alone (the training script needs that).
    """

    def __init__(self, *, default_lang: str = "en", overrides: Mapping[str, float] | None = None,
                 neutral_terms: Iterable[str] = (), corrections: Iterable[Correction] = (),
                 use_models: bool = True) -> None:
        self._brand = BrandOverrides(dict(overrides or {}), tuple(neutral_terms), tuple(corrections))
        self._use_models = use_models
        self._detector = LanguageDetector(default_lang)
        self._english = EnglishRules()
        self._french = _french_rules()
        self._models = _models() if use_models else {}
        self._emoji = {"en": emoji_rewriter(load_tsv("emoji.tsv"), keep_unknown=True),
                       "fr": emoji_rewriter(load_tsv("emoji.tsv"), keep_unknown=False)}
        self._brand_phrases = PhraseRewriter(self._brand.term_valences())
        self._text_labels = self._brand.text_labels()

    @property
    def default_lang(self) -> str:
        return self._detector.default

    @classmethod
    def for_workspace(cls, workspace: Workspace, corrections: Iterable[Correction] = ()) -> SentimentScorer:
        """Build the scorer of one brand: its language, its `sentiment:` config and its members' corrections."""
        config = workspace.sentiment
        return cls(default_lang=workspace.brand.language, overrides=config.overrides,
                   neutral_terms=config.neutral_terms, corrections=corrections)

    def with_overrides(self, *, overrides: Mapping[str, float] | None = None, neutral_terms: Iterable[str] = (),
                       corrections: Iterable[Correction] = ()) -> SentimentScorer:
        """Return a scorer with these overrides added to this one's (new entries win); this one is unchanged."""
        brand = self._brand.merged(BrandOverrides(dict(overrides or {}), tuple(neutral_terms), tuple(corrections)))
        return SentimentScorer(default_lang=self.default_lang, overrides=brand.overrides,
                               neutral_terms=brand.neutral_terms, corrections=brand.corrections,
                               use_models=self._use_models)

    def detect_language(self, text: str) -> str:
        """Return 'en' or 'fr' for a raw text (the default language when it can't tell)."""
        return self._detector.detect(strip_handles(prepare(text)))

    def analyze(self, text: str, lang: str) -> Analysis:
        """Return what the model sees of `text` scored as `lang` ('en' or 'fr'): rule scores, markers, words."""
        return self._analyze(prepare(text), lang)

    def _analyze(self, prepared: str, lang: str, content: str | None = None) -> Analysis:
        if content is None:
            content = strip_handles(prepared)
        folded = fold(content)
        words = frozenset(words_of(folded))
        rewritten = content
        if self._brand_phrases:
            rewritten = self._brand_phrases.rewrite(rewritten, words)
        rewritten = _builtin_phrases(lang).rewrite(rewritten, words)
        if not rewritten.isascii():
            rewritten = self._emoji[lang](rewritten)
        if rewritten != content:
            folded = fold(rewritten)
        if lang == "fr":
            tokens = french_tokens(folded)
            rules = self._french.scores_tokens(rewritten, tokens)
            model_words = tuple(w for w in tokens if w not in CLAUSE_BREAKS and not w.startswith(PREFIX))
        else:
            rules = self._english.scores(rewritten)
            if not rules[0] and _FRENCH_CUES.search(folded):
                # English with French in it ("J'adore this lamp, trop bien"): VADER found nothing to weigh,
                # so let the French rules read it. Only with French cues: many French words are English too.
                rules = self._french.scores_tokens(rewritten, french_tokens(folded))
            model_words = tuple(english_words(rewritten))
        return Analysis(rules, markers(prepared), model_words)

    def score(self, text: str, *, lang: str | None = None) -> Sentiment:
        """Score one text. `lang` is the source's language tag if it has one ('fr', 'en-GB'...), else None.

        The returned `lang` is the language the text was scored as ('en' or 'fr'), except that a source's tag
        for another language ('es') is kept: the text is then scored as whichever of French and English it
        reads most like.
        """
        prepared = prepare(text)
        content = strip_handles(prepared)
        hinted = normalize_lang(lang)
        scored_as = hinted or self._detector.detect(content)
        reported = hinted or (lang.strip().lower() if lang and lang.strip() else scored_as)
        if not prepared:
            return Sentiment("neutral", 0.0, reported)
        analysis = self._analyze(prepared, scored_as, content)
        model = self._models.get(scored_as)
        if model is not None:
            compound = calibrate(model.raw_score(analysis), model.negative_at, model.positive_at)
        else:
            compound = round(analysis.rules[0], 4)
        label = label_for(compound)
        corrected = self._text_labels.get(_text_key(text)) if self._text_labels else None
        if corrected is not None and corrected != label:
            label, compound = corrected, CORRECTED_COMPOUND[corrected]
        return Sentiment(label, compound, reported)
