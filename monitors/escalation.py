"""The escalation wake-up: run one step for every incident whose next page is due (each in its own transaction)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.services import incidents
from bot.workspace import Workspace

logger = logging.getLogger(__name__)


def run_escalations(engine: Engine, workspace: Workspace, now: datetime) -> int:
    """Page whoever is due; returns how many people were paged."""
    paged = 0
    with session_scope(engine) as session:
        due = incidents.due(session, now)
    for incident_id in due:
        try:
            with session_scope(engine) as session:
                paged += len(incidents.page_step(session, workspace=workspace, incident_id=incident_id, now=now))
        except Exception:
            logger.exception("escalation step for incident %s failed; it will be retried", incident_id)
    return paged
