"""What the safety pipeline's verdicts mean on the wire, keyed by verdict action.

- ``BLOCK``: the message is refused with the filter's words.
- ``HOLD``: the message waits; the sender is asked to add a content warning.
- ``REDACT``: the message went out without the details; the sender is told.
- ``ESCALATE``: a seeker gets the crisis card with resources for their language, the
  room's staff get an escalation, and the ``at_risk`` event moves them up the queue.

The labels filters use are theirs; this module reads the action and the verdict that
asked for it (its reason, notice and category), never a label name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from chatserver.context import NodeContext
from chatserver.routing import Feature, RequestFailed, Router, Withheld
from chatserver.safety.base import Action
from chatserver.session import Session
from protocol import ErrorCode
from protocol.messages import Crisis, Escalation, Held, Notice, Resource, Say

if TYPE_CHECKING:
    from chatserver.safety.base import Verdict
    from chatserver.safety.pipeline import PipelineResult

log = structlog.get_logger("chatserver.verdicts")

CRISIS_TEXT = (
    "It sounds like you're going through something really painful right now. You don't have "
    "to face it alone: you can reach someone at any of these, right now."
)
HOLD_TEXT = (
    "This message describes painful details. Could you add a content "
    "warning, so others can choose when to read it? You can also edit it."
)
REDACTED_TEXT = "We removed contact details from your message to protect your anonymity."


def _verdict(result: PipelineResult, action: Action) -> Verdict | None:
    return next((v for v in result.verdicts if v.action is action), None)


def _category(result: PipelineResult) -> str:
    for verdict in result.verdicts:
        if verdict.category:
            return verdict.category
    return result.content_warning or "difficult_content"


def resources(locale: str | None) -> tuple[Resource, ...]:
    from chatserver.safety.resources import resources_for  # its data loads on first need

    return tuple(
        Resource(name=r.name, phone=r.phone, sms=r.sms, url=r.url) for r in resources_for(locale)
    )


class Verdicts(Feature):
    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx

    def register(self, router: Router) -> None:
        router.verdict(Action.BLOCK, before=self.blocked)
        router.verdict(Action.HOLD, before=self.held)
        router.verdict(Action.REDACT, after=self.redacted)
        router.verdict(Action.ESCALATE, after=self.escalated)
        router.events.resent.append(self.resent)

    def blocked(self, session: Session, frame: Say, result: PipelineResult) -> None:
        raise RequestFailed(
            ErrorCode.INVALID_FRAME,
            result.notices[0] if result.notices else "That message can't be sent here.",
        )

    def held(self, session: Session, frame: Say, result: PipelineResult) -> None:
        session.remember(frame.room, frame.text)
        verdict = _verdict(result, Action.HOLD)
        session.send(
            Held(
                room=frame.room,
                reason=verdict.reason if verdict is not None else "trauma_dump",
                category=_category(result),
                text=(verdict.notice if verdict is not None else None) or HOLD_TEXT,
                ref=frame.ref,
            )
        )
        raise Withheld

    async def redacted(
        self, session: Session, room: str, handle: str, message_id: str, result: PipelineResult
    ) -> None:
        verdict = _verdict(result, Action.REDACT)
        text = (verdict.notice if verdict is not None else None) or REDACTED_TEXT
        session.send(Notice(code="redacted", text=text, room=room))

    async def escalated(
        self, session: Session, room: str, handle: str, message_id: str, result: PipelineResult
    ) -> None:
        if session.role != "seeker":
            return
        session.mark_at_risk()
        self._crisis_card(session, room)
        verdict = _verdict(result, Action.ESCALATE)
        reason = verdict.reason if verdict is not None else "crisis"
        await self.ctx.rooms.publish_event(
            room, Escalation(room=room, handle=handle, reason=reason, id=message_id)
        )
        for at_risk in self.ctx.events.at_risk:
            await at_risk(session)
        log.info("escalated", session=session.id, room=room)

    def resent(self, session: Session, room: str) -> None:
        """A message relayed before its ack was lost: the crisis card to a seeker at risk
        again, as it was likely lost with that connection."""
        if session.at_risk and session.role == "seeker":
            self._crisis_card(session, room)

    def _crisis_card(self, session: Session, room: str) -> None:
        session.send(Crisis(text=CRISIS_TEXT, resources=resources(session.locale), room=room))
