"""Text preparation shared by every sentiment stage: normalisation, emoji, hashtags, tokens and accent folding.

Everything here is a pure function of a string, compiled once at import (regexes only: no I/O).
"""

from __future__ import annotations

import re
import unicodedata

# Social posts are short; a very long line (a pasted article, a garbage feed item) is scored on its first
# MAX_CHARS characters so one item can never stall the pipeline or the CLI.
MAX_CHARS = 5_000

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'", "\u00a0": " ", "\u202f": " "})
# XLM-T replaced every URL by the bare word "http"; real feeds carry the full URL. Both mean "a link".
URL = re.compile(r"(?:https?://|www\.)\S+|\bhttps?\b", re.IGNORECASE)
MENTION = re.compile(r"(?<![\w@])@\w+")
HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_CAMEL = re.compile(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ])")
# Pictographs, dingbats and symbols used as emoji; modifiers (skin tone, variation selector, ZWJ) are dropped.
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2190-\u21ff\u2300-\u23ff]")
_EMOJI_MODIFIERS = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+(?:[.,]\d+)?|[!?]")

_FOLD = str.maketrans("àâäáãåçéèêëíìîïñóòôöõúùûüýÿœæ", "aaaaaaceeeeiiiinooooouuuuyyoa")


def fold(word: str) -> str:
    """Lower-case and strip French accents, so 'déçu', 'DECU' and 'decu' look up the same entry."""
    low = word.lower()
    return low if low.isascii() else low.translate(_FOLD)  # every folded letter is non-ASCII: skip the table


def prepare(text: str) -> str:
    """Normalise one raw post: NFC, one apostrophe, no emoji modifiers, single spaces, bounded length."""
    text = text[:MAX_CHARS]
    if text.isascii():
        # ASCII is NFC already, holds no emoji modifier, and its only odd apostrophe is the backtick: the
        # general path below would give the same string, at several times the cost (translate is per character).
        return " ".join(text.replace("`", "'").split())
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    text = _EMOJI_MODIFIERS.sub("", text)
    return " ".join(text.split())


def split_hashtag(match: re.Match[str]) -> str:
    """Turn '#EpicFail' into 'Epic Fail' and '#fail' into 'fail': the words carry the sentiment."""
    return _CAMEL.sub(" ", match.group(1).replace("_", " "))


def strip_handles(text: str) -> str:
    """Remove URLs and @mentions and unwrap hashtags: the text a reader actually weighs."""
    # The membership tests skip a regex pass on the many texts without links, mentions or hashtags.
    if "http" in text or "www." in text or "HTTP" in text:
        text = URL.sub(" ", text)
    if "@" in text:
        text = MENTION.sub(" ", text)
    if "#" in text:
        text = HASHTAG.sub(split_hashtag, text)
    return text


def letters(text: str) -> int:
    """Count letters, the evidence a language detector has to go on."""
    return sum(1 for char in text if char.isalpha())
