"""Neutral messages: the outbox form round-trips; deep links parse what Telegram allows."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from conversations.core.deep_links import DeepLinks
from conversations.core.messages import (
    Attachment,
    Choice,
    Location,
    OutMessage,
    message_from_payload,
    message_to_payload,
)

messages = st.builds(
    OutMessage,
    text=st.text(max_size=100),
    choices=st.lists(
        st.builds(
            Choice,
            id=st.text(min_size=1, max_size=10),
            label=st.text(max_size=20),
            emoji=st.one_of(st.none(), st.text(max_size=2)),
            aliases=st.lists(st.text(max_size=5), max_size=3).map(tuple),
        ),
        max_size=5,
    ).map(tuple),
    expects_text=st.booleans(),
    attachment=st.one_of(
        st.none(),
        st.builds(
            Attachment,
            filename=st.text(min_size=1, max_size=20),
            content=st.binary(max_size=200),
            mime_type=st.sampled_from(["application/json", "image/png"]),
        ),
    ),
    location=st.one_of(
        st.none(),
        st.builds(
            Location,
            latitude=st.floats(-90, 90),
            longitude=st.floats(-180, 180),
            title=st.one_of(st.none(), st.text(max_size=20)),
        ),
    ),
    prompt_id=st.one_of(st.none(), st.text(min_size=1, max_size=16)),
)


@given(messages)
def test_a_message_survives_the_outbox(message: OutMessage) -> None:
    payload = json.loads(json.dumps(message_to_payload(message)))  # as stored, as JSON
    assert message_from_payload(payload) == message


def test_deep_links() -> None:
    links = DeepLinks()
    links.register("co", "coordinator")
    links.register("ev", "event")
    target = links.resolve("co_ABCDE-FGHJK")
    assert target is not None
    assert (target.flow, target.args) == ("coordinator", "ABCDE-FGHJK")
    assert links.resolve(DeepLinks.make("ev", "12")) is not None
    for bad in ("", "co", "co_", "xx_12", "co_ÆØÅ", "co_" + "a" * 61, "CO_12", "co 12"):
        assert links.resolve(bad) is None, bad
    try:
        links.register("co", "other")
    except ValueError:
        pass
    else:
        raise AssertionError("a prefix was registered twice")


@given(st.text(max_size=100))
def test_any_payload_resolves_or_not_without_raising(payload: str) -> None:
    links = DeepLinks()
    links.register("co", "coordinator")
    target = links.resolve(payload)
    if target is not None:
        assert target.flow == "coordinator"
        assert len(target.args) <= 60


def test_an_inbound_message_kept_in_the_inbox_reads_back_as_it_came() -> None:
    from conversations.core.messages import (
        ChatRef,
        ChoicePick,
        Command,
        Inbound,
        Location,
        Media,
        MediaKind,
        Membership,
        Reaction,
        inbound_from_record,
        inbound_to_record,
    )

    ref = ChatRef("telegram", "-100", "7")
    every_kind = [
        Inbound(ref, "1", text="hej 🌿", sender_name="Anna", language_hint="da"),
        Inbound(ref, "2", command=Command("start", "ev_abc")),
        Inbound(ref, "3", choice=ChoicePick("p1", "yes", "m9")),
        Inbound(ref, "4", choice=ChoicePick("p1", "yes")),
        Inbound(ref, "5", reaction=Reaction("$ev", "✅")),
        Inbound(ref, "6", media=Media(MediaKind.VOICE, "f1", "audio/ogg", 1200, "hør")),
        Inbound(ref, "7", location=Location(56.1, 9.5, "Hald Ege")),
        Inbound(ref, "8", membership=Membership.LEFT, private_chat=False),
    ]
    for inbound in every_kind:
        record = inbound_to_record(inbound)
        assert json.loads(json.dumps(record)) == record  # JSON as it is stored
        assert inbound_from_record(record) == inbound
