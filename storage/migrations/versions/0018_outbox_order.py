"""the outbox keeps each row's place in line: `queued_at`, which a postponement for a busy
chat does not move, orders the due rows (and bounds the index walk)

Revision ID: 0018_outbox_order
Revises: 0017_translations
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0018_outbox_order'
down_revision: str | None = '0017_translations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('queued_at', storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    # a row waiting now keeps the place it had: its next attempt's time
    op.execute('UPDATE outbox SET queued_at = next_attempt_at')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column(
            'queued_at', existing_type=storage.types.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index(
            'ix_outbox_due', ['status', 'platform', 'priority', 'queued_at', 'id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index(
            'ix_outbox_due', ['status', 'platform', 'priority', 'next_attempt_at', 'id'], unique=False
        )
        batch_op.drop_column('queued_at')
