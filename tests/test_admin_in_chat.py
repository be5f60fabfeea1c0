"""Admins in chat: a coordinator code, the coordinators and taking the role back, and the
audit log (who did what when, without a forgotten person's data)."""

from __future__ import annotations

import re

from storage.models import Role
from tests.fakes import Chat
from tests.test_onboarding import person_of

CODE = re.compile(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b")


async def test_admin_makes_a_code_lists_and_revokes_and_reads_the_audit_log(chat: Chat) -> None:
    await chat.onboard("admin", name="Ada")
    await chat.onboard("mette", name="Mette")
    replies = await chat.say("admin", "/administrer")
    assert [c.id for c in replies[-1].choices] == ["invite", "coordinators", "audit", "done"]
    replies = await chat.tap("admin", "invite")
    match = CODE.search(replies[0].text)
    assert match, replies[0].text
    await chat.say("mette", f"/koordinator {match.group(1)}")
    assert (await person_of(chat, "mette")).role == Role.COORDINATOR

    [listing] = await chat.tap("admin", "coordinators")
    assert "Mette (fake:mette)" in listing.text
    mette = await person_of(chat, "mette")
    replies = await chat.tap("admin", f"revoke{mette.id}")
    assert replies[0].text.startswith("Mette er ikke længere koordinator.")
    assert (await person_of(chat, "mette")).role == Role.CITIZEN
    # the list is shown again, without her
    assert "Mette" not in replies[-1].text
    await chat.tap("admin", "back")

    [log] = (await chat.tap("admin", "audit"))[:1]
    lines = log.text.splitlines()[1:]
    assert "Ada, koordinatorrollen taget tilbage: Mette" in lines[0]
    assert "nogen, gjort til koordinator: Mette" not in log.text  # the code's maker is named
    assert "Ada, gjort til koordinator: Mette" in lines[1]
    assert "Ada, koordinatorkode lavet" in lines[2]

    await chat.say("mette", "/glem")
    await chat.tap("mette", "delete")
    await chat.say("admin", "/administrer")
    [log] = (await chat.tap("admin", "audit"))[:1]
    assert "Mette" not in log.text  # forgotten: the entries stay, her name does not
    assert "nogen, nogen slettede deres oplysninger (/glem)" in log.text.splitlines()[1]
    assert "Ada, koordinatorrollen taget tilbage\n" in log.text + "\n"


async def test_only_admins_reach_it_and_a_forged_press_is_refused(chat: Chat) -> None:
    await chat.onboard("bo", name="Bo")
    [refused] = await chat.say("bo", "/administrer")
    assert not refused.choices
    await chat.onboard("admin", name="Ada")
    replies = await chat.say("admin", "/administrer")
    prompt = replies[-1].prompt_id
    assert prompt is not None
    # bo presses the admin's button: the stored question is not his
    answer = await chat.press("bo", prompt, "invite")
    assert not any(CODE.search(message.text) for message in answer)
