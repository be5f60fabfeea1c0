"""A starter set of interests and areas, so a fresh install has something to choose from."""

from __future__ import annotations

from storage.models import TopicKind
from storage.unit_of_work import UnitOfWorkFactory

STARTER_TOPICS: tuple[tuple[TopicKind, str, str, str], ...] = (
    (TopicKind.INTEREST, "natur", "Natur og gåture", "Nature and walks"),
    (TopicKind.INTEREST, "mad", "Mad og fællesspisning", "Food and shared meals"),
    (TopicKind.INTEREST, "baal", "Bål og friluftsliv", "Campfire and outdoor life"),
    (TopicKind.INTEREST, "musik", "Musik og sang", "Music and singing"),
    (TopicKind.INTEREST, "hjaelp", "Give en hånd", "Lending a hand"),
    (TopicKind.AREA, "centrum", "Centrum", "Town centre"),
    (TopicKind.AREA, "nord", "Nord", "North"),
    (TopicKind.AREA, "syd", "Syd", "South"),
)


async def seed_starter_topics(uow: UnitOfWorkFactory) -> int:
    """Adds the starter topics if there are none yet; returns how many were added."""
    async with uow() as work:
        if await work.topics.count() > 0:
            return 0
        for kind, slug, danish, english in STARTER_TOPICS:
            await work.topics.add(kind, slug, danish, english)
        await work.commit()
    return len(STARTER_TOPICS)
