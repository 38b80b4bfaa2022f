"""The routing table: which handler carries out each client frame and control message,
and which features listen to each session event.

Built once at start-up (:func:`chatserver.app.build_router`): the core registers its own
frames (join, leave, resume, ...), then each feature registers its own, the way a Phoenix
socket routes topics to channels and a centrifuge node holds one handler per event. A
frame type has exactly one handler; the core never asks which features are on, and never
falls through from one feature to the next.

Errors: a handler raises :class:`RequestFailed` (an error frame; the connection stays),
:class:`Withheld` (the sender was already told why nothing was relayed), or lets
:class:`~chatserver.broker.base.BrokerUnavailable` through (an ``unavailable`` frame
with a retry hint). Anything else is a bug, logged by the connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from chatserver.broker.base import BrokerUnavailable
from chatserver.observability import Metrics
from chatserver.safety.base import Action
from chatserver.session import Session
from chatserver.verdict_routes import VerdictAfter, VerdictBefore, VerdictRoutes
from protocol import ClientFrame, ErrorCode
from protocol.messages import Error

RETRY_AFTER_MS = 2000
UNAVAILABLE_TEXT = (
    "We couldn't send that just now because the service is having a brief hiccup. "
    "Your message is safe with you: please try again in a moment."
)

#: A client frame's handler; returns the session now bound to the socket when that
#: changes (a resume), else None.
FrameHandler = Callable[[Session, Any], Awaitable[Session | None]]
ControlHandler = Callable[[Any], Awaitable[None]]


class RequestFailed(Exception):
    """A request cannot be carried out; becomes an error frame, the connection stays."""

    def __init__(self, code: ErrorCode, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


class Withheld(Exception):  # noqa: N818 - an outcome, not an error
    """A message was not relayed, and its sender was already told why (held)."""


@dataclass(slots=True)
class Events:
    """Session events features listen to. Each list is filled at start-up; the core
    fires them without knowing who listens."""

    #: before a seat in a room is taken (may raise RequestFailed): (session, room)
    join_checks: list[Callable[[Session, str], None]] = field(default_factory=list)
    #: before a message is accepted (may raise RequestFailed): (session, room)
    say_checks: list[Callable[[Session, str], None]] = field(default_factory=list)
    #: a message was refused as already relayed, and acknowledged again: (session, room)
    resent: list[Callable[[Session, str], None]] = field(default_factory=list)
    #: a person was found at risk
    at_risk: list[Callable[[Session], Awaitable[None]]] = field(default_factory=list)
    #: a ``leave`` of a room, before the seat is freed: (session, room)
    leaving: list[Callable[[Session, str], Awaitable[None]]] = field(default_factory=list)
    #: the session is gone for good
    ended: list[Callable[[Session], Awaitable[None]]] = field(default_factory=list)
    #: the session's listener sign-in ended (revoked, expired): it keeps its socket as a
    #: seeker; before its seats are freed
    signed_out: list[Callable[[Session], Awaitable[None]]] = field(default_factory=list)
    #: a new socket took over the session on this node
    resumed: list[Callable[[Session], None]] = field(default_factory=list)
    #: the session was resumed here from another node's snapshot
    adopted: list[Callable[[Session], Awaitable[None]]] = field(default_factory=list)
    #: the session moved to another node (session id)
    moved: list[Callable[[str], None]] = field(default_factory=list)
    #: does a feature hold something for this session worth a resume (a queue place)?
    busy: list[Callable[[Session], bool]] = field(default_factory=list)

    def is_busy(self, session: Session) -> bool:
        return any(check(session) for check in self.busy)


class Feature:
    """A feature: handlers it registers at start-up, and optional periodic work."""

    def register(self, router: Router) -> None:
        raise NotImplementedError

    async def sweep(self) -> None:
        """Called about once a second by the app's sweeper; failures are logged."""

    async def close(self) -> None:
        """Release what the feature holds (store connections) at shutdown."""


class Router:
    """One table: frame type -> handler, control message type -> handler, verdict ->
    handlers. Registering a type twice is a start-up error."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.events = Events()
        self._frames: dict[type, FrameHandler] = {}
        self._controls: dict[type, ControlHandler] = {}
        #: safety verdict action -> handlers (its own module: messaging calls it mid-say)
        self.verdicts = VerdictRoutes()

    # ------------------------------------------------------------------ building

    def frame(self, kind: type, handler: FrameHandler) -> None:
        if kind in self._frames:
            raise ValueError(f"frame {kind.__name__} is routed twice")
        self._frames[kind] = handler

    def control(self, kind: type, handler: ControlHandler) -> None:
        if kind in self._controls:
            raise ValueError(f"control message {kind.__name__} is routed twice")
        self._controls[kind] = handler

    def verdict(
        self,
        action: Action,
        *,
        before: VerdictBefore | None = None,
        after: VerdictAfter | None = None,
    ) -> None:
        self.verdicts.add(action, before=before, after=after)

    # ------------------------------------------------------------------ dispatch

    async def handle(self, session: Session, frame: ClientFrame) -> Session:
        """Carry out one client frame. Returns the session now bound to the socket
        (a different one after a successful resume)."""
        ref = getattr(frame, "ref", None)
        try:
            handler = self._frames.get(type(frame))
            if handler is None:
                raise RequestFailed(ErrorCode.UNKNOWN_TYPE, "That request isn't offered here.")
            bound = await handler(session, frame)
            if bound is not None:
                return bound
        except RequestFailed as exc:
            self.fail(session, exc.code, exc.message, ref, exc.retry_after)
        except Withheld:
            pass
        except BrokerUnavailable:
            self.fail(session, ErrorCode.UNAVAILABLE, UNAVAILABLE_TEXT, ref, RETRY_AFTER_MS)
        return session

    async def handle_control(self, message: Any) -> None:
        handler = self._controls.get(type(message))
        if handler is not None:
            await handler(message)

    def fail(
        self,
        session: Session,
        code: ErrorCode,
        message: str,
        ref: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.metrics.errors.labels(code.value).inc()
        session.send(Error(code=code.value, message=message, ref=ref, retry_after=retry_after))
