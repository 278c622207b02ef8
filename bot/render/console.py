"""Render what the bot posted to Slack (mrkdwn text and Block Kit dicts) as compact `rich` renderables.

The console surface of `veille demo` shows each message the bot sends to the fake Slack as a small
numbered card, so a person can read it and type `click 3 handled`. Everything here is a pure function
of the Slack body. User text only ever becomes `rich.text.Text` content, never rich markup, so a
mention containing `[bold]` or `<!channel>` prints exactly as Slack would show it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.emoji import Emoji
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

Block = Mapping[str, Any]

KINDS = ("post", "update", "ephemeral", "response", "home", "modal")
# Slack allows 3000 characters in a section; a console card shows the start so it stays a few lines.
MAX_TEXT_CHARS = 400
MAX_HINT_CHARS = 24

_BORDER = {
    "post": "cyan",
    "update": "yellow",
    "ephemeral": "magenta",
    "response": "magenta",
    "home": "blue",
    "modal": "blue",
}
_BUTTON_STYLE = {"primary": "bold green", "danger": "bold red"}
_BROADCASTS = ("here", "channel", "everyone")
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]+$")  # ids are upper case; channel names never are
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-']+:")

# One pass over mrkdwn: code first (nothing parses inside it), then <...> tokens, then emphasis.
# Emphasis needs a non-word character (or an edge) on both sides, as in Slack: snake_case_names
# and 2*3*4 stay literal.
_MRKDWN = re.compile(
    r"(?P<pre>```(?P<pre_body>.+?)```)"
    r"|(?P<code>`(?P<code_body>[^`\n]+)`)"
    r"|<(?P<angle>[^<>\n]+)>"
    r"|(?<![\w*])\*(?P<bold>\S(?:[^*\n]*?\S)?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>\S(?:[^_\n]*?\S)?)_(?![\w_])"
    r"|(?<![\w~])~(?P<strike>\S(?:[^~\n]*?\S)?)~(?![\w~])",
    re.DOTALL,
)
_QUOTE = re.compile(r"^(?:&gt;|>) ?", re.MULTILINE)


# ---------------------------------------------------------------------- mrkdwn


def mrkdwn_to_text(source: str, *, style: str = "") -> Text:
    """Convert Slack mrkdwn to a styled `Text`: emphasis, links as `label (url)`, mentions as `@id`."""
    out = Text()
    _append_mrkdwn(out, _QUOTE.sub("▎ ", source), style)
    return out


def _append_mrkdwn(out: Text, source: str, style: str) -> None:
    position = 0
    for match in _MRKDWN.finditer(source):
        if match.start() > position:
            out.append(_literal(source[position : match.start()]), style or None)
        if match["pre"] is not None:
            out.append(_unescape(match["pre_body"].strip("\n")), _join(style, "cyan"))
        elif match["code"] is not None:
            out.append(_unescape(match["code_body"]), _join(style, "cyan"))
        elif match["angle"] is not None:
            _append_angle(out, match["angle"], style)
        elif match["bold"] is not None:
            _append_mrkdwn(out, match["bold"], _join(style, "bold"))
        elif match["italic"] is not None:
            _append_mrkdwn(out, match["italic"], _join(style, "italic"))
        else:
            _append_mrkdwn(out, match["strike"], _join(style, "strike"))
        position = match.end()
    if position < len(source):
        out.append(_literal(source[position:]), style or None)


def _append_angle(out: Text, body: str, style: str) -> None:
    """Render one `<...>` control sequence the way Slack displays it."""
    target, _, label = body.partition("|")
    label = _unescape(label)
    if target.startswith("@"):
        out.append("@" + (label.lstrip("@") or target[1:]), _join(style, "bold blue"))
    elif target.startswith("#"):
        out.append("#" + (label.lstrip("#") or target[1:]), _join(style, "bold blue"))
    elif target.startswith("!"):
        command = target[1:]
        if command in _BROADCASTS:
            # A real broadcast ping: make it stand out, a console reader should notice it.
            out.append("@" + command, _join(style, "bold red"))
        elif command.startswith("subteam^"):
            out.append(label or "@" + command.split("^", 1)[1], _join(style, "bold blue"))
        else:  # <!date^...|fallback> and friends: Slack shows the fallback text
            out.append(label or command, style or None)
    else:
        url = _unescape(target)
        if label and label != url:
            out.append(label, _join(style, "underline"))
            out.append(f" ({url})", "dim")
        else:
            out.append(url, _join(style, "underline"))


def _literal(text: str) -> str:
    return Emoji.replace(_unescape(text))


def _unescape(text: str) -> str:
    # &amp; last, so "&amp;lt;" shows as "&lt;" (what the sender meant), not "<".
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _join(*styles: str) -> str:
    return " ".join(s for s in styles if s)


# ---------------------------------------------------------------------- Block Kit


def text_object(obj: Any) -> Text:
    """Render a Block Kit text object (mrkdwn or plain_text) or a bare mrkdwn string."""
    if isinstance(obj, str):
        return mrkdwn_to_text(obj)
    if not isinstance(obj, Mapping):
        return Text()
    raw = str(obj.get("text") or "")
    if obj.get("type") == "plain_text":
        # plain_text is never parsed by Slack, apart from :emoji: codes when emoji is on (the default).
        return Text(Emoji.replace(raw) if obj.get("emoji", True) else raw)
    return mrkdwn_to_text(raw)


def plain(obj: Any) -> str:
    """Return the readable string of a text object, without styles."""
    return text_object(obj).plain


def _clip(text: Text, limit: int = MAX_TEXT_CHARS) -> Text:
    if len(text) <= limit:
        return text
    clipped = text[:limit]
    clipped.append("…", "dim")
    return clipped


def _element(element: Mapping[str, Any]) -> Text:
    """Render one interactive element as a chip: `[Mark handled] mark_handled`."""
    kind = element.get("type")
    if kind == "button":
        # Styles go on spans, not on Text(..., style): a base style would bleed into every span.
        chip = Text.assemble(("[", "dim"))
        chip.append(plain(element.get("text")), _BUTTON_STYLE.get(str(element.get("style")), "bold"))
        chip.append("]", "dim")
        if element.get("url"):
            chip.append(" ↗", "dim")
        action_id = str(element.get("action_id") or "")
        if action_id:
            hint = action_id if len(action_id) <= MAX_HINT_CHARS else action_id[: MAX_HINT_CHARS - 1] + "…"
            chip.append(f" {hint}", "dim")
        return chip
    if kind == "image":
        return Text(f"🖼 {element.get('alt_text') or 'image'}", "dim")
    if kind in ("mrkdwn", "plain_text"):
        return text_object(element)
    label = element.get("placeholder") or element.get("initial_option", {}).get("text") or kind
    return Text.assemble(("[", "dim"), (f"{plain(label)} ▾", "bold"), ("]", "dim"))


def _joined(parts: Iterable[Text], separator: str, style: str = "") -> Text:
    # Not Text.join: its result inherits the separator's style, which would dim every part.
    line = Text()
    for index, part in enumerate(parts):
        if index:
            line.append(separator, "dim")
        line.append_text(part)
    if style:
        line.stylize(style)
    return line


def _block(block: Block, *, dividers: bool) -> list[RenderableType]:
    kind = block.get("type")
    if kind == "header":
        return [Text(plain(block.get("text")), "bold")]
    if kind == "section":
        lines: list[RenderableType] = []
        head = _clip(text_object(block["text"])) if block.get("text") else Text()
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            head.append("  ")
            head.append_text(_element(accessory))
        if head:
            lines.append(head)
        fields = [_clip(text_object(_one_line(f)), MAX_TEXT_CHARS // 4) for f in block.get("fields") or []]
        if fields:
            lines.append(_joined(fields, "  ·  "))
        return lines
    if kind == "context":
        return [_joined([_element(e) for e in block.get("elements") or []], " · ", "dim")]
    if kind == "actions":
        return [_joined([_element(e) for e in block.get("elements") or []], "  ")]
    if kind == "divider":
        return [Rule(style="dim")] if dividers else []
    if kind == "image":
        title = plain(block.get("title")) if block.get("title") else str(block.get("alt_text") or "image")
        line = Text(f"🖼 {title}")
        if block.get("image_url"):
            line.append(f" ({block['image_url']})", "dim")
        return [line]
    if kind == "input":
        element = block.get("element") or {}
        line = Text.assemble((plain(block.get("label")), "bold"), ": ")
        line.append_text(_element(element) if isinstance(element, Mapping) else Text())
        return [line]
    if kind == "markdown":
        return [_clip(Text(str(block.get("text") or "")))]
    if kind == "rich_text":
        return [_clip(_rich_text(block))]
    return [Text(f"[{kind} block]", "dim")]


def _one_line(obj: Any) -> Any:
    # Fields are usually "*Label*\nvalue"; on one line they read as "Label value".
    if isinstance(obj, Mapping) and isinstance(obj.get("text"), str):
        return {**obj, "text": obj["text"].replace("\n", " ")}
    return obj


def _rich_text(block: Block) -> Text:
    """Flatten a rich_text block (what Slack clients send) to styled text."""
    out = Text()
    for section in block.get("elements") or []:
        if out:
            out.append("\n")
        for element in section.get("elements") or []:
            kind = element.get("type")
            style = " ".join(k for k, on in (element.get("style") or {}).items() if on and k != "code")
            if kind == "text":
                out.append(str(element.get("text", "")), style or None)
            elif kind == "link":
                out.append(str(element.get("text") or element.get("url", "")), _join(style, "underline"))
            elif kind == "user":
                out.append(f"@{element.get('user_id')}", "bold blue")
            elif kind == "channel":
                out.append(f"#{element.get('channel_id')}", "bold blue")
            elif kind == "broadcast":
                out.append(f"@{element.get('range')}", "bold red")
            elif kind == "emoji":
                out.append(Emoji.replace(f":{element.get('name')}:"))
    return out


def _files(files: Sequence[Mapping[str, Any]]) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for item in files:
        title = str(item.get("title") or item.get("name") or item.get("id") or "file")
        line = Text(f"📎 {title}")
        details = [str(item["name"])] if item.get("name") and item.get("name") != title else []
        if item.get("size"):
            details.append(f"{item['size']} bytes")
        if details:
            line.append(f" ({', '.join(details)})", "dim")
        lines.append(line)
    return lines


def _body_lines(body: Mapping[str, Any], *, dividers: bool) -> list[RenderableType]:
    view = body.get("view")
    blocks = (view.get("blocks") if isinstance(view, Mapping) else None) or body.get("blocks")
    lines: list[RenderableType] = []
    if isinstance(blocks, list) and blocks:
        for block in blocks:
            if isinstance(block, Mapping):
                lines.extend(_block(block, dividers=dividers))
    else:
        # Top-level text is the notification fallback when blocks exist; show it only without them.
        text = body.get("text") or body.get("initial_comment")
        if text:
            lines.append(_clip(mrkdwn_to_text(str(text))))
    for attachment in body.get("attachments") or []:
        if isinstance(attachment, Mapping):
            fallback = attachment.get("text") or attachment.get("fallback") or ""
            lines.append(_clip(mrkdwn_to_text("&gt; " + str(fallback)), MAX_TEXT_CHARS // 2))
    files = body.get("files")
    if isinstance(files, list):
        lines.extend(_files([f for f in files if isinstance(f, Mapping)]))
    # A divider at either edge adds a line and no meaning in a bordered card.
    while lines and isinstance(lines[0], Rule):
        lines.pop(0)
    while lines and isinstance(lines[-1], Rule):
        lines.pop()
    return lines or [Text("(empty message)", "dim")]


# ---------------------------------------------------------------------- messages


def channel_label(channel: Any) -> str:
    """Show a channel as `#name`, leaving ids (C…, D…, G…) as they are."""
    name = str(channel or "")
    if not name or name.startswith("#") or _CHANNEL_ID.match(name):
        return name
    return f"#{name}"


def _title(body: Mapping[str, Any], number: int | None, kind: str, parent: int | None) -> Text:
    title = Text()
    channel = channel_label(body.get("channel") or body.get("channel_id"))
    if kind == "update":
        title.append("↻ ", "yellow")
    if kind == "response":
        if _truthy(body.get("replace_original")):
            title.append("↻ ", "yellow")
        else:
            title.append("↩ reply", "bold")
    if kind == "home":
        title.append("🏠 App Home", "bold")
        if body.get("user_id"):
            title.append(f" · @{body['user_id']}")
    if kind == "modal":
        view = body.get("view") if isinstance(body.get("view"), Mapping) else {}
        title.append("▢ ", "bold")
        title.append(plain(view.get("title")) or "modal", "bold")
    if number is not None:
        if title.plain and not title.plain.endswith(" "):
            title.append(" · ")
        title.append(f"#{number}", "bold")
    if kind == "update":
        title.append(" updated")
    if kind == "response" and _truthy(body.get("replace_original")):
        title.append(" replaced" if number is not None else "original replaced")
    if channel:
        title.append(f" · {channel}" if title.plain else channel)
    if parent is not None:
        title.append(f" · ↳ #{parent}", "dim")
    elif body.get("thread_ts"):
        title.append(f" · ↳ thread {body['thread_ts']}", "dim")
    if kind == "ephemeral":
        title.append(f" · only @{body.get('user') or '?'} sees this", "italic")
    if kind == "response" and not _truthy(body.get("replace_original")):
        in_channel = body.get("response_type") == "in_channel"
        title.append(" · in channel" if in_channel else " · only you see this", "italic")
    return title


def render_message(
    body: Mapping[str, Any], *, number: int | None = None, kind: str = "post", parent: int | None = None
) -> RenderableType:
    """Render one Slack body (chat.postMessage, chat.update, chat.postEphemeral, response_url, views.*).

    Args:
        body: the call body as sent, with `blocks` as a list of dicts.
        number: the console's card number, shown as `#3` so the user can `click 3 …`.
        kind: one of KINDS; it picks the title and border colour.
        parent: the card number of the thread parent, when the console knows it.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "response" and _truthy(body.get("delete_original")):
        line = Text.assemble(("✗ ", "red"))
        line.append(f"#{number} deleted" if number is not None else "original message deleted", "dim")
        return line
    return Panel(
        # A message card is already bordered, so its dividers would only cost lines; views keep
        # them because a Home tab or modal uses them to separate its sections.
        Group(*_body_lines(body, dividers=kind in ("home", "modal"))),
        title=_title(body, number, kind, parent),
        title_align="left",
        border_style=_BORDER[kind],
        box=box.ROUNDED,
        padding=(0, 1),
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


# ---------------------------------------------------------------------- buttons


def buttons(blocks: Sequence[Block] | None) -> list[dict[str, Any]]:
    """Return the message's buttons, in display order, as {action_id, value, text, block_id}."""
    found: list[dict[str, Any]] = []
    for block in blocks or []:
        if not isinstance(block, Mapping):
            continue
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), Mapping):
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, Mapping) and element.get("type") == "button":
                found.append(
                    {
                        "action_id": element.get("action_id"),
                        "value": element.get("value"),
                        "text": plain(element.get("text")),
                        "block_id": block.get("block_id"),
                    }
                )
    return found


