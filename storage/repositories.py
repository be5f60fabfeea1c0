"""Repositories: the queries each part of the bot needs, over one session."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import (
    Base,
    Batch,
    ConsentRecord,
    ConsentState,
    Conversation,
    Identity,
    InviteCode,
    LinkCode,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonStatus,
    PersonTopic,
    ProcessedUpdate,
    Prompt,
    Role,
    Topic,
    TransportState,
)
from storage.types import UTCDateTime


def _insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING / DO UPDATE."""
    dialect = session.get_bind().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


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
_CONVERSATION_BY_CHAT = (
    select(Conversation, Prompt)
    .outerjoin(Prompt, Prompt.id == Conversation.prompt_id)
    .where(
        Conversation.platform == bindparam("platform"),
        Conversation.chat_id == bindparam("chat_id"),
        Conversation.user_id == bindparam("user_id"),
    )
)
_ACTIVE_TOPICS = (
    select(Topic).where(Topic.kind == bindparam("kind"), Topic.active.is_(True)).order_by(Topic.id)
)
_CHOSEN_TOPIC_IDS = select(PersonTopic.topic_id).where(
    PersonTopic.person_id == bindparam("person_id")
)
# An insert that does nothing on a duplicate, so the same update arriving twice at once
# (two processes, PostgreSQL) gives one row written and one not, never an error.
_FIRST_TIME = {
    dialect: insert(ProcessedUpdate.__table__).on_conflict_do_nothing(  # type: ignore[arg-type]
        index_elements=["platform", "update_id"]
    )
    for dialect, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


class PersonRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def get(self, person_id: int) -> Person | None:
        return await self._session.get(Person, person_id)

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


class TopicRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._active: dict[str, Sequence[Topic]] = {}

    async def active(self, kind: str) -> Sequence[Topic]:
        # Asked more than once while one message is handled (the question, then its answer);
        # one read per unit of work, dropped when a topic is added or changed through here.
        cached = self._active.get(kind)
        if cached is None:
            result = await self._session.execute(_ACTIVE_TOPICS, {"kind": kind})
            cached = self._active[kind] = result.scalars().all()
        return cached

    async def get(self, topic_id: int) -> Topic | None:
        return await self._session.get(Topic, topic_id)

    async def add(self, kind: str, slug: str, name_da: str, name_en: str) -> Topic:
        """Add a topic, or rename and reactivate the one with this kind and slug.

        One statement (insert, or update on conflict), so two people adding the same topic
        at once (PostgreSQL does not serialise them) both get the one row, never an error.
        """
        self._active.pop(kind, None)
        statement = (
            _insert_for(self._session)(Topic)
            .values(
                kind=kind,
                slug=slug,
                name_da=name_da,
                name_en=name_en,
                active=True,
                created_at=self._clock.now(),
            )
            .on_conflict_do_update(
                index_elements=["kind", "slug"],
                set_={"name_da": name_da, "name_en": name_en, "active": True},
            )
            .returning(Topic)
        )
        # populate_existing: a copy already loaded in this session takes the new names
        result = await self._session.scalars(
            statement, execution_options={"populate_existing": True}
        )
        topic: Topic = result.one()
        return topic

    async def deactivate(self, topic: Topic) -> None:
        self._active.pop(topic.kind, None)
        topic.active = False
        await self._session.flush()

    async def count(self) -> int:
        return int((await self._session.execute(select(func.count(Topic.id)))).scalar_one())

    async def chosen_ids(self, person_id: int) -> set[int]:
        result = await self._session.execute(_CHOSEN_TOPIC_IDS, {"person_id": person_id})
        return set(result.scalars().all())

    async def chosen(self, person_id: int, kind: str) -> Sequence[Topic]:
        result = await self._session.execute(
            select(Topic)
            .join(PersonTopic, PersonTopic.topic_id == Topic.id)
            .where(PersonTopic.person_id == person_id, Topic.kind == kind)
            .order_by(Topic.id)
        )
        return result.scalars().all()

    async def toggle(self, person_id: int, topic_id: int) -> bool:
        """Choose or unchoose a topic; returns whether it is chosen afterwards."""
        existing = await self._session.get(PersonTopic, (person_id, topic_id))
        if existing is not None:
            await self._session.delete(existing)
            await self._session.flush()
            return False
        self._session.add(PersonTopic(person_id=person_id, topic_id=topic_id))
        await self._session.flush()
        return True


class ConversationRepository:
    """Conversations by chat. Within one unit of work a chat's conversation is looked up
    once: the router and the engine ask several times while handling one message."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._by_chat: dict[tuple[str, str, str], Conversation | None] = {}
        self._questions: list[Prompt] = []

    async def get(self, platform: str, chat_id: str, user_id: str) -> Conversation | None:
        key = (platform, chat_id, user_id)
        if key in self._by_chat:
            return self._by_chat[key]
        # The question it is waiting on comes in the same query: answering needs both, and
        # once loaded the session hands the prompt out without asking the database again.
        result = await self._session.execute(
            _CONVERSATION_BY_CHAT,
            {"platform": platform, "chat_id": chat_id, "user_id": user_id},
        )
        row = result.first()
        conversation, prompt = (row[0], row[1]) if row is not None else (None, None)
        self.loaded(platform, chat_id, user_id, conversation, prompt)
        return conversation

    def loaded(
        self,
        platform: str,
        chat_id: str,
        user_id: str,
        conversation: Conversation | None,
        prompt: Prompt | None,
    ) -> None:
        """Take a chat's conversation (or its absence) and its question, read by another query."""
        self._by_chat[(platform, chat_id, user_id)] = conversation
        if prompt is not None:
            # The session only holds loaded objects weakly; without this the prompt would be
            # gone (and read again) by the time the answer is checked against it.
            self._questions.append(prompt)

    def add(self, conversation: Conversation) -> None:
        self._session.add(conversation)
        self._by_chat[_chat_key(conversation)] = conversation

    async def remove(self, conversation: Conversation) -> None:
        self._by_chat[_chat_key(conversation)] = None
        if conversation in self._session:
            await self._session.delete(conversation)
            await self._session.flush()
        else:  # already gone with its person (after /forget)
            await self._session.execute(
                delete(Conversation).where(Conversation.id == conversation.id)
            )

    async def remove_expired(self, now: datetime) -> int:
        self._by_chat.clear()
        result = await self._session.execute(
            delete(Conversation).where(Conversation.expires_at < now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _chat_key(conversation: Conversation) -> tuple[str, str, str]:
    return (conversation.platform, conversation.chat_id, conversation.user_id)


class PromptRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(
        self,
        *,
        platform: str,
        chat_id: str,
        user_id: str,
        person_id: int,
        flow: str,
        state: str,
        choices: list[dict[str, Any]],
        context: dict[str, Any] | None = None,
        bound: bool = True,
        sent: bool = True,
    ) -> Prompt:
        prompt = Prompt(
            id=secrets.token_urlsafe(6),
            platform=platform,
            chat_id=chat_id,
            user_id=user_id,
            person_id=person_id,
            flow=flow,
            state=state,
            choices=choices,
            context=context or {},
            bound=bound,
            created_at=self._clock.now(),
            sent_at=self._clock.now() if sent else None,
        )
        # The id is made here, so the row can wait for the next flush: flushing now would
        # write the conversation twice (once before, once after it points at this prompt).
        self._session.add(prompt)
        return prompt

    async def get(self, prompt_id: str) -> Prompt | None:
        return await self._session.get(Prompt, prompt_id)

    async def by_message(self, platform: str, chat_id: str, message_id: str) -> Prompt | None:
        result = await self._session.execute(
            select(Prompt).where(
                Prompt.platform == platform,
                Prompt.chat_id == chat_id,
                Prompt.platform_message_id == message_id,
            )
        )
        return result.scalars().first()

    async def latest_detached(
        self, platform: str, chat_id: str, user_id: str, *, since: datetime
    ) -> Prompt | None:
        """The newest delivered question outside a conversation (an invitation, a menu)."""
        result = await self._session.execute(
            select(Prompt)
            .where(
                Prompt.platform == platform,
                Prompt.chat_id == chat_id,
                Prompt.user_id == user_id,
                Prompt.bound.is_(False),
                Prompt.sent_at.is_not(None),
                Prompt.created_at >= since,
            )
            .order_by(Prompt.created_at.desc(), Prompt.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def set_message_id(self, prompt_id: str, message_id: str) -> None:
        await self.set_message_ids({prompt_id: message_id})

    async def set_message_ids(
        self, message_ids: Mapping[str, str] | Sequence[tuple[str, str]]
    ) -> None:
        """Record the platform message that carried each prompt (and that it was sent)."""
        message_ids = dict(message_ids)
        if not message_ids:
            return
        table = Base.metadata.tables[Prompt.__tablename__]
        now = self._clock.now()
        await self._session.execute(
            update(table)
            .where(table.c.id == bindparam("prompt_key"))
            .values(
                platform_message_id=bindparam("message_key"),
                sent_at=func.coalesce(table.c.sent_at, bindparam("sent_key", type_=UTCDateTime())),
            ),
            [{"prompt_key": p, "message_key": m, "sent_key": now} for p, m in message_ids.items()],
        )

    async def remove_older_than(self, moment: datetime) -> int:
        result = await self._session.execute(delete(Prompt).where(Prompt.created_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)


def hash_code(code: str) -> str:
    normalised = "".join(code.split()).upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


class InviteRepository:
    ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(
        self, role: str, *, valid_for: timedelta, created_by: int | None, note: str | None
    ) -> str:
        code = "".join(secrets.choice(self.ALPHABET) for _ in range(10))
        now = self._clock.now()
        self._session.add(
            InviteCode(
                code_hash=hash_code(code),
                role=role,
                note=note,
                created_by_id=created_by,
                created_at=now,
                expires_at=now + valid_for,
            )
        )
        await self._session.flush()
        return f"{code[:5]}-{code[5:]}"

    async def redeem(self, code: str, person_id: int) -> InviteCode | None:
        """Use a code once; returns it, or None if unknown, used or expired.

        The claim is one conditional UPDATE, so two people redeeming the same code at the
        same moment (on PostgreSQL, where reads do not block) cannot both succeed.
        """
        result = await self._session.execute(
            select(InviteCode).where(InviteCode.code_hash == hash_code(code.replace("-", "")))
        )
        invite = result.scalar_one_or_none()
        now = self._clock.now()
        if invite is None or invite.redeemed_at is not None or invite.expires_at <= now:
            return None
        claimed = await self._session.execute(
            update(InviteCode)
            .where(InviteCode.id == invite.id, InviteCode.redeemed_at.is_(None))
            .values(redeemed_at=now, redeemed_by_id=person_id)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        await self._session.refresh(invite)
        return invite


class LinkCodeRepository:
    """One-time codes for `/link`: short, case-insensitive, valid for minutes."""

    ALPHABET = InviteRepository.ALPHABET
    LENGTH = 6

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(self, person_id: int, *, valid_for: timedelta) -> str:
        """A new code for the person; any earlier code of theirs stops working."""
        await self._session.execute(delete(LinkCode).where(LinkCode.person_id == person_id))
        code = "".join(secrets.choice(self.ALPHABET) for _ in range(self.LENGTH))
        now = self._clock.now()
        self._session.add(
            LinkCode(
                code_hash=hash_code(code),
                person_id=person_id,
                created_at=now,
                expires_at=now + valid_for,
            )
        )
        await self._session.flush()
        return f"{code[:3]}-{code[3:]}"

    async def redeem(self, code: str) -> int | None:
        """The person who made the code, once; None if unknown or expired."""
        result = await self._session.execute(
            select(LinkCode).where(LinkCode.code_hash == hash_code(code.replace("-", "")))
        )
        link = result.scalar_one_or_none()
        if link is None:
            return None
        person_id = link.person_id
        expired = link.expires_at <= self._clock.now()
        await self._session.delete(link)
        await self._session.flush()
        return None if expired else person_id


class TransportStateRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def get(self, platform: str, key: str) -> str | None:
        row = await self._session.get(TransportState, (platform, key))
        return None if row is None else row.value

    async def put(self, platform: str, key: str, value: str) -> None:
        """Set a value in one statement (insert, or update on conflict): two processes
        writing the same key at once both succeed, the later commit wins."""
        now = self._clock.now()
        statement = (
            _insert_for(self._session)(TransportState)
            .values(platform=platform, key=key, value=value, updated_at=now)
            .on_conflict_do_update(
                index_elements=["platform", "key"], set_={"value": value, "updated_at": now}
            )
            .returning(TransportState)
        )
        # populate_existing: a copy already loaded in this session takes the new value
        await self._session.scalars(statement, execution_options={"populate_existing": True})

    async def starting_with(self, platform: str, prefix: str) -> dict[str, str]:
        """Every value whose key starts with `prefix`, by key."""
        result = await self._session.execute(
            select(TransportState.key, TransportState.value).where(
                TransportState.platform == platform,
                TransportState.key.startswith(prefix, autoescape=True),
            )
        )
        return {str(key): str(value) for key, value in result.all()}

    async def remove(self, platform: str, key: str) -> None:
        await self._session.execute(
            delete(TransportState).where(
                TransportState.platform == platform, TransportState.key == key
            )
        )


class UpdateLog:
    """Remembers handled platform updates so a redelivered one is not handled twice."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def first_time(self, platform: str, update_id: str) -> bool:
        statement = _FIRST_TIME[self._session.get_bind().dialect.name]
        result = await self._session.execute(
            statement,
            {"platform": platform, "update_id": update_id, "processed_at": self._clock.now()},
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_before(self, moment: datetime) -> int:
        result = await self._session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < moment)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class OutboxRepository:
    """Messages waiting for delivery. Enqueue is idempotent on the dedupe key."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def enqueue(
        self,
        *,
        dedupe_key: str,
        person_id: int,
        platform: str,
        chat_id: str,
        user_id: str,
        kind: str,
        payload: dict[str, Any],
        batch: str | None = None,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> bool:
        """Add a message unless one with the same key exists. Returns whether it was added."""
        now = self._clock.now()
        values = {
            "dedupe_key": dedupe_key,
            "person_id": person_id,
            "platform": platform,
            "chat_id": chat_id,
            "user_id": user_id,
            "kind": kind,
            "batch": batch,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": not_before or now,
            "expires_at": expires_at,
            "created_at": now,
        }
        statement = (
            _insert_for(self._session)(OutboxMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        result = await self._session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def enqueue_many(self, messages: Sequence[dict[str, Any]]) -> None:
        """`enqueue` for many messages in one statement (a broadcast to thousands).

        Each dict has `enqueue`'s keyword arguments; keys already present are skipped.
        """
        if not messages:
            return
        now = self._clock.now()
        rows = [
            {
                "dedupe_key": m["dedupe_key"],
                "person_id": m["person_id"],
                "platform": m["platform"],
                "chat_id": m["chat_id"],
                "user_id": m["user_id"],
                "kind": m["kind"],
                "batch": m.get("batch"),
                "payload": m["payload"],
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "deferrals": 0,
                "next_attempt_at": m.get("not_before") or now,
                "expires_at": m.get("expires_at"),
                "created_at": now,
            }
            for m in messages
        ]
        dialect = self._session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        table = Base.metadata.tables[OutboxMessage.__tablename__]
        statement = insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
        await self._session.execute(statement, rows)

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, message_id)

    async def by_key(self, dedupe_key: str) -> OutboxMessage | None:
        result = await self._session.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        return result.scalar_one_or_none()

    async def counts(self, batch: str) -> dict[str, int]:
        result = await self._session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id))
            .where(OutboxMessage.batch == batch)
            .group_by(OutboxMessage.status)
        )
        return {str(status): int(count) for status, count in result.all()}

    # --- for the delivery worker -------------------------------------------------------

    async def due(self, platform: str, now: datetime, limit: int) -> list[DueMessage]:
        """Pending messages for a platform whose time has come, oldest first.

        Only what the worker needs to decide (not the payload), with whether the person
        has stopped or blocked the bot, so those rows can be closed without sending.
        """
        o = OutboxMessage
        result = await self._session.execute(
            select(
                o.id,
                o.chat_id,
                o.user_id,
                o.person_id,
                o.expires_at,
                Person.status,
                Identity.blocked_at,
            )
            .join(Person, Person.id == o.person_id)
            .outerjoin(
                Identity, and_(Identity.platform == o.platform, Identity.user_id == o.user_id)
            )
            .where(
                o.status == OutboxStatus.PENDING, o.platform == platform, o.next_attempt_at <= now
            )
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        return [
            DueMessage(
                id=row[0],
                chat_id=row[1],
                user_id=row[2],
                person_id=row[3],
                expires_at=row[4],
                person_stopped=row[5] == PersonStatus.STOPPED,
                blocked=row[6] is not None,
            )
            for row in result.all()
        ]

    async def next_due_at(self, platform: str) -> datetime | None:
        result = await self._session.execute(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.platform == platform
            )
        )
        # min() keeps the column's type, so this is an aware UTC datetime (or None).
        value: datetime | None = result.scalar_one_or_none()
        return value

    async def claim(self, ids: Sequence[int]) -> list[ClaimedMessage]:
        """Mark pending messages as being sent; returns those this caller got.

        The update is conditional on the row still being pending, so when two workers
        reach for the same row only one of them gets it back (row locks on PostgreSQL,
        the write lock on SQLite). Commit before sending.
        """
        if not ids:
            return []
        o = OutboxMessage
        result = await self._session.execute(
            update(o)
            .where(o.id.in_(ids), o.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, attempts=o.attempts + 1)
            .returning(
                o.id, o.chat_id, o.user_id, o.person_id, o.payload, o.attempts, o.deferrals, o.batch
            )
        )
        claimed = {
            row[0]: ClaimedMessage(
                id=row[0],
                chat_id=row[1],
                user_id=row[2],
                person_id=row[3],
                payload=row[4],
                attempts=row[5],
                deferrals=row[6],
                batch=row[7],
            )
            for row in result.all()
        }
        return [claimed[i] for i in ids if i in claimed]

    async def close_pending(self, closes: Iterable[tuple[int, str, str | None]]) -> int:
        """Give pending messages a final status without sending (expired, blocked, ...)."""
        changed = 0
        for message_id, status, error in closes:
            result = await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=status, last_error=error)
            )
            changed += int(getattr(result, "rowcount", 0) or 0)
        return changed

    async def postpone_pending(self, postpones: Iterable[tuple[int, datetime]]) -> None:
        """Move pending messages to a later time (their chat is at its rate limit)."""
        for message_id, moment in postpones:
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(next_attempt_at=moment)
            )

    async def mark_sent(
        self, message_id: int, *, sent_at: datetime, platform_message_id: str | None
    ) -> bool:
        # `unknown` too: another process may have called this row in doubt meanwhile, but
        # we know better now.
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status.in_((OutboxStatus.SENDING, OutboxStatus.UNKNOWN)),
            )
            .values(
                status=OutboxStatus.SENT,
                sent_at=sent_at,
                platform_message_id=platform_message_id,
                last_error=None,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_many_sent(
        self, sent: Sequence[tuple[int, str | None]], sent_at: datetime
    ) -> None:
        """`mark_sent` for many messages in one statement: (outbox id, platform message id)."""
        if not sent:
            return
        table = Base.metadata.tables[OutboxMessage.__tablename__]
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("outbox_id"),
                # (an IN list cannot be used with many parameter sets)
                (table.c.status == OutboxStatus.SENDING.value)
                | (table.c.status == OutboxStatus.UNKNOWN.value),
            )
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=sent_at,
                platform_message_id=bindparam("message_id"),
                last_error=None,
            )
        )
        await self._session.execute(statement, [{"outbox_id": i, "message_id": m} for i, m in sent])

    async def mark_final(self, message_id: int, status: str, error: str | None) -> bool:
        """Close a message that was being sent: failed, blocked or unknown."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(status=status, last_error=error)
        )
        return bool(getattr(result, "rowcount", 0))

    async def retry_at(
        self,
        message_id: int,
        moment: datetime,
        error: str,
        *,
        attempts: int | None = None,
        deferrals: int | None = None,
    ) -> bool:
        """Put a message that was being sent back in the queue for a later try."""
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": moment,
            "last_error": error,
        }
        if attempts is not None:
            values["attempts"] = attempts
        if deferrals is not None:
            values["deferrals"] = deferrals
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def recover_interrupted(self, platform: str, error: str) -> int:
        """Messages left `sending` by a process that stopped: they may or may not have
        arrived, so they become `unknown` (counted and reported, never sent again)."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.platform == platform, OutboxMessage.status == OutboxStatus.SENDING)
            .values(status=OutboxStatus.UNKNOWN, last_error=error)
        )
        return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class DueMessage:
    id: int
    chat_id: str
    user_id: str
    person_id: int
    expires_at: datetime | None
    person_stopped: bool
    blocked: bool


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    id: int
    chat_id: str
    user_id: str
    person_id: int
    payload: dict[str, Any]
    attempts: int
    deferrals: int
    batch: str | None


