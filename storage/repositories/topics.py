"""Interests and areas, and which of them each person has chosen."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import PersonTopic, Topic
from storage.repositories.dialect_insert import insert_for
from storage.repositories.translations import TranslationRepository

# Asked while handling a message, built once with bound parameters (see people.py).
_ACTIVE_TOPICS = (
    select(Topic).where(Topic.kind == bindparam("kind"), Topic.active.is_(True)).order_by(Topic.id)
)

_CHOSEN_TOPIC_IDS = select(PersonTopic.topic_id).where(
    PersonTopic.person_id == bindparam("person_id")
)


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
            insert_for(self._session)(Topic)
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
        await self._session.refresh(topic, ["translations"])
        return topic

    async def find(self, kind: str, slug: str) -> Topic | None:
        result = await self._session.execute(
            select(Topic).where(Topic.kind == kind, Topic.slug == slug)
        )
        return result.scalar_one_or_none()

    async def set_name(self, topic: Topic, language: str, name: str | None) -> None:
        """The topic's name in `language` (a row in the translations table); None takes the
        name away again, so the topic falls back to Danish."""
        self._active.pop(topic.kind, None)
        names = TranslationRepository(self._session, self._clock)
        if name is None:
            await names.remove(topic.kind, topic.slug, language)
        else:
            await names.set(topic.kind, topic.slug, language, name)
        await self._session.refresh(topic, ["translations"])

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
