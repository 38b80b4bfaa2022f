"""Plain HTTP beside the websocket: the index page, the local demo sign-in, /metrics apart."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from chatserver.tokens import verify
from tests.conftest import running
from tests.helpers.procs import free_port, http_get


async def fetch(url: str) -> tuple[int, bytes]:
    return await asyncio.to_thread(http_get, url)


async def test_index_links_the_demo_and_the_console() -> None:
    async with running() as server:
        status, body = await fetch(f"http://127.0.0.1:{server.port}/")
    assert status == 200
    assert b'href="/demo"' in body and b'href="/listener"' in body


async def test_local_demo_hands_a_listener_token_to_this_machine() -> None:
    async with running(host="127.0.0.1") as server:
        assert server.settings.local_demo
        status, body = await fetch(f"http://127.0.0.1:{server.port}/listener/local-token")
        assert status == 200
        claims = verify(json.loads(body)["token"], server.settings.listener_secret)
    assert claims.role == "listener" and set(claims.topics) == set(server.settings.topics)


async def test_no_local_sign_in_when_a_secret_is_set() -> None:
    async with running(host="127.0.0.1", listener_secret="s3cret") as server:
        assert not server.settings.local_demo
        status, body = await fetch(f"http://127.0.0.1:{server.port}/listener/local-token")
    assert (status, body) == (204, b"")  # nothing to offer, and nothing for a page to log


async def test_metrics_on_their_own_address() -> None:
    port = free_port()
    async with running(metrics_address=f"127.0.0.1:{port}") as server:
        status, _ = await fetch(f"http://127.0.0.1:{server.port}/metrics")
        assert status == 404
        status, body = await fetch(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and b"chatserver_connections" in body
        status, _ = await fetch(f"http://127.0.0.1:{port}/readyz")
        assert status == 200
        status, _ = await fetch(f"http://127.0.0.1:{port}/demo")
        assert status == 404


async def test_the_word_catalogues_are_served_to_any_origin() -> None:
    async with running() as server:
        base = f"http://127.0.0.1:{server.port}"

        def headers_and_body(url: str) -> tuple[dict[str, str], bytes]:
            with urllib.request.urlopen(url, timeout=5) as response:
                return dict(response.headers), response.read()

        headers, body = await asyncio.to_thread(headers_and_body, base + "/i18n/widget.es.json")
        assert headers["Content-Type"] == "application/json"
        assert headers["Access-Control-Allow-Origin"] == "*"
        words = json.loads(body)
        assert words["launcher"] == "Hablar con alguien"
        status, body = await fetch(base + "/i18n/console.de.json")
        assert status == 200 and json.loads(body)["page.title"]
        for missing in ("/i18n/widget.xx.json", "/i18n/other.en.json", "/i18n/../http.py"):
            status, _ = await fetch(base + missing)
            assert status == 404, missing
