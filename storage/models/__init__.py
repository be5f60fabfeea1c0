"""Typed SQLAlchemy models, one module an aggregate, all importable from here.

Every model is imported here, so `Base.metadata` is complete (Alembic, `/mydata`,
`/forget` and relationships by name rely on it) whichever module is imported first.
"""

from __future__ import annotations

from storage.models.audit import AuditAction, AuditEntry
from storage.models.base import FORGET_ANONYMISE, FORGET_DELETE, NAMING_CONVENTION, Base
from storage.models.chat_state import Conversation, Prompt
from storage.models.citizen_initiatives import EventOrigin, ModerationLog, PushState
from storage.models.feedback import (
    FeedbackAnswer,
    FeedbackComment,
    FeedbackIdea,
    FeedbackRequest,
    IdeaKind,
    Snap,
    SnapConsent,
    SnapFetch,
    Verdict,
)
from storage.models.help_offers import Offer, OfferKind, OfferMessage, OfferStatus
from storage.models.one_time_codes import InviteCode, LinkAttempt, LinkCode
from storage.models.organising import CheckIn, CheckInVia, EventOrganiser, OrganiserAction
from storage.models.outbox import Batch, OutboxMessage, OutboxStatus, Priority
from storage.models.people import ConsentRecord, ConsentState, Identity, Person, PersonStatus, Role
from storage.models.scheduled_events import (
    Event,
    EventStatus,
    EventTask,
    Invitation,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Rsvp,
    RsvpAnswer,
)
from storage.models.task_pledges import Pledge, TaskAsk
from storage.models.topics import PersonTopic, Topic, TopicKind
from storage.models.translations import NamedSubject, TextTranslation
from storage.models.transport_state import InboxUpdate, TransportState
from storage.models.workers import JobLease, RateBudget, Worker

__all__ = [
    "FORGET_ANONYMISE",
    "FORGET_DELETE",
    "NAMING_CONVENTION",
    "AuditAction",
    "AuditEntry",
    "Base",
    "Batch",
    "CheckIn",
    "CheckInVia",
    "ConsentRecord",
    "ConsentState",
    "Conversation",
    "Event",
    "EventOrganiser",
    "EventOrigin",
    "EventStatus",
    "EventTask",
    "FeedbackAnswer",
    "FeedbackComment",
    "FeedbackIdea",
    "FeedbackRequest",
    "IdeaKind",
    "Identity",
    "InboxUpdate",
    "Invitation",
    "InviteCode",
    "JobLease",
    "LinkAttempt",
    "LinkCode",
    "ModerationLog",
    "NamedSubject",
    "Offer",
    "OfferKind",
    "OfferMessage",
    "OfferStatus",
    "OrganiserAction",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "PersonStatus",
    "PersonTopic",
    "Pledge",
    "Priority",
    "Prompt",
    "PushState",
    "RateBudget",
    "Reminder",
    "ReminderKind",
    "ReminderStatus",
    "Role",
    "Rsvp",
    "RsvpAnswer",
    "Snap",
    "SnapConsent",
    "SnapFetch",
    "TaskAsk",
    "TextTranslation",
    "Topic",
    "TopicKind",
    "TransportState",
    "Verdict",
    "Worker",
]
