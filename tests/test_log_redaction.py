"""Secrets never reach the log: not in a message, its arguments, nor a traceback."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from telegram.error import NetworkError

from bot.log_redaction import also_redact, keep_secrets_out_of_logs
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


def test_a_matrix_login_response_is_redacted_at_debug(root_output: io.StringIO) -> None:
    from nio import LoginResponse

    logging.getLogger().setLevel(logging.DEBUG)
    keep_secrets_out_of_logs(settings())
    token = "syt_dGFlbG1pZ21lZA_vErYsEcReTmAtRiXtOkEn_1a2b3c"
    response = LoginResponse.from_dict(
        {"user_id": "@bot:example.org", "device_id": "DEVICE", "access_token": token}
    )
    assert isinstance(response, LoginResponse)
    log = logging.getLogger("tmm.test")
    log.debug("GET https://matrix.example.org/_matrix/client/v3/sync?access_token=%s&x=1", token)
    log.debug("headers %s", {"Authorization": f"Bearer {token}"})
    log.debug("as JSON %s", json.dumps({"access_token": token}))
    written = root_output.getvalue()
    assert "nio.responses" in written  # nio's own DEBUG line went through the filter
    assert "<secret>" in written
    assert token not in written
    assert "vErYsEcReT" not in written


def test_a_token_learnt_at_login_is_redacted_wherever_it_appears(
    root_output: io.StringIO,
) -> None:
    keep_secrets_out_of_logs(settings())
    also_redact("learnt-at-login-0123456789")
    logging.getLogger("tmm.test").warning("odd: learnt-at-login-0123456789 came back")
    written = root_output.getvalue()
    assert "odd: <secret> came back" in written
