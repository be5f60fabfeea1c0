"""Who someone is allowed to be. Decided here, on the server, for every message."""

from __future__ import annotations

from collections.abc import Iterable

from conversations.core.messages import ChatRef
from storage.models import Person, Role


class Access:
    """Roles come two ways: named in the settings ("platform:user"), or kept on the person
    (a grant on the command line, an invite code). Either makes a coordinator."""

    def __init__(self, admins: Iterable[str], coordinators: Iterable[str]) -> None:
        self._admins = frozenset(admins)
        self._coordinators = frozenset(coordinators)

    @property
    def named(self) -> frozenset[str]:
        """Every identity the settings name as an admin or a coordinator."""
        return self._admins | self._coordinators

    def named_role(self, platform: str, user_id: str) -> Role | None:
        key = f"{platform}:{user_id}"
        if key in self._admins:
            return Role.ADMIN
        if key in self._coordinators:
            return Role.COORDINATOR
        return None

    def named_on(self, platform: str) -> dict[str, Role]:
        """The users on one platform that the settings name, with their role."""
        named: dict[str, Role] = {}
        for identity in sorted(self.named):
            where, _, user = identity.partition(":")
            role = self.named_role(where, user)
            if where == platform and user and role is not None:
                named[user] = role
        return named

    def role_of(self, ref: ChatRef, person: Person) -> Role:
        named = self.named_role(ref.platform, ref.user_id)
        if named is not None:
            return named
        if person.role in (Role.COORDINATOR, Role.ADMIN):
            return Role.COORDINATOR
        return Role.CITIZEN
