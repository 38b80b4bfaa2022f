"""``chat-client``: a terminal client for talking to a running chatserver.

    chat-client --url ws://127.0.0.1:8765 --topic anxiety

Type a line and press Enter to send it; /help lists the commands. On a terminal, line
editing and history come from prompt_toolkit, and what others say appears above the line you
are typing. With stdin from a pipe, each line is read as typed (for scripts and tests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Sequence

from websockets.exceptions import InvalidHandshake, InvalidURI

from clients.client import ChatClient, ChatClosed, ChatError
from clients.render import Command, Screen, help_lines, parse
from protocol.messages import Held

EXIT_UNREACHABLE = 1
EXIT_TOPIC = 2


def say(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


async def _lines() -> AsyncIterator[str]:
    """Typed lines, until Ctrl-D, Ctrl-C or the end of a piped stdin."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.patch_stdout import patch_stdout

        session: PromptSession[str] = PromptSession(erase_when_done=True)
        with patch_stdout(raw=True):
            while True:
                try:
                    yield await session.prompt_async("> ")
                except (EOFError, KeyboardInterrupt):
                    return
    else:
        while line := await asyncio.to_thread(sys.stdin.readline):
            yield line


async def _printer(client: ChatClient, screen: Screen) -> None:
    async for frame in client:
        say(*screen.render(frame))
    say("  · The connection closed. Start chat-client again to come back.")


class Talk:
    """The rooms a person is in and what each typed command does."""

    def __init__(self, client: ChatClient, screen: Screen, room: str) -> None:
        self.client, self.screen, self.room = client, screen, room
        self.rooms = [room]

    async def do(self, cmd: Command) -> bool:
        """Carry out one command; False to stop."""
        if cmd.name == "quit":
            return False
        try:
            await self._do(cmd)
        except ChatError as exc:
            say(f"  ! {exc.frame.message}")
        return True

    async def _do(self, cmd: Command) -> None:
        if cmd.name == "help":
            say(*help_lines())
        elif cmd.name == "unknown":
            say(f"  ! There is no /{cmd.arg} command. /help lists them.")
        elif cmd.name == "show":
            say(*self.screen.show_hidden(cmd.arg))
        elif cmd.name == "join":
            await self._join(cmd.arg)
        elif cmd.name == "leave":
            await self._leave()
        elif cmd.name == "room":
            self._switch(cmd.arg)
        elif cmd.name == "cw":
            await self._send_held()
        else:
            await self._say(self.room, cmd.arg, None)

    async def _join(self, topic: str) -> None:
        if not topic:
            say("  ! Which topic? For example: /join grief")
            return
        joined = await self.client.join(topic)
        self.room = joined.room
        if joined.room not in self.rooms:
            self.rooms.append(joined.room)
        say(f"  · You joined #{joined.room}. {_others(joined.members, joined.handle)}")

    async def _leave(self) -> None:
        if not self.rooms:
            say("  ! You are not in a room. /join TOPIC to join one.")
            return
        left = self.room
        await self.client.leave(left)
        self.rooms.remove(left)
        self.room = self.rooms[-1] if self.rooms else ""
        now = f" You are talking in #{self.room}." if self.room else " /join TOPIC to join one."
        say(f"  · You left #{left}.{now}")

    def _switch(self, room: str) -> None:
        room = room.lstrip("#")
        if room in self.rooms:
            self.room = room
            say(f"  · You are talking in #{room}.")
        else:
            say(f"  ! You are not in #{room}. Your rooms: {', '.join(self.rooms) or 'none'}.")

    async def _send_held(self) -> None:
        if self.screen.held is None:
            say("  ! No message is waiting for a content warning.")
            return
        room, text, category = self.screen.held
        self.screen.held = None
        await self._say(room, text, category)

    async def _say(self, room: str, text: str, cw: str | None) -> None:
        if not room:
            say("  ! You are not in a room. /join TOPIC to join one.")
            return
        reply = await self.client.say(room, text, cw=cw)
        if isinstance(reply, Held):
            self.screen.held = (room, text, reply.category)
            say(*self.screen.render(reply))


def _others(members: Sequence[object], me: str) -> str:
    names = [getattr(m, "handle", "") for m in members if getattr(m, "handle", "") != me]
    return f"Here: {', '.join(names)}." if names else "Just you for now: others may join."


async def run(url: str, topic: str, encoding: str) -> int:
    try:
        client = ChatClient(url, encoding=encoding, resend_unavailable=10)
        await client.connect()
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError):
        print(f"chat-client: cannot reach a chat server at {url}. Is it running?", file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        return await _talk(client, topic)
    finally:
        await client.close()


async def _talk(client: ChatClient, topic: str) -> int:
    assert client.welcome is not None
    topics = ", ".join(client.welcome.topics)
    try:
        joined = await client.join(topic)
    except ChatError as exc:
        print(f"chat-client: {exc.frame.message} Topics here: {topics}.", file=sys.stderr)
        return EXIT_TOPIC
    screen = Screen(me=joined.handle)
    say(
        f"You are {joined.handle}, in #{joined.room}. {_others(joined.members, joined.handle)}",
        f"Topics: {topics}. Type /help for commands.",
    )
    talk = Talk(client, screen, joined.room)
    printer = asyncio.get_running_loop().create_task(_printer(client, screen))
    try:
        async for line in _lines():
            cmd = parse(line)
            if cmd is not None and not await talk.do(cmd):
                break
    except ChatClosed:
        pass
    finally:
        await client.barrier()  # what the server said before we stop is still shown
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
        for frame in client.received():
            say(*screen.render(frame))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chat-client",
        description="Talk in a chatserver topic room from a terminal. /help lists commands.",
    )
    parser.add_argument("--url", default="ws://127.0.0.1:8765", help="server websocket URL")
    parser.add_argument("--topic", default="general", help="topic room to join")
    parser.add_argument("--encoding", choices=("json", "msgpack"), default="json")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args.url, args.topic, args.encoding))
    return 0


if __name__ == "__main__":
    sys.exit(main())
