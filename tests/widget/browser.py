"""Real headless Chromium (Debian's package, never a download) driven by Playwright, and
small page objects for the seeker widget and the listener console.

Every wait is bounded: the contexts' default timeout is ``WAIT_MS``. Screenshots of the main
states go to ``artifacts/screenshots/`` (gitignored); ``docs/img/`` holds a few copies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    expect,
)
from playwright.async_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 10_000
SECRET = "widget-tests-secret"
#: Text that the server's filters act on (checked with ``chatserver classify``).
CRISIS_TEXT = "I have a plan to kill myself tonight"
GRAPHIC_TEXT = (
    "When I came home that night he grabbed me and slammed my head against the door, then "
    "kicked me while I was on the floor. Blood was pouring from a gash above my eye and "
    "dripping down my face onto my shirt, and my ribs were cracked. I could see the wound was "
    "gaping open and the bruises on my arms were black and blue for weeks after. I still "
    "remember every second of it and I cannot sleep."
)
INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>'

expect.set_options(timeout=WAIT_MS)


def listener_token(
    lid: str,
    name: str,
    topics: list[str],
    secret: str = SECRET,
    role: str = "listener",
    languages: list[str] | None = None,
) -> str:
    """A token in the format of SPEC.md (``v1.<claims>.<hmac>``), signed with ``secret``;
    ``role`` is ``listener`` or ``moderator``; ``languages`` the claim ``langs`` (absent:
    the server's default language)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    exp = int(time.time()) + 3600
    claims: dict[str, Any] = {"lid": lid, "name": name, "topics": topics, "exp": exp, "role": role}
    if languages:
        claims["langs"] = languages
    body = "v1." + b64(json.dumps(claims).encode())
    return body + "." + b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


#: Runs in every page before its own scripts: every ``error`` frame a page receives on any
#: of its websockets is reported to the test (``__csServerError``), whatever the page then
#: shows of it. An error frame the test did not expect is a bug (issue 16: the console's
#: "stopped typing" frame was refused after every reply and the header kept the error).
ERROR_FRAME_PROBE = """
(() => {
  const Native = window.WebSocket;
  if (!Native || Native.__csProbe) return;
  class Probed extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (typeof e.data !== "string") return;
        let f = null;
        try { f = JSON.parse(e.data); } catch { return; }
        if (f && f.type === "error" && window.__csServerError) {
          window.__csServerError(f.code, f.message);
        }
      });
    }
  }
  Probed.__csProbe = true;
  window.WebSocket = Probed;
})();
"""
#: Visible error states, in the page and in the widget's Shadow DOM: both UIs mark every
#: error they show with the class ``error`` (the widget's status line, a chat's error line,
#: the console's connection status, sign-in and report errors). Returns their texts.
SHOWN_ERRORS = """
() => {
  const roots = [document];
  const host = document.querySelector("#chatserver-widget");
  if (host && host.shadowRoot) roots.push(host.shadowRoot);
  const out = [];
  for (const root of roots) {
    for (const el of root.querySelectorAll(".error")) {
      const text = (el.textContent || "").trim();
      if (text && el.getClientRects().length) out.push(text);
    }
  }
  return out;
}
"""
CATALOGUES = ROOT / "chatserver" / "static" / "i18n"


#: Every Tab opened during the current test: the autouse fixture in conftest.py checks them
#: all after the test (see ``Tab.problems``).
OPENED: list[Tab] = []


class Tab:
    """A page in its own browser context (own sessionStorage), recording console errors,
    the server's error frames and, when it closes, the error states its page shows."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.errors: list[str] = []
        #: error frames received, as "code: message"
        self.server_errors: list[str] = []
        #: error codes this test provokes on purpose (``expect_errors``)
        self.expected: set[str] = set()
        #: texts of the error states visible when the tab closed
        self.shown: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def expect_errors(self, *codes: str) -> None:
        """This test provokes these error codes on purpose (and may leave them shown)."""
        self.expected.update(codes)

    def _server_error(self, code: str, message: str) -> None:
        self.server_errors.append(f"{code}: {message}")

    def problems(self) -> list[str]:
        """What went wrong in this tab: console errors, unexpected error frames, and error
        states still shown at the end (unless their code was expected)."""
        out = [f"console: {e}" for e in self.real_errors()]
        unexpected = [e for e in self.server_errors if e.split(":", 1)[0] not in self.expected]
        out += [f"error frame: {e}" for e in unexpected]
        if not self.expected:
            out += [f"shown: {e}" for e in self.shown]
        return out

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)

    def real_errors(self) -> list[str]:
        """Console errors other than a refused websocket while the server is away."""
        return [e for e in self.errors if "WebSocket connection" not in e]

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    async def settle(self) -> None:
        """Wait for running CSS animations (the panel rises and fades in for 0.18 s), so
        that colours and positions are measured as a person sees them."""
        await self.page.evaluate(
            "() => { const host = document.querySelector('#chatserver-widget');"
            " const all = [...document.getAnimations(),"
            " ...(host && host.shadowRoot ? host.shadowRoot.getAnimations() : [])];"
            " return Promise.all(all.map((a) => a.finished.catch(() => null))); }"
        )

    async def assert_accessible(self, what: str) -> None:
        """axe-core: no serious or critical violations on the page as it is now.

        axe itself sets inline styles while it measures colours, which our page's CSP
        refuses (and logs): those refusals, during the run only, are axe's, not the page's.
        """
        await self.settle()
        seen = len(self.errors)
        results = await Axe().run(self.page)
        self.errors[seen:] = [e for e in self.errors[seen:] if "inline style" not in e]
        bad = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {what}: {bad}"


def no_errors(*tabs: Tab) -> None:
    for t in tabs:
        assert not t.real_errors(), t.real_errors()


@contextlib.asynccontextmanager
async def tab(
    browser: Browser, width: int = 420, height: int = 780, *, locale: str = "en-GB"
) -> AsyncIterator[Tab]:
    """A fresh browser context with one page; ``locale`` sets navigator.language and the
    Accept-Language header. The page is checked after the test (``OPENED``)."""
    context = await browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    context.set_default_timeout(WAIT_MS)
    holder: list[Tab] = []
    await context.expose_function(
        "__csServerError", lambda code, message: holder[0]._server_error(code, message)
    )
    await context.add_init_script(ERROR_FRAME_PROBE)
    page = await context.new_page()
    t = Tab(context, page)
    holder.append(t)
    OPENED.append(t)
    try:
        yield t
        with contextlib.suppress(PlaywrightError):
            t.shown = await page.evaluate(SHOWN_ERRORS)
    finally:
        await context.close()


class Widget:
    """The seeker widget on /demo. Playwright's CSS and role locators pierce the open
    Shadow DOM, so these read like a person's actions."""

    def __init__(self, t: Tab) -> None:
        self.tab = t
        self.page = t.page

    async def load(self, base: str) -> Widget:
        await self.page.goto(base + "/demo")
        await expect(self.launcher).to_be_visible()
        return self

    @property
    def launcher(self) -> Locator:
        return self.page.get_by_role("button", name="Talk to someone")

    @property
    def log(self) -> Locator:
        return self.page.locator("#chatserver-widget .log")

    @property
    def composer(self) -> Locator:
        return self.page.get_by_label("Your message")

    async def open(self) -> None:
        await self.launcher.click()
        await expect(self.page.get_by_text("What would you like to talk about?")).to_be_visible()

    async def topic(self, name: str) -> None:
        await self.page.get_by_role("button", name=name, exact=True).click()

    async def join_group(self, topic: str) -> None:
        await self.open()
        await self.topic(topic)
        await self.page.get_by_role("button", name=f"The {topic.lower()} group").click()
        await expect(self.composer).to_be_focused()

    async def send(self, text: str) -> None:
        await self.composer.fill(text)
        await self.composer.press("Enter")

    def message(self, text: str) -> Locator:
        return self.log.locator(".msg .text", has_text=text)

    def options(self, handle: str) -> Locator:
        """The options button of ``handle``'s (last) message."""
        return self.page.get_by_role("button", name=f"Options for {handle}'s message").last

    def menuitem(self, name: str) -> Locator:
        return self.page.get_by_role("menuitem", name=name)

    @property
    def heading(self) -> Locator:
        return self.page.locator("#chatserver-widget .body h3")

    async def handle(self) -> str:
        line = await self.page.locator("#chatserver-widget .body .muted.small").inner_text()
        return line.removeprefix("You are ").split(".", 1)[0]

    async def focused_text(self) -> str | None:
        value: str | None = await self.page.evaluate(
            "() => { const r = document.querySelector('#chatserver-widget');"
            " const a = r && r.shadowRoot.activeElement; return a ? a.textContent : null; }"
        )
        return value

    async def stored(self) -> dict[str, Any]:
        """Everything the page keeps in sessionStorage, localStorage and cookies."""
        value: dict[str, Any] = await self.page.evaluate(
            "() => ({session: {...sessionStorage}, local: localStorage.length,"
            " cookies: document.cookie})"
        )
        return value


class Console:
    """The listener console on /listener."""

    def __init__(self, t: Tab) -> None:
        self.tab = t
        self.page = t.page

    async def sign_in(self, base: str, token: str) -> None:
        await self.page.goto(base + "/listener")
        await self.page.get_by_label("Listener token").fill(token)
        await self.page.get_by_role("button", name="Sign in").click()
        await expect(self.page.get_by_text("Signed in as")).to_be_visible()

    async def listen(self, capacity: int, *, auto: bool) -> None:
        await self.page.get_by_label("Chats at once").fill(str(capacity))
        await self.page.get_by_label("Accept waiting seekers automatically").set_checked(auto)
        await self.page.get_by_role("button", name="Start listening").click()
        await expect(self.page.get_by_text("Listening on")).to_be_visible()

    def chat(self, title_part: str) -> Locator:
        return self.page.locator("article.chat", has_text=title_part)


class CuttableProxy:
    """A TCP proxy in front of a server whose connections can be cut at once, as a network
    drop would: the browser sees an abnormal close (1006) and the server a lost socket."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        #: drop what the browser sends / what the server sends, as a dying link does,
        #: until the next cut
        self.drop_up = self.drop_down = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CuttableProxy:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        for src, dst, up in ((reader, up_writer, True), (up_reader, writer, False)):
            task = asyncio.ensure_future(self._pipe(src, dst, up))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await src.read(65536):
                if self.drop_up if up else self.drop_down:
                    continue
                dst.write(data)
                await dst.drain()
        dst.close()

    def cut(self) -> None:
        self.drop_up = self.drop_down = False
        for writer in self.writers:
            transport = writer.transport
            transport.abort()
        self.writers.clear()
