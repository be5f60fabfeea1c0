"""`/settings`: change any answer from onboarding, one at a time, from a small menu."""

from __future__ import annotations

from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.people import profile_questions as profile
from storage.models import TopicKind


class Step(StrEnum):
    MENU = "menu"
    LANGUAGE = "language"
    NAME = "name"
    INTERESTS = "interests"
    AREAS = "areas"
    QUIET = "quiet"
    INITIATIVES = "initiatives"
    PHOTOS = "photos"


SECTIONS = {
    "language": Step.LANGUAGE,
    "sprog": Step.LANGUAGE,
    "name": Step.NAME,
    "navn": Step.NAME,
    "interests": Step.INTERESTS,
    "interesser": Step.INTERESTS,
    "areas": Step.AREAS,
    "omraader": Step.AREAS,
    "quiet": Step.QUIET,
    "initiatives": Step.INITIATIVES,
    "initiativer": Step.INITIATIVES,
    "photos": Step.PHOTOS,
    "billeder": Step.PHOTOS,
}


class SettingsData(FlowData):
    single: bool = False  # opened on one section (/language): done after it, no menu


class Settings(Flow):
    name = "settings"
    data_model = SettingsData
    commands = (
        CommandSpec(
            "settings",
            "indstillinger",
            N_("Name, language, interests, quiet hours and more"),
            button=N_("My settings"),
            continues_after_onboarding=False,
        ),
        CommandSpec(
            "language",
            "sprog",
            N_("Choose language"),
            args="language",
            needs_consent=False,
            allowed_when_stopped=True,
            in_menu=False,
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        section = SECTIONS.get(args.strip().lower())
        if section is not None:
            return Transition.go(section, SettingsData(single=True))
        return Transition.go(Step.MENU, SettingsData())

    async def prompt(self, ctx: FlowContext, state: str, data: SettingsData) -> OutMessage:
        match Step(state):
            case Step.MENU:
                summary = await profile.profile_summary(ctx)
                text = ctx._(N_("Your settings:\n{summary}\n\nWhat would you like to change?"))
                choices = [
                    ctx.choice("language", N_("Language"), "🗣", "sprog"),
                    ctx.choice("name", N_("Name"), "🙂", "navn"),
                ]
                if await profile.topics_available(ctx, TopicKind.INTEREST):
                    choices.append(ctx.choice("interests", N_("Interests"), "🌿"))
                if await profile.topics_available(ctx, TopicKind.AREA):
                    choices.append(ctx.choice("areas", N_("Areas"), "📍"))
                choices += [
                    ctx.choice("quiet", N_("Quiet hours"), "🌙"),
                    ctx.choice("initiatives", N_("Citizens' initiatives"), "🌱"),
                    ctx.choice("photos", N_("Photos and voice notes"), "📷", "billeder"),
                    ctx.choice("done", N_("Done"), "👍", "ok", "faerdig"),
                ]
                return OutMessage(text.format(summary=summary), choices=tuple(choices))
            case Step.LANGUAGE:
                return profile.language_question(ctx)
            case Step.NAME:
                return profile.name_question(ctx)
            case Step.INTERESTS:
                return await profile.topics_question(ctx, TopicKind.INTEREST)
            case Step.AREAS:
                return await profile.topics_question(ctx, TopicKind.AREA)
            case Step.QUIET:
                return profile.quiet_question(ctx)
            case Step.INITIATIVES:
                return profile.initiatives_question(ctx)
            case Step.PHOTOS:
                return profile.photos_question(ctx)

    async def handle(
        self, ctx: FlowContext, state: str, data: SettingsData, answer: Answer
    ) -> Transition:
        step = Step(state)
        if step == Step.MENU:
            if answer.choice == "done":
                return Transition.end(OutMessage(ctx._(N_("All saved. 👍"))))
            if answer.choice is None:  # only a tap closes the menu; anything else asks again
                return Transition.stay(data)
            return Transition.go(Step(answer.choice), data)
        match step:
            case Step.LANGUAGE:
                result = profile.take_language(ctx, answer)
            case Step.NAME:
                result = await profile.take_name(ctx, answer)
            case Step.INTERESTS:
                result = await profile.take_topic(ctx, answer, TopicKind.INTEREST)
            case Step.AREAS:
                result = await profile.take_topic(ctx, answer, TopicKind.AREA)
            case Step.QUIET:
                result = profile.take_quiet(ctx, answer)
            case Step.INITIATIVES:
                result = profile.take_initiatives(ctx, answer)
            case Step.PHOTOS:
                result = await profile.take_photos(ctx, answer)
        notes = (result.note,) if result.note else ()
        if not result.done:
            return Transition.stay(data, *notes)
        saved = OutMessage(ctx._(N_("Saved. 👍")))
        if data.single:
            return Transition.end(*notes, saved)
        return Transition.go(Step.MENU, data, *notes, saved)
