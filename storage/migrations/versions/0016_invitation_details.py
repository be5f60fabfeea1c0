"""what an invitation says about access: step-free, toilet, seating; getting there, bringing

Revision ID: 0016_invitation_details
Revises: 0015_worker_leases
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016_invitation_details'
down_revision: str | None = '0015_worker_leases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('access_features', sa.JSON(), nullable=False, server_default='[]')
        )
        batch_op.add_column(
            sa.Column('practical_note', sa.Text(), nullable=False, server_default=sa.text("''"))
        )
    # the defaults only filled the rows already there; new rows get theirs from the models
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('access_features', server_default=None)
        batch_op.alter_column('practical_note', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('practical_note')
        batch_op.drop_column('access_features')
