"""Journey feedback after an event, the snap-log, and the coordinator's report."""

from __future__ import annotations

import csv
import io
import struct
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from conversations.core.messages import Location, Media, MediaKind, OutMessage
from conversations.feedback.flows.give_feedback import JourneyFeedback
from conversations.feedback.rules.windows import event_end
from storage.clock import FrozenClock
from storage.models import (
    Event,
    FeedbackAnswer,
    FeedbackComment,
    FeedbackIdea,
    FeedbackRequest,
    Prompt,
    Snap,
    SnapConsent,
)
from storage.personal_data import merge_persons, person_links
from tests.fakes import Chat
from tests.helpers import texts
from tests.test_events import answer, create_event
from tests.test_onboarding import person_of

STEPS = 6  # the default journey: invitationen … hjemturen


async def event_with_yes(chat: Chat, *users: str, no: tuple[str, ...] = ()) -> Event:
    await chat.onboard("kim", name="Kim")
    for user in (*users, *no):
        await chat.onboard(user, name=user.capitalize(), language="en")
    event = await create_event(chat)
    await chat.deliver_outbox()
    for user in users:
        await answer(chat, user, "yes")
    for user in no:
        await answer(chat, user, "no")
    return event


async def after_event(chat: Chat, clock: FrozenClock, event: Event) -> None:
    """Travel to an hour after the end; the job asks, the outbox delivers."""
    clock.set(event_end(event) + timedelta(hours=1))
    await chat.app.event_jobs.run_once()
    await chat.deliver_outbox()


def ids(message: OutMessage) -> list[str]:
    return [c.id for c in message.choices]


def feedback_flow(chat: Chat) -> JourneyFeedback:
    flow = chat.app.router._engine.flow("feedback")
    assert isinstance(flow, JourneyFeedback)
    return flow


async def rows(chat: Chat, model: type) -> list:  # type: ignore[type-arg]
    async with chat.app.uow() as uow:
        return list((await uow.session.execute(select(model))).scalars().all())


async def answer_all(chat: Chat, user: str, verdicts: list[str]) -> None:
    """From the current step on: tap each verdict, skipping any 'why'."""
    for verdict in verdicts:
        await chat.tap(user, verdict)
        if "voice note" in chat.last_text(user):
            await chat.tap(user, "skip")


async def full_feedback(chat: Chat, user: str, verdicts: list[str]) -> None:
    await chat.tap(user, "start")
    await chat.tap(user, "came")
    await answer_all(chat, user, verdicts)
    await chat.tap(user, "skip")  # what matters
    await chat.tap(user, "skip")  # next time


# -- asking at the right time -------------------------------------------------------------------


async def test_feedback_is_asked_an_hour_after_the_end_once(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna", no=("bo",))
    clock.set(event_end(event) + timedelta(minutes=59))
    assert (await chat.app.event_jobs.run_once())["feedback_asked"] == 0
    clock.set(event_end(event) + timedelta(hours=1))
    assert (await chat.app.event_jobs.run_once())["feedback_asked"] == 1
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]
    assert ids(delivered[0].message) == ["start", "later"]
    assert "Skovtur med suppe" in delivered[0].message.text
    assert (await chat.app.event_jobs.run_once())["feedback_asked"] == 0
    assert await chat.deliver_outbox() == []


async def test_feedback_waits_for_quiet_hours(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna")
    person = await person_of(chat, "anna")
    async with chat.app.uow() as uow:
        stored = await uow.persons.get(person.id)
        assert stored is not None
        stored.quiet_start_minute, stored.quiet_end_minute = 12 * 60, 20 * 60  # local time
        await uow.commit()
    await after_event(chat, clock, event)  # 14:00 local: inside the quiet hours
    assert not any("start" in ids(d.message) for d in chat.transport.to("anna"))
    clock.set(event_end(event) + timedelta(hours=7))  # 20:00 local
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]


