"""KPI: competitor subjects, objectives support, query indexes (issue 7)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models  # noqa: F401
from bot.services import kpi_rollup

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        # NULL: the brand; a competitor's name for items from a competitor-listening source.
        batch_op.add_column(sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.create_index('ix_mentions_kpi', ['created_at', 'subject', 'network', 'status', 'sentiment_label',
                                                  'author_id', 'handled_at'], unique=False)
        batch_op.create_index('ix_mentions_kpi_open', ['status', 'created_at', 'subject', 'network', 'id'],
                              unique=False)
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_kpi', ['mention_id', 'active', 'owner'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_kpi_created', ['created_at', 'cancelled', 'rule_id', 'action', 'owner',
                                                       'done_at', 'due_at'], unique=False)
        batch_op.create_index('ix_tasks_kpi_due', ['due_at', 'cancelled', 'rule_id', 'done_at'], unique=False)
        batch_op.create_index('ix_tasks_kpi_open_created', ['done_at', 'cancelled', 'created_at', 'rule_id', 'action',
                                                            'owner', 'due_at'], unique=False)
        batch_op.create_index('ix_tasks_kpi_open_due', ['done_at', 'cancelled', 'due_at', 'rule_id'], unique=False)
    # Daily rollups for /kpi, kept exact by triggers on mentions (bot/services/kpi_rollup.py), filled from the rows.
    op.create_table('kpi_daily',
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('sentiment_label', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'subject', 'network', 'sentiment_label', 'status')
    )
    op.create_index('ix_kpi_daily_cover', 'kpi_daily', ['day', 'subject', 'network', 'sentiment_label', 'status',
                                                        'n'], unique=False)
    op.create_table('kpi_response_daily',
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'network', 'minutes')
    )
    op.create_index('ix_kpi_response_daily_cover', 'kpi_response_daily', ['day', 'network', 'minutes', 'n'],
                    unique=False)
    op.create_table('kpi_task_daily',
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('rule_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('basis', 'day', 'rule_id', 'action', 'owner', 'state')
    )
    op.create_index('ix_kpi_task_daily_cover', 'kpi_task_daily', ['basis', 'day', 'rule_id', 'action', 'owner',
                                                                  'state', 'n'], unique=False)
    op.create_table('kpi_author_totals',
    sa.Column('author_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('author_id')
    )
    op.create_index('ix_kpi_author_totals_n', 'kpi_author_totals', ['n', 'author_id'], unique=False)
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_author_id')
        batch_op.create_index('ix_mentions_author_created', ['author_id', 'created_at', 'subject'], unique=False)
    conn = op.get_bind()
    kpi_rollup.rebuild(conn)
    kpi_rollup.create_triggers(conn)
    kpi_rollup.rebuild_tasks(conn)
    kpi_rollup.create_task_triggers(conn)


def downgrade() -> None:
    kpi_rollup.drop_triggers(op.get_bind())
    kpi_rollup.drop_task_triggers(op.get_bind())
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_author_created')
        batch_op.create_index('ix_mentions_author_id', ['author_id'], unique=False)
    op.drop_index('ix_kpi_author_totals_n', table_name='kpi_author_totals')
    op.drop_table('kpi_author_totals')
    op.drop_index('ix_kpi_task_daily_cover', table_name='kpi_task_daily')
    op.drop_table('kpi_task_daily')
    op.drop_index('ix_kpi_response_daily_cover', table_name='kpi_response_daily')
    op.drop_index('ix_kpi_daily_cover', table_name='kpi_daily')
    op.drop_table('kpi_response_daily')
    op.drop_table('kpi_daily')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_kpi_open_due')
        batch_op.drop_index('ix_tasks_kpi_open_created')
        batch_op.drop_index('ix_tasks_kpi_due')
        batch_op.drop_index('ix_tasks_kpi_created')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_kpi')
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_kpi_open')
        batch_op.drop_index('ix_mentions_kpi')
        batch_op.drop_column('subject')
