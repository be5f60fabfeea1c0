"""One-time codes: invite codes that give a role, link codes that join two identities."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import InviteCode, LinkAttempt, LinkCode


def hash_code(code: str) -> str:
    normalised = "".join(code.split()).upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


class InviteRepository:
    ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(
        self, role: str, *, valid_for: timedelta, created_by: int | None, note: str | None
    ) -> str:
        code = "".join(secrets.choice(self.ALPHABET) for _ in range(10))
        now = self._clock.now()
        self._session.add(
            InviteCode(
                code_hash=hash_code(code),
                role=role,
                note=note,
                created_by_id=created_by,
                created_at=now,
                expires_at=now + valid_for,
            )
        )
        await self._session.flush()
        return f"{code[:5]}-{code[5:]}"

    async def redeem(self, code: str, person_id: int) -> InviteCode | None:
        """Use a code once; returns it, or None if unknown, used or expired.

        The claim is one conditional UPDATE, so two people redeeming the same code at the
        same moment (on PostgreSQL, where reads do not block) cannot both succeed.
        """
        result = await self._session.execute(
            select(InviteCode).where(InviteCode.code_hash == hash_code(code.replace("-", "")))
        )
        invite = result.scalar_one_or_none()
        now = self._clock.now()
        if invite is None or invite.redeemed_at is not None or invite.expires_at <= now:
            return None
        claimed = await self._session.execute(
            update(InviteCode)
            .where(InviteCode.id == invite.id, InviteCode.redeemed_at.is_(None))
            .values(redeemed_at=now, redeemed_by_id=person_id)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        await self._session.refresh(invite)
        return invite


class LinkCodeRepository:
    """One-time codes for `/link`: case-insensitive, valid for minutes, 60 bits (twelve
    letters and digits of 32, in three groups of four), so that five wrong tries an hour
    never find one."""

    ALPHABET = InviteRepository.ALPHABET
    LENGTH = 12
    GROUP = 4

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(self, person_id: int, *, valid_for: timedelta) -> str:
        """A new code for the person; any earlier code of theirs stops working."""
        await self._session.execute(delete(LinkCode).where(LinkCode.person_id == person_id))
        code = "".join(secrets.choice(self.ALPHABET) for _ in range(self.LENGTH))
        now = self._clock.now()
        self._session.add(
            LinkCode(
                code_hash=hash_code(code),
                person_id=person_id,
                created_at=now,
                expires_at=now + valid_for,
            )
        )
        await self._session.flush()
        return "-".join(code[i : i + self.GROUP] for i in range(0, self.LENGTH, self.GROUP))

    async def redeem(self, code: str) -> int | None:
        """The person who made the code, once; None if unknown or expired."""
        result = await self._session.execute(
            select(LinkCode).where(LinkCode.code_hash == hash_code(code.replace("-", "")))
        )
        link = result.scalar_one_or_none()
        if link is None:
            return None
        person_id = link.person_id
        expired = link.expires_at <= self._clock.now()
        await self._session.delete(link)
        await self._session.flush()
        return None if expired else person_id

    async def wrong_tries_since(self, person_id: int, since: datetime) -> list[datetime]:
        """When the person typed a wrong code since `since`, oldest first."""
        result = await self._session.execute(
            select(LinkAttempt.attempted_at)
            .where(LinkAttempt.person_id == person_id, LinkAttempt.attempted_at > since)
            .order_by(LinkAttempt.attempted_at)
        )
        return list(result.scalars())

    async def record_wrong_try(self, person_id: int, *, forget_before: datetime) -> None:
        """One more wrong code; the person's tries older than `forget_before` go."""
        await self._session.execute(
            delete(LinkAttempt).where(
                LinkAttempt.person_id == person_id, LinkAttempt.attempted_at <= forget_before
            )
        )
        self._session.add(LinkAttempt(person_id=person_id, attempted_at=self._clock.now()))
        await self._session.flush()
