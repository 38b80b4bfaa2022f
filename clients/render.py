"""What ``chat-client`` shows for each server frame, and what it understands of a typed line.

Pure functions, no I/O, so every frame kind's rendering is tested without a terminal. A
frame the person should see is never dropped silently: crisis lines, a held message, a
redaction, a notice and an error each get words (the reader may be having the worst night of
their life, so the words are plain and kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from protocol import ServerFrame
from protocol.belonging import Reactions
from protocol.messages import (
    ChatEnded,
    ConsentGiven,
    Crisis,
    Error,
    Escalation,
    Held,
    Message,
    Notice,
    Presence,
    PresenceBatch,
    Resource,
    RoomMode,
)

__all__ = ["COMMANDS", "Command", "Screen", "help_lines", "parse"]

#: The supportive reactions, as the person reads them.
HEARD = {
    "hear_you": "I hear you",
    "strength": "Sending strength",
    "same_here": "Same here",
    "thanks_for_sharing": "Thank you for sharing",
}

#: name -> (argument, what it does); the order is the order /help lists them in.
COMMANDS: dict[str, tuple[str, str]] = {
    "help": ("", "show these commands"),
    "join": ("TOPIC", "join a topic's group room (you can be in several)"),
    "leave": ("", "leave the room you are talking in"),
    "room": ("ROOM", "talk in another room you have joined"),
    "cw": ("", "send your held message behind a content warning"),
    "show": ("[N]", "read a message that is behind a content warning"),
    "quit": ("", "leave and close (Ctrl-C and Ctrl-D do too)"),
}


@dataclass(frozen=True, slots=True)
class Command:
    """A typed line: a command with its argument, or text to say (``name == "say"``)."""

    name: str
    arg: str = ""


def parse(line: str) -> Command | None:
    """The command a typed line asks for; None for a blank line.

    A line starting with ``/`` is a command (``//`` sends a line that starts with ``/``);
    an unknown command is ``Command("unknown", name)``, never sent to the room.
    """
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    if text.startswith("//"):
        return Command("say", text[1:])
    if not text.startswith("/"):
        return Command("say", text)
    name, _, arg = text[1:].partition(" ")
    name = name.lower()
    if name in COMMANDS:
        return Command(name, arg.strip())
    return Command("unknown", name)


def help_lines() -> list[str]:
    """The /help text."""
    lines = ["Type a message and press Enter to send it. Commands:"]
    for name, (arg, what) in COMMANDS.items():
        usage = f"/{name} {arg}".rstrip()
        lines.append(f"  {usage:<12} {what}")
    lines.append("  //text       send a message that starts with /")
    return lines


def _resource(res: Resource) -> str:
    ways = [f"call {res.phone}" if res.phone else "", f"text {res.sms}" if res.sms else ""]
    ways.append(res.url or "")
    line = f"{res.name}: " + " · ".join(w for w in ways if w)
    return f"{line} ({res.hours})" if res.hours else line


def _batch_line(frame: PresenceBatch) -> str:
    """Several people came and went at once: their names, and how many more."""
    parts = []
    for verb, named, count in (
        ("joined", frame.joins, frame.joined),
        ("left", frame.leaves, frame.left),
    ):
        if count:
            names = ", ".join(m.handle for m in named)
            more = count - len(named)
            if names and more:
                names += f" and {more} more"
            parts.append(f"{names or f'{count} people'} {verb}")
    return f"  · {'; '.join(parts)} #{frame.room}"


@dataclass
class Screen:
    """Turns frames into lines; remembers the little it needs (hidden messages, a hold).

    ``me`` is the person's own handle: their own messages show as "you".
    """

    me: str = ""
    hidden: dict[int, str] = field(default_factory=dict)  # number -> text behind a warning
    held: tuple[str, str, str] | None = None  # (room, text, category) waiting for /cw
    #: ids of the person's own recent messages, and what others last gave each
    mine: dict[str, dict[str, int]] = field(default_factory=dict)
    _next_hidden: int = 1

    def show_hidden(self, arg: str) -> list[str]:
        """The text of a message behind a content warning (the newest when no number)."""
        if not self.hidden:
            return ["  Nothing is hidden right now."]
        key = int(arg) if arg.isdigit() else max(self.hidden)
        text = self.hidden.get(key)
        return [f"  [{key}] {text}"] if text is not None else [f"  No hidden message {arg}."]

    def render(self, frame: ServerFrame) -> list[str]:
        """The lines to print for ``frame`` (empty for frames with nothing to show)."""
        if isinstance(frame, Message):
            return [self._message(frame)]
        if isinstance(frame, Presence):
            if frame.handle == self.me:
                return []
            verb = "joined" if frame.event == "join" else "left"
            return [f"  · {frame.handle} {verb} #{frame.room}"]
        if isinstance(frame, PresenceBatch):
            return [_batch_line(frame)]
        if isinstance(frame, Crisis):
            return self._crisis(frame)
        if isinstance(frame, Held):
            return self._held(frame)
        if isinstance(frame, Notice | Error):
            text = frame.text if isinstance(frame, Notice) else frame.message
            return [f"  ! {text}"]
        return self._other(frame)

    def _message(self, frame: Message) -> str:
        when = datetime.fromtimestamp(frame.ts / 1000).strftime("%H:%M")
        who = "you" if frame.handle == self.me else frame.handle
        role = "" if frame.role == "seeker" else f" ({frame.role})"
        head = f"{when} #{frame.room} {who}{role}:"
        if frame.handle == self.me:
            self.mine[frame.id] = {}
            while len(self.mine) > 50:  # bounded: only recent messages are reacted to
                del self.mine[next(iter(self.mine))]
        if frame.cw and frame.handle != self.me:
            number = self._next_hidden
            self._next_hidden += 1
            self.hidden[number] = frame.text
            while len(self.hidden) > 50:  # bounded: only the recent ones can be shown
                del self.hidden[min(self.hidden)]
            return f"{head} [content warning: {frame.cw}] type /show {number} to read it"
        body = f"[content warning: {frame.cw}] {frame.text}" if frame.cw else frame.text
        return f"{head} {body}"

    def _crisis(self, frame: Crisis) -> list[str]:
        lines = ["  ┌─ You don't have to face this alone", f"  │ {frame.text}"]
        lines += [f"  │ {_resource(r)}" for r in frame.resources]
        lines.append("  └─ Your message was still sent. If you are in danger now, call one.")
        return lines

    def _held(self, frame: Held) -> list[str]:
        return [
            f"  ! Your message was not sent yet. {frame.text}",
            f"    Type /cw to send it behind a '{frame.category}' warning, or write it again.",
        ]

    def _other(self, frame: ServerFrame) -> list[str]:
        if isinstance(frame, ChatEnded):
            return [f"  · {frame.text}"]
        if isinstance(frame, RoomMode):
            if frame.slow:
                return [f"  · Slow mode in #{frame.room}: one message every {frame.slow} s."]
            return [f"  · Slow mode is off in #{frame.room}."]
        if isinstance(frame, Escalation):
            return [f"  ! {frame.handle} may be at risk in #{frame.room}."]
        if isinstance(frame, ConsentGiven):
            return [f"  · {frame.handle} is ready to hear difficult details in #{frame.room}."]
        if isinstance(frame, Reactions):
            return self._heard(frame)
        return []

    def _heard(self, frame: Reactions) -> list[str]:
        """Others' supportive reactions to one of the person's own messages, when they grow."""
        before = self.mine.get(frame.id)
        if before is None:
            return []
        counts = {str(r): n for r, n in frame.counts.items()}
        self.mine[frame.id] = counts
        if not any(n > before.get(r, 0) for r, n in counts.items()):
            return []
        given = ", ".join(f"{HEARD.get(r, r)} ({n})" for r, n in counts.items())
        return [f"  · You were heard in #{frame.room}: {given}"]
