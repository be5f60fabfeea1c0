"""the pipeline: an inbox of updates, replies in the outbox, attempting, priorities

Revision ID: 0007_pipeline
Revises: 0006_pledges
Create Date: 2026-12-01

- `inbox` replaces `processed_updates`: an update is kept when it arrives, before the platform
  is told, and marked handled with what handling it changed. The ids already handled are
  carried over, so a redelivery across the upgrade is still handled once.
- `outbox.priority`: replies (0) go before everything else (1).
- `outbox.person_id` may be empty: a short word in a shared room belongs to nobody.
- `ix_outbox_due` gains the priority, so the worker reads replies first from the index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0007_pipeline'
down_revision: str | None = '0006_pledges'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('update_id', sa.String(length=128), nullable=False),
    sa.Column('chat_id', sa.String(length=255), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('platform', 'update_id', name=op.f('uq_inbox_platform'))
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_handled_at'), ['handled_at'], unique=False)
        batch_op.create_index('ix_inbox_waiting', ['platform', 'handled_at', 'id'], unique=False)

    op.execute(
        "INSERT INTO inbox (platform, update_id, received_at, handled_at) "
        "SELECT platform, update_id, processed_at, processed_at FROM processed_updates"
    )
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_updates_processed_at'))
    op.drop_table('processed_updates')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), server_default='1', nullable=False))
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=True)
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_due', ['status', 'platform', 'priority', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_due', ['status', 'platform', 'next_attempt_at'], unique=False)
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('priority')

    op.create_table('processed_updates',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('update_id', sa.String(length=128), nullable=False),
    sa.Column('processed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'update_id', name=op.f('pk_processed_updates'))
    )
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_updates_processed_at'), ['processed_at'], unique=False)
    op.execute(
        "INSERT INTO processed_updates (platform, update_id, processed_at) "
        "SELECT platform, update_id, handled_at FROM inbox WHERE handled_at IS NOT NULL"
    )
    op.drop_table('inbox')
