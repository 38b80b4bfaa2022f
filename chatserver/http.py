"""Plain HTTP on the websocket port: /healthz, /readyz, /metrics and static assets.

websockets calls :meth:`HttpRoutes.__call__` for every request before the upgrade; a
non-None response answers the request, None lets the websocket handshake go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from chatserver.connection import client_address
from chatserver.limits import AddressCounter

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}
#: URL path -> file in chatserver/static
STATIC_ROUTES = {
    "/widget.js": "widget.js",
    "/widget.css": "widget.css",
    "/demo": "demo.html",
    "/listener": "listener.html",
    "/listener.js": "listener.js",
    "/listener.css": "listener.css",
    "/exit": "exit.html",
}


def respond(status: int, body: bytes, content_type: str, **extra: str) -> Response:
    reasons = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            *extra.items(),
        ]
    )
    return Response(status, reasons.get(status, "OK"), headers, body)


def json_response(status: int, data: Any) -> Response:
    return respond(status, orjson.dumps(data), "application/json")


@dataclass
class HttpRoutes:
    health: Callable[[], dict[str, Any]]
    ready: Callable[[], tuple[bool, dict[str, Any]]]
    metrics: Callable[[], bytes]
    addresses: AddressCounter
    trust_forwarded_for: bool = False

    def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if upgrade:
            connection.request = request  # so client_address can read the forwarded header
            address = client_address(connection, self.trust_forwarded_for)
            if not self.addresses.allowed(address):
                return respond(429, b"Too many connections from one place.\n", "text/plain")
            return None
        if path == "/healthz":
            return json_response(200, self.health())
        if path == "/readyz":
            ok, body = self.ready()
            return json_response(200 if ok else 503, body)
        if path == "/metrics":
            return respond(200, self.metrics(), "text/plain; version=0.0.4; charset=utf-8")
        name = STATIC_ROUTES.get(path)
        if name is not None:
            asset = resources.files("chatserver") / "static" / name
            if asset.is_file():
                suffix = name[name.rfind(".") :]
                headers = {"Content-Security-Policy": CSP}
                if suffix == ".js" or suffix == ".css":
                    headers = {"Access-Control-Allow-Origin": "*"}
                return respond(200, asset.read_bytes(), STATIC_TYPES[suffix], **headers)
        return respond(404, b"Not found.\n", "text/plain")
