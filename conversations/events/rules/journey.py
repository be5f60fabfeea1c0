"""The steps of an event's journey, which journey feedback asks about one by one."""

from __future__ import annotations

DEFAULT_JOURNEY = (
    "invitationen",
    "at komme derhen",
    "velkomsten",
    "aktiviteten",
    "maden",
    "hjemturen",
)
