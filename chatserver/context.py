"""The node context: what a feature is given to do its work.

A feature never reaches through another object to find the broker or a session: it
receives this context at start-up (centrifuge's node, Phoenix's socket assigns) and
registers its handlers in the routing table. Everything here is core; nothing here knows
which features exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chatserver.broker.base import Broker
from chatserver.control import ControlPlane
from chatserver.hub import Hub
from chatserver.node import ChatConfig
from chatserver.observability import Metrics
from chatserver.rooms import Rooms
from chatserver.routing import Events, Router
from chatserver.sessions import SessionRegistry


@dataclass(frozen=True, slots=True)
class NodeContext:
    config: ChatConfig
    broker: Broker
    hub: Hub
    #: which sessions this node holds, and their snapshots
    sessions: SessionRegistry
    #: seats and presence
    rooms: Rooms
    #: typed messages to other nodes
    control: ControlPlane
    router: Router
    metrics: Metrics
    #: monotonic seconds, for durations
    clock: Callable[[], float] = time.monotonic
    #: wall-clock seconds, for times other nodes compare
    wall: Callable[[], float] = field(default=time.time)

    @property
    def events(self) -> Events:
        return self.router.events
