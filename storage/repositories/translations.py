"""Names in other languages for defined texts: topics and journey steps."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import TextTranslation
from storage.repositories.dialect_insert import insert_for


class TranslationRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def set(self, subject: str, key: str, language: str, text: str) -> None:
        """Name `key` in `language`; one statement, so two people naming it at once both
        succeed and the later name stays. A topic's names: `TopicRepository.set_name`, which
        also refreshes the topic."""
        now = self._clock.now()
        statement = (
            insert_for(self._session)(TextTranslation)
            .values(subject=subject, key=key, language=language, text=text, updated_at=now)
            .on_conflict_do_update(
                index_elements=["subject", "key", "language"],
                set_={"text": text, "updated_at": now},
            )
        )
        await self._session.execute(statement)

    async def remove(self, subject: str, key: str, language: str) -> None:
        await self._session.execute(
            delete(TextTranslation).where(
                TextTranslation.subject == subject,
                TextTranslation.key == key,
                TextTranslation.language == language,
            )
        )

    async def names(self, subject: str, keys: Iterable[str], language: str) -> dict[str, str]:
        """Key -> its name in `language`, for those of `keys` that have one."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        result = await self._session.execute(
            select(TextTranslation.key, TextTranslation.text).where(
                TextTranslation.subject == subject,
                TextTranslation.key.in_(wanted),
                TextTranslation.language == language,
            )
        )
        return dict(result.all())

    async def all_for(self, subject: str) -> dict[str, dict[str, str]]:
        """Key -> language -> name, for every named `subject`."""
        result = await self._session.execute(
            select(TextTranslation.key, TextTranslation.language, TextTranslation.text)
            .where(TextTranslation.subject == subject)
            .order_by(TextTranslation.key, TextTranslation.language)
        )
        named: dict[str, dict[str, str]] = {}
        for key, language, text in result.all():
            named.setdefault(key, {})[language] = text
        return named
