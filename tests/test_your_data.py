"""/mydata, /forget, /stop and /start again, read as a chat."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from conversations.core.messages import Media, MediaKind
from storage.models import ConsentState, PersonStatus
from storage.personal_data import person_links
from tests.fakes import Chat
from tests.helpers import (
    choice_ids,
    conversation_of,
    known_person,
    onboard_en,
    person_of,
    texts,
    topics_of,
)


async def rows_about(chat: Chat, person_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with chat.app.uow() as uow:
        for link in person_links():
            count = (
                await uow.session.execute(
                    select(func.count()).select_from(link.table).where(link.column == person_id)
                )
            ).scalar_one()
            if count:
                counts[f"{link.table.name}.{link.column.name}"] = int(count)
    return counts


async def test_mydata_sends_a_summary_and_a_json_file(chat: Chat) -> None:
    await onboard_en(chat, "anna", name="Anna")
    await chat.say("anna", "/settings interests")
    await chat.tap("anna", 1)
    await chat.tap("anna", "done")
    person = await known_person(chat, "anna")

    replies = await chat.say("anna", "/mydata")
    summary, file_message = replies[0], replies[-1]
    assert "Name: Anna" in summary.text
    assert "You said yes on" in summary.text
    assert "Fake" in summary.text  # reachable on
    assert file_message.attachment is not None
    assert file_message.attachment.mime_type == "application/json"
    assert file_message.attachment.filename == "my-data.json"

    exported = json.loads(file_message.attachment.content)
    assert exported["persons"] == [
        {**exported["persons"][0], "id": person.id, "display_name": "Anna", "language": "en"}
    ]
    assert [row["user_id"] for row in exported["identities"]] == ["anna"]
    assert [row["given"] for row in exported["consent_records"]] == [True]
    assert len(exported["person_topics"]) == 1
    assert all(row["person_id"] == person.id for row in exported["prompts"])
    # nothing about anybody else
    await onboard_en(chat, "bo", name="Bo")
    replies = await chat.say("anna", "/mydata")
    exported = json.loads(replies[-1].attachment.content)  # type: ignore[union-attr]
    assert "Bo" not in json.dumps(exported)
    assert [row["user_id"] for row in exported["identities"]] == ["anna"]


async def test_mydata_for_someone_who_said_no(chat: Chat) -> None:
    await chat.say("bo", "/start")
    await chat.tap("bo", "en")
    await chat.tap("bo", "no")
    replies = await chat.say("bo", "/mydata")
    assert "You said no" in replies[0].text
    assert replies[-1].attachment is not None


async def test_forget_after_yes_deletes_everything_and_starts_afresh(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings interests")
    await chat.tap("anna", 1)
    await chat.tap("anna", "done")
    await onboard_en(chat, "bo", name="Bo")
    person = await known_person(chat, "anna")
    bo = await known_person(chat, "bo")
    assert await rows_about(chat, person.id)
    bo_rows = await rows_about(chat, bo.id)

    replies = await chat.say("anna", "/forget")
    assert choice_ids(replies[-1]) == ["delete", "keep"]
    replies = await chat.tap("anna", "delete")
    assert "I have deleted everything about you" in texts(replies)

    assert await person_of(chat, "anna") is None
    assert await rows_about(chat, person.id) == {}
    assert await conversation_of(chat, "anna") is None
    assert await rows_about(chat, bo.id) == bo_rows  # nobody else's

    replies = await chat.say("anna", "hello")
    assert choice_ids(replies[-1]) == ["da", "en", "ar", "uk"]  # onboarding from the start
    again = await known_person(chat, "anna")
    assert again.id != person.id
    assert again.consent == ConsentState.UNASKED
    assert again.display_name is None


async def test_forget_typed_yes_in_danish_deletes(chat: Chat) -> None:
    await chat.onboard("anna")
    await chat.say("anna", "/glem")
    await chat.say("anna", "slet")
    assert await person_of(chat, "anna") is None


async def test_a_photo_at_the_forget_question_asks_it_again(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/forget")
    replies = await chat.send_media("anna", Media(MediaKind.PHOTO, "photo-1"))
    assert "can't use that here" in replies[0].text
    assert "haven't deleted" not in texts(replies)
    assert choice_ids(replies[-1]) == ["delete", "keep"]
    conversation = await conversation_of(chat, "anna")
    assert conversation is not None
    assert conversation.flow == "forget"


async def test_forget_no_keeps_everything(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    person = await known_person(chat, "anna")
    before = await rows_about(chat, person.id)
    await chat.say("anna", "/forget")
    replies = await chat.say("anna", "no")
    assert "OK, I haven't deleted anything." in texts(replies)
    after = await known_person(chat, "anna")
    assert after.display_name == "Anna"
    assert after.consent == ConsentState.GIVEN
    # the forget prompt and the two replies were added; nothing else went
    after_rows = await rows_about(chat, person.id)
    assert after_rows.pop("prompts.person_id") >= before.pop("prompts.person_id")
    assert after_rows.pop("outbox.person_id") == before.pop("outbox.person_id") + 2
    assert after_rows == before
    assert await conversation_of(chat, "anna") is None


async def test_stop_then_start_welcomes_back(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/stop")
    assert "I won't send you anything now" in texts(replies)
    assert (await known_person(chat, "anna")).status == PersonStatus.STOPPED

    replies = await chat.say("anna", "hello?")
    assert "You have paused messages from me" in texts(replies)
    replies = await chat.say("anna", "/settings")
    assert "You have paused messages from me" in texts(replies)
    assert await conversation_of(chat, "anna") is None
    replies = await chat.say("anna", "/mydata")  # always allowed
    assert replies[-1].attachment is not None

    replies = await chat.say("anna", "/start")
    assert "Welcome back!" in texts(replies)
    person = await known_person(chat, "anna")
    assert person.status == PersonStatus.ACTIVE
    assert person.display_name == "Anna"
    replies = await chat.say("anna", "/start")
    assert "Hello again, Anna!" in texts(replies)


async def test_stop_keeps_topics_and_start_keeps_them(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings interests")
    await chat.tap("anna", 1)
    await chat.tap("anna", "done")
    chosen = await topics_of(chat, "anna")
    await chat.say("anna", "/pause")
    await chat.say("anna", "/begynd")
    assert await topics_of(chat, "anna") == chosen


async def test_stop_is_respected_without_consent(chat: Chat) -> None:
    await chat.say("bo", "/start")
    await chat.tap("bo", "en")
    replies = await chat.say("bo", "/stop")  # in the middle of onboarding
    assert "I won't send you anything now" in texts(replies)
    assert not any(reply.choices for reply in replies)
    assert (await known_person(chat, "bo")).status == PersonStatus.STOPPED
    assert await conversation_of(chat, "bo") is None
    replies = await chat.say("cy", "/stop")  # a first message, so still in Danish
    assert "Nu sender jeg ikke noget til dig" in texts(replies)
    replies = await chat.say("cy", "/start")
    assert choice_ids(replies[-1]) == [
        "da",
        "en",
        "ar",
        "uk",
    ]  # not onboarded yet: the questions now
    assert (await known_person(chat, "cy")).status == PersonStatus.ACTIVE
