"""Secrets never reach the log: not in a message, its arguments, nor a traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from telegram.error import NetworkError

from bot.log_redaction import keep_secrets_out_of_logs
from bot.settings import Settings

TOKEN = "123456:AAH-very-secret-token"
BOT_API_URL = f"https://api.telegram.org/bot{TOKEN}/getUpdates"


@pytest.fixture
def root_output() -> Iterator[io.StringIO]:
    """The root logger writing to a string, as `python -m bot` sets it up, then put back."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    try:
        yield output
    finally:
        root.handlers, root.level = saved_handlers, saved_level


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_a_token_in_an_exception_is_redacted_in_the_traceback(root_output: io.StringIO) -> None:
    keep_secrets_out_of_logs(settings(telegram_token=TOKEN))
    log = logging.getLogger("tmm.test")
    try:
        try:
            raise OSError(f"connection reset while fetching {BOT_API_URL}")
        except OSError as cause:
            raise NetworkError(f"could not fetch {BOT_API_URL}") from cause
    except NetworkError:
        log.exception("Telegram: polling failed")
    written = root_output.getvalue()
    assert "Traceback" in written
    assert "NetworkError" in written  # the whole traceback, the cause too
    assert "OSError" in written
    assert "<secret>" in written
    assert TOKEN not in written
    assert "AAH-very-secret-token" not in written


def test_message_arguments_and_stack_are_redacted(root_output: io.StringIO) -> None:
    keep_secrets_out_of_logs(settings(telegram_token=TOKEN, matrix_password="hunter2-matrix"))
    log = logging.getLogger("tmm.test")
    log.warning("calling %s", BOT_API_URL)
    log.info("logging in with %s", "hunter2-matrix", stack_info=True)
    written = root_output.getvalue()
    assert "calling https://api.telegram.org/bot<secret>/getUpdates" in written
    assert "logging in with <secret>" in written
    assert "Stack (most recent call last)" in written
    assert TOKEN not in written
    assert "hunter2-matrix" not in written


def test_the_database_password_is_a_secret_too(root_output: io.StringIO) -> None:
    url = "postgresql+asyncpg://bot:pg-pass-word@db.example.org:5432/tmm"
    keep_secrets_out_of_logs(settings(database_url=url))
    try:
        raise ConnectionError(f"could not connect with {url}")
    except ConnectionError:
        logging.getLogger("tmm.test").exception("no database")
    written = root_output.getvalue()
    assert "pg-pass-word" not in written
    assert "bot:<secret>@db.example.org" in written


def test_nothing_is_changed_without_secrets(root_output: io.StringIO) -> None:
    keep_secrets_out_of_logs(settings())
    try:
        raise ValueError("plain trouble")
    except ValueError:
        logging.getLogger("tmm.test").exception("it failed")
    written = root_output.getvalue()
    assert "ValueError: plain trouble" in written
    assert "<secret>" not in written
