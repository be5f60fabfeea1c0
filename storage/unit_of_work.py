"""A unit of work: one session, the repositories over it, one commit or one rollback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import cached_property
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.clock import Clock
from storage.db import checkpoint_wal
from storage.personal_data import CLEAN_FILE_AFTER_COMMIT
from storage.repositories.audiences import AudienceRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.batches import BatchRepository
from storage.repositories.broadcasts import BroadcastRepository
from storage.repositories.chat_turns import ChatTurns
from storage.repositories.citizen_initiatives import InitiativeRepository
from storage.repositories.conversation_state import ConversationRepository
from storage.repositories.delivery_queue import DeliveryQueue
from storage.repositories.feedback import FeedbackRepository
from storage.repositories.health import HealthRepository
from storage.repositories.help_offers import OfferRepository
from storage.repositories.inbox import Inbox
from storage.repositories.moderation_log import ModerationLogRepository
from storage.repositories.one_time_codes import InviteRepository, LinkCodeRepository
from storage.repositories.organising import CheckInRepository, OrganiserRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PersonRepository
from storage.repositories.personal_records import PersonalRecordsRepository
from storage.repositories.prompts import PromptRepository
from storage.repositories.rate_budget import RateBudgetRepository
from storage.repositories.retention import RetentionRepository
from storage.repositories.scheduled_events import EventRepository
from storage.repositories.task_pledges import PledgeRepository
from storage.repositories.topics import TopicRepository
from storage.repositories.translations import TranslationRepository
from storage.repositories.transport_state import TransportStateRepository
from storage.repositories.workers import WorkerRegistry

log = logging.getLogger(__name__)

AFTER_COMMIT = "after_commit"  # `Session.info` key: what `UnitOfWork.after_commit` queued


class UnitOfWork:
    """Use as `async with uow_factory() as uow: ...; await uow.commit()`.

    Leaving the block without `commit()` rolls everything back, so a step that fails half
    way leaves neither domain rows nor conversation state behind.
    """

    session: AsyncSession

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        writers: WriterQueue | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.clock = clock
        self._writers = writers
        self._queued = False

    async def __aenter__(self) -> UnitOfWork:
        if self._writers is not None:
            self._queued = await self._writers.enter()
        self.session = self._sessionmaker()
        for name in _REPOSITORIES:  # entered again: repositories over the new session
            self.__dict__.pop(name, None)
        return self

    # Repositories are made when first used: most units of work touch only a few of them.
    @cached_property
    def persons(self) -> PersonRepository:
        return PersonRepository(self.session, self.clock)

    @cached_property
    def topics(self) -> TopicRepository:
        return TopicRepository(self.session, self.clock)

    @cached_property
    def translations(self) -> TranslationRepository:
        return TranslationRepository(self.session, self.clock)

    @cached_property
    def conversations(self) -> ConversationRepository:
        return ConversationRepository(self.session)

    @cached_property
    def prompts(self) -> PromptRepository:
        return PromptRepository(self.session, self.clock)

    @cached_property
    def invites(self) -> InviteRepository:
        return InviteRepository(self.session, self.clock)

    @cached_property
    def link_codes(self) -> LinkCodeRepository:
        return LinkCodeRepository(self.session, self.clock)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session, self.clock)

    @cached_property
    def delivery(self) -> DeliveryQueue:
        return DeliveryQueue(self.session, self.clock)

    @cached_property
    def events(self) -> EventRepository:
        return EventRepository(self.session, self.clock)

    @cached_property
    def audiences(self) -> AudienceRepository:
        return AudienceRepository(self.session, self.clock)

    @cached_property
    def broadcasts(self) -> BroadcastRepository:
        return BroadcastRepository(self.session, self.clock)

    @cached_property
    def batches(self) -> BatchRepository:
        return BatchRepository(self.session, self.clock)

    @cached_property
    def feedback(self) -> FeedbackRepository:
        return FeedbackRepository(self.session, self.clock)

    @cached_property
    def pledges(self) -> PledgeRepository:
        return PledgeRepository(self.session, self.clock)

    @cached_property
    def offers(self) -> OfferRepository:
        return OfferRepository(self.session, self.clock)

    @cached_property
    def initiatives(self) -> InitiativeRepository:
        return InitiativeRepository(self.session, self.clock)

    @cached_property
    def moderation(self) -> ModerationLogRepository:
        return ModerationLogRepository(self.session, self.clock)

    @cached_property
    def organisers(self) -> OrganiserRepository:
        return OrganiserRepository(self.session, self.clock)

    @cached_property
    def check_ins(self) -> CheckInRepository:
        return CheckInRepository(self.session, self.clock)

    @cached_property
    def personal_records(self) -> PersonalRecordsRepository:
        return PersonalRecordsRepository(self.session, self.clock)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.session, self.clock)

    @cached_property
    def health(self) -> HealthRepository:
        return HealthRepository(self.session)

    @cached_property
    def retention(self) -> RetentionRepository:
        return RetentionRepository(self.session, self.clock)

    @cached_property
    def transport_state(self) -> TransportStateRepository:
        return TransportStateRepository(self.session, self.clock)

    @cached_property
    def inbox(self) -> Inbox:
        return Inbox(self.session, self.clock)

    @cached_property
    def workers(self) -> WorkerRegistry:
        return WorkerRegistry(self.session)

    @cached_property
    def chat_turns(self) -> ChatTurns:
        return ChatTurns(self.session)

    @cached_property
    def rate_budget(self) -> RateBudgetRepository:
        return RateBudgetRepository(self.session)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends any transaction still open without committing it (a rollback), and
        # leaves loaded objects readable, unlike an explicit rollback which expires them.
        try:
            await self.session.close()
        finally:
            if self._queued and self._writers is not None:
                self._writers.leave()

    async def flush(self) -> None:
        """Send what is pending to the database (ids assigned, constraints checked), in the
        same transaction."""
        await self.session.flush()

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` once this transaction has committed (removing a file its rows no
        longer name: never I/O inside the transaction, never for one rolled back). A failing
        action is logged; the commit stands."""
        self.session.info.setdefault(AFTER_COMMIT, []).append(action)

    async def commit(self) -> None:
        await self.session.commit()
        if self.session.info.pop(CLEAN_FILE_AFTER_COMMIT, False):
            engine = self.session.bind
            assert isinstance(engine, AsyncEngine)
            outcome = await checkpoint_wal(engine)
            if outcome is not None and outcome[0]:
                log.info("database: the log checkpoint after a forget waits for a reader")
        for action in self.session.info.pop(AFTER_COMMIT, []):
            try:
                await action()
            except Exception:
                log.exception("an action after a commit failed")

    async def rollback(self) -> None:
        await self.session.rollback()
        self.session.info.pop(AFTER_COMMIT, None)


