"""The widget and the console in every language, in the browser: each language is walked
through the views a seeker and a listener meet, and every word on screen (text, labels,
placeholders, titles) must come from that language's catalogue. English left behind, a
hard-coded word or a missing string (shown as its key) fails the test.

Not checked here: what people write, their handles, times, and the sentences the server
writes (``data-src`` in the pages): those follow the connection's language on the server
(chatserver/texts.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.helpers.procs import ServerProcess, chatserver
from tests.widget.browser import (
    CHROMIUM,
    CRISIS_TEXT,
    GRAPHIC_TEXT,
    SECRET,
    Tab,
    listener_token,
    tab,
)
from tests.widget.catalogues import LANGS, catalogue, untranslated
from tests.widget.test_widget import publish

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]

#: Every word a person can read or hear in a page: visible text, and the labels, titles and
#: placeholders of elements; not people's words, handles, times or the server's sentences.
COLLECT = """
(where) => {
  const host = document.querySelector("#chatserver-widget");
  const root = where === "widget" ? host.shadowRoot : document.body;
  const skip = (el) => el.closest("[data-src], time, script, style, .sr[aria-live]");
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.replace(/\\s+/g, " ").trim();
    if (!text || !el || skip(el)) continue;
    if (el.closest("option") || el.getClientRects().length) out.push(text);
  }
  for (const el of root.querySelectorAll("[aria-label], [placeholder], [title]")) {
    if (el.closest("[data-src]")) continue;
    for (const a of ["aria-label", "placeholder", "title"]) {
      const v = el.getAttribute(a);
      if (v) out.push(v.replace(/\\s+/g, " ").trim());
    }
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with chatserver("--filters", "pii,crisis,trauma_dump", "--listener-secret", SECRET) as srv:
        yield srv


class Seen:
    """The words seen on one page through a walk, checked against one catalogue."""

    def __init__(self, page: Page, where: str, lang: str) -> None:
        self.page, self.where, self.lang = page, where, lang
        self.texts: list[str] = []

    async def look(self) -> None:
        self.texts += await self.page.evaluate(COLLECT, self.where)

    def check(self, at_least: int) -> None:
        bad = untranslated(self.where, self.lang, self.texts)
        assert not bad, f"{self.where} in {self.lang!r}: not from its catalogue: {bad}"
        distinct = {t for t in self.texts if re.search(r"[^\W\d_]", t)}
        assert len(distinct) >= at_least, f"{self.where} {self.lang}: only {sorted(distinct)}"


async def embed(t: Tab, base: str, lang: str | None) -> Page:
    """A page of the server's origin (/exit) that adds the widget's tag with ``data-lang``,
    as a site's tag manager would. (Serving a rewritten /demo through Playwright would make
    Chromium treat the page as public and refuse its socket to 127.0.0.1.)"""
    await t.page.goto(base + "/exit")
    await t.page.evaluate(
        "(lang) => { const s = document.createElement('script'); s.src = '/widget.js';"
        " if (lang) s.dataset.lang = lang; document.body.append(s); }",
        lang,
    )
    await expect(t.page.locator("#chatserver-widget .launcher")).to_be_visible()
    return t.page


def w(page: Page, css: str) -> Locator:
    return page.locator("#chatserver-widget " + css)


async def say(page: Page, text: str) -> None:
    box = w(page, "#cs-input")
    await box.fill(text)
    await box.press("Enter")


async def test_the_server_serves_the_catalogues(server: ServerProcess, browser: Browser) -> None:
    """chatserver/http.py serves /i18n/<page>.<lang>.json, with CORS for the widget on
    other sites."""
    async with tab(browser) as t:
        response = await t.context.request.get(server.http + "/i18n/widget.es.json")
        assert response.status == 200
        assert response.headers.get("access-control-allow-origin") == "*"
        assert await response.json() == catalogue("widget", "es")


@pytest.mark.parametrize("lang", LANGS)
async def test_every_word_is_translated(server: ServerProcess, browser: Browser, lang: str) -> None:
    topic = ("grief", "anxiety")[LANGS.index(lang) % 2]
    async with (
        tab(browser, 1280, 900) as lt,
        tab(browser) as st,
        tab(browser) as ot,
    ):
        # -- the listener's console, ?lang=xx
        c = Seen(lt.page, "console", lang)
        await lt.page.goto(server.http + f"/listener?lang={lang}")
        await expect(lt.page.locator("#signin-title")).not_to_be_empty()
        await c.look()
        token = listener_token(f"l-{lang}", "Sam", [topic], languages=[lang])
        await lt.page.locator("#token").fill(token)
        await lt.page.locator("#signin-form button[type=submit]").click()
        await expect(lt.page.locator("#setup")).to_be_visible()
        await lt.page.locator("#auto").set_checked(False)

        # -- the seeker's widget, data-lang=xx on a browser in English
        page = await embed(st, server.http, lang)
        s = Seen(page, "widget", lang)
        await s.look()
        assert await page.evaluate("() => window.__chatserverWidget.lang") == lang
        await w(page, ".launcher").click()
        await expect(w(page, ".topics button").first).to_be_visible()
        await s.look()
        if lang == "es":
            await st.settle()
            await st.shot("widget-topics-es")
        await w(page, f".topics li:nth-child({(1, 3)[topic == 'grief']}) button").click()
        await s.look()
        await w(page, ".need button").first.click()  # "just listen"
        await w(page, ".body > button.choice").first.click()  # one-to-one
        await expect(w(page, ".queue span").first).to_have_text(
            catalogue("widget", lang)["wait.next"]
        )
        await expect(w(page, ".lang-card")).to_be_visible()  # nobody is on duty yet
        await s.look()
        await w(page, ".lang-card button.secondary").click()  # keep waiting
        await expect(w(page, ".lang-slot .note")).to_be_visible()
        await s.look()
        await lt.page.locator("#listen-btn").click()  # now someone who speaks it is
        await expect(lt.page.locator("#listening")).not_to_be_empty()
        await c.look()  # the queue, with its Accept button
        await lt.page.locator("#queue-rows button").first.click()
        await expect(w(page, "#cs-input")).to_be_visible()
        await s.look()
        await say(page, CRISIS_TEXT)
        await expect(w(page, ".crisis")).to_be_visible()
        await w(page, ".more-help summary").click()
        await s.look()
        await expect(lt.page.locator("#escalations .escalation")).to_be_visible()
        await c.look()
        await lt.page.locator("article.chat .actions button.secondary").nth(1).click()  # report
        await expect(lt.page.locator("#report-dialog")).to_be_visible()
        await c.look()
        await lt.page.keyboard.press("Escape")
        await w(page, ".chat-head button").click()  # end chat
        await expect(w(page, ".body > button.choice")).to_be_visible()
        await s.look()
        await c.look()

        # -- a group room, with a second seeker in the same language
        await w(page, ".body > button.choice").click()
        await w(page, f".topics li:nth-child({(1, 3)[topic == 'grief']}) button").click()
        await w(page, ".body > button.choice").nth(1).click()  # the group
        await expect(w(page, "#cs-input")).to_be_visible()
        await say(page, "hello")
        await expect(w(page, ".system").last).not_to_be_empty()  # nobody else here yet
        await s.look()
        other = await embed(ot, server.http, lang)
        o = Seen(other, "widget", lang)
        await w(other, ".launcher").click()
        await w(other, f".topics li:nth-child({(1, 3)[topic == 'grief']}) button").click()
        await w(other, ".body > button.choice").nth(1).click()
        await expect(w(other, "#cs-input")).to_be_visible()
        await say(other, GRAPHIC_TEXT)
        await expect(w(other, ".held")).to_be_visible()
        await o.look()
        await w(other, ".held button.primary").click()  # send with a content warning
        await expect(w(page, "details.cw summary")).to_be_visible()
        await w(page, ".msg .more").last.click()
        await expect(w(page, ".menu")).to_be_visible()
        await s.look()
        await w(page, ".menu li:nth-child(2) button").click()  # report
        await expect(w(page, ".sheet")).to_be_visible()
        await s.look()
        await w(page, ".sheet .row button.secondary").click()
        await w(page, ".chat-head button").click()  # leave the group
        await expect(w(page, ".note")).to_be_visible()
        await s.look()
        s.check(at_least=60)
        o.check(at_least=10)
        c.check(at_least=40)
    if lang == "es":
        publish("widget-topics-es")


async def test_the_browser_language_when_the_site_names_none(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, locale="de-AT") as t:
        page = await embed(t, server.http, None)
        assert await page.evaluate("() => window.__chatserverWidget.lang") == "de"
        await w(page, ".launcher").click()
        heading = catalogue("widget", "de")["topics.heading"]
        await expect(w(page, ".body h3")).to_have_text(heading)
        await expect(page.locator("#chatserver-widget")).to_have_attribute("lang", "de")

    async with tab(browser, locale="ja-JP") as t:  # no catalogue: English
        page = await embed(t, server.http, None)
        assert await page.evaluate("() => window.__chatserverWidget.lang") == "en"
