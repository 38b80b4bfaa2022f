"""Issue 16, "the first hour", in the browser: the crisis card on a phone, the "new messages"
marker, and the console's small things (chat count, the Accept buttons, the escalation
banner), against one real server with all filters on.
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
    SECRET,
    Console,
    Widget,
    listener_token,
    tab,
)
from tests.widget.test_widget import publish

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with chatserver("--filters", "pii,crisis,trauma_dump", "--listener-secret", SECRET) as srv:
        yield srv


async def in_view(page: Page, target: Locator, box: Locator | None = None) -> bool:
    """Whether all of ``target`` is inside the window (and inside ``box``, a scrolling
    container, when given): what a person sees without scrolling."""
    t = await target.bounding_box()
    if t is None:
        return False
    size = page.viewport_size
    assert size is not None
    inside = (
        t["x"] >= 0
        and t["y"] >= 0
        and t["x"] + t["width"] <= size["width"] + 0.5
        and t["y"] + t["height"] <= size["height"] + 0.5
    )
    if box is not None:
        b = await box.bounding_box()
        assert b is not None
        top, bottom = b["y"] - 0.5, b["y"] + b["height"] + 0.5
        inside = inside and t["y"] >= top and t["y"] + t["height"] <= bottom
    return inside


async def test_crisis_card_on_a_phone_keeps_the_conversation_in_view(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, 1280, 800) as lt, tab(browser, 360, 740) as st:
        console = Console(lt)
        await console.sign_in(server.http, listener_token("l-9", "Ana", ["depression"]))
        await console.listen(2, auto=True)
        await expect(lt.page.locator("#listening")).to_contain_text("0 of 2 chats")

        s = await Widget(st).load(server.http)
        await s.open()
        await s.topic("Depression")
        await st.page.get_by_role("button", name="One-to-one with a listener").click()
        await expect(st.page.get_by_text("You're talking with Ana")).to_be_visible()
        handle = await s.handle()
        chat = console.chat(handle)
        # item 7: the console's count follows the chats it holds
        await expect(lt.page.locator("#listening")).to_contain_text("1 of 2 chats")

        await s.send(CRISIS_TEXT)
        card = st.page.locator("#chatserver-widget .crisis")
        await expect(card).to_be_visible()
        # compact: one primary line to call or text now; everything else behind "More help"
        primary = card.locator(".primary-line li")
        await expect(primary).to_have_count(1)
        first = primary.locator("a").first
        assert re.match(r"^(tel|sms):", await first.get_attribute("href") or "")
        more = card.locator("details.more-help")
        await expect(more).to_have_count(1)
        await expect(more).not_to_have_attribute("open", "")
        await expect(more.locator(".resources li").first).to_be_hidden()
        hide = card.get_by_role("button", name="Hide this card")

        reply = "Can you put the pills in another room, and stay with me here for a bit?"
        await chat.get_by_label(f"Message to {handle}").fill(reply)
        await chat.get_by_role("button", name="Send", exact=True).click()
        newest = s.log.locator(".msg").last
        await expect(newest.locator(".text")).to_have_text(reply)
        logbox = st.page.locator("#chatserver-widget .logbox")
        # the listener's words, the message box, the card's call line and its Hide button:
        # all on screen at once, at 360 x 740
        await st.settle()
        for what, where in (
            (newest, logbox),
            (s.composer, None),
            (first, None),
            (hide, None),
            (card.locator("summary"), None),
        ):
            assert await in_view(st.page, what, where), f"not in view at 360x740: {what}"
        await st.shot("widget-crisis-phone")
        await st.assert_accessible("the crisis card on a phone")

        # More help opens in place; the composer is still there
        await card.locator("summary").click()
        await expect(more.locator(".resources li").first).to_be_visible()
        assert await in_view(st.page, s.composer)
        await card.locator("summary").click()

        # Scrolled up to read: a new message below shows a marker, which brings it into view.
        for i in range(6):
            await chat.get_by_label(f"Message to {handle}").fill(f"line {i}: I'm right here.")
            await chat.get_by_role("button", name="Send", exact=True).click()
        await expect(s.message("line 5")).to_be_visible()
        await logbox.evaluate("(box) => { box.scrollTop = 0; }")
        marker = st.page.locator("#chatserver-widget .marker")
        await expect(marker).to_be_hidden()
        await chat.get_by_label(f"Message to {handle}").fill("Are you still with me?")
        await chat.get_by_role("button", name="Send", exact=True).click()
        await expect(marker).to_be_visible()
        await expect(marker).to_have_text("1 new message below")
        assert not await in_view(st.page, s.message("Are you still with me?"), logbox)
        await st.shot("widget-new-message-marker")
        await marker.click()
        await expect(marker).to_be_hidden()
        await st.settle()
        assert await in_view(st.page, s.message("Are you still with me?"), logbox)

        # the seeker ends the chat: the console's count goes back
        await st.page.get_by_role("button", name="End chat").click()
        await expect(chat).to_have_class(re.compile(r"\bended\b"))
        await expect(lt.page.locator("#listening")).to_contain_text("0 of 2 chats")
    publish("widget-crisis-phone")


async def test_console_queue_card_and_escalation_banner(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, 1280, 800) as lt, tab(browser) as st:
        console = Console(lt)
        await console.sign_in(server.http, listener_token("l-8", "Noor", ["anxiety", "grief"]))
        await console.listen(1, auto=False)
        s = await Widget(st).load(server.http)
        await s.open()
        await s.topic("Anxiety")
        await st.page.get_by_role("button", name="One-to-one with a listener").click()
        await expect(st.page.get_by_text("You're next in line.")).to_be_visible()

        # item 7: the Accept buttons stay inside the Queues card
        queues = lt.page.locator("#queues")
        accept = lt.page.get_by_role("button", name="Accept next seeker in Anxiety")
        await expect(accept).to_be_enabled()
        q = await queues.bounding_box()
        for button in await lt.page.locator("#queues button").all():
            b = await button.bounding_box()
            assert q is not None and b is not None
            assert b["x"] >= q["x"] and b["x"] + b["width"] <= q["x"] + q["width"], (b, q)
        await lt.shot("console-queues")

        await accept.click()
        await expect(st.page.get_by_text("You're talking with Noor")).to_be_visible()
        handle = await s.handle()
        await s.send(CRISIS_TEXT)
        banner = lt.page.locator("#escalations .escalation p")
        await expect(banner).to_contain_text(f"{handle} may be at risk")
        # item 7: the handle once, and where: the one-to-one chat and its topic
        text = await banner.inner_text()
        assert text.count(handle) == 1, text
        assert "one-to-one chat about anxiety" in text, text


async def test_a_message_in_an_empty_group_room_says_nobody_saw_it(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser) as at, tab(browser) as bt:
        a = await Widget(at).load(server.http)
        await a.join_group("Loneliness")
        await expect(a.log.get_by_text("You're the first one here.")).to_be_visible()
        await a.send("Is anyone here?")
        alone = a.log.get_by_text("Nobody else is in the room yet, so nobody has seen that.")
        await expect(alone).to_be_visible()
        await a.send("Hello?")
        await expect(a.message("Hello?")).to_be_visible()
        await expect(alone).to_have_count(1)  # said once, not after every message

        b = await Widget(bt).load(server.http)
        await b.join_group("Loneliness")
        await expect(b.log.get_by_text("1 other person is here.")).to_be_visible()
        await a.send("Oh hi!")
        await expect(b.message("Oh hi!")).to_be_visible()
        await expect(alone).to_have_count(1)


async def test_a_chat_handed_over_arrives_with_what_was_said(
    server: ServerProcess, browser: Browser
) -> None:
    """The one-to-one room's history follows ``joined``: the listener who takes a chat over
    reads the conversation so far (the console once dropped it as already seen)."""
    async with (
        tab(browser, 1280, 800) as at,
        tab(browser, 1280, 800) as bt,
        tab(browser) as st,
    ):
        first = Console(at)
        await first.sign_in(server.http, listener_token("l-6", "Ada", ["relationships"]))
        await first.listen(1, auto=True)
        s = await Widget(st).load(server.http)
        await s.open()
        await s.topic("Relationships")
        await st.page.get_by_role("button", name="One-to-one with a listener").click()
        await expect(st.page.get_by_text("You're talking with Ada")).to_be_visible()
        handle = await s.handle()
        await s.send("We had a fight and he left.")
        chat = first.chat(handle)
        await expect(chat.locator(".msg .text", has_text="he left")).to_be_visible()
        await chat.get_by_label(f"Message to {handle}").fill("That sounds so hard.")
        await chat.get_by_role("button", name="Send", exact=True).click()
        await expect(s.message("That sounds so hard.")).to_be_visible()

        second = Console(bt)
        await second.sign_in(server.http, listener_token("l-7", "Kim", ["relationships"]))
        await second.listen(1, auto=True)
        await chat.get_by_role("button", name="Hand over").click()
        taken = second.chat(handle)
        await expect(taken).to_be_visible()
        texts = taken.locator(".msg .text")
        await expect(texts).to_have_text(["We had a fight and he left.", "That sounds so hard."])
        await expect(s.log.get_by_text("has handed your chat to Kim")).to_be_visible()
