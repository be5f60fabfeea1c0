"""A flow as a set of questions, each asked and answered in one place.

A `Question` is one state of a flow: `ask` builds its message, `take` reads the answer and
says where to go. A `QuestionFlow` maps each state to its question, so `prompt` and `handle`
are only a lookup and a question's two halves never drift apart in a long `match`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

from conversations.core.flow import Answer, Flow, FlowContext, FlowData, Transition
from conversations.core.messages import OutMessage

DataT = TypeVar("DataT", bound=FlowData)


class Question(ABC, Generic[DataT]):
    """One question of a flow; `state` is the flow state it stands for."""

    state: ClassVar[str]

    @abstractmethod
    async def ask(self, ctx: FlowContext, data: DataT) -> OutMessage:
        """The question, built fresh (so /back and a restart show it again)."""

    @abstractmethod
    async def take(self, ctx: FlowContext, data: DataT, answer: Answer) -> Transition:
        """The answer to it: where to go next, with what data."""


class QuestionFlow(Flow, Generic[DataT]):
    """A flow whose states are its questions (see `questions`)."""

    data_model: ClassVar[type[FlowData]]

    @property
    @abstractmethod
    def questions(self) -> Mapping[str, Question[DataT]]:
        """Every state of the flow and its question."""

    def question(self, state: str) -> Question[DataT]:
        try:
            return self.questions[state]
        except KeyError as exc:
            raise ValueError(f"{self.name} has no question for state {state!r}") from exc

    async def prompt(self, ctx: FlowContext, state: str, data: Any) -> OutMessage:
        return await self.question(state).ask(ctx, data)

    async def handle(self, ctx: FlowContext, state: str, data: Any, answer: Answer) -> Transition:
        return await self.question(state).take(ctx, data, answer)


def by_state(*questions: Question[DataT]) -> dict[str, Question[DataT]]:
    """The questions keyed by their state; two for one state is a mistake caught at start."""
    keyed: dict[str, Question[DataT]] = {}
    for question in questions:
        if question.state in keyed:
            raise ValueError(f"two questions for state {question.state!r}")
        keyed[question.state] = question
    return keyed
