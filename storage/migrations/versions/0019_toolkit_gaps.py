"""the toolkit's gaps: a series meeting's invitations due (its audience read then), and
the second ask for missing hands (the wider audience)

Revision ID: 0019_toolkit_gaps
Revises: 0018_outbox_order
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0019_toolkit_gaps'
down_revision: str | None = '0018_outbox_order'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_due_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_events_invite_due_at'), ['invite_due_at'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience_asked_at', storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('audience_asked_at')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_invite_due_at'))
        batch_op.drop_column('invite_due_at')
