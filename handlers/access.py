"""Who someone is allowed to be. Decided here, on the server, for every message."""

from __future__ import annotations

from collections.abc import Iterable

from conversations.messages import ChatRef
from storage.models import Person, Role


class Access:
    def __init__(self, admins: Iterable[str], coordinators: Iterable[str]) -> None:
        self._admins = frozenset(admins)
        self._coordinators = frozenset(coordinators)

    def role_of(self, ref: ChatRef, person: Person) -> Role:
        key = f"{ref.platform}:{ref.user_id}"
        if key in self._admins:
            return Role.ADMIN
        if key in self._coordinators or person.role in (Role.COORDINATOR, Role.ADMIN):
            return Role.COORDINATOR
        return Role.CITIZEN
