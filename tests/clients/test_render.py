"""chat-client's words for every frame kind a person must see, and its command parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from clients.render import COMMANDS, Command, Screen, help_lines, parse
from protocol.belonging import Reactions
from protocol.messages import (
    ChatEnded,
    Crisis,
    Error,
    Held,
    Message,
    Notice,
    Presence,
    Resource,
    RoomMode,
    TypingEvent,
)


def msg(handle: str, text: str, cw: str | None = None) -> Message:
    return Message(room="grief", id="m1", seq=3, handle=handle, role="seeker", text=text,
                   ts=1_795_000_000_000, cw=cw)


def test_own_message_shows_as_you_and_others_by_handle() -> None:
    screen = Screen(me="Calm Heron")
    assert screen.render(msg("Calm Heron", "hello"))[0].endswith("#grief you: hello")
    assert screen.render(msg("Kind Otter", "hi"))[0].endswith("#grief Kind Otter: hi")


def test_crisis_card_lists_every_line_to_call() -> None:
    card = Crisis(text="You can reach someone now.", resources=(
        Resource(name="Lifeline", phone="988", sms="988", url="https://988lifeline.org",
                 hours="24/7"),
        Resource(name="Befrienders", url="https://befrienders.org"),
    ))
    lines = Screen().render(card)
    text = "\n".join(lines)
    assert "You can reach someone now." in text
    assert "Lifeline: call 988 · text 988 · https://988lifeline.org (24/7)" in text
    assert "Befrienders: https://befrienders.org" in text


def test_held_message_says_what_to_do() -> None:
    held = Held(room="trauma", reason="graphic_violence", category="violence",
                text="Could you add a content warning?")
    lines = Screen().render(held)
    assert "not sent yet" in lines[0] and "Could you add a content warning?" in lines[0]
    assert "/cw" in lines[1] and "violence" in lines[1]


def test_warned_message_is_hidden_until_shown() -> None:
    screen = Screen(me="Me")
    line = screen.render(msg("Kind Otter", "graphic words", cw="violence"))[0]
    assert "graphic words" not in line and "/show 1" in line
    assert screen.show_hidden("1") == ["  [1] graphic words"]
    assert screen.show_hidden("") == ["  [1] graphic words"]
    assert "No hidden message" in screen.show_hidden("7")[0]


def test_notices_errors_and_room_events_are_shown() -> None:
    screen = Screen(me="Me")
    assert screen.render(Notice(code="redacted", text="We removed contact details."))
    assert screen.render(Error(code="rate_limited", message="Slow down a little."))
    assert screen.render(ChatEnded(room="p-1", reason="ended_by_listener", text="Sam ended it."))
    assert "30 s" in screen.render(RoomMode(room="grief", slow=30))[0]
    assert screen.render(Presence(room="grief", event="join", handle="Kind Otter", role="seeker"))
    assert screen.render(Presence(room="grief", event="join", handle="Me", role="seeker")) == []
    assert screen.render(TypingEvent(room="grief", handle="Kind Otter", active=True)) == []


def test_parse_commands_and_text() -> None:
    assert parse("hello there\n") == Command("say", "hello there")
    assert parse("   \n") is None
    assert parse("/help") == Command("help")
    assert parse("/JOIN grief ") == Command("join", "grief")
    assert parse("/nope x") == Command("unknown", "nope")
    assert parse("//slash at the start") == Command("say", "/slash at the start")


def test_help_lists_every_command() -> None:
    text = "\n".join(help_lines())
    for name in COMMANDS:
        assert f"/{name}" in text


@given(st.text())
def test_parse_never_sends_a_command_to_the_room(line: str) -> None:
    cmd = parse(line)
    if cmd is not None and cmd.name == "say":
        assert not line.startswith("/") or line.startswith("//")


def test_presence_batch_names_who_came_and_counts_the_rest() -> None:
    from protocol.messages import Member, PresenceBatch

    screen = Screen(me="Me")
    named = PresenceBatch("general", (Member("Kind Otter", "listener"),), (), 37, 4)
    assert screen.render(named) == ["  · Kind Otter and 36 more joined; 4 people left #general"]
    both = PresenceBatch("r", (Member("A", "seeker"),), (Member("B", "seeker"),), 1, 1)
    assert screen.render(both) == ["  · A joined; B left #r"]


def test_the_writer_sees_they_were_heard_when_reactions_grow() -> None:
    screen = Screen(me="Calm Heron")
    screen.render(msg("Calm Heron", "a hard day"))
    heard = screen.render(Reactions(room="grief", id="m1", counts={"hear_you": 2}))
    assert heard == ["  · You were heard in #grief: I hear you (2)"]
    assert screen.render(Reactions(room="grief", id="m1", counts={"hear_you": 1})) == []
    assert screen.render(Reactions(room="grief", id="m9", counts={"strength": 1})) == []
