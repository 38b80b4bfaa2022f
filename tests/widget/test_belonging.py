"""Belonging (issue 18) in real headless Chromium against real servers: a Spanish seeker
paired with the listener who speaks Spanish (on memory and on Redis with two nodes), the
honest choice when nobody who speaks it is on duty, the group room offered when nobody is
on duty at all, group rooms by language, supportive reactions by keyboard (muted, behind a
content warning, after a resume), and the local demo's sign-in. Every page is checked
for error states after each test (conftest.py)."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.helpers.procs import RedisProcess, ServerProcess, chatserver
from tests.widget.browser import (
    CHROMIUM,
    GRAPHIC_TEXT,
    SECRET,
    Console,
    CuttableProxy,
    Tab,
    Widget,
    listener_token,
    no_errors,
    tab,
)
from tests.widget.catalogues import catalogue
from tests.widget.test_i18n import embed
from tests.widget.test_widget import publish

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]
ARGS = (
    *("--filters", "pii,crisis,trauma_dump", "--listener-secret", SECRET),
    *("--room-languages", "es", "--language-choice-again", "2"),
)
ES = catalogue("widget", "es")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with chatserver(*ARGS) as srv:
        yield srv


@contextlib.contextmanager
def two_nodes() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    redis = RedisProcess().start()
    try:
        args = (*ARGS, "--redis-url", redis.url)
        with chatserver(*args) as a, chatserver(*args) as b:
            yield a, b
    finally:
        redis.stop()


def w(page: Page, css: str) -> Locator:
    return page.locator("#chatserver-widget " + css)


async def on_duty(
    t: Tab, base: str, lid: str, name: str, languages: list[str], topic: str = "grief"
) -> Console:
    """A listener on duty for ``topic`` (each test its own: a listener whose page closed
    stays on duty for the resume grace)."""
    console = Console(t)
    await console.sign_in(base, listener_token(lid, name, [topic], languages=languages))
    await console.listen(1, auto=True)
    return console


async def spanish_seeker(t: Tab, base: str, topic: str = "grief", *, need: bool = False) -> Page:
    """A widget shown in Spanish (``data-lang="es"``) that asks for a listener."""
    page = await embed(t, base, "es")
    await w(page, ".launcher").click()
    await page.get_by_role("button", name=ES["topic." + topic], exact=True).click()
    if need:
        await page.get_by_role("button", name=ES["need.listen"]).click()
        await expect(page.get_by_role("button", name=ES["need.listen"])).to_have_attribute(
            "aria-pressed", "true"
        )
    await page.get_by_role("button", name=re.compile(ES["choice.one"])).click()
    return page


# ---------------------------------------------------------------------- one-to-one


async def spanish_pairing(seeker_base: str, listener_base: str, browser: Browser) -> None:
    async with (
        tab(browser, 1280, 800) as en_t,
        tab(browser, 1280, 800) as es_t,
        tab(browser) as st,
    ):
        english = await on_duty(en_t, listener_base, "l-en", "Sam", ["en"])  # free, first
        spanish = await on_duty(es_t, listener_base, "l-es", "Lucía", ["es", "en"])
        page = await spanish_seeker(st, seeker_base, need=True)
        await expect(page.get_by_text(ES["chat.with"].format(name="Lucía"))).to_be_visible()
        chat = spanish.page.locator("article.chat")
        await expect(chat.get_by_text("They write in Spanish.")).to_be_visible()
        await expect(chat.get_by_text("They'd like you to just listen.")).to_be_visible()
        await expect(english.page.locator("#no-chats")).to_be_visible()
        await expect(english.page.locator("article.chat")).to_have_count(0)
        await expect(w(page, ".lang-card")).to_have_count(0)  # nothing to choose here
        no_errors(en_t, es_t, st)


async def test_a_spanish_seeker_gets_the_spanish_speaking_listener(
    server: ServerProcess, browser: Browser
) -> None:
    await spanish_pairing(server.http, server.http, browser)


async def test_the_same_across_two_nodes_on_redis(browser: Browser) -> None:
    with two_nodes() as (a, b):
        await spanish_pairing(a.http, b.http, browser)


async def test_no_listener_of_my_language_then_any_listener(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, 1280, 800) as lt, tab(browser) as st:
        sam = await on_duty(lt, server.http, "l-en2", "Sam", ["en"], "depression")
        page = await spanish_seeker(st, server.http, "depression")
        card = w(page, ".lang-card")
        await expect(card).to_contain_text(ES["lang.none"].format(language="español"))
        await expect(card).to_contain_text("inglés")  # who is here instead
        await expect(card.get_by_role("button", name=ES["lang.any"])).to_be_focused()
        await st.settle()
        await st.shot("widget-language-choice")
        await st.assert_accessible("the widget's language choice")
        await card.get_by_role("button", name=ES["lang.wait"]).click()
        note = ES["lang.wait.done"].format(language="español")
        await expect(w(page, ".lang-slot .note")).to_have_text(note)
        await expect(sam.page.locator("article.chat")).to_have_count(0)  # still waiting
        await expect(card).to_be_visible(timeout=8000)  # asked again after a while
        await card.get_by_role("button", name=ES["lang.any"]).click()
        await expect(page.get_by_text(ES["chat.with"].format(name="Sam"))).to_be_visible()
        chat = sam.page.locator("article.chat")
        await expect(
            chat.get_by_text(re.compile(r"^They write in Spanish, which you may"))
        ).to_be_visible()
        no_errors(lt, st)
    publish("widget-language-choice")


async def test_with_nobody_on_duty_the_group_room_is_offered(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser) as st:
        seeker = await Widget(st).load(server.http)
        await seeker.open()
        await seeker.topic("Loneliness")
        await st.page.get_by_role("button", name="One-to-one with a listener").click()
        card = w(st.page, ".lang-card")
        await expect(card).to_contain_text("No listener is on duty right now.")
        assert "next in line" not in await card.inner_text()
        await card.get_by_role("button", name="Join the loneliness group").click()
        await expect(seeker.composer).to_be_focused()
        await expect(st.page.get_by_text("This group talks in English.")).to_be_visible()
        await expect(st.page.get_by_text("Loneliness group")).to_be_visible()
        no_errors(st)


async def test_group_rooms_by_language(server: ServerProcess, browser: Browser) -> None:
    async with tab(browser) as es_t, tab(browser) as fr_t:
        page = await embed(es_t, server.http, "es")
        await w(page, ".launcher").click()
        await page.get_by_role("button", name=ES["topic.anxiety"], exact=True).click()
        await w(page, ".body > button.choice").nth(1).click()  # the group
        await expect(w(page, ".room-lang")).to_have_text(
            ES["chat.room.lang"].format(language="español")
        )
        fr = catalogue("widget", "fr")
        other = await embed(fr_t, server.http, "fr")  # no French rooms: the default's
        await w(other, ".launcher").click()
        await other.get_by_role("button", name=fr["topic.anxiety"], exact=True).click()
        await w(other, ".body > button.choice").nth(1).click()
        fallback = fr["chat.room.fallback"].format(asked="français", language="anglais")
        await expect(w(other, ".log .system").filter(has_text="français")).to_have_text(fallback)
        no_errors(es_t, fr_t)


# ---------------------------------------------------------------------- reactions


def toolbar(widget_or_chat: Locator, text: str) -> Locator:
    """The reactions toolbar under the message saying ``text``."""
    return widget_or_chat.locator(".msg", has_text=text).locator("[role=toolbar]")


async def test_reactions_by_keyboard(server: ServerProcess, browser: Browser) -> None:
    said = "Evenings are the hardest for me."
    async with (
        CuttableProxy(server.port) as proxy,
        tab(browser, 1280, 800) as lt,
        tab(browser) as at,
        tab(browser) as bt,
    ):
        console = Console(lt)
        await console.sign_in(server.http, listener_token("l-rx", "Sam", ["anxiety"]))
        await lt.page.locator("#group-topic").select_option("anxiety")
        await lt.page.get_by_role("button", name="Join", exact=True).click()
        a = await Widget(at).load(server.http)
        b = await Widget(bt).load(proxy.http)
        await a.join_group("Anxiety")
        await b.join_group("Anxiety")
        await a.send(said)
        bar = toolbar(b.log, said)
        await expect(bar).to_have_attribute("aria-label", re.compile("^Reactions to .+'s message$"))

        # Keyboard only: back from the message box to the toolbar, arrows, Enter.
        await b.composer.focus()
        for _ in range(12):
            await bt.page.keyboard.press("Shift+Tab")
            if await b.focused_text() == "I hear you":
                break
        assert await b.focused_text() == "I hear you"
        await bt.page.keyboard.press("ArrowRight")
        assert await b.focused_text() == "Sending strength"
        await bt.page.keyboard.press("Enter")
        strength = bar.get_by_role("button", name="Sending strength: 1 person")
        await expect(strength).to_have_attribute("aria-pressed", "true")
        await expect(strength).to_be_focused()
        heard = a.log.locator(".msg.mine .heard")  # the author sees that she was heard
        await expect(heard).to_contain_text("You were heard:")
        await expect(heard).to_contain_text("Sending strength")
        await bt.page.keyboard.press("Space")  # a second press takes it back
        await expect(bar.get_by_role("button", name="Sending strength")).to_have_attribute(
            "aria-pressed", "false"
        )
        await expect(heard).to_be_hidden()

        # The listener hears it too, and the counts meet.
        chat = console.chat("Anxiety")
        await toolbar(chat, said).get_by_role("button", name="I hear you").click()
        await bt.page.keyboard.press("Home")
        await bt.page.keyboard.press("Enter")
        await expect(bar.get_by_role("button", name="I hear you: 2 people")).to_have_attribute(
            "aria-pressed", "true"
        )
        await expect(heard).to_contain_text("I hear you")
        await b.send("Same here, the evenings are long.")
        await (
            toolbar(a.log, "Same here, the evenings")
            .get_by_role("button", name="Same here")
            .click()
        )
        await expect(b.log.locator(".msg.mine .heard")).to_contain_text("Same here")
        await bt.settle()
        await bt.shot("widget-reactions")
        await bt.assert_accessible("the widget with reactions")
        await lt.assert_accessible("the console with reactions")

        # Away while the listener reacts: the counts come back with the resume.
        proxy.cut()
        await expect(bt.page.get_by_text("Connection lost. Reconnecting")).to_be_visible()
        await toolbar(chat, said).get_by_role("button", name="Thank you for sharing").click()
        await expect(b.log.get_by_text("You're back")).to_be_visible()
        thanks = bar.get_by_role("button", name="Thank you for sharing: 1 person")
        await expect(thanks).to_be_visible()

        # Behind a content warning, reactions wait until the message is shown.
        await a.send(GRAPHIC_TEXT)
        await at.page.get_by_role("button", name="Send with content warning").click()
        box = chat.locator("details.cw")
        await box.locator("summary").click()
        await box.get_by_role("button", name="I hear you").click()
        hidden = b.log.locator("details.cw")
        await expect(hidden.locator("[role=toolbar]")).to_be_hidden()
        await hidden.locator("summary").click()
        await expect(hidden.get_by_role("button", name="I hear you: 1 person")).to_be_visible()
        no_errors(lt, at, bt)
    publish("widget-reactions")


async def test_muted_reactions_are_not_counted(server: ServerProcess, browser: Browser) -> None:
    said = "It helps to write it down."
    async with tab(browser) as at, tab(browser) as bt, tab(browser) as ct:
        a = await Widget(at).load(server.http)
        b = await Widget(bt).load(server.http)
        c = await Widget(ct).load(server.http)
        for x in (a, b, c):
            await x.join_group("Grief")
        await a.send(said)
        b_handle = await b.handle()
        await expect(c.message(said)).to_be_visible()
        await b.send("I'm here too.")
        await c.options(b_handle).click()
        await c.menuitem(f"Mute {b_handle}").click()
        await expect(c.log.get_by_text(f"You muted {b_handle}.", exact=False)).to_be_visible()
        await toolbar(b.log, said).get_by_role("button", name="Same here").click()
        await expect(
            toolbar(b.log, said).get_by_role("button", name="Same here: 1 person")
        ).to_be_visible()
        await expect(a.log.locator(".msg.mine .heard")).to_contain_text("Same here")
        await toolbar(c.log, said).get_by_role("button", name="I hear you").click()
        c_bar = toolbar(c.log, said)
        await expect(c_bar.get_by_role("button", name="I hear you: 1 person")).to_be_visible()
        # b's reaction is left out for c, who muted b
        await expect(c_bar.get_by_role("button", name="Same here", exact=True)).to_be_visible()
        no_errors(at, bt, ct)


# ---------------------------------------------------------------------- local demo


async def test_the_local_demo_offers_a_sign_in(browser: Browser) -> None:
    with chatserver("--filters", "") as local:  # no secret, on loopback: the local demo
        async with tab(browser, 1280, 800) as lt:
            await lt.page.goto(local.http + "/listener")
            button = lt.page.get_by_role("button", name="Sign in as a local listener")
            await button.click()
            await expect(lt.page.get_by_text("Signed in as Local listener")).to_be_visible()
            await expect(lt.page.locator("#languages input")).to_have_count(1)
            no_errors(lt)

    async with tab(browser, 1280, 800) as lt:  # a secret is set: no such offer, no error
        with chatserver("--listener-secret", SECRET) as other:
            await lt.page.goto(other.http + "/listener")
            await expect(lt.page.get_by_label("Listener token")).to_be_visible()
            await expect(
                lt.page.get_by_role("button", name="Sign in as a local listener")
            ).to_be_hidden()
            no_errors(lt)
