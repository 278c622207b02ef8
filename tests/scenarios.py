"""Build small replay scenarios in X API v2's documented page format, for end-to-end tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path


def x_page(index: int, at: datetime, text: str | None = None) -> dict:
    """One X API v2 mentions page holding one Post (https://docs.x.com/x-api/posts/timelines)."""
    post_id = str(1_900_000_000_000_000_000 + index)
    user_id = str(5_000 + index % 37)
    return {
        "data": [{
            "id": post_id, "text": text or f"@maisonlumen mention number {index}: where is my order?",
            "author_id": user_id, "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "lang": "en",
            "conversation_id": post_id,
        }],
        "includes": {"users": [{"id": user_id, "username": f"fan{index % 37}", "name": f"Fan {index % 37}",
                                "public_metrics": {"followers_count": 10 * index}}]},
        "meta": {"newest_id": post_id, "oldest_id": post_id, "result_count": 1},
    }


def write_x_scenario(directory: Path, *, count: int, start: datetime, step: timedelta) -> Path:
    """Write `count` X mentions, one every `step` from `start`, as a replay scenario directory."""
    directory.mkdir(parents=True, exist_ok=True)
    events = [{"at": (start + i * step).strftime("%Y-%m-%dT%H:%M:%SZ"), "network": "x",
               "payload": x_page(i, start + i * step)} for i in range(count)]
    (directory / "x.json").write_text(json.dumps(events), encoding="utf-8")
    return directory
