"""The two questions both offer flows ask: what kind of help, and where.

A person making an offer answers them about it, a coordinator browsing about the offers they
look for; the choices and their ids are the same in both.
"""

from __future__ import annotations

from conversations.core.choice_ids import ChoiceKey
from conversations.core.flow import FlowContext
from conversations.core.messages import Choice
from conversations.tasks.rules.offers import KIND_LABELS
from storage.models import OfferKind, TopicKind

AREA = ChoiceKey("a")  # an area topic


def kind_choices(ctx: FlowContext) -> list[Choice]:
    return [ctx.choice(str(kind), label, emoji) for kind, (label, emoji) in KIND_LABELS.items()]


def chosen_kind(choice_id: str | None) -> OfferKind | None:
    """The kind of help a choice from `kind_choices` stands for."""
    return OfferKind(choice_id) if choice_id in KIND_LABELS else None


async def area_choices(ctx: FlowContext, everywhere: str) -> list[Choice]:
    """The areas, and `everywhere` (untranslated) as "anywhere"."""
    language = ctx.translator.language
    choices = [
        Choice(AREA.of(t.id), t.name(language), aliases=t.all_names())
        for t in await ctx.uow.topics.active(TopicKind.AREA)
    ]
    choices.append(ctx.choice("anywhere", everywhere, "🌍"))
    return choices
