"""replicas: job leases and outbox claims on PostgreSQL (issue 9)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

import bot.models  # noqa: F401

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # PLACEHOLDER: filled by the helper that owns this revision; removed if unused


def downgrade() -> None:
    pass
