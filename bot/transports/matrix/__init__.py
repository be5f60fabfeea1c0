"""Matrix (matrix-nio, end-to-end encryption); see MATRIX.md beside this file."""

from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.errors import map_error
from bot.transports.matrix.inbound import parse_geo_uri, strip_reply_fallback
from bot.transports.matrix.rendering import (
    KEYCAPS,
    formatted_body,
    reaction_keys,
    render_text,
)
from bot.transports.matrix.transport import UNDECRYPTABLE, MatrixTransport

__all__ = [
    "KEYCAPS",
    "UNDECRYPTABLE",
    "MatrixConfig",
    "MatrixTransport",
    "formatted_body",
    "map_error",
    "parse_geo_uri",
    "reaction_keys",
    "render_text",
    "strip_reply_fallback",
]
