"""The console: several simulated people in one terminal, scriptable from a file or pipe.

    @anna /start        Anna speaks
    @anna 1             Anna picks choice 1 of the last question she was shown
    ja                  the last speaker goes on
    # a comment         ignored

Input ends at end of file, so `make demo < script.txt` runs unattended and exits.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import uuid
from typing import TextIO

from bot.transports.base import Dispatch
from conversations.core.messages import ChatRef, ChoiceEcho, ChoicePick, Inbound, OutMessage, Sent

PLATFORM = "console"
_SPEAKER = re.compile(r"^@([\wæøåÆØÅ.-]{1,32})\s*(.*)$", re.DOTALL)
_BARE_NUMBER = re.compile(r"^\s*(\d{1,2})\s*$")
INDENT = "       "


class ConsoleTransport:
    platform = PLATFORM

    def __init__(
        self,
        *,
        input_stream: TextIO | None = None,
        output: TextIO | None = None,
        default_speaker: str = "du",
        echo_input: bool | None = None,
    ) -> None:
        self._input = input_stream or sys.stdin
        self._output = output or sys.stdout
        self._speaker = default_speaker
        self._echo_input = (not self._input.isatty()) if echo_input is None else echo_input
        self._stopping = asyncio.Event()
        self._last_choices: dict[str, tuple[str, tuple[str, ...], str]] = {}
        self._message_ids = itertools.count(1)

    async def run(self, dispatch: Dispatch) -> None:
        self._write(
            "Tæl mig med — console. Write '@name message' to speak as someone; Ctrl-D ends."
        )
        while not self._stopping.is_set():
            line = await asyncio.to_thread(self._input.readline)
            if not line:
                break
            inbound = self.parse(line)
            if inbound is not None:
                await dispatch(inbound)

    async def stop(self) -> None:
        self._stopping.set()

    def parse(self, line: str) -> Inbound | None:
        text = line.rstrip("\n")
        if not text.strip() or text.lstrip().startswith("#"):
            return None
        match = _SPEAKER.match(text.strip())
        if match is not None:
            self._speaker = match.group(1).lower()
            text = match.group(2)
        if not text.strip():
            return None
        if self._echo_input:
            self._write(f"{self._speaker}: {text}")
        ref = ChatRef(PLATFORM, self._speaker, self._speaker)
        event_id = uuid.uuid4().hex
        number = _BARE_NUMBER.match(text)
        last = self._last_choices.get(self._speaker)
        if number is not None and last is not None:
            prompt_id, choice_ids, message_id = last
            index = int(number.group(1))
            if 1 <= index <= len(choice_ids):
                return Inbound(
                    ref,
                    event_id,
                    choice=ChoicePick(prompt_id, choice_ids[index - 1], message_id),
                    sender_name=self._speaker.capitalize(),
                )
        return Inbound(ref, event_id, text=text, sender_name=self._speaker.capitalize())

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        lines = message.text.splitlines() or [""]
        if message.attachment is not None and message.attachment.description:
            # a picture is its text alternative here, shown above its card
            lines = [f"🖼 {message.attachment.description}", "", *lines]
        self._write(f"  bot → {ref.user_id}: {lines[0]}")
        for line in lines[1:]:
            self._write(f"{INDENT}{line}" if line else "")
        for number, choice in enumerate(message.choices, start=1):
            emoji = f"{choice.emoji} " if choice.emoji else ""
            self._write(f"{INDENT}  {number}. {emoji}{choice.label}")
        if message.attachment is not None and not message.attachment.description:
            size = len(message.attachment.content)
            self._write(f"{INDENT}📎 {message.attachment.filename} ({size} bytes)")
        if message.location is not None:
            loc = message.location
            self._write(f"{INDENT}📍 {loc.latitude:.5f}, {loc.longitude:.5f}")
        message_id = str(next(self._message_ids))
        if message.choices and message.prompt_id is not None:
            self._last_choices[ref.user_id] = (
                message.prompt_id,
                tuple(choice.id for choice in message.choices),
                message_id,
            )
        return Sent(message_id=message_id)

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        self._write(f"  bot → {ref.user_id} (updated): {message.text}")

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        self._write(f"{INDENT}✓ {echo.label}")
        card = echo.replacement
        if card is None or card.prompt_id is None or not card.choices:
            return
        # the answered message keeps buttons: its numbers now stand for those
        for number, choice in enumerate(card.choices, start=1):
            emoji = f"{choice.emoji} " if choice.emoji else ""
            self._write(f"{INDENT}  {number}. {emoji}{choice.label}")
        self._last_choices[ref.user_id] = (
            card.prompt_id,
            tuple(choice.id for choice in card.choices),
            echo.prompt_message_id,
        )

    def _write(self, line: str) -> None:
        self._output.write(line + "\n")
        self._output.flush()
