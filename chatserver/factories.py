"""The twin each seam uses, chosen from the settings: memory for one node, Redis for many.

Apart from ``app`` so that the node's assembly reads in one page, and so that a tool (a
benchmark, a test) can build the same parts the server would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatserver.broker.base import Broker
from chatserver.broker.memory import MemoryBroker
from chatserver.config import Settings
from chatserver.moderation.store import MemoryReportStore, ReportStore
from chatserver.pairing.base import Liveness, PairingStore
from chatserver.pairing.memory import MemoryPairingStore
from chatserver.reactions.base import ReactionStore
from chatserver.reactions.memory import MemoryReactionStore
from chatserver.resume.base import SessionStore
from chatserver.resume.memory import MemorySessionStore

if TYPE_CHECKING:
    from chatserver.safety.pipeline import Pipeline

__all__ = [
    "make_broker", "make_pairing_store", "make_pipeline", "make_reaction_store",
    "make_report_store", "make_session_store",
]  # fmt: skip


def make_broker(settings: Settings) -> Broker:
    if not settings.redis_url:
        return MemoryBroker(
            settings.node_id,
            history_size=settings.history_size,
            history_seconds=settings.history_seconds,
        )
    from chatserver.broker.redis import RedisBroker

    return RedisBroker(
        settings.redis_url,
        settings.node_id,
        history_size=settings.history_size,
        history_seconds=settings.history_seconds,
        presence_ttl=settings.presence_ttl,
        hold=settings.resume_grace,
    )


def make_session_store(settings: Settings) -> SessionStore:
    if not settings.redis_url:
        return MemorySessionStore()
    from chatserver.resume.redis import RedisSessionStore

    return RedisSessionStore(settings.redis_url)


def make_report_store(settings: Settings) -> ReportStore:
    if not settings.redis_url:
        return MemoryReportStore(
            limit=settings.report_queue_size, retention=settings.report_retention
        )
    from chatserver.moderation.redis import RedisReportStore

    return RedisReportStore(
        settings.redis_url, limit=settings.report_queue_size, retention=settings.report_retention
    )


def make_pairing_store(settings: Settings) -> PairingStore:
    liveness = Liveness(dead_after=settings.presence_ttl, grace=settings.resume_grace)
    if not settings.redis_url:
        return MemoryPairingStore(liveness)
    from chatserver.pairing.redis import RedisPairingStore

    return RedisPairingStore(settings.redis_url, liveness)


def make_reaction_store(settings: Settings) -> ReactionStore:
    """Bounded like the replay history: as many messages, kept as long."""
    size, ttl = settings.history_size, float(settings.history_seconds)
    if not settings.redis_url:
        return MemoryReactionStore(max_messages=size, ttl=ttl)
    from chatserver.reactions.redis import RedisReactionStore

    return RedisReactionStore(settings.redis_url, max_messages=size, ttl=ttl)


def make_pipeline(settings: Settings) -> Pipeline | None:
    if not settings.filters:
        return None
    from chatserver.safety.pipeline import build_pipeline

    return build_pipeline(settings.filters, budget_ms=settings.filter_budget_ms)