class ChatLike(Protocol):
    """Anything with the three fields of a chat reference (`ChatRef` is one)."""

    @property
    def platform(self) -> str: ...

    @property
    def chat_id(self) -> str: ...

    @property
    def user_id(self) -> str: ...


class BatchRepository:
    """Broadcasts as a whole, for the progress message a coordinator sees."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(
        self,
        batch_id: str,
        *,
        kind: str,
        reporter: ChatLike | None = None,
        reporter_person_id: int | None = None,
        total: int = 0,
    ) -> Batch:
        """Record a broadcast; enqueue its rows with `batch=batch_id` in the same commit."""
        batch = Batch(
            id=batch_id,
            kind=kind,
            reporter_platform=reporter.platform if reporter else None,
            reporter_chat_id=reporter.chat_id if reporter else None,
            reporter_user_id=reporter.user_id if reporter else None,
            reporter_person_id=reporter_person_id,
            total=total,
            created_at=self._clock.now(),
        )
        self._session.add(batch)
        await self._session.flush()
        return batch

    async def get(self, batch_id: str) -> Batch | None:
        return await self._session.get(Batch, batch_id)

    async def unfinished(self, reporter_platform: str) -> Sequence[Batch]:
        result = await self._session.execute(
            select(Batch)
            .where(Batch.finished_at.is_(None), Batch.reporter_platform == reporter_platform)
            .order_by(Batch.created_at)
        )
        return result.scalars().all()

    async def claim_progress_message(self, batch_id: str, marker: str) -> bool:
        """Take the right to send the progress message (so two processes send one)."""
        result = await self._session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.progress_message_id.is_(None))
            .values(progress_message_id=marker)
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_progress_message(self, batch_id: str, message_id: str | None) -> None:
        await self._session.execute(
            update(Batch).where(Batch.id == batch_id).values(progress_message_id=message_id)
        )

    async def finish(self, batch_id: str) -> bool:
        result = await self._session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.finished_at.is_(None))
            .values(finished_at=self._clock.now())
        )
        return bool(getattr(result, "rowcount", 0))


__all__ = [
    "BatchRepository",
    "ChatLike",
    "ClaimedMessage",
    "ConsentState",
    "ConversationRepository",
    "DueMessage",
    "InviteRepository",
    "LinkCodeRepository",
    "OutboxRepository",
    "PersonRepository",
    "PromptRepository",
    "TopicRepository",
    "TransportStateRepository",
    "UpdateLog",
    "hash_code",
]
