"""Each person's command menu follows their role and language, on transports that have a
menu per person (Telegram: one per private chat).

A person is a coordinator by any of three routes: named in the settings, granted on the
command line, or by an invite code (see handlers/access.py). Their menu is set when the
role comes (a code redeemed, or `python -m bot admin grant-coordinator`), changed when
their language changes, taken away when the role goes, and brought in line with everyone at
every start. What each chat was given is kept in `transport_state` (`menu:<user>` =
`role:language`), so a start changes only what changed, and a role taken away while the bot
was down, or a name removed from the settings, still loses its menu.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.transports.base import DeliveryError, RoleCommandMenus, Transport
from conversations.core.messages import ChatRef
from handlers.access import Access
from storage.models import Role
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

KEY_PREFIX = "menu:"
Menu = tuple[Role, str]  # a role other than citizen, and a language


def _encode(menu: Menu | None) -> str | None:
    return None if menu is None else f"{menu[0].value}:{menu[1]}"


class RoleMenus:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        access: Access,
        default_language: str,
        transports: Iterable[Transport],
    ) -> None:
        self._uow = uow
        self._access = access
        self._default_language = default_language
        self._transports = {
            transport.platform: transport
            for transport in transports
            if isinstance(transport, RoleCommandMenus)
        }

    @property
    def platforms(self) -> frozenset[str]:
        return frozenset(self._transports)

    async def sync(self, platform: str) -> None:
        """Bring every chat on `platform` in line (at start: the platform takes requests)."""
        if platform not in self._transports:
            return
        async with self._uow() as uow:
            wanted = await self._wanted_on(uow, platform)
            given = await uow.transport_state.starting_with(platform, KEY_PREFIX)
        given_by_user = {key.removeprefix(KEY_PREFIX): value for key, value in given.items()}
        for user in sorted(wanted.keys() | given_by_user.keys()):
            await self._apply(platform, user, wanted.get(user), given_by_user.get(user))

    async def refresh(self, ref: ChatRef) -> None:
        """After the role or language of the person writing in this chat may have changed,
        or the person was forgotten or merged into another: every chat of whoever owns
        this one now (a merge can bring a role to a chat on another platform)."""
        async with self._uow() as uow:
            identity = await uow.persons.find_identity(ref.platform, ref.user_id)
            owned = await uow.persons.identities(identity.person_id) if identity else ()
        refs = {ref, *(ChatRef(i.platform, i.chat_id, i.user_id) for i in owned)}
        for each in sorted(refs, key=lambda r: (r.platform, r.user_id)):
            await self._refresh_chat(each)

    async def _refresh_chat(self, ref: ChatRef) -> None:
        if ref.platform not in self._transports:
            return
        async with self._uow() as uow:
            wanted = await self._wanted_for(uow, ref.platform, ref.user_id)
            given = await uow.transport_state.get(ref.platform, KEY_PREFIX + ref.user_id)
        await self._apply(ref.platform, ref.user_id, wanted, given)

    async def refresh_person(self, person_id: int) -> None:
        """Every chat of one person (after a grant or revoke on the command line)."""
        async with self._uow() as uow:
            identities = await uow.persons.identities(person_id)
        for identity in identities:
            await self._refresh_chat(ChatRef(identity.platform, identity.chat_id, identity.user_id))

    # -- who should see what ---------------------------------------------------------------

    async def _wanted_on(self, uow: UnitOfWork, platform: str) -> dict[str, Menu]:
        wanted: dict[str, Menu] = {}
        named = self._access.named
        for identity, person in await uow.persons.coordinator_identities(platform, named):
            ref = ChatRef(platform, identity.chat_id, identity.user_id)
            role = self._access.role_of(ref, person)
            if role != Role.CITIZEN:
                wanted[identity.user_id] = (role, person.language)
        # named in the settings but not met yet: their menu is ready when they first write
        for user, role in self._access.named_on(platform).items():
            wanted.setdefault(user, (role, self._default_language))
        return wanted

    async def _wanted_for(self, uow: UnitOfWork, platform: str, user_id: str) -> Menu | None:
        identity = await uow.persons.find_identity(platform, user_id)
        person = await uow.persons.get(identity.person_id) if identity is not None else None
        if identity is None or person is None:  # not met yet, or forgotten
            named = self._access.named_role(platform, user_id)
            return None if named is None else (named, self._default_language)
        role = self._access.role_of(ChatRef(platform, identity.chat_id, user_id), person)
        return None if role == Role.CITIZEN else (role, person.language)

    # -- showing it ------------------------------------------------------------------------

    async def _apply(
        self, platform: str, user_id: str, wanted: Menu | None, given: str | None
    ) -> None:
        if _encode(wanted) == given:
            return
        transport = self._transports[platform]
        role, language = wanted or (Role.CITIZEN, self._default_language)
        try:
            await transport.show_commands(user_id, role, language)
        except DeliveryError as exc:
            # not remembered as given, so the next start tries again
            log.warning("%s: could not set the command menu of %s: %s", platform, user_id, exc)
            return
        async with self._uow() as uow:
            value = _encode(wanted)
            if value is None:
                await uow.transport_state.remove(platform, KEY_PREFIX + user_id)
            else:
                await uow.transport_state.put(platform, KEY_PREFIX + user_id, value)
            await uow.commit()
        log.info("%s: command menu of %s is now %s", platform, user_id, value or "the common one")
