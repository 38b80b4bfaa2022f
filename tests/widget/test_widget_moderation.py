"""Moderation in the browser (issue 9): the seeker widget's per-message menu (mute, report,
block) and the listener console's controls (remove, slow mode, end room, report) and the
moderator's "Reports" panel, against one real server for the module.

Tests run in file order; only the first one files a report before the moderator reads the
queue, so "Next report" returns that one.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.helpers.procs import ServerProcess, chatserver
from tests.widget.browser import (
    CHROMIUM,
    INJECTION,
    SECRET,
    Console,
    Widget,
    listener_token,
    no_errors,
    tab,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with chatserver("--listener-secret", SECRET) as srv:
        yield srv


async def test_seeker_reports_and_mutes_from_the_message_menu(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, 360, 740) as at, tab(browser) as bt, tab(browser, 1280, 800) as mt:
        bt.expect_errors("suspended")  # b is suspended, then tries to talk
        mt.expect_errors("queue_empty")  # the moderator asks for a second report
        a = await Widget(at).load(server.http)
        b = await Widget(bt).load(server.http)
        await a.join_group("Anxiety")
        await b.join_group("Anxiety")
        b_handle = await b.handle()
        await a.send("I'm having a hard night.")
        await b.send(INJECTION)
        await expect(a.message("<script>")).to_have_text(INJECTION)
        await expect(b.message("<script>")).to_be_visible()
        await expect(b.log.locator(".msg:not(.mine) .more")).to_have_count(1)
        await expect(b.log.locator(".msg.mine .more")).to_have_count(0)  # not on one's own

        # The menu: a button per message, opened by click or keyboard, Escape closes it and
        # gives focus back.
        options = a.options(b_handle)
        await options.click()
        await expect(options).to_have_attribute("aria-expanded", "true")
        mute = a.menuitem(f"Mute {b_handle}")
        await expect(mute).to_be_focused()
        await at.page.keyboard.press("ArrowDown")
        await expect(a.menuitem("Report this message")).to_be_focused()
        await at.assert_accessible("the widget's message menu at 360 px")
        await at.shot("widget-message-menu")
        await at.page.keyboard.press("Escape")
        await expect(a.menuitem("Report this message")).to_have_count(0)
        await expect(options).to_be_focused()
        await expect(options).to_have_attribute("aria-expanded", "false")
        await expect(a.launcher).to_be_hidden()  # Escape closed the menu, not the panel

        # Report by keyboard: Enter opens the menu, End goes to "Report this message".
        await at.page.wait_for_timeout(1600)  # not a double Escape: that is the quick exit
        await at.page.keyboard.press("Enter")
        await at.page.keyboard.press("End")
        await at.page.keyboard.press("Enter")
        sheet = at.page.get_by_role("dialog", name="Report this message")
        await expect(sheet).to_be_visible()
        await expect(sheet.locator("blockquote .text")).to_have_text(INJECTION)
        await expect(sheet.get_by_label("Being unkind or harassing")).to_be_focused()
        await at.assert_accessible("the widget's report dialog at 360 px")
        await at.shot("widget-report")
        await sheet.get_by_label("Being unkind or harassing").check()
        await sheet.get_by_label("Anything you'd like to add? (optional)").fill("It hurt.")
        await sheet.get_by_role("button", name="Send report").click()
        await expect(sheet).to_have_count(0)
        await expect(options).to_be_focused()
        await expect(a.log.get_by_text("Thank you. A moderator will look at it.")).to_be_visible()

        # Mute: confirm-free; the other's later messages do not arrive.
        await options.click()
        await a.menuitem(f"Mute {b_handle}").click()
        await expect(a.log.get_by_text(f"You muted {b_handle}.")).to_be_visible()
        await b.send("are you ignoring me")
        await expect(b.message("are you ignoring me")).to_be_visible()
        await a.send("feeling a bit better")
        await expect(a.message("feeling a bit better")).to_be_visible()
        await expect(a.message("are you ignoring me")).to_have_count(0)

        # A moderator's console reads the report (as text) and suspends the reported person.
        mod = Console(mt)
        await mod.sign_in(server.http, listener_token("m-1", "Mo", ["anxiety"], role="moderator"))
        reports = mt.page.get_by_role("region", name="Reports")
        await reports.get_by_role("button", name="Next report").click()
        card = mt.page.locator("#report-card")
        await expect(card.get_by_role("heading")).to_have_text("Being unkind or harassing")
        await expect(card.locator(".msg.flagged .text")).to_have_text(INJECTION)
        await expect(card.locator(".msg").first.locator(".who")).to_have_text("(reporter)")
        await expect(card.locator(".note")).to_have_text("Note: It hurt.")
        assert await card.locator("img, script, b").count() == 0
        assert await mt.page.evaluate("() => window.__pwned") is None
        await mt.assert_accessible("the moderator's report card")
        await mt.shot("console-report")
        await card.get_by_role("button", name="Suspend 1 hour").click()
        await expect(reports.get_by_role("status")).to_have_text("Suspend 1 hour: done.")
        await expect(b.log.get_by_text("Your messages are paused")).to_be_visible()
        await b.send("let me talk")
        await expect(b.log.locator(".system.error", has_text="paused")).to_be_visible()
        await expect(b.composer).to_have_value("let me talk")  # not sent: back in the box
        await reports.get_by_role("button", name="Next report").click()
        await expect(reports.get_by_role("status")).to_have_text("There are no open reports.")
        no_errors(at, bt, mt)


async def test_listener_slows_removes_and_ends_a_room(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, 1280, 800) as lt, tab(browser) as st, tab(browser) as ot:
        console = Console(lt)
        await console.sign_in(server.http, listener_token("l-1", "Sam", ["depression"]))
        await lt.page.get_by_label("Join a group room").select_option("depression")
        await lt.page.locator("#group-form").get_by_role("button", name="Join").click()
        room = console.chat("Depression group")
        await expect(room).to_be_visible()
        s = await Widget(st).load(server.http)
        await s.join_group("Depression")
        s_handle = await s.handle()
        o = await Widget(ot).load(server.http)
        await o.join_group("Depression")
        st.expect_errors("slow_mode", "cooldown")  # sends too soon, then rejoins too soon

        await room.get_by_label("Slow mode").select_option("30")
        slow = "Slow mode is on: one message every 30 seconds."
        await expect(s.log.get_by_text(slow)).to_be_visible()
        await s.send("one")
        await expect(s.message("one")).to_be_visible()
        await s.send("two")
        await expect(s.log.locator(".system.error", has_text="slow mode")).to_be_visible()
        await lt.shot("console-room-tools")

        remove = room.get_by_role("button", name=f"Remove {s_handle} from the room")
        await remove.click()
        dialog = lt.page.get_by_role("dialog")
        await expect(dialog).to_contain_text(f"Remove {s_handle} from")
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        await lt.assert_accessible("the console's confirmation dialog")
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(remove).to_be_focused()
        await remove.click()
        await dialog.get_by_role("button", name="Remove").click()
        await expect(room.get_by_text(f"You removed {s_handle}.")).to_be_visible()
        await expect(s.heading).to_have_text("You've been removed from the room")
        await expect(s.page.get_by_text("removed from this room by the person")).to_be_visible()
        await expect(remove).to_have_count(0)  # they left the room: no longer in the list

        # Rejoining the topic's group during the cool-down is refused, kindly.
        await st.page.get_by_role("button", name="Talk about something else").click()
        await s.topic("Depression")
        await st.page.get_by_role("button", name="The depression group").click()
        note = st.page.locator("#chatserver-widget .note")
        await expect(note).to_contain_text("come back to this topic's rooms a little later")
        await expect(note).to_contain_text("You can rejoin in about 15 min.")

        await room.get_by_role("button", name="End room").click()
        await dialog.get_by_role("button", name="End room").click()
        await expect(o.heading).to_have_text("The room has closed")
        await expect(room).to_have_class(re.compile(r"\bended\b"))
        no_errors(lt, st, ot)


async def test_block_and_report_in_a_one_to_one_chat(
    server: ServerProcess, browser: Browser
) -> None:
    async with tab(browser, 1280, 800) as lt, tab(browser) as st:
        console = Console(lt)
        await console.sign_in(server.http, listener_token("l-2", "Noor", ["loneliness"]))
        await console.listen(1, auto=True)
        s = await Widget(st).load(server.http)
        await s.open()
        await s.topic("Loneliness")
        await st.page.get_by_role("button", name="One-to-one with a listener").click()
        await expect(st.page.get_by_text("You're talking with Noor")).to_be_visible()
        handle = await s.handle()
        chat = console.chat(handle)
        await chat.get_by_label(f"Message to {handle}").fill("Hello, I'm Noor.")
        await chat.get_by_role("button", name="Send", exact=True).click()
        await expect(s.message("Hello, I'm Noor.")).to_be_visible()

        # The listener reports the participant from the chat (a native dialog).
        await chat.get_by_role("button", name=f"Report {handle}").click()
        dialog = lt.page.get_by_role("dialog", name=f"Report {handle}")
        await expect(dialog).to_be_visible()
        await lt.assert_accessible("the console's report dialog")
        await dialog.get_by_label("Spam").check()
        await dialog.get_by_role("button", name="Send report").click()
        await expect(chat.get_by_text("Report sent.")).to_be_visible()

        # The seeker's menu in a one-to-one chat: report and block, no mute.
        await s.options("Noor").click()
        await expect(s.menuitem("Report this message")).to_be_visible()
        await expect(st.page.get_by_role("menuitem", name=re.compile("^Mute"))).to_have_count(0)
        await s.menuitem("Block and leave").click()
        await expect(s.heading).to_have_text("You've left the chat")
        await expect(st.page.get_by_text("you won't hear from that person again")).to_be_visible()
        await expect(chat).to_have_class(re.compile(r"\bended\b"))
        no_errors(lt, st)
