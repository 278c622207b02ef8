"""GDPR: retention and forgotten authors (issue 9)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('gdpr_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('subject_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gdpr_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gdpr_requests_subject_hash'), ['subject_hash'], unique=False)
    op.create_table('gdpr_salt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('salt', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('authors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', bot.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forgotten_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('text_purged_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('raw_purged_at', bot.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_mentions_text_purge', ['text_purged_at', 'created_at'], unique=False)
        batch_op.create_index('ix_mentions_raw_purge', ['raw_purged_at', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_raw_purge')
        batch_op.drop_index('ix_mentions_text_purge')
        batch_op.drop_column('raw_purged_at')
        batch_op.drop_column('text_purged_at')
        batch_op.drop_column('forgotten_at')
    with op.batch_alter_table('authors', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('gdpr_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gdpr_requests_subject_hash'))
    op.drop_table('gdpr_salt')
    op.drop_table('gdpr_requests')
