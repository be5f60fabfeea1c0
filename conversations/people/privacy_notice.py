"""The privacy notice people read before they say yes, and with `/privacy` at any time.

The municipality fills it in (bot/privacy.py reads its file): the data controller, the data
protection officer, purpose, legal basis, processors, how long things are kept. What it has
not filled in is shown as not filled in yet, never as a made-up answer. The rights and the
right to complain to Datatilsynet are the same everywhere, so they are written here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from conversations.core.i18n import N_, Translator

LocalText = dict[str, str]  # language -> text, e.g. {"da": "...", "en": "..."}


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    address: str = ""
    contact: str = ""


class Processor(BaseModel):
    """Someone who handles the data for the controller: the chat platform, the hosting.
    Besides its name, what it does in each language: `da = "..."`, `en = "..."`."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)

    @property
    def does(self) -> LocalText:
        return {language: str(text) for language, text in (self.model_extra or {}).items()}


class PrivacyNotice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=32)
    controller: Party | None = None
    data_protection_officer: Party | None = None
    purpose: LocalText = Field(default_factory=dict)
    legal_basis: LocalText = Field(default_factory=dict)
    processors: list[Processor] = Field(default_factory=list)
    retention: LocalText = Field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return bool(
            self.controller
            and self.data_protection_officer
            and self.purpose
            and self.legal_basis
            and self.processors
        )


def _in(text: LocalText, language: str) -> str | None:
    return text.get(language) or text.get("da") or next(iter(text.values()), None)


def _party(party: Party) -> str:
    return ", ".join(part for part in (party.name, party.address, party.contact) if part)


def render_notice(notice: PrivacyNotice, translator: Translator) -> str:
    """The whole notice in the reader's language, as one message."""
    _, language = translator.gettext, translator.language
    missing = _(N_("(not filled in yet by the municipality: ask the organisers)"))

    def line(label: str, value: str | None) -> str:
        return f"{_(label)}: {value or missing}"

    processors = [
        f"• {p.name}" + (f": {does}" if (does := _in(p.does, language)) else "")
        for p in notice.processors
    ]
    parts = [
        _(N_("How we look after your information (version {version})")).format(
            version=notice.version
        ),
        line(
            N_("Responsible for your data (data controller)"),
            _party(notice.controller) if notice.controller else None,
        ),
        line(
            N_("Data protection officer"),
            _party(notice.data_protection_officer) if notice.data_protection_officer else None,
        ),
        line(N_("Why we keep it"), _in(notice.purpose, language)),
        line(N_("What allows us to (legal basis)"), _in(notice.legal_basis, language)),
        _(N_("Who handles it for us:")) + "\n" + ("\n".join(processors) if processors else missing),
        _(N_("How long it is kept:")) + "\n" + (_in(notice.retention, language) or missing),
        _(
            N_(
                "Your rights: you can see everything I keep with /mydata, have it deleted "
                "with /forget, and object to how it is used by writing to the data "
                "controller. You can also ask to have something corrected."
            )
        ),
        _(
            N_(
                "You can complain to Datatilsynet (the Danish Data Protection Agency): "
                "Carl Jacobsens Vej 35, 2500 Valby, dt@datatilsynet.dk, www.datatilsynet.dk."
            )
        ),
    ]
    return "\n\n".join(parts)
