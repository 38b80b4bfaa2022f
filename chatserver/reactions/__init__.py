"""Supportive reactions: who gave which reaction to which message, per room, bounded and
expiring with the replay history."""

from __future__ import annotations

from chatserver.config import Settings
from chatserver.reactions.base import ReactionStore


def open_store(settings: Settings) -> ReactionStore:
    """The store for a node: in memory with the embedded broker, else in Redis. Bounded
    like the replay history: as many messages, kept as long."""
    size, ttl = settings.history_size, float(settings.history_seconds)
    if not settings.redis_url:
        from chatserver.reactions.memory import MemoryReactionStore

        return MemoryReactionStore(max_messages=size, ttl=ttl)
    from chatserver.reactions.redis import RedisReactionStore

    return RedisReactionStore(settings.redis_url, max_messages=size, ttl=ttl)
