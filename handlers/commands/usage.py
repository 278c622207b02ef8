"""Shared answer to a subcommand we do not know: say so, and suggest the closest one."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import process
from slack_bolt import Respond

from bot.deps import Deps
from bot.messages import t
from bot.render.escape import escape, truncate


def reject_unknown(command: str, arg: str, *, known: Sequence[str], respond: Respond, deps: Deps) -> bool:
    """Answer an unknown argument with a 'did you mean'; True if it was unknown."""
    if arg in known:
        return False
    guess = process.extractOne(arg, [k for k in known if k], score_cutoff=50)
    hint = t("did_you_mean", deps.lang, suggestion=f"{command} {guess[0]}") if guess else ""
    respond(text=t("unknown_subcommand", deps.lang, command=command, arg=truncate(escape(arg), 100), hint=hint),
            response_type="ephemeral")
    return True
