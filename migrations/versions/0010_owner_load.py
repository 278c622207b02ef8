"""Owners' open items kept by triggers; an index for a responsibility's latest assignment (issue 9)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from bot.services import owner_load

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('owner_open_counts',
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('owner')
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_responsibility_latest', ['responsibility', 'id'], unique=False)
    conn = op.get_bind()
    # Triggers first: on PostgreSQL creating them locks out writers until this revision commits, so no assignment
    # written by a replica still running the old code slips between the count and the triggers.
    owner_load.create_triggers(conn)
    owner_load.rebuild(conn)


def downgrade() -> None:
    owner_load.drop_triggers(op.get_bind())
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_responsibility_latest')
    op.drop_table('owner_open_counts')
