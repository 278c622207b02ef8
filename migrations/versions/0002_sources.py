"""sources: health columns on source_cursors, own_posts, calendar links, rejected-item fingerprints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 03:05:03.196488
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('own_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('permalink', sa.Text(), nullable=True),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('likes', sa.BigInteger(), nullable=True),
    sa.Column('comments', sa.BigInteger(), nullable=True),
    sa.Column('shares', sa.BigInteger(), nullable=True),
    sa.Column('views', sa.BigInteger(), nullable=True),
    sa.Column('impressions', sa.BigInteger(), nullable=True),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fetched_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('calendar_post_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['calendar_post_id'], ['calendar_posts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('network', 'external_id', name='uq_own_posts_network_external_id')
    )
    with op.batch_alter_table('own_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_own_posts_calendar_post_id'), ['calendar_post_id'], unique=False)
        batch_op.create_index('ix_own_posts_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_post_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_mentions_calendar_post_id'), ['calendar_post_id'], unique=False)
        batch_op.create_foreign_key('fk_mentions_calendar_post_id', 'calendar_posts', ['calendar_post_id'], ['id'])

    with op.batch_alter_table('rejected_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_rejected_items_fingerprint'), ['fingerprint'], unique=False)

    with op.batch_alter_table('source_cursors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('last_attempt_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_poll_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('not_before', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('consecutive_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('paused_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('paused_config_hash', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('paused_at', bot.models.UTCDateTime(timezone=True), nullable=True))




def downgrade() -> None:
    with op.batch_alter_table('source_cursors', schema=None) as batch_op:
        batch_op.drop_column('paused_at')
        batch_op.drop_column('paused_config_hash')
        batch_op.drop_column('paused_reason')
        batch_op.drop_column('consecutive_failures')
        batch_op.drop_column('not_before')
        batch_op.drop_column('next_poll_at')
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('network')

    with op.batch_alter_table('rejected_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejected_items_fingerprint'))
        batch_op.drop_column('fingerprint')

    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_mentions_calendar_post_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_mentions_calendar_post_id'))
        batch_op.drop_column('calendar_post_id')

    with op.batch_alter_table('own_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_own_posts_created_at')
        batch_op.drop_index(batch_op.f('ix_own_posts_calendar_post_id'))

    op.drop_table('own_posts')

