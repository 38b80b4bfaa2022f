"""Features: modules with handlers, registered in the routing table at start-up.

Each feature takes a :class:`chatserver.context.NodeContext` and offers ``register(router)``;
:func:`chatserver.app.build_router` lists them. The core imports none of them.
"""