_REPOSITORIES = tuple(
    name for name, member in vars(UnitOfWork).items() if isinstance(member, cached_property)
)


class WriterQueue:
    """Lets one unit of work at a time at an SQLite file, in arrival order.

    SQLite takes one writer at a time anyway (`BEGIN IMMEDIATE`); without this queue the
    others wait in SQLite's busy handler, which polls with growing sleeps and wastes most of
    the time under load. A wait here longer than `patience` (only if a unit of work were
    opened inside another) falls back to SQLite's own locking instead of hanging.
    """

    def __init__(self, patience: float = 5.0) -> None:
        self._patience = patience
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _lock(self) -> asyncio.Lock:
        # One lock per event loop: tests (and asyncio.run) may use a factory in several.
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            self._locks = {k: v for k, v in self._locks.items() if not k.is_closed()}
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def enter(self) -> bool:
        try:
            async with asyncio.timeout(self._patience):  # no extra task, unlike wait_for
                await self._lock().acquire()
        except TimeoutError:
            log.warning("waited %.0f s for the SQLite writer queue; going ahead", self._patience)
            return False
        return True

    def leave(self) -> None:
        self._lock().release()


class UnitOfWorkFactory:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        bind = sessionmaker.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._writers = WriterQueue() if sqlite else None
        # Several processes may share a server database; an SQLite file has one process.
        self.shared = bind is not None and not sqlite

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, self.clock, self._writers)
