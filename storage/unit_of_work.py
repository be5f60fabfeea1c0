"""A unit of work: one session, the repositories over it, one commit or one rollback."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.clock import Clock
from storage.events import EventRepository
from storage.feedback import FeedbackRepository
from storage.pledges import PledgeRepository
from storage.repositories import (
    BatchRepository,
    ConversationRepository,
    InviteRepository,
    LinkCodeRepository,
    OutboxRepository,
    PersonRepository,
    PromptRepository,
    TopicRepository,
    TransportStateRepository,
    UpdateLog,
)


class UnitOfWork:
    """Use as `async with uow_factory() as uow: ...; await uow.commit()`.

    Leaving the block without `commit()` rolls everything back, so a step that fails half
    way leaves neither domain rows nor conversation state behind.
    """

    session: AsyncSession

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self.clock = clock

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessionmaker()
        self.persons = PersonRepository(self.session, self.clock)
        self.topics = TopicRepository(self.session, self.clock)
        self.conversations = ConversationRepository(self.session)
        self.prompts = PromptRepository(self.session, self.clock)
        self.invites = InviteRepository(self.session, self.clock)
        self.link_codes = LinkCodeRepository(self.session, self.clock)
        self.outbox = OutboxRepository(self.session, self.clock)
        self.events = EventRepository(self.session, self.clock)
        self.batches = BatchRepository(self.session, self.clock)
        self.feedback = FeedbackRepository(self.session, self.clock)
        self.pledges = PledgeRepository(self.session, self.clock)
        self.transport_state = TransportStateRepository(self.session, self.clock)
        self.updates = UpdateLog(self.session, self.clock)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends any transaction still open without committing it (a rollback), and
        # leaves loaded objects readable, unlike an explicit rollback which expires them.
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class UnitOfWorkFactory:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, self.clock)
