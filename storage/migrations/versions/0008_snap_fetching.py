"""snaps: the file is fetched after the snap is kept

Revision ID: 0008_snap_fetching
Revises: 0007_pipeline
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0008_snap_fetching'
down_revision: str | None = '0007_pipeline'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('snaps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_state', sa.String(length=16), server_default='waiting', nullable=False))
        batch_op.add_column(sa.Column('fetch_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('fetch_after', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fetch_error', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('fetched_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_snaps_fetch', ['fetch_state', 'fetch_after'], unique=False)
    # A snap with a file was fetched in its own step before; one without waits for the
    # file worker, which tries its platform reference again.
    op.execute("UPDATE snaps SET fetch_state = 'stored', fetched_at = created_at WHERE path IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('snaps', schema=None) as batch_op:
        batch_op.drop_index('ix_snaps_fetch')
        batch_op.drop_column('fetched_at')
        batch_op.drop_column('fetch_error')
        batch_op.drop_column('fetch_after')
        batch_op.drop_column('fetch_attempts')
        batch_op.drop_column('fetch_state')