async def test_someone_already_answering_by_the_link_is_not_asked_again(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    clock.set(event_end(event) + timedelta(minutes=10))
    await chat.say("anna", f"/start fb_{event.link_code}")
    await chat.tap("anna", "came")
    clock.set(event_end(event) + timedelta(hours=1))
    assert (await chat.app.event_jobs.run_once())["feedback_asked"] == 0
    assert await chat.deliver_outbox() == []


class BrokenFetcher:
    async def fetch(self, file_ref: str) -> bytes:
        raise ConnectionError("the platform is away")


def fetch_with(chat: Chat, fetcher: object, media_path: Path) -> None:
    """Snaps of the fake platform are fetched by `fetcher`, their files kept under
    `media_path` (the flows choose a file's name, the file worker writes it)."""
    flow = feedback_flow(chat)
    flow.options = replace(flow.options, media_path=media_path)
    chat.app.snap_files.fetchers["fake"] = fetcher  # type: ignore[assignment]


async def test_a_failed_download_keeps_the_reference(
    chat: Chat, clock: FrozenClock, tmp_path: Path
) -> None:
    fetch_with(chat, BrokenFetcher(), tmp_path)
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.say("anna", "/snap")
    await chat.tap("anna", "yes")
    replies = await chat.send_media("anna", PHOTO)
    assert "in the log" in replies[-1].text
    await chat.app.snap_files.drain()
    (snap,) = await rows(chat, Snap)
    assert (snap.file_ref, snap.fetch_state, snap.fetch_attempts) == ("photo-file-1", "waiting", 1)
    assert snap.path is not None
    assert not file_exists(snap.path)


# -- the flow ---------------------------------------------------------------------------------


async def test_the_whole_journey_with_words_ideas_and_a_signature(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    replies = await chat.tap("anna", "start")
    assert ids(replies[-1]) == ["came", "notcame"]
    replies = await chat.tap("anna", "came")
    assert "Step 1 of 6: the invitation" in replies[-1].text  # in the reader's language
    assert [c.label for c in replies[-1].choices] == ["Good", "Bad", "Skip"]
    assert [c.emoji for c in replies[-1].choices] == ["👍", "👎", "⏭"]
    await chat.tap("anna", "good")
    replies = await chat.tap("anna", "bad")
    assert "wasn't good" in replies[-1].text
    assert replies[-1].expects_text
    replies = await chat.say("anna", "Bussen kom ikke")
    assert "Step 3 of 6" in replies[-1].text
    await chat.tap("anna", "skip")
    for _ in range(3):
        await chat.tap("anna", "good")
    assert "matters" in chat.last_text("anna")
    await chat.say("anna", "At vi er sammen")
    assert "next time" in chat.last_text("anna")
    await chat.say("anna", "Mere suppe")
    assert ids(chat.last_question("anna")) == ["anon", "signed"]
    replies = await chat.tap("anna", "signed")
    assert "Your name is shown" in replies[-1].text

    verdicts = {a.step_index: a.verdict for a in await rows(chat, FeedbackAnswer)}
    assert verdicts == {0: "good", 1: "bad", 2: "skip", 3: "good", 4: "good", 5: "good"}
    assert [(c.step_index, c.text) for c in await rows(chat, FeedbackComment)] == [
        (1, "Bussen kom ikke")
    ]
    assert sorted((i.kind, i.text) for i in await rows(chat, FeedbackIdea)) == [
        ("matters", "At vi er sammen"),
        ("next", "Mere suppe"),
    ]
    (request,) = await rows(chat, FeedbackRequest)
    assert request.came
    assert request.signed
    assert request.completed_at is not None


async def test_not_coming_skips_the_steps(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    replies = await chat.tap("anna", "notcame")
    assert "another time" in replies[0].text
    assert "matters" in replies[-1].text
    await chat.tap("anna", "skip")
    replies = await chat.tap("anna", "skip")
    assert "without your name" in replies[-1].text  # no words, so no question about a name
    (request,) = await rows(chat, FeedbackRequest)
    assert request.came is False
    assert await rows(chat, FeedbackAnswer) == []


async def test_back_and_changing_an_answer(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.tap("anna", "came")
    await chat.tap("anna", "good")
    await chat.tap("anna", "good")
    replies = await chat.say("anna", "/back")
    assert "Step 2 of 6" in replies[-1].text
    assert "Before, you answered: Good" in replies[-1].text
    await chat.tap("anna", "bad")
    await chat.tap("anna", "skip")  # the why
    answers = {a.step_index: a.verdict for a in await rows(chat, FeedbackAnswer)}
    assert answers == {0: "good", 1: "bad"}
    # going through it all again later changes answers, one row per step stays
    await answer_all(chat, "anna", ["good"] * 4)
    await chat.tap("anna", "skip")
    await chat.tap("anna", "skip")
    replies = await chat.say("anna", "/feedback")
    assert ids(replies[-1]) == ["again", "done"]
    await chat.tap("anna", "again")
    await chat.tap("anna", "came")
    await chat.tap("anna", "bad")
    await chat.tap("anna", "skip")
    answers = {a.step_index: a.verdict for a in await rows(chat, FeedbackAnswer)}
    assert answers[0] == "bad"
    assert len(answers) == STEPS


async def test_leave_and_resume_days_later_with_one_reminder(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.tap("anna", "came")
    await chat.tap("anna", "good")
    await chat.tap("anna", "skip")
    await chat.say("anna", "/cancel")  # left half-way
    clock.advance(timedelta(hours=47))
    assert (await chat.app.event_jobs.run_once())["feedback_reminded"] == 0
    clock.advance(timedelta(hours=2))
    assert (await chat.app.event_jobs.run_once())["feedback_reminded"] == 1
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]
    assert "saved" in delivered[0].message.text
    replies = await chat.tap("anna", "start")
    assert "Step 3 of 6" in replies[-1].text  # the first unanswered step
    clock.advance(timedelta(days=3))
    assert (await chat.app.event_jobs.run_once())["feedback_reminded"] == 0  # only one
    # days later, the deep link continues where it stopped too
    replies = await chat.say("anna", f"/start fb_{event.link_code}")
    assert "Step 3 of 6" in replies[-1].text


async def test_the_link_lets_anyone_answer_but_only_after_the_event(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    await chat.onboard("lea", name="Lea", language="en")
    replies = await chat.say("lea", f"/start fb_{event.link_code}")
    assert "isn't over yet" in replies[-1].text
    await after_event(chat, clock, event)
    assert [d.ref.user_id for d in chat.transport.sent[-1:]] == ["anna"]  # lea wasn't asked
    replies = await chat.say("lea", f"/start fb_{event.link_code}")
    assert ids(replies[-1]) == ["came", "notcame"]
    replies = await chat.say("lea", "/start fb_guessedcode123")
    assert "can't find" in replies[-1].text
    clock.advance(timedelta(days=15))
    replies = await chat.say("lea", f"/start fb_{event.link_code}")
    assert "too long" in replies[-1].text


async def test_someone_elses_feedback_button_does_nothing(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna")
    await chat.onboard("lea", name="Lea", language="en")
    await after_event(chat, clock, event)
    invitation = chat.last_question("anna")
    assert invitation.prompt_id is not None
    await chat.press("lea", invitation.prompt_id, "start")
    async with chat.app.uow() as uow:
        lea = await person_of(chat, "lea")
        assert await uow.feedback.request(event.id, lea.id) is None
    asked = [d.message for d in chat.transport.to("lea") if d.message.choices]
    assert not any(ids(message)[0] == "came" for message in asked)


async def test_why_after_good_when_the_setting_asks_for_it(chat: Chat, clock: FrozenClock) -> None:
    flow = feedback_flow(chat)
    flow.options = replace(flow.options, ask_why_after_good=True)
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.tap("anna", "came")
    replies = await chat.tap("anna", "good")
    assert "what was good" in replies[-1].text
    replies = await chat.say("anna", "Kaffen")
    assert "Step 2 of 6" in replies[-1].text
    (comment,) = await rows(chat, FeedbackComment)
    assert (comment.step_index, comment.text) == (0, "Kaffen")


# -- photos and voice notes -----------------------------------------------------------------------


PHOTO = Media(MediaKind.PHOTO, "photo-file-1", "image/jpeg", 120_000, "Bålet")
VOICE = Media(MediaKind.VOICE, "voice-file-1", "audio/ogg", 40_000)


def stored_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def file_exists(path: str) -> bool:
    return Path(path).exists()


class FakeFetcher:
    async def fetch(self, file_ref: str) -> bytes:
        return b"bytes of " + file_ref.encode()


async def test_photo_asks_for_consent_once_then_goes_to_the_log(
    chat: Chat, clock: FrozenClock, tmp_path: Path
) -> None:
    fetch_with(chat, FakeFetcher(), tmp_path)
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.tap("anna", "came")
    replies = await chat.send_media("anna", PHOTO)
    assert ids(replies[-1]) == ["yes", "no"]
    replies = await chat.tap("anna", "yes")
    assert "in the log" in replies[0].text
    assert "Step 1 of 6" in replies[-1].text  # back where we were
    replies = await chat.send_media("anna", replace(PHOTO, file_ref="photo-file-2"))
    assert "in the log" in replies[0].text  # no second consent question
    await chat.tap("anna", "bad")
    replies = await chat.send_media("anna", VOICE)  # a voice note saying why
    assert "Step 2 of 6" in replies[-1].text
    await chat.app.snap_files.drain()
    snaps = await rows(chat, Snap)
    assert [(s.purpose, s.kind) for s in snaps] == [
        ("log", "photo"),
        ("log", "photo"),
        ("why", "voice"),
    ]
    assert all(s.path and stored_bytes(s.path).startswith(b"bytes of ") for s in snaps)
    (comment,) = await rows(chat, FeedbackComment)
    assert comment.snap_id == snaps[2].id


async def test_no_consent_keeps_no_photos(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.send_media("anna", PHOTO)
    replies = await chat.tap("anna", "no")
    assert "won't keep" in replies[0].text
    assert ids(replies[-1]) == ["came", "notcame"]
    replies = await chat.send_media("anna", PHOTO)
    assert "chose not to share" in replies[0].text
    assert await rows(chat, Snap) == []
    (consent,) = await rows(chat, SnapConsent)
    assert consent.given is False
    # /snap respects it too
    replies = await chat.say("anna", "/snap")
    assert "chose not to share" in replies[-1].text


async def test_a_photo_at_the_photo_question_gets_a_word_and_the_question_again(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.send_media("anna", PHOTO)
    replies = await chat.send_media("anna", replace(PHOTO, file_ref="photo-file-2"))
    assert "can't use that here" in replies[0].text
    assert ids(replies[-1]) == ["yes", "no"]
    replies = await chat.tap("anna", "yes")
    assert "in the log" in replies[0].text
    assert [s.file_ref for s in await rows(chat, Snap)] == ["photo-file-1"]


async def test_a_location_in_the_feedback_is_not_taken_as_a_skip(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.tap("anna", "notcame")
    replies = await chat.send_location("anna", Location(56.1, 9.5))  # at "what matters?"
    assert "Please write your answer, or tap one of the choices." in replies[0].text
    assert "What matters to you" in replies[-1].text


async def test_photos_switched_off_in_settings_stop_new_ones_and_keep_the_old(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.say("anna", "/snap")
    await chat.tap("anna", "yes")
    await chat.send_media("anna", PHOTO)
    await chat.tap("anna", "done")
    await chat.say("anna", "/settings photos")
    replies = await chat.tap("anna", "no")
    assert "already shared stay" in texts(replies)
    assert "/forget" in texts(replies)
    (consent,) = await rows(chat, SnapConsent)
    assert consent.given is False
    assert len(await rows(chat, Snap)) == 1  # what was shared stays in the log
    replies = await chat.say("anna", "/snap")
    assert "chose not to share" in replies[-1].text
    assert "/settings" in replies[-1].text


async def test_photos_switched_on_in_settings_after_a_no_are_kept(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.say("anna", "/snap")
    await chat.tap("anna", "no")
    await chat.say("anna", "/settings photos")
    await chat.tap("anna", "yes")
    replies = await chat.say("anna", "/snap")
    assert ids(replies[-1]) == ["done"]  # no question: the settings answered it
    replies = await chat.send_media("anna", PHOTO)
    assert "in the log" in replies[-1].text
    assert len(await rows(chat, Snap)) == 1


async def test_a_too_large_photo_gets_a_clear_word(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.send_media("anna", PHOTO)
    await chat.tap("anna", "yes")
    replies = await chat.send_media("anna", replace(PHOTO, size=50 * 1024 * 1024))
    assert "too large" in replies[0].text
    assert "20 MB" in replies[0].text
    assert len(await rows(chat, Snap)) == 1


async def test_snap_command_after_the_event_and_not_later(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    replies = await chat.say("anna", "/snap")
    assert ids(replies[-1]) == ["yes", "no"]
    replies = await chat.tap("anna", "yes")
    assert ids(replies[-1]) == ["done"]
    replies = await chat.send_media("anna", PHOTO)
    assert "in the log" in replies[-1].text
    await chat.tap("anna", "done")
    assert len(await rows(chat, Snap)) == 1
    clock.advance(timedelta(days=4))
    replies = await chat.say("anna", "/snap")
    assert "no event" in replies[-1].text


async def stored_data(chat: Chat, user: str) -> dict[str, object]:
    async with chat.app.uow() as uow:
        conversation = await uow.conversations.get("fake", f"chat-{user}", user)
        assert conversation is not None
        return dict(conversation.data)


async def test_what_the_feedback_keeps_between_questions_has_the_shape_stored_before(
    chat: Chat, clock: FrozenClock
) -> None:
    """Conversations already stored (a step as "i", a photo waiting as five keys) go on."""
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    assert await stored_data(chat, "anna") == {"event_id": event.id}
    await chat.tap("anna", "came")
    assert await stored_data(chat, "anna") == {"event_id": event.id, "i": 0}
    await chat.tap("anna", "bad")
    assert await stored_data(chat, "anna") == {"event_id": event.id, "i": 0, "verdict": "bad"}
    await chat.tap("anna", "skip")
    await chat.send_media("anna", replace(PHOTO, caption=None))
    assert await stored_data(chat, "anna") == {
        "event_id": event.id,
        "i": 1,
        "pending": {
            "kind": "photo",
            "file_ref": "photo-file-1",
            "mime_type": "image/jpeg",
            "size": 120_000,
            "caption": None,
        },
        "back_to": "step",
    }
    replies = await chat.tap("anna", "yes")
    assert "in the log" in replies[0].text
    assert "Step 2 of 6" in replies[-1].text
    assert await stored_data(chat, "anna") == {"event_id": event.id, "i": 1}
    # a conversation stored with a key no question knows any more still goes on
    async with chat.app.uow() as uow:
        conversation = await uow.conversations.get("fake", "chat-anna", "anna")
        assert conversation is not None
        conversation.data = {"event_id": str(event.id), "i": 1, "retired": True}
        await uow.commit()
    replies = await chat.tap("anna", "good")
    assert "Step 3 of 6" in replies[-1].text


async def test_the_snap_log_keeps_the_shape_stored_before(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    await chat.say("anna", "/snap")
    assert await stored_data(chat, "anna") == {"event_id": event.id, "back_to": "collect"}
    await chat.tap("anna", "yes")
    assert await stored_data(chat, "anna") == {"event_id": event.id}


# -- forgetting ---------------------------------------------------------------------------------


async def test_forget_deletes_words_and_files_but_the_totals_stay(
    chat: Chat, clock: FrozenClock, tmp_path: Path
) -> None:
    fetch_with(chat, FakeFetcher(), tmp_path)
    event = await event_with_yes(chat, "anna", "bo", "cy")
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    await chat.tap("anna", "came")
    await chat.send_media("anna", PHOTO)
    await chat.tap("anna", "yes")
    await chat.tap("anna", "bad")
    await chat.say("anna", "Annas egne ord")
    await answer_all(chat, "anna", ["good"] * 5)
    await chat.say("anna", "Annas idé")
    await chat.tap("anna", "skip")
    await chat.tap("anna", "signed")
    for user in ("bo", "cy"):
        await full_feedback(chat, user, ["good"] * STEPS)
    await chat.app.snap_files.drain()
    (photo,) = await rows(chat, Snap)
    assert photo.path is not None
    assert file_exists(photo.path)

    replies = await chat.say("anna", "/mydata")
    assert "Photos and voice notes you shared: 1" in replies[0].text
    assert "What you wrote or said about a step: 1" in replies[0].text

    await chat.say("kim", "/report")
    before = await chat.tap("kim", f"e{event.id}")
    assert "Annas egne ord (Anna)" in before[0].text
    shared = [m for m in before if m.attachment and m.attachment.mime_type == "image/jpeg"]
    assert [m.text for m in shared] == ["Bålet"]  # the log's photo goes to the coordinator
    assert shared[0].attachment is not None
    assert shared[0].attachment.content == b"bytes of photo-file-1"

    await chat.say("anna", "/forget")
    await chat.tap("anna", "delete")
    assert not file_exists(photo.path)
    assert await rows(chat, Snap) == []
    assert await rows(chat, FeedbackComment) == []
    assert await rows(chat, FeedbackIdea) == []
    assert len(await rows(chat, FeedbackAnswer)) == 3 * STEPS  # anonymous, still counted

    await chat.say("kim", "/report")
    after = await chat.tap("kim", f"e{event.id}")
    assert "Annas" not in "\n".join(m.text for m in after)
    assert not any(m.attachment and m.attachment.mime_type == "image/jpeg" for m in after)
    assert "Anna" not in after[0].text
    assert "Gave feedback: 3" in after[0].text or "Gav feedback: 3" in after[0].text
    csv_file = next(m for m in after if m.attachment and m.attachment.filename.endswith(".csv"))
    assert csv_file.attachment is not None
    table = list(csv.DictReader(io.StringIO(csv_file.attachment.content.decode())))
    assert len(table) == 3 * STEPS
    # the coordinator reads Danish: so do the file's headings and words
    assert Counter(r["svar"] for r in table if r["trin nr."] == "1") == {"skidt": 1, "godt": 2}


# -- the report --------------------------------------------------------------------------------


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


async def test_report_has_funnel_picture_and_csv(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna", "bo", "cy", no=("dan",))
    clock.set(event.starts_at - timedelta(hours=1))
    assert (await chat.app.event_jobs.run_once())["sent"] == 3  # the reminders
    await after_event(chat, clock, event)
    await full_feedback(chat, "anna", ["good", "bad", "good", "good", "skip", "good"])
    await full_feedback(chat, "bo", ["good", "good", "bad", "good", "good", "good"])
    await full_feedback(chat, "cy", ["bad", "good", "good", "skip", "good", "good"])
    await chat.say("kim", "/rapport")
    replies = await chat.tap("kim", f"e{event.id}")
    text = replies[0].text
    for line in (
        "Inviteret: 4",
        "Sagde ja: 3",
        "Fik en påmindelse: 3",
        "Kom: 3",
        "Gav feedback: 3",
    ):
        assert line in text, text
    picture = next(m for m in replies if m.attachment and m.attachment.mime_type == "image/png")
    assert picture.attachment is not None
    width, height = png_size(picture.attachment.content)
    assert width == 1080
    assert height == 940  # 2.8 + 1.1 per step, in inches at 100 dpi
    assert len(picture.attachment.content) > 20_000  # bars, words and numbers, not blank
    csv_file = next(m for m in replies if m.attachment and m.attachment.mime_type == "text/csv")
    assert csv_file.attachment is not None
    table = list(csv.DictReader(io.StringIO(csv_file.attachment.content.decode())))
    assert len(table) == 3 * STEPS
    assert csv_file.attachment.filename.endswith("-svar.csv")
    assert list(table[0]) == [
        "svarperson",
        "arrangement nr.",
        "arrangement",
        "dato",
        "trin nr.",
        "trin",
        "svar",
        "kom",
    ]
    assert len({r["svarperson"] for r in table}) == 3
    words = {"godt": "good", "skidt": "bad", "sprunget over": "skip"}
    counted = Counter((r["trin nr."], words[r["svar"]]) for r in table)
    async with chat.app.uow() as uow:
        stored = Counter(
            (str(a.step_index + 1), a.verdict) for a in await uow.feedback.event_answers(event.id)
        )
    assert counted == stored
    assert counted[("1", "good")] == 2
    assert counted[("1", "bad")] == 1
    assert {r["trin"] for r in table if r["trin nr."] == "2"} == {"turen derhen"}
    assert {r["kom"] for r in table} == {"ja"}
    person_ids = {str((await person_of(chat, u)).id) for u in ("anna", "bo", "cy")}
    assert not person_ids & {r["svarperson"] for r in table}


async def test_report_with_few_answers_says_so(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna", "bo")
    await after_event(chat, clock, event)
    await full_feedback(chat, "anna", ["good"] * STEPS)
    await chat.say("kim", "/report")
    replies = await chat.tap("kim", f"e{event.id}")
    assert "for få" in replies[0].text or "too few" in replies[0].text
    assert not any(m.attachment and m.attachment.mime_type == "image/png" for m in replies)


async def test_report_only_for_the_events_coordinator_and_admins(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    replies = await chat.say("anna", "/report")
    assert "coordinators" in replies[0].text
    await chat.onboard("admin", name="Admin")
    await chat.say("admin", "/report")
    replies = await chat.tap("admin", f"e{event.id}")
    assert "Rapport" in replies[0].text
    # another coordinator: none of kim's events, and a forged choice is refused
    lea = await person_of(chat, "anna")  # anna becomes a coordinator
    async with chat.app.uow() as uow:
        stored = await uow.persons.get(lea.id)
        assert stored is not None
        await uow.persons.set_role(stored, "coordinator")
        await uow.commit()
    replies = await chat.say("anna", "/report")
    assert not replies[-1].choices
    # kim's own question, pressed by someone else, does nothing
    await chat.say("kim", "/report")
    question = chat.last_question("kim")
    assert question.prompt_id is not None
    replies = await chat.press("anna", question.prompt_id, f"e{event.id}")
    assert not any("Rapport" in m.text for m in replies)
    # a stored question that names someone else's event is refused by the flow itself
    async with chat.app.uow() as uow:
        prompt = await uow.prompts.get(question.prompt_id)
        assert prompt is not None
        prompt.person_id = lea.id
        prompt.chat_id, prompt.user_id = "chat-anna", "anna"
        conversation = await uow.conversations.get("fake", "chat-kim", "kim")
        assert conversation is not None
        conversation.chat_id, conversation.user_id = "chat-anna", "anna"
        conversation.person_id = lea.id
        await uow.commit()
    replies = await chat.press("anna", question.prompt_id, f"e{event.id}")
    assert "own events" in replies[-1].text
    assert not any(m.attachment for m in replies)


async def test_series_picture_compares_events_with_the_same_title(
    chat: Chat, clock: FrozenClock
) -> None:
    first = await event_with_yes(chat, "anna", "bo", "cy")
    await after_event(chat, clock, first)
    for user in ("anna", "bo", "cy"):
        await full_feedback(chat, user, ["good"] * STEPS)
    second = await create_event(chat, when="20/6 kl 10-13")
    await chat.deliver_outbox()
    for user in ("anna", "bo", "cy"):
        await answer(chat, user, "yes")
    await after_event(chat, clock, second)
    for user in ("anna", "bo", "cy"):
        await full_feedback(chat, user, ["bad"] * STEPS)
    await chat.say("kim", "/report")
    replies = await chat.tap("kim", f"e{second.id}")
    pictures = [m for m in replies if m.attachment and m.attachment.mime_type == "image/png"]
    assert len(pictures) == 2
    assert pictures[1].attachment is not None
    assert png_size(pictures[1].attachment.content)[0] == 1080


async def test_prompts_for_feedback_are_stored_per_person(chat: Chat, clock: FrozenClock) -> None:
    event = await event_with_yes(chat, "anna", "bo")
    await after_event(chat, clock, event)
    prompts = [p for p in await rows(chat, Prompt) if p.flow == "feedback"]
    assert len(prompts) == 2
    assert len({p.person_id for p in prompts}) == 2


def test_what_forget_does_with_feedback_is_declared() -> None:
    rules = {f"{link.table.name}.{link.column.name}": link.on_forget for link in person_links()}
    # verdicts and attendance stay as anonymous counts ...
    assert rules["feedback_requests.person_id"] == "anonymise"
    assert rules["feedback_answers.person_id"] == "anonymise"
    # ... but what a person wrote, said or photographed goes
    assert rules["feedback_comments.person_id"] == "delete"
    assert rules["feedback_ideas.person_id"] == "delete"
    assert rules["snaps.person_id"] == "delete"
    assert rules["snap_consents.person_id"] == "delete"


async def test_joining_two_chats_keeps_one_answer_per_step(chat: Chat, clock: FrozenClock) -> None:
    """/link merges two persons: a clashing feedback request gives way, nothing breaks."""
    event = await event_with_yes(chat, "anna", "bo")
    await after_event(chat, clock, event)
    await full_feedback(chat, "anna", ["good"] * STEPS)
    await full_feedback(chat, "bo", ["bad"] * STEPS)
    anna, bo = await person_of(chat, "anna"), await person_of(chat, "bo")
    async with chat.app.uow() as uow:
        await merge_persons(uow.session, anna.id, bo.id)
        await uow.commit()
    answers = await rows(chat, FeedbackAnswer)
    assert {a.verdict for a in answers} == {"good"}
    assert len(answers) == STEPS
    assert {r.person_id for r in await rows(chat, FeedbackRequest)} == {anna.id}
