"""Sliding-window rate limits: never more than N sends in any window of the given length.

A send is allowed at time t only if fewer than N sends happened in the closed window
[t - period, t] (plus a millisecond of margin), so no window of that length, wherever it
starts, ever holds more than N. Kept per platform (all chats) and per chat (private chats
and group chats have their own limits on Telegram). A `retry_after` from the platform
pauses every send of the platform until it has passed.

Each platform has one `RateLimiter` (`limiter_for`), and every request a transport makes
to send something takes its slot from it right before the request goes out
(`RateLimiter.before_request`, through `bot/transports/pacing.py`). A message is sent as a
`Push`, carried to the transport's request path in a context variable (so the `Transport`
interface stays the same for every caller); its first request counts in its chat's window.

Replies come first. A reply is an urgent push: while it waits for its slot, a slot is held
back for it from everything else, so broadcasts use what replies leave; and while people are
writing, everything else leaves a twentieth of the window free, so a reply seldom waits for a
window that a broadcast has filled. And the other messages go out evenly spaced (`ready`),
at the window's rate, or while people write at the rate the replies of the last second and
that reserve leave: sent as soon as slots free up they would bunch, a bunch frees its slots
together a second later, and between bunches a full window would keep a reply waiting for
most of a second; evenly spaced, a slot frees up every 1/limit seconds. A reply keeps its
chat's window like any message (Telegram answers a second message within a second to one private
chat with 429), which costs a wait only when that chat had a message in the last second.
Where sends go one at a time (Matrix's send interval, or the pace learned from the
homeserver's 429s: bot/learned_pace.py) no slot can be held back, so while a reply waits
for its slot nothing else takes one.

A request can leave later than its slot: between the slot and its body reaching the
socket the process may not get the CPU (40-80 ms, now and then, on a busy machine). A
window that kept the slot's time would then let the 31st request of that second out on
time while the late one still counts at the platform: a 429 that pauses every send. So
the transport reports when the request has been written (`request_written`, from the HTTP
client's trace) and a request that left noticeably late counts from then instead.

Times come from a `Sleeper`, so tests run the limiter on a frozen clock.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from bot.learned_pace import LearnedPace
from bot.settings import Settings
from bot.sliding_window import SlidingWindow
from bot.timing import Sleeper

# A group's window is a minute: a second of margin there costs under 2 % of its 20 and
# covers any jitter a request meets on its way.
GROUP_MARGIN = 1.0
REPLY_WATCH = 0.005  # seconds; how often others look again while replies hold slots back
# While people are writing (a reply went out in the last REPLY_RECENT seconds), everything
# else leaves a twentieth of the platform's window free (at least one slot), so the next
# reply finds a slot at once; a broadcast alone uses all. (A tenth, 3 of 30, cost the
# broadcast 2 of the 20 a second that 10 replies leave, and with the broadcast evenly
# spaced replies did not need it: p99 of their wait 0 ms with one slot.)
REPLY_RESERVE_SHARE = 0.05
REPLY_RECENT = 10.0
# A request written this much after its slot counts from when it was written (less is
# within what the margin covers, and not worth moving it in the windows).
LATE_WRITE = 0.005
# Seconds the even pacing of non-replies may fall behind and then catch up: a wake-up a
# few milliseconds late (an event loop is no metronome) costs no turn, and at thousands a
# second the turns are shorter than a loop's round.
CATCH_UP = 0.010
# Below this many seconds between turns (over 50 a second) the window alone paces: each
# paced turn is a commit of its own (the row's attempting mark; bunched rows share one),
# and the senders waiting for their turns wake each other for nothing. At 100 a second on
# SQLite that cost 13 % of the rate, at 2,000 a second 5 %; Telegram's 30 and Matrix's few
# a second are paced.
FINEST_PACE = 0.020
SWEEP_AT = 256  # chats tracked before the idle ones are forgotten (then twice the live ones)
SWEEP_EVERY = 1.0  # seconds; idle chats are forgotten at least this often
TELEGRAM_GROUP_PREFIX = "-"  # Telegram's group and channel chat ids are negative


@dataclass(frozen=True, slots=True)
class RateLimits:
    """One platform's limits.

    `per_second`: all sends of the platform in any one second. `private_per_second`: sends
    to one private chat in any one second. `group_per_minute`: sends to one group chat in
    any minute. A chat id starting with `group_prefix` is a group (Telegram: "-").
    `None` switches a per-chat limit off.
    """

    per_second: int
    private_per_second: int | None = None
    group_per_minute: int | None = None
    group_prefix: str | None = None

    def is_group(self, chat_id: str) -> bool:
        return self.group_prefix is not None and chat_id.startswith(self.group_prefix)


def limits_for(settings: Settings, platform: str) -> RateLimits:
    """The rate limits of a platform, from the settings."""
    if platform == "telegram":
        return RateLimits(
            per_second=settings.telegram_rate_per_second,
            private_per_second=settings.telegram_private_chat_per_second,
            group_per_minute=settings.telegram_group_chat_per_minute,
            group_prefix=TELEGRAM_GROUP_PREFIX,
        )
    if platform == "matrix":
        return RateLimits(per_second=settings.matrix_rate_per_second)
    return RateLimits(per_second=settings.other_rate_per_second)


def spacing_for(settings: Settings, platform: str) -> float:
    """The least seconds between two requests of a platform (0: only the windows count)."""
    if platform == "matrix":
        return settings.matrix_send_interval_ms / 1000
    return 0.0


def limiter_for(settings: Settings, platform: str, sleeper: Sleeper) -> RateLimiter:
    """The one limiter every send of `platform` takes its slots from (Matrix's learns
    its pace from the homeserver's 429s: bot/learned_pace.py)."""
    spacing = spacing_for(settings, platform)
    learns = platform == "matrix"
    return RateLimiter(limits_for(settings, platform), sleeper, spacing=spacing, learns=learns)


class SharedSlots(Protocol):
    """The budget several processes share (bot/shared_budget.py)."""

    async def take(self, chat_id: str | None, *, urgent: bool) -> float: ...

    def written_late(self, late: float) -> None:
        """The request of the slot just taken was written `late` seconds after it."""
        ...


_current_push: ContextVar[Push | None] = ContextVar("current_push", default=None)
# The slot the current task's request took last, until its request has been written:
# (limiter, when, the chat whose window it counts in).
_open_slot: ContextVar[tuple[RateLimiter, float, str | None] | None] = ContextVar(
    "open_slot", default=None
)


def request_written() -> None:
    """The request the current task took its slot for has been written to the socket (the
    Telegram transport calls this from the HTTP client's trace). If that was noticeably
    after the slot, it counts in the windows from now, when it really left."""
    slot = _open_slot.get()
    if slot is None:
        return
    _open_slot.set(None)
    limiter, taken_at, chat_id = slot
    limiter._written(taken_at, chat_id)


class Push:
    """One message to `chat_id`: its first request counts in the chat's window as well as
    the platform's; the requests after it (the rest of a long text, the reactions under a
    question) in the platform's only.

    Made when the send is decided on, it is pending until that first request takes its slot
    or the send ends without one, so a worker does not promise the same free slot twice
    (`RateLimiter.pending_pushes`), and an `urgent` one (a reply) holds a slot back from
    the others meanwhile. The requests inside `with push:` belong to it.
    """

    __slots__ = ("_limiter", "_token", "chat_id", "pending", "readied", "urgent")

    def __init__(self, limiter: RateLimiter, chat_id: str, *, urgent: bool = False) -> None:
        self._limiter = limiter
        self.chat_id = chat_id
        self.urgent = urgent
        self.pending = True
        self.readied = False  # past `RateLimiter.ready`, its slot not taken yet
        self._token: Token[Push | None] | None = None
        limiter._pending += 1
        if urgent:
            limiter._urgent += 1

    def __enter__(self) -> Push:
        self._token = _current_push.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _current_push.reset(self._token)
            self._token = None
        self.settle()

    def settle(self) -> None:
        """No longer waiting for a slot: it took one, or will not send."""
        if self.pending:
            self.pending = False
            self._limiter._pending -= 1
            if self.urgent:
                self._limiter._urgent -= 1
            if self.readied:
                self.readied = False
                self._limiter._readied -= 1


class RateLimiter:
    def __init__(
        self, limits: RateLimits, sleeper: Sleeper, *, spacing: float = 0.0, learns: bool = False
    ) -> None:
        """`spacing`: least seconds between two sends of the platform, on top of the limits
        (Matrix: `TMM_MATRIX_SEND_INTERVAL_MS`). `learns`: after a pause, one send at a
        time, as far apart as the pause was (`LearnedPace`)."""
        self.limits = limits
        self._sleeper = sleeper
        self._overall = SlidingWindow(limits.per_second, 1.0)
        self._spacing = SlidingWindow(1, spacing) if spacing > 0 else None
        self._learned = LearnedPace() if learns else None
        self._chats: dict[str, SlidingWindow] = {}
        self._paused_until = 0.0
        self._sweep_at = SWEEP_AT
        self._swept_at = sleeper.monotonic()
        self._pending = 0
        self._urgent = 0
        self._readied = 0
        self._reserve = max(1, int(limits.per_second * REPLY_RESERVE_SHARE))
        self._last_reply = float("-inf")
        self._replies = SlidingWindow(limits.per_second, 1.0)  # replies of the last second
        self._next_turn = float("-inf")  # when the next message that is not a reply may go
        self._shared: SharedSlots | None = None
        self.late_writes = 0  # requests written LATE_WRITE or more after their slot

    def share(self, budget: SharedSlots) -> None:
        """Several processes send for this platform: every request also takes a slot of
        their shared budget, after this process's own limits allow it."""
        self._shared = budget

    def _now(self) -> float:
        return self._sleeper.monotonic()

    def _chat_window(self, chat_id: str) -> SlidingWindow | None:
        window = self._chats.get(chat_id)
        if window is not None:
            return window
        if self.limits.is_group(chat_id):
            if self.limits.group_per_minute is None:
                return None
            window = SlidingWindow(self.limits.group_per_minute, 60.0, GROUP_MARGIN)
        else:
            if self.limits.private_per_second is None:
                return None
            window = SlidingWindow(self.limits.private_per_second, 1.0)
        self._chats[chat_id] = window
        return window

    def chat_period(self, chat_id: str) -> float:
        """The length of the window a chat is limited over (0 without a chat limit)."""
        if self.limits.is_group(chat_id):
            return 0.0 if self.limits.group_per_minute is None else 60.0
        return 0.0 if self.limits.private_per_second is None else 1.0

    def pause(self, seconds: float) -> None:
        """The platform asked us to wait (`retry_after`): hold every send until then."""
        self._paused_until = max(self._paused_until, self._now() + max(0.0, seconds))
        if self._learned is not None:
            self._learned.learn(self._now(), max(0.0, seconds))

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._now())

    def platform_delay(self, count: int = 1) -> float:
        """Seconds until the platform as a whole allows `count` more sends (for anything
        but a reply, the slots held back for waiting replies come on top)."""
        now = self._now()
        delay = max(self._paused_until - now, self._overall.delay(now, count), 0.0)
        if self._spacing is not None:
            delay = max(delay, self._spacing.delay(now))
        if self._learned is not None:
            delay = max(delay, self._learned.delay(now))
        return delay

    def chat_delay(self, chat_id: str | None) -> float:
        """Seconds until this chat's own limit allows one more send."""
        if chat_id is None:
            return 0.0
        window = self._chats.get(chat_id)
        return 0.0 if window is None else max(0.0, window.delay(self._now()))

    def delay(self, chat_id: str | None) -> float:
        return max(self.platform_delay(), self.chat_delay(chat_id))

    def available(self) -> int:
        """How many sends the platform limit allows right now."""
        now = self._now()
        if self._paused_until > now:
            return 0
        available = self._overall.available(now)
        if self._spacing is not None:
            available = min(available, self._spacing.available(now))
        if self._learned is not None and self._learned.active(now):
            available = min(available, 0 if self._learned.delay(now) else 1)
        return available

    def try_acquire(self, chat_id: str | None) -> bool:
        """Take a slot for a send to `chat_id` now, if both limits allow it.

        `None` takes a slot of the platform limit only: a direct reply in a conversation,
        which should not wait a second for its chat but does count towards the ceiling.
        """
        if self.delay(chat_id) > 0:
            return False
        self._record(chat_id)
        return True

    async def acquire(self, chat_id: str | None) -> None:
        """Wait until a send to `chat_id` is allowed, and take the slot."""
        while not self.try_acquire(chat_id):
            await self._sleeper.sleep(self.delay(chat_id))

    def push(self, chat_id: str, *, urgent: bool = False) -> Push:
        """A message to `chat_id` (see `Push`); use it as `with push: ...send...`.
        `urgent`: a reply to a person, which goes before everything else."""
        return Push(self, chat_id, urgent=urgent)

    @property
    def pending_pushes(self) -> int:
        """Pushes decided on whose first request has not taken its slot yet."""
        return self._pending

    @property
    def waiting_replies(self) -> int:
        """Urgent pushes (replies) whose first request has not taken its slot yet."""
        return self._urgent

    def _request_delay(self, push: Push | None) -> float:
        """Seconds until the request of `push` (None: a request of nobody's) may go."""
        urgent = push is not None and push.urgent
        held_back = 0 if urgent else self._urgent + self._reply_reserve()
        delay = self.platform_delay(1 + held_back)
        if self._urgent and not urgent and self._one_at_a_time():
            # a window of one cannot hold a slot back: the next is the reply's
            delay = max(delay, REPLY_WATCH)
        if push is not None and push.pending:
            delay = max(delay, self.chat_delay(push.chat_id))
        return delay

    def _pace(self) -> float:
        """Seconds between two messages that are not replies: the window spread evenly
        over what the replies of the last second and the reserve leave while people
        write, over all of it otherwise."""
        share = self.limits.per_second
        if reserve := self._reply_reserve():
            replies = self._replies.limit - self._replies.available(self._now())
            share = max(1, share - reserve - replies)
        # (without the margin: the grid then runs a hair ahead of the window, and the
        # window, not a late wake-up, sets the pace)
        return self._overall.period / share

    def _paced_delay(self, push: Push) -> float:
        """Seconds until a message that is not a reply may take its turn."""
        if push.urgent or not push.pending or self._pace() < FINEST_PACE:
            return 0.0
        return self._next_turn - self._now()

    def _book_turn(self) -> None:
        # On a grid, so a late wake-up does not slow the whole broadcast down: the grid may
        # fall up to CATCH_UP behind and catch up; after a pause it restarts from there
        # (no burst of what the pause held up).
        self._next_turn = max(self._next_turn, self._now() - CATCH_UP) + self._pace()

    def _one_at_a_time(self) -> bool:
        learned = self._learned is not None and self._learned.active(self._now())
        return learned or self._spacing is not None

    def _reply_reserve(self) -> int:
        """Slots left free for replies: some while people are writing, none otherwise."""
        if self._now() - self._last_reply < REPLY_RECENT:
            return self._reserve
        return 0

    def _take(self, push: Push | None) -> None:
        first = push is not None and push.pending
        if first and push is not None and push.urgent:
            self._last_reply = self._now()
            self._replies.record(self._last_reply)
        self._record(push.chat_id if push is not None and first else None)
        if push is not None:
            push.settle()

    def _written(self, taken_at: float, chat_id: str | None) -> None:
        now = self._now()
        if now - taken_at < LATE_WRITE:
            return
        if self._shared is not None:
            self._shared.written_late(now - taken_at)
        self.late_writes += 1
        self._overall.move(taken_at, now)
        if self._spacing is not None:
            self._spacing.move(taken_at, now)
        window = None if chat_id is None else self._chats.get(chat_id)
        if window is not None:
            window.move(taken_at, now)

    def _record(self, chat_id: str | None) -> None:
        """A send now: in the platform's window, and in the chat's when `chat_id` is given."""
        now = self._now()
        _open_slot.set((self, now, chat_id))
        self._overall.record(now)
        if self._spacing is not None:
            self._spacing.record(now)
        if self._learned is not None:
            self._learned.record(now)
        window = None if chat_id is None else self._chat_window(chat_id)
        if window is not None:
            window.record(now)
        if len(self._chats) >= self._sweep_at or now - self._swept_at >= SWEEP_EVERY:
            self._sweep(now)

    async def ready(self, push: Push) -> None:
        """Wait until `push`'s first request could take its slot, without taking it: the
        caller then records that the message goes on the wire, and sends. A message that
        is not a reply books its paced turn here (see the module's docstring), so those
        waiting together do not all go on the wire at once and then wait there."""
        while (delay := max(self._ready_delay(push), self._paced_delay(push))) > 0:
            await self._sleeper.sleep(self._nap(push, delay))
        if not push.urgent and push.pending and self._pace() >= FINEST_PACE:
            self._book_turn()
        if push.pending and not push.readied:
            push.readied = True
            self._readied += 1

    def _ready_delay(self, push: Push) -> float:
        """A reply's slot counts those already past `ready` and not yet on the wire: replies
        of a burst would otherwise all find the same free slot, all be recorded as on the
        wire, and then wait for their slots there (a kill then calls them unknown)."""
        if not push.urgent or not push.pending:
            return self._request_delay(push)
        delay = max(self.platform_delay(1 + self._readied), self.chat_delay(push.chat_id))
        if self._overall.available(self._now()) <= self._readied:  # every free slot promised
            delay = max(delay, REPLY_WATCH)
        return delay

    async def before_request(self) -> None:
        """Wait for, and take, the slot of the request about to be made. Transports call it
        right before each request, so nothing waits between the slot and the request."""
        push = _current_push.get()
        if push is not None and push._limiter is not self:
            push = None
        while (delay := self._request_delay(push)) > 0:
            await self._sleeper.sleep(self._nap(push, delay))
        if self._shared is not None:
            # last, right before the request: the time between the slot and the request
            # reaching the platform is what could put one too many in a second
            first = push is not None and push.pending
            await self._shared.take(
                push.chat_id if push is not None and first else None,
                urgent=push is not None and push.urgent,
            )
        self._take(push)

    def _nap(self, push: Push | None, delay: float) -> float:
        # While replies wait, what anyone else may use changes the moment they take their
        # slots: look again soon rather than sleep out a delay that no longer holds.
        if (push is None or not push.urgent) and self._urgent:
            return min(delay, REPLY_WATCH)
        return delay

    def _sweep(self, now: float) -> None:
        """Forget chats with nothing in their window, so memory does not grow per chat."""
        for chat_id in [c for c, window in self._chats.items() if window.idle(now)]:
            del self._chats[chat_id]
        self._sweep_at = max(SWEEP_AT, 2 * len(self._chats))
        self._swept_at = now

    @property
    def tracked_chats(self) -> int:
        return len(self._chats)
