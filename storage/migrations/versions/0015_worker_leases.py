"""several processes on one database: workers with leases, claimed rows carry their owner,
scheduled work held by one process at a time, one sending budget per platform

Revision ID: 0015_worker_leases
Revises: 0014_coordinator_toolkit
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0015_worker_leases'
down_revision: str | None = '0014_coordinator_toolkit'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'workers',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('started_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('lease_expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workers')),
    )
    op.create_table(
        'job_leases',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases')),
    )
    op.create_table(
        'rate_budget',
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.String(length=255), nullable=False),
        sa.Column('next_free', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('platform', 'scope', name=op.f('pk_rate_budget')),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('lease_expires_at', storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        # the due rows' order to the last column: no sort, whatever the statistics
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index(
            'ix_outbox_due', ['status', 'platform', 'priority', 'next_attempt_at', 'id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index(
            'ix_outbox_due', ['status', 'platform', 'priority', 'next_attempt_at'], unique=False
        )
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('owner')
    op.drop_table('rate_budget')
    op.drop_table('job_leases')
    op.drop_table('workers')
