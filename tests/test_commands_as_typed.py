"""Commands in texts read as the reader's app lets them be typed: `/start ev_x` on Telegram,
`!start ev_x` on Matrix (Element takes a line starting with `/` as its own command and never
sends it). Flows write one form; each transport renders it. Texts people pass on to others
(an initiative's link, a check-in line without a QR code) carry the Matrix way in as well."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from babel.messages.pofile import read_po

from bot.composition import build_commands
from bot.settings import Settings
from bot.transports.matrix import render_text
from bot.transports.telegram import TelegramTransport
from bot.transports.telegram.rendering import escape, to_html
from conversations.core.messages import ChatRef, Choice, ChoiceEcho, OutMessage
from storage.clock import FrozenClock
from tests.fakes import Chat
from tests.telegram_fake_api import FakeBotAPI
from tests.test_event_links_matrix import MATRIX_LINK, matrix_settings
from tests.test_events import create_event
from tests.test_initiatives import post_initiative
from tests.test_next_meeting import give_idea


def on_matrix(text: str) -> str:
    return render_text(OutMessage(text))


def on_telegram(text: str) -> str:
    """What the Telegram transport sends (HTML-escaped, otherwise as written) before the
    bot knows its name; `as_telegram_html` once it does."""
    return escape(text)


def as_telegram_html(text: str) -> str:
    return to_html(text, "tmm_bot")


def telegram_link(payload: str) -> str:
    return f'<a href="https://t.me/tmm_bot?start={payload}">/start {payload}</a>'


class TestTheRendering:
    @pytest.mark.parametrize(
        ("written", "matrix"),
        [
            ("/start ev_12", "!start ev_12"),
            ("Write /help to see. (/forget)", "Write !help to see. (!forget)"),
            ("line one\n/link 4711", "line one\n!link 4711"),
            ("«/glem» sletter, /hjælp viser", "«!glem» sletter, !hjælp viser"),
            ("I don't know /foo.", "I don't know !foo."),
        ],
    )
    def test_command_mentions_take_the_matrix_sign(self, written: str, matrix: str) -> None:
        assert on_matrix(written) == matrix
        assert on_telegram(written) == written

    @pytest.mark.parametrize(
        "text",
        [
            "https://t.me/taelmigmed_bot?start=ev_1",
            "https://matrix.to/#/@bot:example.org",
            "og/eller",
            "1/2 liter",
            "see /var/lib/taelmigmed",
            "/",
        ],
    )
    def test_what_is_no_command_stays_as_written(self, text: str) -> None:
        assert on_matrix(text) == text

    def test_choice_labels_and_edits_render_the_same(self) -> None:
        message = OutMessage("Paused.", choices=(Choice("back", "Write /start", None, ()),))
        assert render_text(message) == "Paused.\n\n1. Write !start"

    def test_every_command_in_every_catalog_reads_with_the_matrix_sign(self) -> None:
        names = set(build_commands().all_names())
        mention = re.compile(r"(?<![^\s(\[«“„\"'])/(\w+)")
        checked = 0
        for language in ("da", "en", "uk", "ar"):
            with open(f"bot/locale/{language}/LC_MESSAGES/messages.po", "rb") as po:
                catalog = read_po(po)
            for entry in catalog:
                found = entry.string
                strings = found if isinstance(found, tuple | list) else (found,)
                for text in (s for s in strings if isinstance(s, str)):
                    named = [n for n in mention.findall(text) if n.lower() in names]
                    if not named:
                        continue
                    checked += 1
                    rendered = on_matrix(text)
                    for name in named:
                        assert f"/{name}" not in rendered, (language, text)
                        assert f"!{name}" in rendered, (language, text)
        assert checked > 4 * 40  # the texts that name /help, /start, /glem ... in each language


async def test_the_pause_reply_says_how_to_come_back_on_each_platform(chat: Chat) -> None:
    await chat.onboard("anna")
    [reply] = await chat.say("anna", "/stop")
    assert "Skriv /start" in on_telegram(reply.text)
    assert "Skriv !start" in on_matrix(reply.text)
    assert "!glem sletter det" in on_matrix(reply.text)
    assert "/" not in on_matrix(reply.text)


async def test_an_unknown_command_is_named_back_as_it_was_typed_there(chat: Chat) -> None:
    await chat.onboard("anna")
    replies = await chat.say("anna", "!hvaddetnu")
    assert "!hvaddetnu" in on_matrix(replies[-1].text)
    assert "Skriv !hjaelp" in on_matrix(replies[-1].text)
    assert "Skriv /hjaelp" in on_telegram(replies[-1].text)


async def test_the_next_meeting_notice_opens_the_event_on_each_platform(
    backend_chat: Chat, clock: FrozenClock
) -> None:
    from tests.test_feedback import after_event, event_with_yes

    chat = backend_chat
    event = await event_with_yes(chat, "anna", "bo")
    await after_event(chat, clock, event)
    await give_idea(chat, "anna", "Bålmad ved søen")
    await chat.say("kim", "/rapport")
    await chat.tap("kim", f"e{event.id}")
    [idea] = chat.last_question("kim").choices
    await chat.tap("kim", idea.id)
    await chat.say("kim", "lørdag kl 10-13")
    await chat.tap("kim", "once")
    await chat.tap("kim", "publish")
    delivered = await chat.deliver_outbox()
    [told] = [
        d.message.text for d in delivered if d.ref.user_id == "anna" and "idea" in d.message.text
    ]
    payload = re.search(r"/start (ev_\w+)", told)
    assert payload is not None
    assert f"!start {payload[1]}" in on_matrix(told)
    assert "/start" not in on_matrix(told)
    assert f"/start {payload[1]}" in on_telegram(told)
    assert telegram_link(payload[1]) in as_telegram_html(told)


class TestPassedOn:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return matrix_settings(database_url)

    async def test_an_initiative_link_shows_both_ways_in(self, chat: Chat) -> None:
        await chat.onboard("anna")
        event = await post_initiative(chat)
        posted = chat.last_text("anna")
        payload = f"ev_{event.link_code}"
        assert f"/start {payload}" in on_telegram(posted)
        assert telegram_link(payload) in as_telegram_html(posted)
        assert f"{MATRIX_LINK}, og skriv så !start {payload}" in on_telegram(posted)
        assert f"!start {payload}" in on_matrix(posted)
        assert "!mineinitiativer" in on_matrix(posted)
        assert "/start" not in on_matrix(posted)

    async def test_the_check_in_line_without_a_qr_code_shows_both_ways_in(self, chat: Chat) -> None:
        await chat.onboard("kim", name="Kim")
        await chat.onboard("bo", name="Bo")
        event = await create_event(chat)
        await chat.say("kim", "/deltagere")
        await chat.tap("kim", f"e{event.id}")
        replies = await chat.tap("kim", "checkinqr")
        text = replies[-1].text
        code = re.search(r"/start (in_\w+)", text)
        assert code is not None
        assert f"{MATRIX_LINK}, og skriv så !start {code[1]}" in text
        assert f"!start {code[1]}" in on_matrix(text)
        assert telegram_link(code[1]) in as_telegram_html(text)
        assert "/start" not in on_matrix(text)


class TestOnTelegram:
    """`/start ev_x` stays as written, and is a link to the bot with the payload: a tap on a
    bare `/start` would send only `/start`."""

    ANNA = ChatRef("telegram", "1001", "1001")
    LINKED = '<a href="https://t.me/FakeBot?start=ev_abc12">/start ev_abc12</a>'

    @pytest.fixture
    async def fake(self) -> AsyncIterator[FakeBotAPI]:
        server = FakeBotAPI()
        await server.start()
        yield server
        await server.stop()

    @pytest.fixture
    async def transport(self, fake: FakeBotAPI) -> AsyncIterator[TelegramTransport]:
        telegram = TelegramTransport("4242:FAKE-token", api_base_url=fake.url)
        await telegram.application.initialize()  # getMe: the bot learns its name
        yield telegram
        await telegram.application.shutdown()

    async def test_a_start_payload_is_a_link_that_opens_it(
        self, fake: FakeBotAPI, transport: TelegramTransport
    ) -> None:
        text = "Your idea is happening: <Bål> & kage. Open it with /start ev_abc12"
        await transport.send(self.ANNA, OutMessage(text))
        (params,) = fake.sent_to(1001, "sendMessage")
        assert params["text"].endswith(f"Open it with {self.LINKED}")
        assert "&lt;Bål&gt; &amp; kage" in params["text"]
        assert fake._messages[("1001", 1)]["text"] == text  # shown as written

    async def test_the_link_stays_when_an_answer_marks_the_question(
        self, fake: FakeBotAPI, transport: TelegramTransport
    ) -> None:
        message = OutMessage(
            "Come along? Others can join with /start ev_abc12",
            choices=(Choice("yes", "Yes", "✅"),),
            prompt_id="p1",
        )
        sent = await transport.send(self.ANNA, message)
        assert sent.message_id is not None
        await transport.echo(self.ANNA, ChoiceEcho(sent.message_id, "Yes"))
        method, edit = fake.sent[-1]
        assert method == "editMessageText"
        assert self.LINKED in edit["text"]

    @pytest.mark.parametrize("text", ["Write /start to begin.", "/start", "Write /help."])
    async def test_commands_without_a_payload_stay_plain(
        self, fake: FakeBotAPI, transport: TelegramTransport, text: str
    ) -> None:
        await transport.send(self.ANNA, OutMessage(text))
        (params,) = fake.sent_to(1001, "sendMessage")
        assert params["text"] == text
