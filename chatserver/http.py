"""Plain HTTP on the websocket port: /healthz, /readyz, /metrics and static assets.

``/`` is a small page that links the demo widget and the listener console, so the first
address a person opens is not a 404. ``/listener/local-token`` hands a listener token to a
browser on the same machine, only when the node runs the local demo (no secret was set and
it listens on loopback): the README's first command then shows one-to-one support end to
end (the console offers "Sign in as a local listener"); anywhere else it answers 204 with
nothing. The token is never logged.

websockets calls :meth:`HttpRoutes.__call__` for every request before the upgrade; a
non-None response answers the request, None lets the websocket handshake go on.
"""

from __future__ import annotations

import re
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
    "/": "index.html",
    "/widget.js": "widget.js",
    "/widget.css": "widget.css",
    "/demo": "demo.html",
    "/listener": "listener.html",
    "/listener.js": "listener.js",
    "/listener.css": "listener.css",
    "/exit": "exit.html",
}
#: The pages' word catalogues, one per page and language (static/i18n); read by the widget
#: on other sites too, hence served to any origin.
CATALOGUE = re.compile(r"^/i18n/(?P<name>(?:widget|console)\.[a-z]{2,3}\.json)$")


def respond(status: int, body: bytes, content_type: str, **extra: str) -> Response:
    reasons = {
        200: "OK",
        204: "No Content",
        404: "Not Found",
        429: "Too Many Requests",
        503: "Service Unavailable",
    }
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


def metrics_response(body: bytes) -> Response:
    return respond(200, body, "text/plain; version=0.0.4; charset=utf-8")


@dataclass
class MetricsRoutes:
    """The separate metrics address: /metrics, /healthz and /readyz, nothing else."""

    metrics: Callable[[], bytes]
    health: Callable[[], dict[str, Any]]
    ready: Callable[[], tuple[bool, dict[str, Any]]]

    def __call__(self, connection: ServerConnection, request: Request) -> Response:
        path = request.path.split("?", 1)[0]
        if path == "/metrics":
            return metrics_response(self.metrics())
        if path == "/healthz":
            return json_response(200, self.health())
        if path == "/readyz":
            ok, body = self.ready()
            return json_response(200 if ok else 503, body)
        return respond(404, b"Not found.\n", "text/plain")


@dataclass
class HttpRoutes:
    health: Callable[[], dict[str, Any]]
    ready: Callable[[], tuple[bool, dict[str, Any]]]
    metrics: Callable[[], bytes]
    addresses: AddressCounter
    trust_forwarded_for: bool = False
    #: False when /metrics is served on its own address (``--metrics-address``)
    metrics_public: bool = True
    #: issues a local demo listener token (only in the local demo), else None
    local_token: Callable[[], str] | None = None

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
        if path == "/metrics" and self.metrics_public:
            return metrics_response(self.metrics())
        if path == "/listener/local-token":
            peer = connection.remote_address[0] if connection.remote_address else ""
            if self.local_token is not None and peer in ("127.0.0.1", "::1"):
                return json_response(200, {"token": self.local_token()})
            # nothing to offer here: no content, not an error the console's page would log
            return respond(204, b"", "application/json")
        catalogue = CATALOGUE.match(path)
        if catalogue is not None:
            return self._catalogue(catalogue["name"])
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

    @staticmethod
    def _catalogue(name: str) -> Response:
        asset = resources.files("chatserver") / "static" / "i18n" / name
        if not asset.is_file():
            return respond(404, b"Not found.\n", "text/plain")
        return respond(
            200, asset.read_bytes(), "application/json", **{"Access-Control-Allow-Origin": "*"}
        )
