"""outbox: a transaction id with every row, for platforms that deduplicate by it (Matrix)

Revision ID: 0013_matrix_delivery
Revises: 0012_inactivity
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_matrix_delivery'
down_revision: str | None = '0012_inactivity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows from before keep none: after a crash they are treated as before (unknown).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transaction_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('transaction_id')
