"""`POST /hooks/roi/{name}`: campaign results pushed by an ad platform, a Zapier/Make scenario or a script.

Signed exactly like the mention webhooks (`monitors.webhooks.check_signature`): `X-Veille-Timestamp` (unix
seconds, within 5 minutes) and `X-Veille-Signature: sha256=<HMAC-SHA256 of "<timestamp>." + body>`, keyed
with the hook's secret from `roi.hooks.<name>.secret` in veille.yaml. The body is one JSON object or a
list of at most 500:

    {"campaign": "black-friday",   required, 1-100 characters
     "day": "2026-11-20",          required, the platform's reporting day
     "network": "instagram",       optional, default "all" (send per-network rows or one total, not both)
     "impressions": 12000, "clicks": 240, "conversions": 12, "leads": 8,    whole numbers, default 0
     "spend": 400.00,              amount in the workspace's currency (roi.currency), default 0
     "currency": "EUR"}            optional; another currency is refused (convert before sending)

Each item is the day's total so far: sending it again replaces the stored row, never adds to it.
Answers: 202 `{"stored": new rows, "updated": replaced rows, "errors": [...]}`; 401 bad or stale signature;
400 body not JSON; 422 JSON of the wrong shape (naming the item and field); 413 over 256 KB; 404 unknown hook.
A malformed item in a list is set aside with its reason and the others are stored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.db import session_scope
from bot.errors import ConfigError, ConfigProblem
from bot.services.roi import ResultIn, StoreOutcome, store_results, wrong_currency
from monitors.sources import resolve_env_refs
from monitors.webhooks import Refused, error_response, signed_json

logger = logging.getLogger(__name__)

MAX_BODY = 256_000
MAX_ITEMS = 500
MIN_SECRET = 16


@dataclass(frozen=True, slots=True)
class RoiHookSecret:
    """A configured ROI sender, its secret resolved from the environment."""

    name: str
    secret: SecretStr


def roi_hooks_from_config(roi: Any, *, environ: Mapping[str, str] | None = None,
                          config_file: str = "veille.yaml") -> dict[str, RoiHookSecret]:
    """Resolve each `roi.hooks.<name>.secret` (`${VAR}` or a literal) and check it is long enough.

    Raises:
        ConfigError: an unset variable or a short secret, naming the field and the fix (never the value).
    """
    env = os.environ if environ is None else environ
    hooks: dict[str, RoiHookSecret] = {}
    problems: list[ConfigProblem] = []
    for name, hook in (getattr(roi, "hooks", None) or {}).items():
        where = f"roi.hooks.{name}.secret"
        missing: list[str] = []
        secret = resolve_env_refs(hook.secret.strip(), environ=env, missing=missing)
        if missing:
            problems.extend(ConfigProblem(config_file, None, where, f"environment variable {var} is not set; "
                                          "export it") for var in dict.fromkeys(missing))
            continue
        if len(secret) < MIN_SECRET:
            problems.append(ConfigProblem(config_file, None, where, f"the secret must be at least {MIN_SECRET} "
                                          "characters; generate one with `python -c 'import secrets; "
                                          "print(secrets.token_hex(32))'`"))
            continue
        hooks[name] = RoiHookSecret(name, SecretStr(secret))
    if problems:
        raise ConfigError(problems)
    return hooks


def parse_results(payload: Any, *, currency: str) -> tuple[list[ResultIn], list[dict[str, Any]]]:
    """Validate a pushed body: the valid results, and `{"index", "error"}` for each item set aside.

    Raises:
        ValueError: the body is neither an object nor a list of 1 to 500 items (the message says which).
    """
    if isinstance(payload, dict):
        items, single = [payload], True
    elif isinstance(payload, list):
        items, single = payload, False
        if not items:
            raise ValueError("the list is empty; send at least one result")
        if len(items) > MAX_ITEMS:
            raise ValueError(f"the list has {len(items)} results; send at most {MAX_ITEMS} per request")
    else:
        raise ValueError(f"the body is a JSON {type(payload).__name__}; send an object or a list of objects")
    results: list[ResultIn] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        prefix = "" if single else f"[{index}]."
        if not isinstance(item, dict):
            errors.append({"index": index, "error": f"{prefix.rstrip('.')} is not an object".strip()})
            continue
        try:
            result = ResultIn.model_validate(item)
        except ValidationError as exc:
            reasons = []
            for error in exc.errors()[:5]:
                where = ".".join(str(part) for part in error["loc"])
                message = str(error["msg"]).removeprefix("Value error, ")
                if error["type"] == "extra_forbidden":
                    message = "unknown field (accepted: campaign, day, network, impressions, clicks, conversions, " \
                              "leads, spend, currency)"
                reasons.append(f"{prefix}{where}: {message}")
            errors.append({"index": index, "error": "; ".join(reasons)})
            continue
        refused = wrong_currency(result, currency)
        if refused:
            errors.append({"index": index, "error": f"{prefix}currency: {refused}"})
            continue
        results.append(result)
    return results, errors


def roi_routes(*, hooks: Mapping[str, RoiHookSecret], engine: Engine, currency: str,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Route]:
    """The `/hooks/roi/{name}` route, bound to the configured senders and the store."""

    def store(name: str, results: list[ResultIn]) -> StoreOutcome:
        with session_scope(engine) as session:
            return store_results(session, results, source=f"hook:{name}", currency=currency, now=clock())

    async def roi_hook(request: Request) -> Response:
        name = request.path_params["name"]
        hook = hooks.get(name)
        if hook is None:
            return error_response(404, f"no ROI hook named {name[:64]!r}; add it under roi.hooks in veille.yaml")
        try:
            payload = await signed_json(request, secret=hook.secret.get_secret_value(), limit=MAX_BODY, now=clock(),
                                        label=f"roi hook {name}", unit="results")
        except Refused as refused:
            return refused.response
        try:
            results, errors = parse_results(payload, currency=currency)
        except ValueError as exc:
            return error_response(422, str(exc))
        if not results:
            return error_response(422, errors[0]["error"] if len(errors) == 1 else "no result is valid", errors=errors)
        outcome = await run_in_threadpool(store, name, results)
        logger.info("roi hook %s: %d new, %d updated, %d set aside", name, outcome.stored, outcome.updated,
                    len(errors))
        return JSONResponse({"stored": outcome.stored, "updated": outcome.updated, "errors": errors},
                            status_code=202)

    return [Route("/hooks/roi/{name}", roi_hook, methods=["POST"])]
