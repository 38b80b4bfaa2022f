"""The seeker widget and the listener console in real headless Chromium against real servers.

One browser and one server (all filters on) serve the module; each test uses its own topics
and its own browser contexts, so tests do not see each other. The restart test runs its own
server on a fixed port.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.helpers.procs import ROOT, RedisProcess, ServerProcess, chatserver, free_port
from tests.widget.browser import (
    CHROMIUM,
    CRISIS_TEXT,
    GRAPHIC_TEXT,
    INJECTION,
    SECRET,
    SHOTS,
    Console,
    CuttableProxy,
    Widget,
    listener_token,
    no_errors,
    tab,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]
FILTERS = ("--filters", "pii,crisis,trauma_dump", "--listener-secret", SECRET)
DOCS_IMG = ROOT / "docs" / "img"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with chatserver(*FILTERS) as srv:
        yield srv


def publish(*names: str) -> None:
    """Copy screenshots for the README into docs/img, only when asked to
    (``WIDGET_DOCS_IMG=1``), so that a test run does not change tracked files."""
    if os.environ.get("WIDGET_DOCS_IMG") != "1":
        return
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(SHOTS / f"{name}.png", DOCS_IMG / f"{name}.png")


async def test_seeker_and_listener_hold_a_conversation(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, 1280, 800) as lt, tab(browser) as st:
        console = Console(lt)
        await console.sign_in(server.http, listener_token("l-1", "Sam", ["grief"]))
        await console.listen(2, auto=False)

        seeker = await Widget(st).load(server.http)
        await seeker.open()
        await st.assert_accessible("the widget's topic picker")
        await st.shot("widget-topics")
        await seeker.topic("Grief")
        await st.page.get_by_role("button", name="One-to-one with a listener").click()
        await expect(st.page.get_by_text("You're next in line.")).to_be_visible()
        assert "null" not in await st.page.locator("#chatserver-widget .body").inner_text()
        await st.shot("widget-queue")

        row = lt.page.locator("#queue-rows tr", has_text="Grief")
        await expect(row.locator("td").first).to_have_text("1")
        await row.get_by_role("button", name="Accept next seeker in Grief").click()

        await expect(st.page.get_by_text("You're talking with Sam")).to_be_visible()
        await expect(seeker.composer).to_be_focused()
        handle = await seeker.handle()
        chat = console.chat(handle)
        await expect(chat).to_be_visible()

        await seeker.composer.press_sequentially("Hi", delay=20)
        await expect(chat.locator(".typing")).to_have_text(f"{handle} is typing…")
        await seeker.composer.press("Enter")
        await expect(chat.locator(".msg .text", has_text="Hi")).to_be_visible()
        answer = "Hi, I'm Sam. I'm here with you. What's been happening?"
        await chat.get_by_label(f"Message to {handle}").fill(answer)
        await chat.get_by_role("button", name="Send", exact=True).click()
        reply = st.page.locator("#chatserver-widget .msg.listener")
        await expect(reply.locator(".text")).to_have_text(answer)
        await expect(reply.locator(".badge")).to_have_text("listener")
        stamp = re.compile(r"^\d{4}-\d\d-\d\dT")
        await expect(reply.locator("time")).to_have_attribute("datetime", stamp)
        await st.shot("widget-chat")
        await st.assert_accessible("the widget in a one-to-one chat")
        await lt.shot("console-chat")
        await lt.assert_accessible("the listener console with a chat")

        await chat.get_by_role("button", name="End chat").click()
        await expect(st.page.get_by_text("The chat has ended")).to_be_visible()
        await expect(chat).to_have_class(re.compile(r"\bended\b"))
        await expect(chat.get_by_role("button", name="Close")).to_be_visible()
        await st.shot("widget-ended")
        no_errors(lt, st)
    publish("widget-topics", "widget-queue", "widget-chat")


async def test_group_room_with_two_seekers_by_keyboard(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, 360, 740) as at, tab(browser) as bt:
        a = await Widget(at).load(server.http)
        # Keyboard only: Tab to the launcher, Enter, Tab to the topic, Enter, ...
        for _ in range(10):
            await at.page.keyboard.press("Tab")
            if await at.page.evaluate("() => document.activeElement.id") == "chatserver-widget":
                break
        assert await a.focused_text() == "Talk to someone"
        await at.page.keyboard.press("Enter")
        await expect(at.page.get_by_text("What would you like to talk about?")).to_be_focused()
        for _ in range(4):  # anxiety, depression, grief, loneliness
            await at.page.keyboard.press("Tab")
        assert await a.focused_text() == "Loneliness"
        await at.page.keyboard.press("Enter")
        for _ in range(4):  # "just listen", "ideas welcome" (optional), one-to-one, group
            await at.page.keyboard.press("Tab")
        assert (await a.focused_text() or "").startswith("The loneliness group")
        await at.page.keyboard.press("Enter")
        await expect(a.composer).to_be_focused()
        await expect(a.log.get_by_text("You're the first one here.")).to_be_visible()

        b = await Widget(bt).load(server.http)
        await b.join_group("Loneliness")
        b_handle = await b.handle()
        await expect(a.log.get_by_text(f"{b_handle} joined.")).to_be_visible()

        await at.page.keyboard.type("Evenings are the hardest for me.")
        await at.page.keyboard.press("Enter")
        a_handle = await a.handle()
        got = b.log.locator(".msg", has_text="Evenings are the hardest")
        await expect(got.locator(".who")).to_have_text(a_handle)
        await b.composer.press_sequentially("Same", delay=20)
        await expect(at.page.locator("#chatserver-widget .typing")).to_have_text(
            f"{b_handle} is typing…"
        )
        await b.composer.press("Enter")
        await expect(a.message("Same")).to_be_visible()
        mine = a.log.locator(".msg.mine")
        await expect(mine.locator(".who")).to_have_text("You")

        # Usable at 360 px: nothing overflows sideways.
        overflow = await at.page.evaluate(
            "() => { const p = document.querySelector('#chatserver-widget').shadowRoot"
            ".querySelector('.panel').getBoundingClientRect();"
            " return [p.left, p.right, window.innerWidth]; }"
        )
        assert overflow[0] >= 0 and overflow[1] <= overflow[2]
        await at.shot("widget-group-360")
        await at.assert_accessible("the widget in a group room at 360 px")

        # Escape once closes the panel and gives focus back to the launcher.
        await at.page.keyboard.press("Escape")
        await expect(a.launcher).to_be_focused()
        no_errors(at, bt)
    publish("widget-group-360")


async def test_content_warning_flow(server: ServerProcess, browser: Browser) -> None:
    async with tab(browser) as at, tab(browser) as bt:
        a = await Widget(at).load(server.http)
        b = await Widget(bt).load(server.http)
        await a.join_group("Trauma")
        await b.join_group("Trauma")

        await a.send(GRAPHIC_TEXT)
        held = at.page.locator("#chatserver-widget .held")
        await expect(held).to_contain_text("content warning")
        await expect(held.get_by_role("button", name="Send with content warning")).to_be_focused()
        await at.shot("widget-held")
        await held.get_by_role("button", name="Edit").click()
        await expect(a.composer).to_have_value(GRAPHIC_TEXT)
        await expect(a.composer).to_be_focused()
        await a.composer.press("Enter")
        await held.get_by_role("button", name="Send with content warning").click()
        await expect(held).to_have_count(0)

        box = b.log.locator("details.cw")
        await expect(box.locator("summary")).to_contain_text("Content warning:")
        await expect(box.locator(".text")).to_be_hidden()
        await box.locator("summary").click()
        await expect(box.locator(".text")).to_have_text(GRAPHIC_TEXT)
        await expect(a.log.locator("details.cw")).to_have_count(1)
        no_errors(at, bt)
    publish("widget-held")


async def test_crisis_card(server: ServerProcess, browser: Browser) -> None:
    async with tab(browser) as st:
        s = await Widget(st).load(server.http)
        await s.join_group("Depression")
        await s.send(CRISIS_TEXT)
        await expect(s.message(CRISIS_TEXT)).to_be_visible()  # still delivered
        card = st.page.locator("#chatserver-widget [role=alert] .crisis")
        await expect(card).to_be_visible()
        links = card.locator(".rlinks a")
        assert await links.count() >= 1
        hrefs = [await links.nth(i).get_attribute("href") or "" for i in range(await links.count())]
        assert all(h.startswith(("tel:", "sms:", "https://")) for h in hrefs), hrefs
        assert any(h.startswith("tel:") for h in hrefs), hrefs
        sms = [h for h in hrefs if h.startswith("sms:")]
        assert all(re.fullmatch(r"sms:[0-9+]+(\?&body=\w+)?", h) for h in sms), sms
        await st.shot("widget-crisis")
        await st.assert_accessible("the widget with the crisis card")
        await card.get_by_role("button", name="Hide this card").click()
        await expect(card).to_have_count(0)
        await expect(s.composer).to_be_focused()
        await st.page.get_by_role("button", name="Show the support lines again").click()
        await expect(card).to_be_visible()
        no_errors(st)


async def test_quick_exit_leaves_no_state_and_back_does_not_return(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser) as st, tab(browser) as ot:
        other = await Widget(ot).load(server.http)
        await other.join_group("Relationships")
        before = "data:text/html,<title>before</title><p>the page before</p>"
        await st.page.goto(before)
        s = await Widget(st).load(server.http)
        await s.join_group("Relationships")
        handle = await s.handle()
        await expect(other.log.get_by_text(f"{handle} joined.")).to_be_visible()
        stored = await s.stored()
        assert set(stored["session"]) == {"chatserver.widget"}
        assert stored["local"] == 0 and stored["cookies"] == ""

        await st.page.get_by_role("button", name="Quick exit").click()
        await st.page.wait_for_url("**/exit")
        await expect(st.page.get_by_role("heading", name="Easy tomato soup")).to_be_visible()
        assert await s.stored() == {"session": {}, "local": 0, "cookies": ""}
        # A normal close (1000): the others see the seat freed at once, not after the grace.
        await expect(other.log.get_by_text(f"{handle} left.")).to_be_visible()
        await st.page.go_back()
        await st.page.wait_for_url(before)
        assert "/demo" not in st.page.url

        # Escape twice does the same, from anywhere on the page.
        s2 = await Widget(st).load(server.http)
        await s2.join_group("Relationships")
        await st.page.locator("body").click(position={"x": 5, "y": 5})
        await st.page.keyboard.press("Escape")
        await st.page.keyboard.press("Escape")
        await st.page.wait_for_url("**/exit")
        assert await s2.stored() == {"session": {}, "local": 0, "cookies": ""}
        no_errors(st, ot)


async def test_resume_after_a_network_drop_shows_what_was_missed(
    server: ServerProcess, browser: Browser
) -> None:
    async with CuttableProxy(server.port) as proxy, tab(browser) as st, tab(browser) as ot:
        s = await Widget(st).load(proxy.http)
        await s.join_group("General")
        other = await Widget(ot).load(server.http)
        await other.join_group("General")
        await other.send("first")
        await expect(s.message("first")).to_be_visible()
        proxy.cut()
        await expect(st.page.get_by_text("Connection lost. Reconnecting")).to_be_visible()
        # While the seeker is away (reconnect backs off ~0.5-1 s), two messages go out.
        await other.send("second")
        await other.send("third")
        await expect(s.log.get_by_text("You're back — 2 messages you missed.")).to_be_visible()
        await expect(s.message("third")).to_be_visible()
        texts = await s.log.locator(".msg .text").all_inner_texts()
        assert texts == ["first", "second", "third"]  # in order, none twice
        await st.shot("widget-resumed")
        s_handle = await s.handle()
        await expect(other.log.get_by_text(f"{s_handle} left.")).to_have_count(0)

        # A reload in the same tab picks the conversation up again (nothing was missed).
        await st.page.reload()
        await expect(s.log.get_by_text("You're back. Nothing was missed.")).to_be_visible()
        assert await s.handle() == s_handle
        await other.send("fourth")
        await expect(s.message("fourth")).to_be_visible()
        no_errors(st, ot)
    publish("widget-resumed")


async def test_a_message_said_as_the_link_dies_arrives_once(
    server: ServerProcess, browser: Browser
) -> None:
    """The widget sends again, after resuming, what had no reply: a message lost on the
    way arrives; one that got through but whose reply was lost is not shown twice."""
    async with CuttableProxy(server.port) as proxy, tab(browser) as st, tab(browser) as ot:
        s = await Widget(st).load(proxy.http)
        await s.join_group("Loneliness")
        other = await Widget(ot).load(server.http)
        await other.join_group("Loneliness")
        await s.send("hello")
        await expect(other.message("hello")).to_be_visible()

        proxy.drop_up = True  # the message never reaches the server
        await s.send("lost on the way")
        proxy.cut()
        await expect(other.message("lost on the way")).to_be_visible(timeout=15_000)

        proxy.drop_down = True  # the message gets through; its reply does not come back
        await s.send("reply lost")
        await expect(other.message("reply lost")).to_be_visible()
        proxy.cut()
        await expect(s.log.get_by_text("You're back")).to_have_count(2, timeout=15_000)
        await s.send("after")
        await expect(other.message("after")).to_be_visible()
        texts = await other.log.locator(".msg .text").all_inner_texts()
        assert texts == ["hello", "lost on the way", "reply lost", "after"]
        mine = await s.log.locator(".msg .text").all_inner_texts()
        assert mine == ["hello", "lost on the way", "reply lost", "after"]
        no_errors(st, ot)


async def test_a_message_said_while_the_relay_is_down_goes_out_by_itself(
    browser: Browser,
) -> None:
    """Redis goes away: the node answers `unavailable`, and the widget sends the message
    again by itself (same cid) until the relay is back; the room sees it once."""
    redis = RedisProcess().start()
    try:
        with chatserver(*FILTERS, "--redis-url", redis.url) as srv:
            async with tab(browser) as st, tab(browser) as ot:
                st.expect_errors("unavailable")  # answered, then sent again by itself
                s = await Widget(st).load(srv.http)
                await s.join_group("Grief")
                other = await Widget(ot).load(srv.http)
                await other.join_group("Grief")
                await s.send("hello")
                await expect(other.message("hello")).to_be_visible()
                await asyncio.to_thread(redis.stop)
                await expect(s.log.get_by_text("brief connection problem")).to_be_visible(
                    timeout=15_000
                )
                await s.send("still there?")
                await expect(st.page.get_by_text("Trying again in a moment")).to_be_visible()
                await asyncio.to_thread(redis.start)
                await expect(other.message("still there?")).to_be_visible(timeout=25_000)
                # the refusals were handled, not shown: nothing in the log says "error"
                await expect(s.log.locator(".error")).to_have_count(0)
                await s.send("after")
                await expect(other.message("after")).to_be_visible()
                texts = await other.log.locator(".msg .text").all_inner_texts()
                assert texts == ["hello", "still there?", "after"]
                assert await s.composer.input_value() == ""  # nothing handed back to retype
    finally:
        redis.cleanup()


async def test_reconnect_after_the_server_restarts(browser: Browser) -> None:
    port = str(free_port())
    first = ServerProcess(*FILTERS, "--port", port).start()
    try:
        async with tab(browser) as st:
            st.expect_errors("resume_failed")  # the new server never knew the session
            s = await Widget(st).load(first.http)
            await s.join_group("Anxiety")
            await s.send("before the restart")
            await expect(s.message("before the restart")).to_be_visible()
            first.stop()
            await expect(st.page.get_by_text("Connection lost. Reconnecting")).to_be_visible()
            await st.shot("widget-reconnecting")
            with chatserver(*FILTERS, "--port", port):
                notice = s.log.get_by_text("this is a fresh start")
                await expect(notice).to_be_visible(timeout=20_000)
                await expect(s.log.get_by_text("You're the first one here.")).to_be_visible()
                await expect(st.page.locator("#chatserver-widget .status")).to_be_hidden()
                await s.send("after the restart")
                await expect(s.message("after the restart")).to_be_visible()
                await st.shot("widget-fresh-start")
            no_errors(st)
    finally:
        first.kill()


async def test_injection_payload_renders_literally(server: ServerProcess, browser: Browser) -> None:
    async with tab(browser, 1280, 800) as lt, tab(browser) as at, tab(browser) as bt:
        a = await Widget(at).load(server.http)
        b = await Widget(bt).load(server.http)
        await a.join_group("Grief")
        await b.join_group("Grief")
        console = Console(lt)
        await console.sign_in(server.http, listener_token("l-2", "Ada", ["grief"]))
        await lt.page.get_by_label("Join a group room").select_option("grief")
        await lt.page.locator("#group-form").get_by_role("button", name="Join").click()
        await expect(console.chat("Grief group")).to_be_visible()

        await a.send(INJECTION)
        for page, log in ((bt.page, b.log), (lt.page, console.chat("Grief group"))):
            await expect(log.locator(".text", has_text="<script>")).to_have_text(INJECTION)
            assert await log.locator("img, script, b").count() == 0
            assert await page.evaluate("() => window.__pwned") is None
        no_errors(lt, at, bt)


async def test_console_escalation_stands_out(server: ServerProcess, browser: Browser) -> None:
    async with tab(browser, 1280, 800) as lt, tab(browser) as st:
        console = Console(lt)
        await console.sign_in(server.http, listener_token("l-3", "Noor", ["loneliness"]))
        await console.listen(1, auto=True)
        s = await Widget(st).load(server.http)
        await s.open()
        await s.topic("Loneliness")
        await st.page.get_by_role("button", name="One-to-one with a listener").click()
        await expect(st.page.get_by_text("You're talking with Noor")).to_be_visible()
        handle = await s.handle()
        await s.send(CRISIS_TEXT)
        alert = lt.page.locator("#escalations .escalation")
        await expect(alert).to_contain_text(f"{handle} may be at risk")
        await expect(console.chat(handle)).to_have_class("chat escalated")
        await expect(lt.page.locator("#escalations")).to_have_attribute("aria-live", "assertive")
        await lt.shot("console-escalation")
        await lt.assert_accessible("the console with an escalation")
        # Going off shift: pause, then hand the chat over. Nobody else is free, so the
        # seeker goes back to the head of the queue, and is told so.
        await lt.page.get_by_label("Chats at once").fill("0")
        await lt.page.get_by_role("button", name="Update availability").click()
        await expect(lt.page.get_by_text("Paused")).to_be_visible()
        await console.chat(handle).get_by_role("button", name="Hand over").click()
        await expect(console.chat(handle)).to_have_class(re.compile(r"\bended\b"))
        await expect(st.page.get_by_text("Waiting for a listener")).to_be_visible()
        await expect(st.page.get_by_text("You're next in line.")).to_be_visible()
        no_errors(lt, st)
    publish("console-escalation")
