"""People and their platform identities: who is behind a user, consent, roles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import ConsentRecord, ConsentState, Conversation, Identity, Person, Prompt, Role
from storage.repositories.conversation_state import ConversationRepository

# The statements every message runs, built once with bound parameters: building a statement
# from column comparisons costs more Python time than SQLite takes to run it.
_PERSON_BY_USER = (
    select(Identity, Person)
    .join(Person, Person.id == Identity.person_id)
    .where(Identity.platform == bindparam("platform"), Identity.user_id == bindparam("user_id"))
)

_PERSON_AND_CONVERSATION_BY_USER = (
    _PERSON_BY_USER.add_columns(Conversation, Prompt)
    .outerjoin(
        Conversation,
        (Conversation.platform == bindparam("platform"))
        & (Conversation.chat_id == bindparam("chat_id"))
        & (Conversation.user_id == bindparam("user_id")),
    )
    .outerjoin(Prompt, Prompt.id == Conversation.prompt_id)
)


SEEN_PRECISION = timedelta(hours=1)


class PersonRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def get(self, person_id: int) -> Person | None:
        return await self._session.get(Person, person_id)

    async def languages(self, person_ids: Iterable[int]) -> dict[int, str]:
        """The language of each of these people still known."""
        result = await self._session.execute(
            select(Person.id, Person.language).where(Person.id.in_(list(person_ids)))
        )
        return {int(row.id): str(row.language) for row in result}

    async def find_identity(self, platform: str, user_id: str) -> Identity | None:
        result = await self._session.execute(
            select(Identity).where(Identity.platform == platform, Identity.user_id == user_id)
        )
        return result.scalar_one_or_none()

    async def get_or_create(
        self,
        platform: str,
        user_id: str,
        chat_id: str,
        *,
        language: str,
        conversations: ConversationRepository | None = None,
    ) -> tuple[Person, bool]:
        """The person behind a platform user, created on first contact.

        Given `conversations`, their open conversation in this chat (and its question) is
        read in the same query and handed to it: handling a message always asks for it next.
        """
        statement = _PERSON_BY_USER if conversations is None else _PERSON_AND_CONVERSATION_BY_USER
        parameters = {"platform": platform, "user_id": user_id, "chat_id": chat_id}
        found = (await self._session.execute(statement, parameters)).first()
        if found is not None:
            columns: tuple[Any, ...] = tuple(found)
            identity, person = columns[0], columns[1]
            if conversations is not None:
                conversations.loaded(platform, chat_id, user_id, columns[2], columns[3])
            if identity.chat_id != chat_id:
                identity.chat_id = chat_id
            if identity.blocked_at is not None:  # writing to us again: no longer blocked
                identity.blocked_at = None
            return person, False
        now = self._clock.now()
        try:
            # In a savepoint: the same newcomer may be created at this moment by another
            # transaction (two chats at once; PostgreSQL does not serialise them).
            async with self._session.begin_nested():
                person = Person(language=language, created_at=now, updated_at=now)
                self._session.add(person)
                await self._session.flush()
                self._session.add(
                    Identity(
                        person_id=person.id,
                        platform=platform,
                        user_id=user_id,
                        chat_id=chat_id,
                        created_at=now,
                    )
                )
                await self._session.flush()
        except IntegrityError:
            raced = await self.find_identity(platform, user_id)
            if raced is None:
                raise
            existing = await self._session.get(Person, raced.person_id)
            assert existing is not None
            return existing, False
        return person, True

    async def set_blocked(self, platform: str, user_id: str, *, blocked: bool) -> bool:
        """Mark that a person blocked (or unblocked) the bot; returns whether it changed."""
        identity = await self.find_identity(platform, user_id)
        if identity is None or (identity.blocked_at is not None) == blocked:
            return False
        identity.blocked_at = self._clock.now() if blocked else None
        await self._session.flush()
        return True

    async def identities(self, person_id: int) -> Sequence[Identity]:
        result = await self._session.execute(
            select(Identity).where(Identity.person_id == person_id).order_by(Identity.id)
        )
        return result.scalars().all()

    def still_exists(self, person: Person) -> bool:
        """False once the person loaded in this unit of work was forgotten or merged into
        another (both delete the row and let go of everything loaded)."""
        return person in self._session

    def seen(self, person: Person) -> None:
        """They wrote: they are active (kept to the hour, so not every message writes)."""
        now = self._clock.now()
        if person.last_seen_at is None or now - person.last_seen_at >= SEEN_PRECISION:
            person.last_seen_at = now
        if person.stay_asked_at is not None:
            person.stay_asked_at = None  # asked whether to stay: writing is the answer

    def touch(self, person: Person) -> None:
        person.updated_at = self._clock.now()

    async def record_consent(self, person: Person, version: str, *, given: bool) -> None:
        now = self._clock.now()
        person.consent = ConsentState.GIVEN if given else ConsentState.REFUSED
        person.consent_version = version
        person.consent_at = now
        self.touch(person)
        self._session.add(
            ConsentRecord(person_id=person.id, version=version, given=given, recorded_at=now)
        )
        await self._session.flush()

    async def set_role(self, person: Person, role: str) -> None:
        person.role = role
        self.touch(person)
        await self._session.flush()

    async def with_role(self, role: str) -> Sequence[Person]:
        result = await self._session.execute(
            select(Person).where(Person.role == role).order_by(Person.id)
        )
        return result.scalars().all()

    async def coordinators(self, named: Iterable[str] = ()) -> Sequence[Person]:
        """Coordinators and admins by any route: the role kept on the person (a CLI grant,
        an invite code), or one of their identities named in the settings ("platform:user")."""
        result = await self._session.execute(
            select(Person).where(_coordinator_by_any_route(named)).order_by(Person.id)
        )
        return result.scalars().all()

    async def coordinator_identities(
        self, platform: str, named: Iterable[str] = ()
    ) -> Sequence[tuple[Identity, Person]]:
        """The identities on `platform` of people who are coordinators by any route."""
        named_here = [user for p, user in _identity_pairs(named) if p == platform]
        by_role = Person.role.in_((Role.COORDINATOR, Role.ADMIN))
        chosen = or_(by_role, Identity.user_id.in_(named_here)) if named_here else by_role
        result = await self._session.execute(
            select(Identity, Person)
            .join(Person, Person.id == Identity.person_id)
            .where(Identity.platform == platform, chosen)
            .order_by(Identity.id)
        )
        return [(identity, person) for identity, person in result.all()]


def _identity_pairs(named: Iterable[str]) -> list[tuple[str, str]]:
    """("platform", "user") for each "platform:user" (settings are validated to that form)."""
    split = (item.partition(":") for item in named)
    return [(platform, user) for platform, _, user in split if platform and user]


def _coordinator_by_any_route(named: Iterable[str]) -> ColumnElement[bool]:
    by_role = Person.role.in_((Role.COORDINATOR, Role.ADMIN))
    pairs = _identity_pairs(named)
    if not pairs:
        return by_role
    named_people = select(Identity.person_id).where(
        or_(*(and_(Identity.platform == p, Identity.user_id == u) for p, u in pairs))
    )
    return or_(by_role, Person.id.in_(named_people))
