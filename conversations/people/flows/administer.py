"""`/admin`: what admins do in chat besides the CLI: a coordinator invite code, the
coordinators (and taking the role back), and the audit log.

Only admins reach it (the router checks the command's role); every press is checked again
here, on the server, and every grant, revocation and code is written to the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from conversations.core.choice_ids import ChoiceKey
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, FlowData, Transition
from conversations.core.i18n import N_, plural_count
from conversations.core.messages import Choice, OutMessage
from storage.models import AuditAction, AuditEntry, ModerationLog, Role

MENU = "menu"
COORDINATORS = "coordinators"
AUDIT_LINES = 30
REVOKE = ChoiceKey("revoke")

ACTION_LABELS = {
    AuditAction.ROLE_GRANTED: N_("made coordinator"),
    AuditAction.ROLE_REVOKED: N_("coordinator role taken back"),
    AuditAction.INVITE_CREATED: N_("coordinator code made"),
    AuditAction.EVENT_CHANGED: N_("event changed"),
    AuditAction.EVENT_CANCELLED: N_("event cancelled"),
    AuditAction.FORGET_REQUESTED: N_("someone deleted their data (/forget)"),
}


class Administer(Flow):
    name = "admin"
    data_model = FlowData
    commands = (
        CommandSpec(
            "admin", "administrer", N_("Coordinators, codes and the audit log"), role=Role.ADMIN
        ),
    )

    def __init__(self, invite_days: float = 7) -> None:
        self._invite_days = invite_days

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.go(MENU, FlowData())

    async def prompt(self, ctx: FlowContext, state: str, data: FlowData) -> OutMessage:
        if state == COORDINATORS:
            return await self._coordinators(ctx)
        return OutMessage(
            ctx._(N_("What would you like to do?")),
            choices=(
                ctx.choice("invite", N_("New coordinator code"), "🎟"),
                ctx.choice("coordinators", N_("Coordinators"), "👥"),
                ctx.choice("audit", N_("Audit log"), "📜"),
                ctx.choice("done", N_("Done"), "✅"),
            ),
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: FlowData, answer: Answer
    ) -> Transition:
        if not ctx.is_admin:  # a press proves nothing: the role is checked again
            return Transition.end(OutMessage(ctx._(N_("Only admins can do that."))))
        choice = answer.choice or ""
        if choice == "done":
            return Transition.end(OutMessage(ctx._(N_("OK."))))
        if state == COORDINATORS:
            person_id = REVOKE.parse(choice)
            if person_id is not None:
                return Transition.stay(data, await self._revoke(ctx, person_id))
            if choice == "back":
                return Transition.go(MENU, data)
            return Transition.stay(data)
        if choice == "invite":
            return Transition.stay(data, await self._invite(ctx))
        if choice == "coordinators":
            return Transition.go(COORDINATORS, data)
        if choice == "audit":
            return Transition.stay(data, OutMessage(await self._audit(ctx)))
        return Transition.stay(data)

    async def _invite(self, ctx: FlowContext) -> OutMessage:
        code = await ctx.uow.invites.create(
            Role.COORDINATOR,
            valid_for=timedelta(days=self._invite_days),
            created_by=ctx.person.id,
            note=None,
        )
        await ctx.uow.audit.record(AuditAction.INVITE_CREATED, actor_id=ctx.person.id)
        return OutMessage(
            ctx.ngettext(
                "A new coordinator code, for one person, valid {days:g} day:\n\n{code}\n\n"
                "They write /coordinator {code} to me.",
                "A new coordinator code, for one person, valid {days:g} days:\n\n{code}\n\n"
                "They write /coordinator {code} to me.",
                plural_count(self._invite_days),
            ).format(code=code, days=self._invite_days)
        )

    async def _coordinators(self, ctx: FlowContext) -> OutMessage:
        people = await ctx.uow.persons.with_role(Role.COORDINATOR)
        back = ctx.choice("back", N_("Back"), "↩️")
        if not people:
            text = ctx._(N_("There are no coordinators with the role yet."))
            return OutMessage(text, choices=(back,))
        lines, choices = [], []
        for person in people:
            name = person.display_name or ctx._(N_("(no name)"))
            ids = ", ".join(
                f"{i.platform}:{i.user_id}" for i in await ctx.uow.persons.identities(person.id)
            )
            lines.append(f"• {name} ({ids})")
            label = ctx._(N_("Take back: {name}")).format(name=name)
            choices.append(Choice(REVOKE.of(person.id), label, "➖"))
        text = ctx._(N_("Coordinators:\n{lines}")).format(lines="\n".join(lines))
        return OutMessage(text, choices=(*choices, back))

    async def _revoke(self, ctx: FlowContext, person_id: int) -> OutMessage:
        person = await ctx.uow.persons.get(person_id)
        if person is None or person.role != Role.COORDINATOR:
            return OutMessage(ctx._(N_("That person is not a coordinator (any more).")))
        await ctx.uow.persons.set_role(person, Role.CITIZEN)
        await ctx.uow.audit.record(
            AuditAction.ROLE_REVOKED, actor_id=ctx.person.id, subject_id=person.id
        )
        name = person.display_name or ctx._(N_("(no name)"))
        return OutMessage(
            ctx._(
                N_(
                    "{name} is no longer a coordinator. Someone named in TMM_COORDINATORS or "
                    "TMM_ADMINS keeps the role until the setting changes."
                )
            ).format(name=name)
        )

    async def _audit(self, ctx: FlowContext) -> str:
        entries = await ctx.uow.audit.recent(AUDIT_LINES)
        if not entries:
            return ctx._(N_("Nothing in the audit log yet."))
        names: dict[int, str] = {}

        async def who(person_id: int | None, fallback: str) -> str:
            if person_id is None:
                return fallback
            if person_id not in names:
                person = await ctx.uow.persons.get(person_id)
                names[person_id] = (person.display_name if person else None) or f"#{person_id}"
            return names[person_id]

        someone = ctx._(N_("someone"))
        lines = []
        for entry in entries:
            when = ctx.when(entry.at)
            if isinstance(entry, ModerationLog):
                actor = await who(entry.actor_id, someone)
                lines.append(
                    ctx._(N_("{when}: {actor}, initiative #{event}: {action}")).format(
                        when=when, actor=actor, event=entry.event_id, action=entry.action
                    )
                )
                continue
            assert isinstance(entry, AuditEntry)
            actor = await who(entry.actor_id, "CLI" if entry.via == "cli" else someone)
            what = ctx._(ACTION_LABELS.get(AuditAction(entry.action), entry.action))
            if entry.subject_id is not None:
                what = f"{what}: {await who(entry.subject_id, someone)}"
            if entry.event_id is not None:
                what = f"{what} (#{entry.event_id})"
            lines.append(f"{when}: {actor}, {what}")
        return ctx._(N_("The audit log, newest first:\n{lines}")).format(lines="\n".join(lines))
