"""The console demo end to end, as a newcomer runs it: a piped script, several people."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bot.app import BotApp
from bot.i18n import LOCALE_DIR, catalogs
from bot.settings import Settings
from storage.clock import FrozenClock
from storage.models import Role
from tests.fakes import Chat, RecordingTransport
from tests.helpers import known_person, texts

SCRIPT = """\
# Anna starts in Danish
@anna /start
1
ja
Anna
1
done
færdig
nej
# Bo arrives while Anna is still choosing her quiet hours
@bo /start
2
yes
@anna 22-7
@bo Bo
@bo done
@bo done
@bo no
@bo 1
@anna /mydata
"""


def danish(msgid_start: str) -> str:
    """The Danish catalog's text for the message that begins with `msgid_start`."""
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    ids = [m.id for m in catalog if isinstance(m.id, str) and m.id.startswith(msgid_start)]
    assert len(ids) == 1, ids
    return catalogs().get("da").gettext(ids[0])


def env_without_settings(**settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TMM_")}
    env.update(settings)
    return env


async def run_bot(*args: str, cwd: Path, stdin: str = "", **settings: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env_without_settings(**settings),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def lines_to(transcript: str, user: str) -> list[str]:
    """The bot's messages to one person (first lines, as the console prints them)."""
    return [line for line in transcript.splitlines() if line.startswith(f"  bot → {user}:")]


async def test_a_scripted_demo_runs_unattended(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    code, out, err = await run_bot(
        "demo", "--database", f"sqlite+aiosqlite:///{database}", cwd=tmp_path, stdin=SCRIPT
    )
    assert code == 0, err
    assert "Traceback" not in err

    anna = lines_to(out, "anna")
    bo = lines_to(out, "bo")
    greeting = danish("Hello, and welcome to Tæl mig med!").splitlines()[0]
    assert anna[0] == f"  bot → anna: {greeting}"
    assert bo[0] == f"  bot → bo: {greeting}"
    assert "✓ Dansk" in out  # the numbered choice was taken as a tap and echoed
    assert "✓ English" in out
    assert "anna: 22-7" in out  # the script is echoed
    # bo chose English and was asked in English; anna went on after bo had started
    after_choosing = out[out.index("bo: 2") : out.index("bo: yes")]
    assert "✓ English" in after_choosing
    assert "Is that all right with you?" in after_choosing
    assert out.index("bo: /start") < out.index("anna: 22-7") < out.index("22:00–07:00")
    thanks = ("Thank you, that's all!", danish("Thank you, that's all!")[:20])
    assert sum(any(t in line for t in thanks) for line in anna + bo) == 2
    assert "mine-data.json" in out  # anna's /mydata file, named in Danish
    assert "Sorry, something went wrong" not in out

    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "select i.user_id, p.display_name, p.language, p.consent, p.onboarded_at is not null"
            " from persons p join identities i on i.person_id = p.id order by i.user_id"
        ).fetchall()
        chosen = connection.execute("select count(*) from person_topics").fetchone()
    assert rows == [("anna", "Anna", "da", "given", 1), ("bo", "Bo", "en", "given", 1)]
    assert chosen == (1,)


async def test_the_demo_starts_afresh_unless_asked_to_keep(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await run_bot("demo", "--database", url, cwd=tmp_path, stdin="@cy /start\n1\n")
    code, out, _ = await run_bot("demo", "--keep", "--database", url, cwd=tmp_path, stdin="@cy 2\n")
    assert code == 0
    assert "✓ English" not in out  # "2" after a restart is typed text, not a stale button
    assert danish("Is that all right with you?") in out  # cy went on from where they were
    code, out, _ = await run_bot("demo", "--database", url, cwd=tmp_path, stdin="@cy hej\n")
    assert code == 0
    assert lines_to(out, "cy")[0].startswith("  bot → cy: " + danish("Hello, and welcome")[:20])


async def test_an_admin_invite_code_is_redeemed_in_chat(tmp_path: Path, clock: FrozenClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    code, out, err = await run_bot(
        "admin", "create-invite", "--note", "for Lis", cwd=tmp_path, TMM_DATABASE_URL=url
    )
    assert code == 0, err
    match = re.search(r"Coordinator code: ([A-Z0-9]{5}-[A-Z0-9]{5})", out)
    assert match is not None, out
    invite = match.group(1)
    assert f"co_{invite}" in out

    transport = RecordingTransport()
    app = BotApp(
        Settings(database_url=url, _env_file=None),  # type: ignore[call-arg]
        [transport],
        clock=clock,
    )
    try:
        await app.migrate()
        chat = Chat(app, transport)
        await chat.onboard("lis", language="en", name="Lis")
        replies = await chat.say("lis", f"/coordinator {invite}")
        assert "Welcome as a coordinator!" in texts(replies)
        assert (await known_person(chat, "lis")).role == Role.COORDINATOR
        replies = await chat.say("max", f"/start co_{invite}")
        await chat.onboard("max", language="en", name="Max")
        assert (await known_person(chat, "max")).role == Role.CITIZEN
    finally:
        await app.close()


README = Path(__file__).resolve().parent.parent / "README.md"


async def test_the_readme_transcript_is_what_the_demo_prints(tmp_path: Path) -> None:
    """The README shows a script and the console's answer to it; they must not drift."""
    readme = await asyncio.to_thread(README.read_text)
    after_script = readme.split("The script (`printf` it, or save it to a file):", 1)[1]
    script = after_script.split("```text\n", 1)[1].split("```", 1)[0]
    shown = after_script.split("and what the console prints:", 1)[1]
    shown = shown.split("```text\n", 1)[1].split("```", 1)[0]

    code, out, err = await run_bot(
        "demo",
        "--database",
        f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        cwd=tmp_path,
        stdin=script,
    )
    assert code == 0, err
    printed = out[out.index("Tæl mig med — console") :]
    assert printed.splitlines() == shown.splitlines()