def match_buttons(blocks: Sequence[Block] | None, word: str) -> list[dict[str, Any]]:
    """Return the buttons `word` names, best tier only: exact, then position (1-based), whole word, prefix."""
    wanted = _normalize(word)
    candidates = buttons(blocks)
    if not wanted:
        return []
    exact = [b for b in candidates if wanted in (_normalize(b["text"]), _normalize(b["action_id"]))]
    if exact:
        return exact
    if wanted.isdigit():
        index = int(wanted) - 1
        return [candidates[index]] if 0 <= index < len(candidates) else []
    whole = [b for b in candidates if wanted in _words(b)]
    if whole:
        return whole
    return [b for b in candidates if any(w.startswith(wanted) for w in _words(b))]


def find_button(blocks: Sequence[Block] | None, word: str) -> dict[str, Any] | None:
    """Return the one button `word` names ("handled" finds "Mark handled" / mark_handled), else None.

    None also when the word is ambiguous; `match_buttons` lists the candidates for a "did you mean".
    """
    matches = match_buttons(blocks, word)
    return matches[0] if len(matches) == 1 else None


def _normalize(value: Any) -> str:
    return "_".join(re.split(r"[^0-9a-z]+", _EMOJI_CODE.sub(" ", str(value or "").lower()))).strip("_")


def _words(button: Mapping[str, Any]) -> set[str]:
    return {w for field in ("text", "action_id") for w in _normalize(button.get(field)).split("_") if w}


__all__ = [
    "KINDS",
    "buttons",
    "channel_label",
    "find_button",
    "match_buttons",
    "mrkdwn_to_text",
    "plain",
    "render_message",
    "text_object",
]
