"""``chat-client``: a terminal client for talking to a running chatserver.

    chat-client --url ws://127.0.0.1:8765 --topic anxiety

Type a line and press Enter to send it. Commands: /leave, /join TOPIC, /quit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from datetime import datetime

from clients.client import ChatClient, ChatClosed, ChatError
from protocol import ServerFrame
from protocol.messages import Error, Message, Notice, Presence, PresenceBatch, TypingEvent


def render(frame: ServerFrame) -> str | None:
    """One line for a person to read, or None for frames not worth showing."""
    if isinstance(frame, Message):
        when = datetime.fromtimestamp(frame.ts / 1000).strftime("%H:%M")
        role = "" if frame.role == "seeker" else f" ({frame.role})"
        body = f"[content warning: {frame.cw}] {frame.text}" if frame.cw else frame.text
        return f"{when} {frame.handle}{role}: {body}"
    if isinstance(frame, Presence):
        verb = "joined" if frame.event == "join" else "left"
        return f"  · {frame.handle} {verb} #{frame.room}"
    if isinstance(frame, PresenceBatch):
        return _batch_line(frame)
    if isinstance(frame, Notice):
        return f"  ! {frame.text}"
    if isinstance(frame, Error):
        return f"  ! {frame.message}"
    if isinstance(frame, TypingEvent):
        return None
    return None


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


async def _printer(client: ChatClient, me: set[str]) -> None:
    async for frame in client:
        if isinstance(frame, Presence) and frame.handle in me:
            continue  # our own join and leave need no announcement
        line = render(frame)
        if line is not None:
            print(line, flush=True)


async def run(url: str, topic: str, encoding: str) -> int:
    async with ChatClient(url, encoding=encoding, resend_unavailable=10) as client:
        assert client.welcome is not None
        print(
            f"Connected. You are {client.welcome.handle}. Topics: "
            f"{', '.join(client.welcome.topics)}",
            flush=True,
        )
        joined = await client.join(topic)
        room = joined.room
        others = ", ".join(m.handle for m in joined.members if m.handle != joined.handle)
        print(f"You joined #{room} as {joined.handle}. Here: {others or 'just you for now'}.")
        me = {joined.handle}
        printer = asyncio.get_running_loop().create_task(_printer(client, me))
        try:
            while True:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    break
                line = line.rstrip("\n")
                if not line.strip():
                    continue
                try:
                    if line == "/quit":
                        break
                    if line == "/leave":
                        await client.leave(room)
                    elif line.startswith("/join "):
                        joined = await client.join(line.split(maxsplit=1)[1])
                        room = joined.room  # a full topic opens its next group room
                        me.add(joined.handle)
                    else:
                        await client.say(room, line)
                except ChatError as exc:
                    print(f"  ! {exc.frame.message}", flush=True)
        except ChatClosed:
            print("The connection closed.", flush=True)
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat-client", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8765", help="server websocket URL")
    parser.add_argument("--topic", default="general", help="topic room to join")
    parser.add_argument("--encoding", choices=("json", "msgpack"), default="json")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args.url, args.topic, args.encoding))
    return 0


if __name__ == "__main__":
    sys.exit(main())
