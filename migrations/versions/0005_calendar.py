"""content calendar: post details, reminders, imports (issue 7)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('calendar_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column('published_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('nudged_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('updated_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('import_uid', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.create_index('ix_calendar_posts_status_scheduled_at', ['status', 'scheduled_at'], unique=False)
        batch_op.create_index('ix_calendar_posts_published_at', ['published_at'], unique=False)
        batch_op.create_unique_constraint('uq_calendar_posts_import_uid', ['import_uid'])
    # Posts already marked published went live, as far as we know, when they were planned.
    op.execute("UPDATE calendar_posts SET published_at = scheduled_at WHERE status = 'published'")


def downgrade() -> None:
    with op.batch_alter_table('calendar_posts', schema=None) as batch_op:
        batch_op.drop_constraint('uq_calendar_posts_import_uid', type_='unique')
        batch_op.drop_index('ix_calendar_posts_published_at')
        batch_op.drop_index('ix_calendar_posts_status_scheduled_at')
        for column in ('import_uid', 'updated_at', 'updated_by', 'created_by', 'nudged_at', 'reminded_at',
                       'published_at', 'format'):
            batch_op.drop_column(column)
