"""journey feedback, snap-log

Revision ID: 0005_feedback
Revises: 0004_delivery
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0005_feedback'
down_revision: str | None = '0004_delivery'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dt(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('feedback_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('came', sa.Boolean(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('signed', sa.Boolean(), nullable=False),
    _dt('asked_at'),
    _dt('started_at'),
    _dt('reminded_at'),
    _dt('completed_at'),
    _dt('updated_at', nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_feedback_requests_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_feedback_requests_person_id_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_requests')),
    sa.UniqueConstraint('event_id', 'person_id', name=op.f('uq_feedback_requests_event_id'))
    )
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_requests_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_requests_person_id'), ['person_id'], unique=False)

    op.create_table('snaps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('file_ref', sa.String(length=512), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=True),
    sa.Column('mime_type', sa.String(length=100), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('caption', sa.Text(), nullable=True),
    _dt('created_at', nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_snaps_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_snaps_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snaps'))
    )
    with op.batch_alter_table('snaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snaps_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snaps_person_id'), ['person_id'], unique=False)

    op.create_table('snap_consents',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    _dt('recorded_at', nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_snap_consents_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_snap_consents'))
    )

    op.create_table('feedback_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=200), nullable=False),
    sa.Column('verdict', sa.String(length=8), nullable=False),
    _dt('answered_at', nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_feedback_answers_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_feedback_answers_person_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_requests.id'], name=op.f('fk_feedback_answers_request_id_feedback_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_answers')),
    sa.UniqueConstraint('request_id', 'step_index', name=op.f('uq_feedback_answers_request_id'))
    )
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_answers_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_answers_person_id'), ['person_id'], unique=False)

    op.create_table('feedback_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('snap_id', sa.Integer(), nullable=True),
    _dt('created_at', nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_feedback_comments_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_feedback_comments_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_requests.id'], name=op.f('fk_feedback_comments_request_id_feedback_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snap_id'], ['snaps.id'], name=op.f('fk_feedback_comments_snap_id_snaps'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_comments')),
    sa.UniqueConstraint('request_id', 'step_index', name=op.f('uq_feedback_comments_request_id'))
    )
    with op.batch_alter_table('feedback_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_comments_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_comments_person_id'), ['person_id'], unique=False)

    op.create_table('feedback_ideas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    _dt('created_at', nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_feedback_ideas_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_feedback_ideas_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_requests.id'], name=op.f('fk_feedback_ideas_request_id_feedback_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_ideas')),
    sa.UniqueConstraint('request_id', 'kind', name=op.f('uq_feedback_ideas_request_id'))
    )
    with op.batch_alter_table('feedback_ideas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_ideas_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_ideas_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    for table in ('feedback_ideas', 'feedback_comments', 'feedback_answers', 'snap_consents'):
        op.drop_table(table)
    op.drop_table('snaps')
    op.drop_table('feedback_requests')
