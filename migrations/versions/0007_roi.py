"""ROI: campaign results pushed by webhook or CSV (issue 7)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('impressions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('clicks', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('conversions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('leads', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('spend_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('updated_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    # A re-push of the same campaign, day and network replaces the row: never a duplicate.
    sa.UniqueConstraint('campaign', 'day', 'network', name='uq_campaign_results_campaign_day_network')
    )
    with op.batch_alter_table('campaign_results', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_results_day', ['day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('campaign_results', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_results_day')
    op.drop_table('campaign_results')
