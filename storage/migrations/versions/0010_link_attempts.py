"""wrong /link codes, counted so that codes cannot be guessed

Revision ID: 0010_link_attempts
Revises: 0009_reminder_timing
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import storage.types
from alembic import op

revision: str = '0010_link_attempts'
down_revision: str | None = '0009_reminder_timing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'link_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('attempted_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['person_id'],
            ['persons.id'],
            name=op.f('fk_link_attempts_person_id_persons'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_link_attempts')),
    )
    op.create_index(
        'ix_link_attempts_person_at', 'link_attempts', ['person_id', 'attempted_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_link_attempts_person_at', table_name='link_attempts')
    op.drop_table('link_attempts')
