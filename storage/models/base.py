"""The declarative base every model shares, and the forget rules columns declare.

Every column that points at a person declares in its `info` what `/forget` does with the
row (`delete` it, or `anonymise` it by clearing the pointer); `/mydata` exports every such
row. `tests/test_personal_data.py` fails when a new column forgets to say.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, MetaData
from sqlalchemy.orm import DeclarativeBase

from storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FORGET_DELETE = {"on_forget": "delete"}
FORGET_ANONYMISE = {"on_forget": "anonymise"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }
