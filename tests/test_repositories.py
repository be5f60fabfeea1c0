"""Repository contracts, on SQLite always and on PostgreSQL when TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from storage.clock import FrozenClock
from storage.models import (
    ConsentRecord,
    ConsentState,
    Conversation,
    OutboxMessage,
    OutboxStatus,
    Person,
    Role,
    TopicKind,
)
from storage.repositories.inbox import Arrived
from storage.unit_of_work import UnitOfWorkFactory


async def _person(uow_factory: UnitOfWorkFactory, user: str = "anna") -> int:
    async with uow_factory() as uow:
        person, _ = await uow.persons.get_or_create("fake", user, f"chat-{user}", language="da")
        await uow.commit()
        return person.id


# -- persons ----------------------------------------------------------------------------------


async def test_get_or_create_is_idempotent(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        first, created = await uow.persons.get_or_create("fake", "anna", "c1", language="en")
        await uow.commit()
    assert created
    async with uow_factory() as uow:
        again, created_again = await uow.persons.get_or_create("fake", "anna", "c2", language="da")
        await uow.commit()
    assert not created_again
    assert again.id == first.id
    assert again.language == "en"  # an existing person keeps their language
    async with uow_factory() as uow:
        identities = await uow.persons.identities(first.id)
        assert [(i.platform, i.user_id, i.chat_id) for i in identities] == [("fake", "anna", "c2")]
        other, created_other = await uow.persons.get_or_create(
            "matrix", "anna", "c1", language="da"
        )
        assert created_other
        assert other.id != first.id  # another platform's "anna" is somebody else
        assert await uow.persons.find_identity("fake", "nobody") is None


async def test_record_consent_keeps_a_record_of_each_answer(
    uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    person_id = await _person(uow_factory)
    async with uow_factory() as uow:
        person = await uow.persons.get(person_id)
        assert person is not None
        await uow.persons.record_consent(person, "v1", given=False)
        clock.advance(timedelta(days=1))
        await uow.persons.record_consent(person, "v2", given=True)
        await uow.commit()
    async with uow_factory() as uow:
        person = await uow.persons.get(person_id)
        assert person is not None
        assert (person.consent, person.consent_version) == (ConsentState.GIVEN, "v2")
        assert person.consent_at == clock.now()
        records = (
            (await uow.session.execute(select(ConsentRecord).order_by(ConsentRecord.id)))
            .scalars()
            .all()
        )
    assert [(r.version, r.given) for r in records] == [("v1", False), ("v2", True)]
    assert records[1].recorded_at - records[0].recorded_at == timedelta(days=1)


async def test_roles(uow_factory: UnitOfWorkFactory) -> None:
    anna, bo = await _person(uow_factory, "anna"), await _person(uow_factory, "bo")
    async with uow_factory() as uow:
        person = await uow.persons.get(bo)
        assert person is not None
        await uow.persons.set_role(person, Role.COORDINATOR)
        await uow.commit()
    async with uow_factory() as uow:
        assert [p.id for p in await uow.persons.with_role(Role.COORDINATOR)] == [bo]
        assert [p.id for p in await uow.persons.with_role(Role.CITIZEN)] == [anna]


async def test_coordinators_by_any_route(uow_factory: UnitOfWorkFactory) -> None:
    await _person(uow_factory, "anna")
    bo = await _person(uow_factory, "bo")
    cai, dan = await _person(uow_factory, "cai"), await _person(uow_factory, "dan")
    async with uow_factory() as uow:
        for person_id, role in ((bo, Role.COORDINATOR), (dan, Role.ADMIN)):
            person = await uow.persons.get(person_id)
            assert person is not None
            await uow.persons.set_role(person, role)
        await uow.commit()
    named = ["fake:cai", "matrix:anna", "fake:nobody-yet"]  # anna is "fake", not "matrix"
    async with uow_factory() as uow:
        assert [p.id for p in await uow.persons.coordinators()] == [bo, dan]
        assert [p.id for p in await uow.persons.coordinators(named)] == [bo, cai, dan]
        found = await uow.persons.coordinator_identities("fake", named)
        assert [(i.user_id, p.id) for i, p in found] == [("bo", bo), ("cai", cai), ("dan", dan)]
        assert await uow.persons.coordinator_identities("matrix", named) == []


# -- topics -----------------------------------------------------------------------------------


async def test_topic_toggle_and_choices(uow_factory: UnitOfWorkFactory) -> None:
    person_id = await _person(uow_factory)
    async with uow_factory() as uow:
        walks = await uow.topics.add(TopicKind.INTEREST, "walks", "Gåture", "Walks")
        north = await uow.topics.add(TopicKind.AREA, "nord", "Nord", "North")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.topics.toggle(person_id, walks.id) is True
        assert await uow.topics.toggle(person_id, north.id) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.topics.chosen_ids(person_id) == {walks.id, north.id}
        assert [t.slug for t in await uow.topics.chosen(person_id, TopicKind.INTEREST)] == ["walks"]
        assert await uow.topics.toggle(person_id, walks.id) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.topics.chosen_ids(person_id) == {north.id}


async def test_topic_add_twice_updates_and_reactivates(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        first = await uow.topics.add(TopicKind.INTEREST, "walks", "Gåture", "Walks")
        await uow.topics.deactivate(first)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.topics.active(TopicKind.INTEREST) == []
        again = await uow.topics.add(TopicKind.INTEREST, "walks", "Gåture", "Strolls")
        await uow.commit()
    assert again.id == first.id
    async with uow_factory() as uow:
        active = await uow.topics.active(TopicKind.INTEREST)
        expected = [(first.id, "Strolls", "Gåture")]
        assert [(t.id, t.name_en, t.name("da")) for t in active] == expected
        assert await uow.topics.count() == 1
        assert await uow.topics.active(TopicKind.AREA) == []


async def test_topic_names_per_language_with_fallback(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        walks = await uow.topics.add(TopicKind.INTEREST, "walks", "Gåture", "Walks")
        await uow.topics.set_name(walks, "uk", "Прогулянки")
        await uow.topics.set_name(walks, "uk", "Прогулянки разом")  # named again: replaced
        await uow.topics.set_name(walks, "ar", "المشي")
        await uow.commit()
    async with uow_factory() as uow:
        (topic,) = await uow.topics.active(TopicKind.INTEREST)
        names = {lang: topic.name(lang) for lang in ("da", "en", "uk", "ar", "so")}
        assert names == {
            "da": "Gåture",
            "en": "Walks",
            "uk": "Прогулянки разом",
            "ar": "المشي",
            "so": "Gåture",  # no name in the language: the Danish one
        }
        await uow.topics.set_name(topic, "ar", None)
        assert topic.name("ar") == "Gåture"
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.topics.find(TopicKind.INTEREST, "walks")
        assert found is not None
        assert [t.language for t in found.translations] == ["uk"]
        again = await uow.topics.add(TopicKind.INTEREST, "walks", "Gåture", "Walks")
        assert again.name("uk") == "Прогулянки разом"  # renaming keeps its other names
        # an area with the same slug is another topic, with names of its own
        area = await uow.topics.add(TopicKind.AREA, "walks", "Gåture", "Walks")
        assert area.name("uk") == "Gåture"


async def test_step_names_are_kept_per_language(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.translations.set("step", "maden", "uk", "їжа")
        await uow.translations.set("step", "maden", "ar", "الطعام")
        await uow.translations.set("step", "baalet", "uk", "вогнище")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.translations.names("step", ["maden", "baalet", "kaffen"], "uk") == {
            "maden": "їжа",
            "baalet": "вогнище",
        }
        assert await uow.translations.names("step", [], "uk") == {}
        assert await uow.translations.all_for("step") == {
            "baalet": {"uk": "вогнище"},
            "maden": {"ar": "الطعام", "uk": "їжа"},
        }
        await uow.translations.remove("step", "maden", "uk")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.translations.names("step", ["maden"], "uk") == {}


# -- conversations and prompts ----------------------------------------------------------------


async def test_conversation_repository(uow_factory: UnitOfWorkFactory, clock: FrozenClock) -> None:
    person_id = await _person(uow_factory)
    now = clock.now()
    async with uow_factory() as uow:
        uow.conversations.add(
            Conversation(
                platform="fake",
                chat_id="chat-anna",
                user_id="anna",
                person_id=person_id,
                flow="settings",
                state="menu",
                data={"single": True, "ø": ["å"]},
                history=[{"state": "x", "data": {}}],
                started_at=now,
                updated_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.conversations.get("fake", "chat-anna", "bo") is None
        assert await uow.conversations.get("fake", "other-chat", "anna") is None
        conversation = await uow.conversations.get("fake", "chat-anna", "anna")
        assert conversation is not None
        assert conversation.data == {"single": True, "ø": ["å"]}
        assert conversation.history == [{"state": "x", "data": {}}]
        assert conversation.expires_at == now + timedelta(hours=1)
        assert await uow.conversations.remove_expired(now) == 0
        assert await uow.conversations.remove_expired(now + timedelta(hours=2)) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.conversations.get("fake", "chat-anna", "anna") is None


async def test_prompt_repository(uow_factory: UnitOfWorkFactory, clock: FrozenClock) -> None:
    person_id = await _person(uow_factory)
    choices = [{"id": "yes", "label": "Ja", "emoji": "✅", "aliases": ["ja"]}]
    async with uow_factory() as uow:
        first = await uow.prompts.create(
            platform="fake",
            chat_id="chat-anna",
            user_id="anna",
            person_id=person_id,
            flow="onboarding",
            state="consent",
            choices=choices,
            context={"expects_text": False},
        )
        second = await uow.prompts.create(
            platform="fake",
            chat_id="chat-anna",
            user_id="anna",
            person_id=person_id,
            flow="menu",
            state="",
            choices=[],
            bound=False,
        )
        await uow.prompts.set_message_id(first.id, "m-1")
        await uow.prompts.set_message_id("no-such-prompt", "m-2")  # ignored
        await uow.commit()
    assert first.id != second.id
    async with uow_factory() as uow:
        found = await uow.prompts.by_message("fake", "chat-anna", "m-1")
        assert found is not None
        assert (found.id, found.choices, found.context, found.bound) == (
            first.id,
            choices,
            {"expects_text": False},
            True,
        )
        assert await uow.prompts.by_message("fake", "other-chat", "m-1") is None
        assert await uow.prompts.by_message("matrix", "chat-anna", "m-1") is None
        unbound = await uow.prompts.get(second.id)
        assert unbound is not None
        assert unbound.bound is False
        assert await uow.prompts.get("nope") is None
        assert await uow.prompts.remove_older_than(clock.now()) == 0
        assert await uow.prompts.remove_older_than(clock.now() + timedelta(seconds=1)) == 2
        await uow.commit()


# -- invite codes -----------------------------------------------------------------------------


async def test_invite_codes_are_single_use(uow_factory: UnitOfWorkFactory) -> None:
    anna, bo = await _person(uow_factory, "anna"), await _person(uow_factory, "bo")
    async with uow_factory() as uow:
        code = await uow.invites.create(
            Role.COORDINATOR, valid_for=timedelta(days=1), created_by=anna, note="for bo"
        )
        await uow.commit()
    assert len(code) == 11
    assert code[5] == "-"
    async with uow_factory() as uow:
        assert await uow.invites.redeem("WRONG-CODE1", bo) is None
        invite = await uow.invites.redeem(code.lower().replace("-", " "), bo)
        assert invite is not None
        assert (invite.role, invite.redeemed_by_id, invite.created_by_id) == (
            Role.COORDINATOR,
            bo,
            anna,
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.invites.redeem(code, anna) is None


async def test_invite_codes_expire(uow_factory: UnitOfWorkFactory, clock: FrozenClock) -> None:
    anna = await _person(uow_factory)
    async with uow_factory() as uow:
        code = await uow.invites.create(
            Role.COORDINATOR, valid_for=timedelta(hours=2), created_by=None, note=None
        )
        await uow.commit()
    clock.advance(timedelta(hours=2))
    async with uow_factory() as uow:
        assert await uow.invites.redeem(code, anna) is None


# -- outbox, update log, transport state ------------------------------------------------------


async def test_outbox_enqueue_is_idempotent_on_the_dedupe_key(
    uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    anna = await _person(uow_factory)
    message = {
        "person_id": anna,
        "platform": "fake",
        "chat_id": "chat-anna",
        "user_id": "anna",
        "kind": "reminder",
        "payload": {"text": "Husk i morgen 🌿"},
        "batch": "b1",
    }
    async with uow_factory() as uow:
        assert await uow.outbox.enqueue(dedupe_key="reminder:1:anna", **message) is True
        assert await uow.outbox.enqueue(dedupe_key="reminder:1:anna", **message) is False
        await uow.commit()
    async with uow_factory() as uow:  # and from another transaction
        assert await uow.outbox.enqueue(dedupe_key="reminder:1:anna", **message) is False
        assert await uow.outbox.enqueue(dedupe_key="reminder:2:anna", **message) is True
        await uow.commit()
    async with uow_factory() as uow:
        rows = (await uow.session.execute(select(OutboxMessage))).scalars().all()
        assert sorted(r.dedupe_key for r in rows) == ["reminder:1:anna", "reminder:2:anna"]
        stored = await uow.outbox.by_key("reminder:1:anna")
        assert stored is not None
        assert stored.payload == {"text": "Husk i morgen 🌿"}
        assert stored.status == OutboxStatus.PENDING
        assert stored.next_attempt_at == clock.now()
        assert (await uow.outbox.get(stored.id)) is not None
        assert await uow.outbox.counts("b1") == {"pending": 2}
        assert await uow.outbox.by_key("nope") is None


async def test_the_inbox_handles_each_update_once(
    uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    async with uow_factory() as uow:
        assert await uow.inbox.begin_handling("telegram", "1") is True
        assert await uow.inbox.begin_handling("telegram", "1") is False
        assert await uow.inbox.begin_handling("matrix", "1") is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.begin_handling("telegram", "1") is False
        # a rolled-back transaction leaves no trace
        assert await uow.inbox.begin_handling("telegram", "2") is True
    async with uow_factory() as uow:
        assert await uow.inbox.begin_handling("telegram", "2") is True
        await uow.commit()
    clock.advance(timedelta(days=1))
    async with uow_factory() as uow:
        assert await uow.inbox.forget_handled_before(clock.now()) == 3
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.begin_handling("telegram", "1") is True


async def test_the_inbox_keeps_updates_until_they_are_handled(
    uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    async with uow_factory() as uow:
        await uow.inbox.keep(
            "telegram",
            [Arrived("7", "c1", {"text": "hej"}), Arrived("8", "c2", {"text": "ja"})],
        )
        await uow.commit()
    async with uow_factory() as uow:
        # the platform sends one again: kept once, nothing overwritten
        await uow.inbox.keep("telegram", [Arrived("8", "c2", {"text": "other"})])
        await uow.commit()
    async with uow_factory() as uow:
        waiting = await uow.inbox.waiting("telegram")
        assert [(u.update_id, u.payload) for u in waiting] == [
            ("7", {"text": "hej"}),
            ("8", {"text": "ja"}),
        ]
        assert await uow.inbox.waiting("matrix") == []
        assert await uow.inbox.begin_handling("telegram", "7") is True
        await uow.commit()
    async with uow_factory() as uow:
        assert [u.update_id for u in await uow.inbox.waiting("telegram")] == ["8"]
        assert await uow.inbox.begin_handling("telegram", "7") is False
        # handled rows keep no message, only the id that spots a redelivery
        clock.advance(timedelta(days=1))
        assert await uow.inbox.forget_handled_before(clock.now()) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert [u.update_id for u in await uow.inbox.waiting("telegram")] == ["8"]


async def test_transport_state(uow_factory: UnitOfWorkFactory, clock: FrozenClock) -> None:
    async with uow_factory() as uow:
        assert await uow.transport_state.get("matrix", "since") is None
        await uow.transport_state.put("matrix", "since", "s1")
        await uow.commit()
    clock.advance(timedelta(minutes=1))
    async with uow_factory() as uow:
        assert await uow.transport_state.get("matrix", "since") == "s1"
        await uow.transport_state.put("matrix", "since", "s2")
        await uow.transport_state.put("telegram", "since", "t1")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.transport_state.get("matrix", "since") == "s2"
        assert await uow.transport_state.get("telegram", "since") == "t1"


async def test_transport_state_by_prefix_and_removed(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for key, value in (("menu:1", "a"), ("menu:2", "b"), ("menuX3", "c"), ("since", "d")):
            await uow.transport_state.put("telegram", key, value)
        await uow.transport_state.put("matrix", "menu:1", "e")
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.transport_state.starting_with("telegram", "menu:")
        assert found == {"menu:1": "a", "menu:2": "b"}
        assert await uow.transport_state.starting_with("telegram", "menu_") == {}  # no wildcard
        await uow.transport_state.remove("telegram", "menu:1")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.transport_state.starting_with("telegram", "menu:") == {"menu:2": "b"}
        assert await uow.transport_state.get("matrix", "menu:1") == "e"


# -- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 6, 1, 8, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 6, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),  # Copenhagen summer
        datetime(2026, 12, 24, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
async def test_times_round_trip_as_aware_utc(
    uow_factory: UnitOfWorkFactory, moment: datetime
) -> None:
    person_id = await _person(uow_factory)
    async with uow_factory() as uow:
        person = await uow.persons.get(person_id)
        assert person is not None
        person.consent_at = moment
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.persons.get(person_id)
        assert stored is not None
        assert stored.consent_at == moment
        assert stored.consent_at is not None
        assert stored.consent_at.utcoffset() == timedelta(0)
        assert stored.created_at.tzinfo is not None
        # comparisons in SQL use UTC too
        found = (
            await uow.session.execute(
                select(Person.id).where(Person.consent_at > moment - timedelta(seconds=1))
            )
        ).scalar_one()
        assert found == person_id


async def test_a_naive_time_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    person_id = await _person(uow_factory)
    async with uow_factory() as uow:
        person = await uow.persons.get(person_id)
        assert person is not None
        person.consent_at = datetime(2026, 6, 1, 8, 0)
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.commit()


async def test_leaving_without_commit_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.persons.get_or_create("fake", "ghost", "chat-ghost", language="da")
    async with uow_factory() as uow:
        assert await uow.persons.find_identity("fake", "ghost") is None


# -- at the same time -------------------------------------------------------------------------


async def test_a_code_redeemed_by_two_at_once_works_for_one(uow_factory: UnitOfWorkFactory) -> None:
    anna, bo = await _person(uow_factory, "anna"), await _person(uow_factory, "bo")
    async with uow_factory() as uow:
        code = await uow.invites.create(
            Role.COORDINATOR, valid_for=timedelta(days=1), created_by=None, note=None
        )
        await uow.commit()

    async def redeem(person_id: int) -> bool:
        async with uow_factory() as uow:
            invite = await uow.invites.redeem(code, person_id)
            await asyncio.sleep(0.05)  # still in the transaction while the other one tries
            await uow.commit()
            return invite is not None

    results = await asyncio.gather(redeem(anna), redeem(bo))
    assert sorted(results) == [False, True]


async def test_the_same_update_handled_twice_at_once_is_handled_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async def handle_it(update_id: str) -> bool:
        async with uow_factory() as uow:
            first = await uow.inbox.begin_handling("telegram", update_id)
            await asyncio.sleep(0.05)  # still in the transaction while the other one tries
            await uow.commit()
            return first

    # never seen before (no inbox step first)
    assert sorted(await asyncio.gather(handle_it("42"), handle_it("42"))) == [False, True]
    # kept in the inbox when it arrived, then handed to two handlers at once
    async with uow_factory() as uow:
        await uow.inbox.keep("telegram", [Arrived("43", "c", {"text": "hej"})])
        await uow.commit()
    assert sorted(await asyncio.gather(handle_it("43"), handle_it("43"))) == [False, True]


async def test_a_newcomer_seen_twice_at_once_is_one_person(uow_factory: UnitOfWorkFactory) -> None:
    async def first_contact(chat_id: str) -> int:
        async with uow_factory() as uow:
            person, _ = await uow.persons.get_or_create("fake", "anna", chat_id, language="da")
            await asyncio.sleep(0.05)  # still in the transaction while the other one tries
            await uow.commit()
            return person.id

    ids = await asyncio.gather(first_contact("private"), first_contact("group"))
    assert ids[0] == ids[1]
    async with uow_factory() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(Person))).scalar() == 1


async def test_the_same_topic_added_by_two_at_once_is_one_topic(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async def add(english: str) -> int:
        async with uow_factory() as uow:
            topic = await uow.topics.add(TopicKind.INTEREST, "walks", "Gåture", english)
            await asyncio.sleep(0.05)  # still in the transaction while the other one tries
            await uow.commit()
            return topic.id

    ids = await asyncio.gather(add("Walks"), add("Strolls"))
    assert ids[0] == ids[1]
    async with uow_factory() as uow:
        (topic,) = await uow.topics.active(TopicKind.INTEREST)
        assert topic.id == ids[0]
        assert topic.name_en in ("Walks", "Strolls")  # the later commit's name
        assert await uow.topics.count() == 1


async def test_the_same_transport_state_put_by_two_at_once_keeps_one_value(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async def put(value: str) -> None:
        async with uow_factory() as uow:
            await uow.transport_state.put("matrix", "since", value)
            await asyncio.sleep(0.05)  # still in the transaction while the other one tries
            await uow.commit()

    await asyncio.gather(put("s1"), put("s2"))
    async with uow_factory() as uow:
        assert await uow.transport_state.get("matrix", "since") in ("s1", "s2")
        await uow.transport_state.put("matrix", "since", "s3")
        assert await uow.transport_state.get("matrix", "since") == "s3"  # read back at once
