"""The only way user text reaches Slack mrkdwn: escape Slack's control characters and cut to a limit.

Slack treats `&`, `<` and `>` as control characters (https://api.slack.com/reference/surfaces/formatting#escaping):
escaping them turns `<!channel>`, `<@U123>` and `<http://evil|bank>` into plain text that pings no one.
"""

from __future__ import annotations

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks): one place, so every renderer agrees.
SECTION_TEXT_MAX = 3000
CONTEXT_TEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
FALLBACK_TEXT_MAX = 4000

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def safe_url(url: str | None) -> str | None:
    """A link we may put inside <...|...>: http(s) only (anything else could smuggle mrkdwn control syntax) and none
    of the characters that would end the link early; None otherwise."""
    if url and url.startswith(("https://", "http://")) and not any(c in url for c in "<>| \n"):
        return url
    return None


def escape(text: str) -> str:
    """Escape user text for mrkdwn."""
    return text.translate(_ESCAPES)


def truncate(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, marking the cut, without splitting an escape sequence."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def quote(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Escape, truncate and blockquote user text, keeping its line breaks."""
    quoted = "\n".join("> " + line for line in (escape(text.strip()) or "(empty)").splitlines())
    return truncate(quoted, limit)
