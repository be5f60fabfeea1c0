"""The privacy notice the municipality fills in: shown before consent and by /privacy, and a
new version is accepted again before anything new is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.privacy import load_privacy_notice
from bot.settings import ConfigurationError, Settings
from storage.clock import FrozenClock
from storage.models import ConsentRecord, Person, PersonStatus
from tests.fakes import Chat, RecordingTransport
from tests.test_linking import count

FILLED_IN = """
version = "2027-01"

[controller]
name = "Middelfart Kommune"
address = "Nytorv 9, 5500 Middelfart"
contact = "naturensrige@middelfart.dk"

[data_protection_officer]
name = "Kommunens databeskyttelsesrådgiver"
contact = "dpo@middelfart.dk"

[purpose]
da = "At invitere dig til naturarrangementer og minde dig om dem."
en = "To invite you to events in nature and remind you of them."

[legal_basis]
da = "Dit samtykke (databeskyttelsesforordningen art. 6, stk. 1, litra a)."
en = "Your consent (GDPR Article 6(1)(a))."

[retention]
da = "Til du sletter dem, eller efter 24 måneder uden aktivitet."
en = "Until you delete them, or after 24 months without activity."

[[processors]]
name = "Hostingfirma ApS"
da = "driver serveren i Danmark"
en = "runs the server in Denmark"
"""


def with_notice(settings: Settings, tmp_path: Path, text: str = FILLED_IN) -> Settings:
    path = tmp_path / "privacy.toml"
    path.write_text(text, encoding="utf-8")
    return settings.model_copy(update={"privacy_notice_path": path})


@pytest.fixture
async def start_app(
    clock: FrozenClock,
) -> AsyncIterator[Callable[[Settings], object]]:
    apps: list[BotApp] = []

    async def start(settings: Settings) -> Chat:
        transport = RecordingTransport()
        app = BotApp(settings, [transport], clock=clock)
        await app.migrate()
        await seed_starter_topics(app.uow)
        apps.append(app)
        return Chat(app, transport)

    yield start  # type: ignore[misc]
    for app in apps:
        await app.close()


async def test_without_a_file_the_notice_says_what_is_missing(chat: Chat) -> None:
    [notice] = await chat.say("ole", "/privatliv")  # before consent too
    assert "Sådan passer vi på dine oplysninger (version 2026-11)" in notice.text
    assert "ikke udfyldt af kommunen endnu" in notice.text
    assert "Datatilsynet" in notice.text
    assert "/minedata" in notice.text
    assert "/glem" in notice.text
    assert await count(chat.app, ConsentRecord) == 0  # reading it stores nothing


async def test_the_filled_in_notice_is_shown_at_tell_me_more(
    settings: Settings, tmp_path: Path, start_app: Callable[[Settings], object]
) -> None:
    configured = with_notice(settings, tmp_path).model_copy(update={"telegram_token": None})
    chat: Chat = await start_app(configured)  # type: ignore[misc]
    await chat.say("ida", "/start")
    await chat.tap("ida", "en")
    more, _question = await chat.tap("ida", "more")
    assert "version 2027-01" in more.text
    assert "Middelfart Kommune, Nytorv 9, 5500 Middelfart, naturensrige@middelfart.dk" in more.text
    assert "dpo@middelfart.dk" in more.text
    assert "To invite you to events in nature" in more.text
    assert "GDPR Article 6(1)(a)" in more.text
    assert "• Hostingfirma ApS: runs the server in Denmark" in more.text
    assert "not filled in yet" not in more.text


def test_the_chat_platforms_are_named_as_processors(settings: Settings, tmp_path: Path) -> None:
    configured = with_notice(settings, tmp_path).model_copy(
        update={
            "telegram_token": "1:abc",
            "matrix_homeserver": "https://matrix.middelfart.dk",
            "matrix_user_id": "@bot:middelfart.dk",
        }
    )
    names = [p.name for p in load_privacy_notice(configured).processors]
    assert names == [
        "Telegram (Telegram FZ-LLC)",
        "Matrix (matrix.middelfart.dk)",
        "Hostingfirma ApS",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version = ", "is not TOML"),
        ('version = "1"\n[controller]\naddress = "x"\n', "controller.name"),
        ('version = "1"\nsurprise = true\n', "surprise"),
    ],
)
def test_a_broken_notice_file_is_one_clear_line(
    settings: Settings, tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_privacy_notice(with_notice(settings, tmp_path, text))
    message = str(error.value)
    assert message.startswith("TMM_PRIVACY_NOTICE_PATH:")
    assert problem in message
    assert "\n" not in message


async def test_a_new_version_is_asked_before_anything_new_is_stored(
    settings: Settings, tmp_path: Path, start_app: Callable[[Settings], object]
) -> None:
    before: Chat = await start_app(settings)  # type: ignore[misc]
    await before.onboard("eva", name="Eva")
    await before.app.close()

    chat: Chat = await start_app(with_notice(settings, tmp_path))  # type: ignore[misc]
    replies = await chat.say("eva", "/indstillinger")
    assert "version 2027-01" in replies[0].text
    assert [c.id for c in replies[-1].choices] == ["yes", "more", "no"]
    # the notice and commands that need no consent still answer
    [notice] = await chat.say("eva", "/privatliv")
    assert "Middelfart Kommune" in notice.text
    # an answer to something else is held back: asked again, nothing changed
    replies = await chat.say("eva", "Bo")
    assert [c.id for c in replies[-1].choices] == ["yes", "more", "no"]
    async with chat.app.uow() as uow:
        (person,) = (await uow.session.execute(Person.__table__.select())).all()
        assert person.consent_version == "2026-11"
    [thanks] = await chat.tap("eva", "yes")
    assert thanks.text == "Tak! Så fortsætter vi som før."
    async with chat.app.uow() as uow:
        (person,) = (await uow.session.execute(Person.__table__.select())).all()
        assert person.consent_version == "2027-01"
    replies = await chat.say("eva", "/indstillinger")
    assert "version 2027-01" not in replies[0].text  # the settings, as before


async def test_saying_no_to_a_new_version_pauses_and_keeps_nothing_new(
    settings: Settings, tmp_path: Path, start_app: Callable[[Settings], object]
) -> None:
    before: Chat = await start_app(settings)  # type: ignore[misc]
    await before.onboard("eva", name="Eva")
    await before.app.close()
    chat: Chat = await start_app(with_notice(settings, tmp_path))  # type: ignore[misc]
    await chat.say("eva", "hej")
    [answer] = await chat.tap("eva", "no")
    assert "/glem" in answer.text
    async with chat.app.uow() as uow:
        (person,) = (await uow.session.execute(Person.__table__.select())).all()
        assert person.status == PersonStatus.STOPPED
        assert person.consent_version == "2026-11"
