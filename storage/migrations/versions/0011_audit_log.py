"""the audit log: who did what when, for the admins

Revision ID: 0011_audit_log
Revises: 0010_link_attempts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0011_audit_log'
down_revision: str | None = '0010_link_attempts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['actor_id'], ['persons.id'], name=op.f('fk_audit_log_actor_id_persons'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['subject_id'], ['persons.id'], name=op.f('fk_audit_log_subject_id_persons'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['event_id'], ['events.id'], name=op.f('fk_audit_log_event_id_events'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
