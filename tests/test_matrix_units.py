"""The Matrix transport's pure parts, without a server."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from nio import Event, RoomMessage

from bot.settings import ConfigurationError, Settings
from bot.transports.base import (
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    TemporaryFailure,
)
from bot.transports.matrix import (
    KEYCAPS,
    MatrixConfig,
    MatrixTransport,
    formatted_body,
    map_error,
    parse_geo_uri,
    reaction_keys,
    render_text,
    strip_reply_fallback,
)
from bot.transports.registry import configured_transports
from conversations.core.engine import keycap_number
from conversations.core.messages import Choice, Inbound, Location, MediaKind, OutMessage, Reaction
from tests.fakes import Chat


def test_choices_become_a_numbered_list_and_one_reaction_each() -> None:
    message = OutMessage(
        "Kommer du?", choices=(Choice("y", "Ja", "✅"), Choice("m", "Måske"), Choice("n", "Nej"))
    )
    assert render_text(message) == "Kommer du?\n\n1. ✅ Ja\n2. Måske\n3. Nej"
    assert reaction_keys(message) == ["✅", KEYCAPS[1], KEYCAPS[2]]
    assert [keycap_number(k) for k in KEYCAPS] == list(range(1, 11))
    assert keycap_number("✅") is None


def test_formatted_body_escapes_our_text() -> None:
    assert (
        formatted_body("<script>&\nny linje")["formatted_body"] == "&lt;script&gt;&amp;<br>ny linje"
    )


def test_geo_uris() -> None:
    assert parse_geo_uri("geo:55.6761,12.5683;u=35", "Skoven") == Location(
        55.6761, 12.5683, "Skoven"
    )
    assert parse_geo_uri("geo:-33.9,151.2") == Location(-33.9, 151.2, None)
    assert parse_geo_uri("geo:95,10") is None
    assert parse_geo_uri("https://maps") is None


def test_reply_fallback_is_dropped() -> None:
    assert strip_reply_fallback("> <@bot:x> Kommer du?\n> 1. Ja\n\n2") == "2"
    assert strip_reply_fallback("hej") == "hej"


@pytest.mark.parametrize(
    ("code", "status", "retry_after", "expected"),
    [
        ("M_LIMIT_EXCEEDED", 429, 1500, RetryLater),
        ("M_FORBIDDEN", 403, None, RecipientBlocked),
        ("M_NOT_FOUND", 404, None, RecipientBlocked),
        ("M_TOO_LARGE", 413, None, PermanentFailure),
        ("M_UNKNOWN", 502, None, TemporaryFailure),
        ("M_UNKNOWN_TOKEN", 401, None, TemporaryFailure),
    ],
)
def test_errors_map_to_delivery_errors(
    code: str, status: int, retry_after: int | None, expected: type
) -> None:
    response = SimpleNamespace(
        status_code=code,
        retry_after_ms=retry_after,
        transport_response=SimpleNamespace(status=status),
    )
    error = map_error(response)
    assert isinstance(error, expected)
    if isinstance(error, RetryLater):
        assert error.seconds == 1.5


def _room() -> SimpleNamespace:
    return SimpleNamespace(room_id="!r:x", user_name=lambda user: "Anna")


def _event(content: dict[str, object], event_type: str = "m.room.message") -> Event:
    source = {
        "type": event_type,
        "event_id": "$e",
        "sender": "@anna:x",
        "origin_server_ts": 1,
        "content": content,
    }
    if event_type == "m.room.message":
        return RoomMessage.parse_event(source)
    return Event.parse_event(source)


def transport(tmp_path: Path) -> MatrixTransport:
    return MatrixTransport(MatrixConfig("http://127.0.0.1:1", "@bot:x", tmp_path / "store"))


def test_inbound_kinds(tmp_path: Path) -> None:
    matrix = transport(tmp_path)
    room = _room()
    text = matrix.to_inbound(room, _event({"msgtype": "m.text", "body": "!start ev_1"}))  # type: ignore[arg-type]
    assert text is not None
    assert text.text == "!start ev_1"
    assert text.sender_name == "Anna"
    assert text.ref.chat_id == "!r:x"
    assert text.ref.user_id == "@anna:x"

    voice = matrix.to_inbound(
        room,  # type: ignore[arg-type]
        _event(
            {
                "msgtype": "m.audio",
                "body": "voice.ogg",
                "url": "mxc://x/abc",
                "info": {"mimetype": "audio/ogg", "size": 12},
            }
        ),
    )
    assert voice is not None
    assert voice.media is not None
    assert voice.media.kind == MediaKind.VOICE
    assert voice.media.file_ref == "mxc://x/abc"
    assert voice.media.size == 12

    place = matrix.to_inbound(
        room,  # type: ignore[arg-type]
        _event({"msgtype": "m.location", "body": "Her", "geo_uri": "geo:55.1,12.2"}),
    )
    assert place is not None
    assert place.location == Location(55.1, 12.2, "Her")

    reaction = matrix.to_inbound(
        room,  # type: ignore[arg-type]
        _event(
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$q", "key": "✅"}},
            "m.reaction",
        ),
    )
    assert reaction is not None
    assert reaction.reaction is not None
    assert (reaction.reaction.message_id, reaction.reaction.key) == ("$q", "✅")

    notice = _event({"msgtype": "m.notice", "body": "from another bot"})
    edit = _event(
        {
            "msgtype": "m.text",
            "body": "* rettet",
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"},
        }
    )
    assert matrix.to_inbound(room, notice) is None  # type: ignore[arg-type]
    assert matrix.to_inbound(room, edit) is None  # type: ignore[arg-type]


def test_matrix_is_configured_by_settings(tmp_path: Path) -> None:
    settings = Settings(
        matrix_homeserver="http://127.0.0.1:8008",
        matrix_user_id="@bot:example.org",
        matrix_password="hunter2-pw",
        matrix_store_path=tmp_path / "store",
        matrix_rooms="#a:example.org, !b:example.org",
        _env_file=None,  # type: ignore[call-arg]
    )
    [matrix] = configured_transports(settings)
    assert isinstance(matrix, MatrixTransport)
    assert matrix.config.rooms == ("#a:example.org", "!b:example.org")
    assert matrix.config.password == "hunter2-pw"
    assert "hunter2-pw" not in repr(settings)


async def test_a_keycap_reaction_picks_a_choice_without_emoji(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "da")
    await chat.tap("anna", "yes")
    await chat.say("anna", "Anna")
    interests = chat.last_question("anna")
    assert interests.choices[0].emoji is None
    sent = chat.transport.to("anna")[-1]
    before = len(chat.transport.sent)
    assert await chat.react("anna", sent.message_id, KEYCAPS[0]) == []
    # the list is edited in place (its reactions stay), not sent again
    assert len(chat.transport.sent) == before
    _ref, edited_id, edited = chat.transport.edits[-1]
    assert edited_id == sent.message_id
    assert edited.choices[0].label.startswith("✅")


async def test_taking_a_reaction_back_undoes_a_choice_only_in_a_list(chat: Chat) -> None:
    await chat.say("anna", "/start")
    language = chat.transport.to("anna")[-1]
    await chat.tap("anna", "da")
    # taking back the reaction that answered a question of one answer changes nothing
    taken_back = Reaction(language.message_id, "🇩🇰", removed=True)
    assert await chat._send(Inbound(chat.ref("anna"), "r1", reaction=taken_back)) == []
    await chat.tap("anna", "yes")
    await chat.say("anna", "Anna")
    interests = chat.transport.to("anna")[-1]
    await chat.react("anna", interests.message_id, KEYCAPS[0])
    assert chat.transport.edits[-1][2].choices[0].label.startswith("✅")
    undo = Reaction(interests.message_id, KEYCAPS[0], removed=True)
    assert await chat._send(Inbound(chat.ref("anna"), "r2", reaction=undo)) == []
    assert not chat.transport.edits[-1][2].choices[0].label.startswith("✅")
    assert len(chat.transport.edits) == 2
    # Done taken back is not an undo either
    done = Reaction(interests.message_id, "👍", removed=True)
    assert await chat._send(Inbound(chat.ref("anna"), "r3", reaction=done)) == []
    assert len(chat.transport.edits) == 2


async def test_a_reaction_that_is_no_choice_gets_a_short_hint(chat: Chat) -> None:
    await chat.say("anna", "/start")
    language = chat.transport.to("anna")[-1]
    [hint] = await chat.react("anna", language.message_id, "🐸")
    assert "number" in hint.text or "nummer" in hint.text


async def test_the_encryption_store_opens_only_with_its_passphrase(tmp_path: Path) -> None:
    def keyed(key: str | None) -> MatrixTransport:
        return MatrixTransport(
            MatrixConfig(
                "http://127.0.0.1:1",
                "@bot:x",
                tmp_path / "store",
                store_key=key,
                access_token="token",
                device_id="DEVICE",
            )
        )

    first = keyed("a long passphrase")
    await first.login()  # no network: a kept token; this creates the device's keys
    account = first.client.olm
    assert account is not None
    identity_key = account.account.identity_keys["curve25519"]
    await first.client.close()

    with pytest.raises(ConfigurationError, match="TMM_MATRIX_STORE_KEY"):
        await keyed("another passphrase").login()
    with pytest.raises(ConfigurationError, match="TMM_MATRIX_STORE_KEY"):
        await keyed(None).login()

    again = keyed("a long passphrase")
    await again.login()
    assert again.client.olm is not None
    assert again.client.olm.account.identity_keys["curve25519"] == identity_key
    await again.client.close()
