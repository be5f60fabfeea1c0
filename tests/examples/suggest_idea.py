"""`/idea` (`/ide`): suggest what we could do together next time.

The worked example of README's "How to add a flow": one module with its command, its data
and one question asked and answered in one place. tests/test_adding_a_flow.py runs it.
"""

from __future__ import annotations

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.core.words import SKIP_WORDS

MAX_IDEA = 500


class IdeaData(FlowData):
    tries: int = 0  # kept between the questions, with the conversation


class AskForTheIdea(Question[IdeaData]):
    state = "idea"

    async def ask(self, ctx: FlowContext, data: IdeaData) -> OutMessage:
        return OutMessage(
            ctx._(N_("What would you like us to do together? A few words are enough.")),
            choices=(ctx.choice("skip", N_("Not now"), "⏭", *SKIP_WORDS),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: IdeaData, answer: Answer) -> Transition:
        if answer.choice == "skip":
            return Transition.end(OutMessage(ctx._(N_("That's fine. /idea works any time."))))
        words = (answer.text or "").strip()
        if not words or len(words) > MAX_IDEA:
            data.tries += 1
            return Transition.stay(data, OutMessage(ctx._(N_("A few words, please."))))
        # a real flow would store the idea here, through a repository: ctx.uow.<aggregate>
        return Transition.end(OutMessage(ctx._(N_("Thank you! I'll pass it on. 🌱"))))


class SuggestIdea(QuestionFlow[IdeaData]):
    name = "idea"
    data_model = IdeaData
    commands = (CommandSpec("idea", "ide", N_("Suggest what we could do next")),)
    questions = by_state(AskForTheIdea())

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.go(AskForTheIdea.state, IdeaData())
