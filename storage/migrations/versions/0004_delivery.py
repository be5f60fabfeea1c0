"""delivery: broadcast batches and outbox deferrals

Revision ID: 0004_delivery
Revises: 0003_link
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0004_delivery'
down_revision: str | None = '0003_link'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reporter_platform', sa.String(length=16), nullable=True),
    sa.Column('reporter_chat_id', sa.String(length=255), nullable=True),
    sa.Column('reporter_user_id', sa.String(length=255), nullable=True),
    sa.Column('reporter_person_id', sa.Integer(), nullable=True),
    sa.Column('progress_message_id', sa.String(length=255), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reporter_person_id'], ['persons.id'], name=op.f('fk_batches_reporter_person_id_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_finished_at'), ['finished_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_reporter_person_id'), ['reporter_person_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deferrals', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('deferrals')

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batches_reporter_person_id'))
        batch_op.drop_index(batch_op.f('ix_batches_finished_at'))

    op.drop_table('batches')
