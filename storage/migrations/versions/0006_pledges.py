"""pledges, offers, initiatives

Revision ID: 0006_pledges
Revises: 0005_feedback
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0006_pledges'
down_revision: str | None = '0005_feedback'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('area_topic_id', sa.Integer(), nullable=True),
    sa.Column('when_possible', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_topic_id'], ['topics.id'], name=op.f('fk_offers_area_topic_id_topics'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_offers_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_person_id'), ['person_id'], unique=False)

    op.create_table('moderation_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['persons.id'], name=op.f('fk_moderation_log_actor_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_moderation_log_event_id_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_log'))
    )
    with op.batch_alter_table('moderation_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_moderation_log_event_id'), ['event_id'], unique=False)

    op.create_table('offer_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_messages_offer_id_offers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['persons.id'], name=op.f('fk_offer_messages_recipient_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_id'], ['persons.id'], name=op.f('fk_offer_messages_sender_id_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_messages'))
    )
    with op.batch_alter_table('offer_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_messages_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_messages_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_messages_sender_id'), ['sender_id'], unique=False)

    op.create_table('pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_pledges_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_pledges_person_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_pledges_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledges'))
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledges_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_pledges_task_active', ['task_id', 'withdrawn_at'], unique=False)

    op.create_table('task_asks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('asked_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('declined_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_task_asks_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_asks_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_asks')),
    sa.UniqueConstraint('task_id', 'person_id', name=op.f('uq_task_asks_task_id'))
    )
    with op.batch_alter_table('task_asks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_asks_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=16), server_default='event', nullable=False))
        batch_op.add_column(sa.Column('idea', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('backed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('backing_note', sa.Text(), server_default=sa.text("''"), nullable=False))
        batch_op.add_column(sa.Column('hidden_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('push_state', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('push_after', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pushed_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_events_backed_by_id_persons'), 'persons', ['backed_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hear_initiatives', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', storage.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_column('hear_initiatives')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_events_backed_by_id_persons'), type_='foreignkey')
        batch_op.drop_column('pushed_at')
        batch_op.drop_column('push_after')
        batch_op.drop_column('push_state')
        batch_op.drop_column('hidden_reason')
        batch_op.drop_column('backing_note')
        batch_op.drop_column('backed_by_id')
        batch_op.drop_column('idea')
        batch_op.drop_column('origin')

    with op.batch_alter_table('task_asks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_asks_person_id'))

    op.drop_table('task_asks')
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index('ix_pledges_task_active')
        batch_op.drop_index(batch_op.f('ix_pledges_person_id'))
        batch_op.drop_index(batch_op.f('ix_pledges_event_id'))

    op.drop_table('pledges')
    with op.batch_alter_table('offer_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_messages_sender_id'))
        batch_op.drop_index(batch_op.f('ix_offer_messages_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_offer_messages_offer_id'))

    op.drop_table('offer_messages')
    with op.batch_alter_table('moderation_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_log_event_id'))
        batch_op.drop_index(batch_op.f('ix_moderation_log_actor_id'))

    op.drop_table('moderation_log')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_person_id'))

    op.drop_table('offers')
