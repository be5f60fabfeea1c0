"""What rules work with: the unit of work, every language, the local time zone, the clock.

Rules are called from flows (with `FlowContext.services`) and from the scheduler's jobs; both
hand over the same four things as one object instead of the same argument list each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from conversations.core.i18n import Translations, Translator
from storage.clock import Clock
from storage.models import Person
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Services:
    uow: UnitOfWork
    translations: Translations
    timezone: str
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()

    def tr(self, person: Person) -> Translator:
        """The translator for someone other than the person we are talking to."""
        return self.translations.get(person.language)
