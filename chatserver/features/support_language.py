"""Language and need in one-to-one support: which language a seeker waits in, which ones
a listener offers, and telling a seeker honestly when nobody on duty speaks theirs.

The pairing store does the matching (a seeker waits in their language's line until they
choose "any listener"; :mod:`chatserver.pairing.base`). This part decides the languages
that go into the store and keeps the promise of ``language_unavailable`` (SPEC 2.3):

* a seeker's language is the one their frame names, else their connection's (the widget
  connects with ``?lang=`` in the language it is shown in), else the server's default;
* when a seeker is queued and no listener on duty for the topic speaks their language,
  or no listener is on duty at all (``available`` empty: the widget then offers the
  topic's group room), they are told at once, and again every ``again`` seconds while
  that stays true; a seeker who chose "any" is told again only while nobody at all is on
  duty;
* ``support_choice``: ``any`` moves them to the line of any listener, keeping their
  place; ``wait`` keeps them waiting for a speaker (and restarts the clock).

Timers are plain deadlines checked by the feature's sweep (the app's sweeper task, about
once a second): no task per seeker.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import cast, get_args

import structlog

from chatserver.context import NodeContext
from chatserver.features.support_state import SupportState
from chatserver.observability import Metrics
from chatserver.pairing.base import PairingStore, TopicQueue, Waiting
from chatserver.routing import RequestFailed, Router
from chatserver.session import Session
from protocol import ErrorCode
from protocol.belonging import LanguageUnavailable, SupportChoice
from protocol.fields import LANGUAGE, Need
from protocol.messages import QueuePosition

log = structlog.get_logger("chatserver.support")

#: How long a topic's languages on duty are reused before asking the store again (a
#: listener going on or off duty on this node clears them at once).
ON_DUTY_SECONDS = 1.0
#: The metric label when nobody at all is on duty.
NOBODY = "none"
NOT_YOURS = "You can offer only the languages of your sign-in code."


@dataclass(slots=True)
class Ask:
    """A seeker waiting on this node, as this part follows them."""

    topic: str
    language: str
    any_language: bool
    #: monotonic time of the next check of the languages on duty
    due: float


def need_of(value: str | None) -> Need | None:
    """A need as the store keeps it, typed for the wire (anything else: not said)."""
    for need in get_args(Need):
        if value == need:
            return cast(Need, need)
    return None


def record_queue(metrics: Metrics, queue: TopicQueue, lines: dict[str, set[str]]) -> None:
    """Export a topic's at-risk count and its waiting seekers per language; a language
    whose line emptied since the last export goes to 0. ``lines``: topic -> labels set."""
    metrics.queue_at_risk.labels(queue.topic).set(queue.at_risk)
    now: dict[str, int] = {}
    for line in queue.languages:
        label = metrics.language(line.language)
        now[label] = now.get(label, 0) + line.waiting
    for label in lines.get(queue.topic, set()) - now.keys():
        metrics.queue_languages.labels(queue.topic, label).set(0)
    for label, count in now.items():
        metrics.queue_languages.labels(queue.topic, label).set(count)
    lines[queue.topic] = set(now)


def primary(locale: str | None) -> str | None:
    """A locale's primary language subtag ("es-MX" -> "es"), if it is one."""
    if not locale:
        return None
    code = re.split(r"[-_]", locale, maxsplit=1)[0].lower()
    return code if LANGUAGE.matches(code) else None


