"""One person across platforms: `/link` on one, `/link CODE` on the other."""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.settings import Settings
from conversations.core.messages import ChatRef
from storage.clock import FrozenClock
from storage.migrate import alembic_config
from storage.models import ConsentState, Identity, Person, PersonTopic
from tests.fakes import Chat, RecordingTransport

CODE = re.compile(r"[/!](?:link|forbind) ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})")


class OtherChat(Chat):
    """The same bot, seen from a second platform."""

    @staticmethod
    def ref(user: str) -> ChatRef:
        return ChatRef("other", f"room-{user}", user)


@pytest.fixture
async def two_platforms(
    settings: Settings, clock: FrozenClock
) -> AsyncIterator[tuple[BotApp, Chat, OtherChat]]:
    fake, other = RecordingTransport(), RecordingTransport(platform="other")
    app = BotApp(settings, [fake, other], clock=clock)
    await app.migrate()
    await seed_starter_topics(app.uow)
    yield app, Chat(app, fake), OtherChat(app, other)
    await app.close()


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, text
    return match.group(1)


async def count(app: BotApp, model: type) -> int:
    async with app.uow() as uow:
        return int(
            (await uow.session.execute(select(func.count()).select_from(model))).scalar_one()
        )


async def test_link_joins_two_identities_into_one_person(
    two_platforms: tuple[BotApp, Chat, OtherChat],
) -> None:
    app, here, there = two_platforms
    await here.onboard("anna", name="Anna")
    [code_message] = await here.say("anna", "/link")
    code = code_in(code_message.text)

    # On the other platform a newcomer (never onboarded) types the code, in Danish.
    replies = await there.say("anna", f"/forbind {code.lower()}")
    assert "Fake" in replies[0].text
    question = replies[-1]
    assert [c.id for c in question.choices] == ["fake", "other"]
    await app.drain_outbox()  # the word to the other platform goes through its outbox worker
    assert "Other" in here.last_text("anna")  # the first chat hears about it too

    answer = await there.tap("anna", "other")
    assert "Other" in answer[-1].text
    assert await count(app, Person) == 1
    async with app.uow() as uow:
        person = (await uow.session.execute(select(Person))).scalar_one()
        assert person.display_name == "Anna"
        assert person.consent == ConsentState.GIVEN
        assert person.preferred_platform == "other"
        assert {i.platform for i in await uow.persons.identities(person.id)} == {"fake", "other"}

    # The other platform is now the same person: no onboarding, and /mydata covers both.
    [summary, file_message] = await there.say("anna", "/mydata")
    assert "Fake" in summary.text
    assert "Other" in summary.text
    assert file_message.attachment is not None
    data = json.loads(file_message.attachment.content)
    assert len(data["persons"]) == 1
    assert {i["platform"] for i in data["identities"]} == {"fake", "other"}

    # /forget from either side forgets both identities.
    await there.say("anna", "/forget")
    await there.tap("anna", "delete")
    assert await count(app, Person) == 0
    assert await count(app, Identity) == 0


async def test_link_moves_answers_and_drops_duplicates(
    two_platforms: tuple[BotApp, Chat, OtherChat],
) -> None:
    app, here, there = two_platforms
    await here.onboard("bo", name="Bo")
    await there.onboard("bo", name="Bo på den anden")
    async with app.uow() as uow:
        topic = (await uow.topics.active("interest"))[0]
        for person in (await uow.session.execute(select(Person))).scalars():
            await uow.topics.toggle(person.id, topic.id)
        await uow.commit()
    [code_message] = await here.say("bo", "/link")
    await there.say("bo", f"/link {code_in(code_message.text)}")
    assert await count(app, Person) == 1
    assert await count(app, PersonTopic) == 1  # the same topic twice became one
    async with app.uow() as uow:
        person = (await uow.session.execute(select(Person))).scalar_one()
        assert person.display_name == "Bo"  # the person who made the code is kept


async def test_wrong_own_and_used_codes_are_refused(
    two_platforms: tuple[BotApp, Chat, OtherChat], clock: FrozenClock
) -> None:
    app, here, there = two_platforms
    await here.onboard("cy")
    [wrong] = await there.say("cy", "/link ABC-DEF")
    assert "/forbind" in wrong.text  # Danish text names the Danish command
    [code_message] = await here.say("cy", "/link")
    code = code_in(code_message.text)
    [own] = await here.say("cy", f"/link {code}")
    assert await count(app, Person) == 2  # nothing was merged
    assert own.text != wrong.text
    [used] = await there.say("cy", f"/link {code}")  # used up by the attempt above
    assert used.text == wrong.text

    [code_message] = await here.say("cy", "/link")
    clock.advance(timedelta(minutes=31))
    [late] = await there.say("cy", f"/link {code_in(code_message.text)}")
    assert late.text == wrong.text


async def test_codes_have_sixty_bits_and_are_typeable(
    two_platforms: tuple[BotApp, Chat, OtherChat],
) -> None:
    from storage.repositories.one_time_codes import LinkCodeRepository

    app, here, there = two_platforms
    await here.onboard("dan")
    [code_message] = await here.say("dan", "/link")
    code = code_in(code_message.text)
    letters = code.replace("-", "")
    assert set(letters) <= set(LinkCodeRepository.ALPHABET)  # no 0/O, no 1/I
    assert len(letters) * math.log2(len(LinkCodeRepository.ALPHABET)) >= 60
    # typed in small letters, with spaces instead of dashes, it still works
    await there.say("dan", f"/link {code.lower().replace('-', ' ')}")
    assert await count(app, Person) == 1


async def test_five_wrong_codes_an_hour_then_a_pause(
    two_platforms: tuple[BotApp, Chat, OtherChat],
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, here, there = two_platforms
    await here.onboard("eli")
    wrong_codes = [f"AAAA-BBBB-CCC{n}" for n in range(2, 7)]
    first = None
    for wrong_code in wrong_codes:
        [wrong] = await there.say("eli", f"/link {wrong_code}")
        first = first or wrong.text
        assert wrong.text == first
        clock.advance(timedelta(minutes=1))
    assert "paused" in caplog.text
    assert all(wrong_code not in caplog.text for wrong_code in wrong_codes)
    # even the right code waits now: guessing cannot go on
    clock.advance(timedelta(minutes=40))
    [code_message] = await here.say("eli", "/link")
    code = code_in(code_message.text)
    [paused] = await there.say("eli", f"/link {code}")
    assert paused.text != first
    assert "vent" in paused.text
    assert await count(app, Person) == 2
    # an hour after the first wrong try, trying is allowed again
    clock.advance(timedelta(minutes=16))
    await there.say("eli", f"/link {code}")
    assert await count(app, Person) == 1


def test_models_and_migrations_agree(database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from storage.models import Base

    sync_url = database_url.replace("+aiosqlite", "")
    command.upgrade(alembic_config(database_url), "head")
    engine = create_engine(sync_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []
