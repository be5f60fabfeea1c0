"""Retention: what is older than the municipality's cut-offs goes in the daily run, counted
in the log without personal data, and /mydata says how long each kind is kept."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.i18n import catalogs
from conversations.people.retention import RetentionPolicy, retention_lines
from storage.clock import FrozenClock
from storage.models import (
    FeedbackComment,
    FeedbackIdea,
    FeedbackRequest,
    OutboxMessage,
    Person,
    Rsvp,
    Snap,
)
from tests.fakes import Chat
from tests.snap_support import ready_to_send_snaps


async def kept_feedback(chat: Chat, tmp_path: Path) -> tuple[int, Path]:
    """Eva's event (ended yesterday) with her answer, words, an idea and a photo file."""
    app = chat.app
    event = await ready_to_send_snaps(app, "fake", "eva", "chat-eva")
    photo = tmp_path / "media" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"jpeg")
    async with app.uow() as uow:
        now = uow.clock.now()
        request = (await uow.session.execute(select(FeedbackRequest))).scalar_one()
        person_id = request.person_id
        assert person_id is not None
        uow.session.add(Rsvp(event_id=event.id, person_id=person_id, answer="yes", answered_at=now))
        uow.session.add_all(
            [
                FeedbackComment(
                    request_id=request.id,
                    event_id=event.id,
                    person_id=person_id,
                    step_index=0,
                    text="Suppen var kold",
                    created_at=now,
                ),
                FeedbackIdea(
                    request_id=request.id,
                    event_id=event.id,
                    person_id=person_id,
                    kind="next",
                    text="Mere bål",
                    created_at=now,
                ),
                Snap(
                    event_id=event.id,
                    person_id=person_id,
                    kind="photo",
                    platform="fake",
                    file_ref="f1",
                    path=str(photo),
                    created_at=now,
                ),
            ]
        )
        await uow.outbox.enqueue(
            dedupe_key="test:sent",
            person_id=person_id,
            platform="fake",
            chat_id="chat-eva",
            user_id="eva",
            kind="notice",
            payload={"text": "Hej Eva, husk bålet"},
        )
        await uow.commit()
    await chat.deliver_outbox()
    return event.id, photo


async def rows(app: BotApp, model: type) -> list:  # type: ignore[type-arg]
    async with app.uow() as uow:
        return list((await uow.session.execute(select(model))).scalars().all())


async def test_each_kind_goes_after_its_own_cut_off(
    chat: Chat, clock: FrozenClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = chat.app
    _, photo = await kept_feedback(chat, tmp_path)
    retention = app.retention
    caplog.set_level(logging.INFO, logger="bot.retention")

    first = await retention.run_once()
    assert set(first.values()) == {0}
    assert set(first) >= {"message_texts", "feedback_comments", "snaps", "rsvp_names"}
    clock.advance(timedelta(days=31))  # sent message texts go after 30 days
    counts = await retention.run_once()
    assert counts["message_texts"] >= 1
    (sent,) = [row for row in await rows(app, OutboxMessage) if row.dedupe_key == "test:sent"]
    assert sent.payload == {"text": "", "scrubbed": True}
    assert sent.status == "sent"  # the key, status and time stay
    assert (await rows(app, FeedbackComment))[0].text == "Suppen var kold"

    clock.advance(timedelta(days=365))  # answers to past events lose the name after 12 months
    counts = await retention.run_once()
    assert counts["rsvp_names"] == 1
    assert [r.person_id for r in await rows(app, Rsvp)] == [None]
    assert await rows(app, FeedbackIdea)

    clock.advance(timedelta(days=365))  # feedback words, photos, voice notes after 24 months
    async with app.uow() as uow:  # (eva is still here: she wrote lately)
        eva = (await uow.session.execute(select(Person))).scalar_one()
        eva.last_seen_at = uow.clock.now()
        await uow.commit()
    counts = await retention.run_once()
    assert (counts["feedback_comments"], counts["feedback_ideas"], counts["snaps"]) == (1, 1, 1)
    assert await rows(app, FeedbackComment) == []
    assert await rows(app, Snap) == []
    assert not await asyncio.to_thread(photo.exists)
    assert await rows(app, FeedbackRequest)  # the good/bad answers and counts stay

    logged = caplog.text
    assert "feedback_comments 1, feedback_ideas 1, inactive_forgotten 0" in logged
    for personal in ("Eva", "Suppen", "bål", "photo.jpg"):
        assert personal not in logged


async def test_mydata_says_how_long_things_are_kept(chat: Chat) -> None:
    await chat.onboard("eva")
    summary = (await chat.say("eva", "/minedata"))[0].text
    assert "Hvor længe det gemmes:" in summary
    assert "efter 24 måneder" in summary
    assert "30 dage" in summary


async def test_the_inactive_are_asked_once_then_forgotten_unless_they_write(
    chat: Chat, clock: FrozenClock
) -> None:
    await chat.onboard("ole", name="Ole")
    await chat.onboard("pia", name="Pia")
    await chat.deliver_outbox()
    retention = chat.app.retention
    clock.advance(timedelta(days=24 * 30.5))  # 24 months without a word
    assert (await retention.run_once())["asked_to_stay"] == 2
    asked = await chat.deliver_outbox()
    assert {d.ref.user_id for d in asked} == {"ole", "pia"}
    assert all("Skal jeg gemme det, jeg ved om dig?" in d.message.text for d in asked)
    assert (await retention.run_once())["asked_to_stay"] == 0  # asked once

    await chat.say("pia", "hej, jeg er her endnu")  # writing is the answer
    clock.advance(timedelta(days=31))
    counts = await retention.run_once()
    assert counts["inactive_forgotten"] == 1
    async with chat.app.uow() as uow:
        names = [p.display_name for p in (await uow.session.execute(select(Person))).scalars()]
    assert names == ["Pia"]


@pytest.mark.parametrize(
    ("language", "months", "expected"),
    [
        ("da", 1, "efter 1 måned uden et ord"),
        ("da", 24, "efter 24 måneder uden et ord"),
        ("en", 1, "after 1 month without a word"),
        ("uk", 1, "через 1 місяць без"),
        ("uk", 3, "через 3 місяці без"),
        ("uk", 24, "через 24 місяці без"),
        ("uk", 12, "через 12 місяців без"),
        ("ar", 2, "بعد شهرين"),
        ("ar", 6, "بعد 6 أشهر"),
        ("ar", 24, "بعد 24 شهرًا"),
        ("da", 1.5, "efter 1.5 måneder uden et ord"),
    ],
)
def test_the_periods_read_in_each_languages_plural_forms(
    language: str, months: float, expected: str
) -> None:
    lines = retention_lines(RetentionPolicy(inactive_months=months), catalogs().get(language))
    assert expected in lines


async def test_check_ins_and_the_co_organisers_log_age_and_go_with_forget(
    backend_chat: Chat, clock: FrozenClock
) -> None:
    from storage.models import CheckIn, OrganiserAction
    from tests.test_co_organisers import add_helper
    from tests.test_events import SATURDAY_10, answer, create_event, everyone
    from tests.test_onboarding import person_of

    chat = backend_chat
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    await add_helper(chat, event.id, "anna")
    anna, bo = await person_of(chat, "anna"), await person_of(chat, "bo")
    clock.set(SATURDAY_10)
    await chat.say("anna", "/her")
    await chat.say("anna", "/deltagere")  # her helper's view: logged
    await chat.tap("anna", f"e{event.id}")
    await chat.tap("anna", "tick")
    await chat.tap("anna", f"p{bo.id}")  # she ticks bo: logged, and she is on his check-in
    assert [a.action for a in await rows(chat.app, OrganiserAction)] == ["viewed", "checked_in"]
    assert (await chat.app.retention.run_once())["check_in_names"] == 0

    # /minedata says how long both are kept
    summary = (await chat.say("anna", "/minedata"))[0].text
    assert "At du tjekkede ind til et arrangement: uden dit navn efter 12 måneder" in summary
    assert "Hvad du gjorde som medarrangør: slettes efter 12 måneder" in summary
    # /glem: nothing of anna is left on check-ins or in the log; the counts stay
    await chat.say("anna", "/glem")
    await chat.tap("anna", "delete")
    check_ins = await rows(chat.app, CheckIn)
    assert sorted((c.person_id or 0, c.checked_by_id or 0) for c in check_ins) == [
        (0, 0),
        (bo.id, 0),
    ]
    assert {a.person_id for a in await rows(chat.app, OrganiserAction)} == {None}
    assert anna.id not in {c.person_id for c in check_ins}

    # 13 months after the event: bo's check-in loses his name, the log goes
    clock.set(SATURDAY_10 + timedelta(days=13 * 31))
    counts = await chat.app.retention.run_once()
    assert (counts["check_in_names"], counts["organiser_actions"]) == (1, 2)
    async with chat.app.uow() as uow:
        assert await uow.check_ins.count(event.id) == 2  # how many came, for the report
        assert await uow.check_ins.checked_in(event.id) == set()
    assert await rows(chat.app, OrganiserAction) == []
