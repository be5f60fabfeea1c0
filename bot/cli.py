"""`python -m bot`: run, demo, migrate and admin commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.log_redaction import keep_secrets_out_of_logs
from bot.settings import ConfigurationError, Settings, load_settings
from storage.db import DatabaseUnreachable, check_reachable
from storage.models import AuditAction, Role, TopicKind
from storage.unit_of_work import UnitOfWorkFactory

DEMO_COORDINATOR = "console:koordinator"
DEMO_DATABASE = "sqlite+aiosqlite:///data/demo.db"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Tæl mig med: a chat companion for co-created welfare. "
        "Settings come from TMM_* environment variables or a .env file (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run every configured transport")
    demo = sub.add_parser("demo", help="chat in this terminal as several people (no tokens needed)")
    demo.add_argument("--keep", action="store_true", help="keep the demo database from last time")
    demo.add_argument("--database", default=DEMO_DATABASE, help="database URL for the demo")
    sub.add_parser("migrate", help="bring the database schema up to date")
    backup = sub.add_parser(
        "backup", help="copy the database, photos and Matrix store into a new folder"
    )
    backup.add_argument("folder", type=Path, help="a new or empty folder")
    restore = sub.add_parser(
        "restore", help="put a backup back (stop the bot first; what is there is kept aside)"
    )
    restore.add_argument("folder", type=Path, help="a folder made by `backup`")

    admin = sub.add_parser("admin", help="administration")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    grant = admin_sub.add_parser("grant-coordinator", help="make someone a coordinator")
    grant.add_argument(
        "identity", help="platform:user, e.g. telegram:12345 or matrix:@kim:example.org"
    )
    revoke = admin_sub.add_parser("revoke-coordinator", help="take coordinator rights away")
    revoke.add_argument("identity")
    invite = admin_sub.add_parser("create-invite", help="a one-time code that makes a coordinator")
    invite.add_argument("--note", default=None, help="who the code is for (kept with the code)")
    admin_sub.add_parser("list-coordinators", help="list coordinators")
    topic = admin_sub.add_parser("add-topic", help="add an interest or an area people can choose")
    topic.add_argument("kind", choices=[k.value for k in TopicKind])
    topic.add_argument("danish")
    topic.add_argument("english", nargs="?")
    admin_sub.add_parser("list-topics", help="list interests and areas")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        overrides: dict[str, object] = {}
        if args.command == "demo":
            overrides["database_url"] = args.database
        settings = load_settings(**overrides)
    except ConfigurationError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level if args.command != "demo" else "WARNING",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    keep_secrets_out_of_logs(settings)
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return 130
    except ConfigurationError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnreachable as exc:
        print(exc, file=sys.stderr)
        return 2


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command != "demo":  # the demo makes its own SQLite file
        await check_reachable(settings.database_url)
    if args.command == "migrate":
        from storage.migrate import upgrade_to_head_async

        await upgrade_to_head_async(settings.database_url)
        print("The database is up to date.")
        return 0
    if args.command in ("backup", "restore"):
        return await _backup_or_restore(args, settings)
    if args.command == "demo":
        return await _demo(args, settings)
    if args.command == "run":
        return await _run(settings)
    return await _admin(args, settings)


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import BotApp
    from bot.demo import seed_starter_topics
    from bot.transports.console import ConsoleTransport

    path = Settings(database_url=args.database).sqlite_path()
    if path is not None and not args.keep:
        await asyncio.to_thread(_remove_sqlite_files, path)
    if not settings.coordinators:
        settings = settings.model_copy(update={"coordinators": [DEMO_COORDINATOR]})
    app = BotApp(settings, [ConsoleTransport()])
    await app.migrate()
    await seed_starter_topics(app.uow)
    await app.run()
    return 0


async def _backup_or_restore(args: argparse.Namespace, settings: Settings) -> int:
    from bot.backup import backup, restore
    from storage.migrate import upgrade_to_head_async

    if args.command == "backup":
        outcome = await asyncio.to_thread(backup, settings, args.folder)
    else:
        outcome = await asyncio.to_thread(restore, settings, args.folder)
        await upgrade_to_head_async(settings.database_url)  # an older backup, newer code
    for line in outcome.lines:
        print(line)
    print("Backup made." if args.command == "backup" else "Restored. Start the bot again.")
    return 0


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _run(settings: Settings) -> int:
    from bot.app import BotApp
    from bot.composition import build_command_menu
    from bot.transports.base import TransportStopped
    from bot.transports.registry import configured_transports

    transports = configured_transports(settings, menu=build_command_menu(settings))
    if not transports:
        raise ConfigurationError(
            "no transport is configured; set TMM_TELEGRAM_TOKEN, or TMM_MATRIX_HOMESERVER and "
            "TMM_MATRIX_USER_ID, or TMM_CONSOLE=true (see README), or try `python -m bot demo`"
        )
    app = BotApp(settings, transports)
    app.install_signal_handlers()
    try:
        await app.run()
    except TransportStopped as exc:
        print(f"Stopped: {exc}", file=sys.stderr)
        return 1
    return 0


async def _admin(args: argparse.Namespace, settings: Settings) -> int:
    from storage.clock import SystemClock
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade_to_head_async

    await upgrade_to_head_async(settings.database_url)
    engine = create_engine(settings.database_url)
    uow = UnitOfWorkFactory(create_sessionmaker(engine), SystemClock())
    try:
        return await _admin_action(args, settings, uow)
    finally:
        await engine.dispose()


def _split_identity(identity: str) -> tuple[str, str]:
    platform, _, user = identity.partition(":")
    if not platform or not user:
        raise ConfigurationError(
            f"{identity!r} should look like platform:user, e.g. telegram:12345"
        )
    return platform, user


async def _admin_action(
    args: argparse.Namespace, settings: Settings, uow: UnitOfWorkFactory
) -> int:
    action = args.admin_command
    changed_role: int | None = None
    async with uow() as work:
        if action in ("grant-coordinator", "revoke-coordinator"):
            platform, user = _split_identity(args.identity)
            person, _ = await work.persons.get_or_create(
                platform, user, user, language=settings.default_language
            )
            role = Role.COORDINATOR if action == "grant-coordinator" else Role.CITIZEN
            await work.persons.set_role(person, role)
            action = (
                AuditAction.ROLE_GRANTED if role == Role.COORDINATOR else AuditAction.ROLE_REVOKED
            )
            await work.audit.record(action, actor_id=None, subject_id=person.id, via="cli")
            changed_role = person.id
            became = "a coordinator" if role == Role.COORDINATOR else "a citizen"
            print(f"{args.identity} is now {became}.")
            if role == Role.CITIZEN and args.identity in [*settings.coordinators, *settings.admins]:
                print("They stay a coordinator while TMM_COORDINATORS or TMM_ADMINS names them.")
        elif action == "create-invite":
            code = await work.invites.create(
                Role.COORDINATOR,
                valid_for=settings.invite_code_validity,
                created_by=None,
                note=args.note,
            )
            await work.audit.record(AuditAction.INVITE_CREATED, actor_id=None, via="cli")
            days = settings.invite_code_days
            print(f"Coordinator code: {code}  (one use, valid {days:g} days)")
            print(f"In chat: /coordinator {code}   or as a link payload: co_{code}")
        elif action == "list-coordinators":
            for person in await work.persons.with_role(Role.COORDINATOR):
                ids = ", ".join(
                    f"{i.platform}:{i.user_id}" for i in await work.persons.identities(person.id)
                )
                print(f"{person.id}\t{person.display_name or '-'}\t{ids}")
            for identity in settings.admins:
                print(f"-\t(admin from settings)\t{identity}")
            for identity in settings.coordinators:
                print(f"-\t(coordinator from settings)\t{identity}")
        elif action == "add-topic":
            from conversations.people.flows.manage_topics import slugify

            topic = await work.topics.add(
                args.kind, slugify(args.danish), args.danish, args.english or args.danish
            )
            print(f"Added {topic.kind} {topic.id}: {topic.name_da} / {topic.name_en}")
        elif action == "list-topics":
            for kind in TopicKind:
                for topic in await work.topics.active(kind):
                    print(f"{topic.id}\t{kind.value}\t{topic.name_da} / {topic.name_en}")
        await work.commit()
    if changed_role is not None:
        await _follow_role_change(settings, uow, changed_role)
    return 0


async def _follow_role_change(settings: Settings, uow: UnitOfWorkFactory, person_id: int) -> None:
    """The person's Telegram command menu follows at once: a running bot would only see the
    new role at its next start (see bot/command_menus.py)."""
    if settings.telegram_token is None:
        return
    from telegram.error import InvalidToken, TelegramError

    from bot.command_menus import RoleMenus
    from bot.composition import build_access, build_command_menu
    from bot.log_redaction import RedactSecrets, secrets_of
    from bot.rate_limit import limiter_for
    from bot.timing import RealSleeper
    from bot.transports.telegram import TelegramTransport

    transport = TelegramTransport.from_settings(settings, menu=build_command_menu(settings))
    transport.pace_with(limiter_for(settings, "telegram", RealSleeper()))
    bot = transport.application.bot
    try:
        await bot.initialize()
    except TelegramError as exc:
        reason = "the bot token was not accepted" if isinstance(exc, InvalidToken) else str(exc)
        print(
            f"Could not reach Telegram to change their command menu "
            f"({RedactSecrets(secrets_of(settings)).redact(reason)}); "
            "the bot changes it when it next starts.",
            file=sys.stderr,
        )
        return
    try:
        menus = RoleMenus(uow, build_access(settings), settings.default_language, [transport])
        await menus.refresh_person(person_id)
    finally:
        await bot.shutdown()
