"""chat-client's lines for presence: one person, and several at once (named and counted)."""

from __future__ import annotations

from clients.tui import render
from protocol.messages import Member, Presence, PresenceBatch


def test_presence_lines_name_who_came_and_count_the_rest() -> None:
    assert render(Presence("general", "join", "Quiet Fox", "seeker")) == (
        "  · Quiet Fox joined #general"
    )
    named = PresenceBatch("general", (Member("Kind Otter", "listener"),), (), 37, 4)
    assert render(named) == "  · Kind Otter and 36 more joined; 4 people left #general"
    both = PresenceBatch("r", (Member("A", "seeker"),), (Member("B", "seeker"),), 1, 1)
    assert render(both) == "  · A joined; B left #r"
