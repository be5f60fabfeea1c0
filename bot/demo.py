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

# Their names in the other shipped languages (the translations table; /emner changes them)
STARTER_NAMES: dict[str, dict[str, str]] = {
    "natur": {"uk": "Природа й прогулянки", "ar": "الطبيعة والمشي"},
    "mad": {"uk": "Їжа та спільні трапези", "ar": "الطعام والوجبات المشتركة"},
    "baal": {"uk": "Вогнище та відпочинок на природі", "ar": "النار والحياة في الهواء الطلق"},
    "musik": {"uk": "Музика та спів", "ar": "الموسيقى والغناء"},
    "hjaelp": {"uk": "Допомогти", "ar": "مدّ يد العون"},
    "centrum": {"uk": "Центр міста", "ar": "وسط المدينة"},
    "nord": {"uk": "Північ", "ar": "الشمال"},
    "syd": {"uk": "Південь", "ar": "الجنوب"},
}


async def seed_starter_topics(uow: UnitOfWorkFactory) -> int:
    """Adds the starter topics if there are none yet; returns how many were added."""
    async with uow() as work:
        if await work.topics.count() > 0:
            return 0
        for kind, slug, danish, english in STARTER_TOPICS:
            topic = await work.topics.add(kind, slug, danish, english)
            for language, name in STARTER_NAMES.get(slug, {}).items():
                await work.topics.set_name(topic, language, name)
        await work.commit()
    return len(STARTER_TOPICS)