class SupportLanguages:
    def __init__(
        self,
        ctx: NodeContext,
        store: PairingStore,
        state: SupportState,
        queue_changed: Callable[[str], Awaitable[None]],
        *,
        again: float,
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.state = state
        self.default = ctx.config.default_language
        self.again = again
        self._queue_changed = queue_changed
        self._asks: dict[str, Ask] = {}
        self._on_duty: dict[str, tuple[float, tuple[str, ...]]] = {}
        #: seekers whose language was looked up in the store (found or not)
        self._looked: set[str] = set()

    def register(self, router: Router) -> None:
        router.frame(SupportChoice, self.choose)

    # ------------------------------------------------------------------ languages

    def seeker_language(self, session: Session, asked: str | None) -> str:
        return asked or primary(session.locale) or self.default

    def listener_languages(self, session: Session, wanted: Sequence[str] | None) -> tuple[str, ...]:
        """The languages of a ``listen``: those asked for, each one of the token's; the
        token's when none are asked for."""
        own = session.listener_languages or (self.default,)
        if wanted is None:
            return own
        if not wanted or any(code not in own for code in wanted):
            raise RequestFailed(ErrorCode.FORBIDDEN, NOT_YOURS)
        return tuple(dict.fromkeys(wanted))

    async def on_duty(self, topic: str) -> tuple[str, ...]:
        now = self.ctx.clock()
        cached = self._on_duty.get(topic)
        if cached is not None and cached[0] > now:
            return cached[1]
        languages = await self.store.languages_on_duty(topic)
        self._on_duty[topic] = (now + ON_DUTY_SECONDS, languages)
        return languages

    def seats_changed(self) -> None:
        """A listener here went on or off duty: read the languages on duty afresh."""
        self._on_duty.clear()

    # ------------------------------------------------------------------ seekers

    async def queued(self, session: Session, waiting: Waiting) -> None:
        """A seeker joined the queue here: tell them now if nobody speaks their language."""
        ask = Ask(waiting.topic, waiting.language, waiting.any_language, 0.0)
        self._asks[session.id] = ask
        await self._check(session, ask, await self.on_duty(waiting.topic))

    async def _check(self, session: Session, ask: Ask, available: tuple[str, ...]) -> None:
        ask.due = self.ctx.clock() + self.again
        if available and (ask.any_language or ask.language in available):
            return
        self.ctx.metrics.language_unavailable.labels(
            self.ctx.metrics.language(ask.language) if available else NOBODY
        ).inc()
        session.send(LanguageUnavailable(ask.topic, ask.language, available))

    async def choose(self, session: Session, frame: SupportChoice) -> None:
        """Answered with the seeker's place (``ref``) before any pairing it allows."""
        where = self.state.waiting.get(session.id)
        if where is None:
            raise RequestFailed(ErrorCode.NOT_WAITING, "You're not waiting for a listener.")
        topic = where[0]
        ask = self._asks.get(session.id)
        if ask is not None:
            ask.due = self.ctx.clock() + self.again
            ask.any_language = ask.any_language or frame.choice == "any"
        if frame.choice == "any":
            self.state.chose_any.add(session.id)
        moved = frame.choice == "any" and await self.store.choose_any(session.id)
        position = await self.store.position(session.id)
        if position is None:  # paired meanwhile
            raise RequestFailed(ErrorCode.NOT_WAITING, "You're not waiting for a listener.")
        self.state.waiting[session.id] = (topic, position[1])
        eta = self.state.eta.eta(topic, position[1])
        language = ask.language if ask is not None else None
        session.send(QueuePosition(topic, position[1], eta, ref=frame.ref, language=language))
        if moved:
            log.info("chose_any", session=session.id, topic=topic)
            await self._queue_changed(topic)

    async def sweep(self) -> None:
        """Tell again the seekers whose time has come, if it is still true."""
        for gone in [s for s in self._asks if s not in self.state.waiting]:
            del self._asks[gone]
        await self._adopt_missing()
        now = self.ctx.clock()
        for seeker, ask in list(self._asks.items()):
            session = self.ctx.sessions.get(seeker)
            if ask.due > now or session is None:
                continue
            await self._check(session, ask, await self.on_duty(ask.topic))

    async def _adopt_missing(self) -> None:
        """Seekers waiting here that this part does not know (requeued, or resumed from
        another node): their language from the store, looked up once each, their next
        check one interval away."""
        waiting = self.state.waiting
        self._looked.intersection_update(waiting)
        missing = {s: t for s, (t, _) in waiting.items() if s not in self._asks}
        missing = {s: t for s, t in missing.items() if s not in self._looked}
        self._looked.update(missing)
        for topic in set(missing.values()):
            for seeker in await self.store.waiting(topic):
                if seeker.seeker in missing:
                    due = self.ctx.clock() + self.again
                    ask = Ask(topic, seeker.language, seeker.any_language, due)
                    self._asks[seeker.seeker] = ask
