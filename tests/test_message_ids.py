"""Which platform message carried which question: written in batches, never lost at close."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest
from sqlalchemy import select

from bot.message_ids import MessageIdRecorder
from storage.models import Prompt
from storage.repositories.prompts import PromptRepository
from tests.fakes import Chat


async def _stored_ids(chat: Chat) -> dict[str, str | None]:
    async with chat.app.uow() as uow:
        rows = (await uow.session.execute(select(Prompt.id, Prompt.platform_message_id))).all()
    return {str(prompt_id): message_id for prompt_id, message_id in rows}


async def test_closing_while_a_batch_is_being_written_loses_nothing(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.say("anna", "/start")  # stores a question (a prompt) to attach ids to
    await chat.app.message_ids.flush()
    prompt_ids = list(await _stored_ids(chat))
    assert prompt_ids

    writing = asyncio.Event()
    may_finish = asyncio.Event()
    original = PromptRepository.set_message_ids

    async def slow_write(
        self: PromptRepository, message_ids: Mapping[str, str] | Sequence[tuple[str, str]]
    ) -> None:
        writing.set()
        await may_finish.wait()
        await original(self, message_ids)

    monkeypatch.setattr(PromptRepository, "set_message_ids", slow_write)
    recorder = MessageIdRecorder(chat.app.uow, delay=0)
    recorder.remember(prompt_ids[0], "m-1")
    await writing.wait()  # the batch is on its way to the database
    closing = asyncio.create_task(recorder.close())
    await asyncio.sleep(0.01)
    assert not closing.done()  # close waits for the write instead of cutting it short
    may_finish.set()
    await closing

    assert (await _stored_ids(chat))[prompt_ids[0]] == "m-1"
    assert not recorder.pending


async def test_close_writes_what_is_still_waiting_at_once(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.app.message_ids.flush()
    prompt_ids = list(await _stored_ids(chat))
    recorder = MessageIdRecorder(chat.app.uow, delay=3600)  # would wait an hour
    recorder.remember(prompt_ids[0], "m-2")
    await asyncio.wait_for(recorder.close(), 5)
    assert (await _stored_ids(chat))[prompt_ids[0]] == "m-2"
