"""The safety-verdict part of the routing table: verdict action -> what it means.

Filled at start-up through :meth:`chatserver.routing.Router.verdict`; called by the
message path, before relaying (a handler may refuse or withhold the message by raising)
and once the message is out. Its own module so that a ``say`` enters it from messaging
without calling back into the router that dispatched the frame.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from chatserver.safety.base import Action
from chatserver.session import Session

#: ``before`` runs before relaying (may raise to refuse or withhold), with the frame.
VerdictBefore = Callable[[Session, Any, Any], None]
#: ``after`` runs once the message is relayed, with its room, handle and id.
VerdictAfter = Callable[[Session, str, str, str, Any], Awaitable[None]]

#: The order verdicts are applied in, most intrusive first.
BEFORE_ORDER = (Action.BLOCK, Action.HOLD)
AFTER_ORDER = (Action.REDACT, Action.ESCALATE)


class VerdictRoutes:
    def __init__(self) -> None:
        self._before: dict[Action, VerdictBefore] = {}
        self._after: dict[Action, VerdictAfter] = {}

    def add(
        self,
        action: Action,
        *,
        before: VerdictBefore | None = None,
        after: VerdictAfter | None = None,
    ) -> None:
        if (before is not None and action in self._before) or (
            after is not None and action in self._after
        ):
            raise ValueError(f"verdict {action.value} is routed twice")
        if before is not None:
            self._before[action] = before
        if after is not None:
            self._after[action] = after

    def before_relay(self, session: Session, frame: Any, result: Any) -> None:
        """Apply the verdicts that act before a message is relayed (refuse, hold)."""
        if not result.actions:
            return
        for action in BEFORE_ORDER:
            handler = self._before.get(action)
            if handler is not None and action in result.actions:
                handler(session, frame, result)

    async def after_relay(
        self, session: Session, room: str, handle: str, message_id: str, result: Any
    ) -> None:
        """Apply the verdicts that act once a message is out (notices, escalation)."""
        if not result.actions:
            return
        for action in AFTER_ORDER:
            handler = self._after.get(action)
            if handler is not None and action in result.actions:
                await handler(session, room, handle, message_id, result)
