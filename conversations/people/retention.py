"""How long each kind of data is kept: set by the municipality (TMM_RETENTION_*), carried out
daily by bot/retention.py, and told to people in /mydata."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from conversations.core.i18n import Translator, plural_count

DAYS_PER_MONTH = 30.4375  # months are calendar-ish: 12 of them make a year


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    feedback_months: float = 24
    rsvp_months: float = 12
    payload_days: float = 30
    inactive_months: float = 24
    stay_days: float = 30  # after asking whether to stay, how long until everything goes
    # that someone was at an event loses their name (how many came stays), like answers
    check_in_months: float = 12
    # what co-organisers did on an event, kept for its creator: a season and a half
    organiser_log_months: float = 12

    @property
    def inactive(self) -> timedelta:
        return timedelta(days=self.inactive_months * DAYS_PER_MONTH)

    @property
    def stay(self) -> timedelta:
        return timedelta(days=self.stay_days)

    @property
    def feedback(self) -> timedelta:
        return timedelta(days=self.feedback_months * DAYS_PER_MONTH)

    @property
    def rsvps(self) -> timedelta:
        return timedelta(days=self.rsvp_months * DAYS_PER_MONTH)

    @property
    def check_ins(self) -> timedelta:
        return timedelta(days=self.check_in_months * DAYS_PER_MONTH)

    @property
    def organiser_log(self) -> timedelta:
        return timedelta(days=self.organiser_log_months * DAYS_PER_MONTH)

    @property
    def payloads(self) -> timedelta:
        return timedelta(days=self.payload_days)


def retention_lines(policy: RetentionPolicy, translator: Translator) -> str:
    """What is deleted when, in the reader's language, one line each."""

    return "\n".join(
        (
            translator.ngettext(
                "• What you wrote, photos and voice notes from feedback: deleted after "
                "{months:g} month",
                "• What you wrote, photos and voice notes from feedback: deleted after "
                "{months:g} months",
                plural_count(policy.feedback_months),
            ).format(months=policy.feedback_months),
            translator.ngettext(
                "• Your answers to events that are over: without your name after {months:g} month",
                "• Your answers to events that are over: without your name after {months:g} months",
                plural_count(policy.rsvp_months),
            ).format(months=policy.rsvp_months),
            translator.ngettext(
                "• That you checked in at an event: without your name after {months:g} month",
                "• That you checked in at an event: without your name after {months:g} months",
                plural_count(policy.check_in_months),
            ).format(months=policy.check_in_months),
            translator.ngettext(
                "• What you did as a co-organiser of an event: deleted after {months:g} month",
                "• What you did as a co-organiser of an event: deleted after {months:g} months",
                plural_count(policy.organiser_log_months),
            ).format(months=policy.organiser_log_months),
            translator.ngettext(
                "• The text of messages I sent you: deleted {days:g} day after it was sent",
                "• The text of messages I sent you: deleted {days:g} days after they were sent",
                plural_count(policy.payload_days),
            ).format(days=policy.payload_days),
            translator.ngettext(
                "• Everything else: until you delete it with /forget, or after "
                "{months:g} month without a word from you (I ask first)",
                "• Everything else: until you delete it with /forget, or after "
                "{months:g} months without a word from you (I ask first)",
                plural_count(policy.inactive_months),
            ).format(months=policy.inactive_months),
        )
    )
