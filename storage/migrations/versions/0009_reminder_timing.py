"""indexes for finding the next due time of timed work

Revision ID: 0009_reminder_timing
Revises: 0008_snap_fetching
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_reminder_timing'
down_revision: str | None = '0008_snap_fetching'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HALF_WAY = sa.text(
    "started_at IS NOT NULL AND completed_at IS NULL AND reminded_at IS NULL "
    "AND person_id IS NOT NULL"
)


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_push_due', ['push_state', 'push_after'], unique=False)
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.create_index(
            'ix_feedback_half_way',
            ['updated_at'],
            unique=False,
            sqlite_where=HALF_WAY,
            postgresql_where=HALF_WAY,
        )


def downgrade() -> None:
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_half_way')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_push_due')
