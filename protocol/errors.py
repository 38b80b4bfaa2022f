"""Errors of the wire protocol and the close codes the server uses.

Two families reach a peer, as in centrifuge:

* an **error frame** (``{"type": "error", "code": ..., "message": ...}``) answers one bad
  request and keeps the connection open; its ``code`` is an :class:`ErrorCode`;
* a **close** ends the connection with a :class:`CloseCode` that tells the client whether
  reconnecting can help.

Exception tree (everything the protocol package raises)::

    ProtocolError            a peer sent something the protocol does not allow
                             (carries .code: ErrorCode and .message: a human sentence)

The protocol package never raises anything else on bad input: decoding arbitrary bytes
either returns a frame or raises :class:`ProtocolError`.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Stable codes of error frames. Clients switch on these, never on the sentence."""

    MALFORMED = "malformed"  # bytes are not valid JSON / MessagePack / UTF-8
    INVALID_FRAME = "invalid_frame"  # decodes, but is not a frame this spec defines
    UNKNOWN_TYPE = "unknown_type"  # "type" names no client frame
    WRONG_ENCODING = "wrong_encoding"  # a text frame on a MessagePack connection or vice versa
    TOO_LARGE = "too_large"  # text longer than the server allows
    UNKNOWN_ROOM = "unknown_room"  # room is not a topic of the catalogue nor a room you hold
    NOT_IN_ROOM = "not_in_room"  # say/typing/leave in a room you have not joined
    ALREADY_JOINED = "already_joined"
    ROOM_FULL = "room_full"
    TOO_MANY_ROOMS = "too_many_rooms"  # a connection's group seats are all in use: leave one
    RATE_LIMITED = "rate_limited"  # slow down; retry_after says for how long (ms)
    UNAVAILABLE = "unavailable"  # the relay is briefly unavailable; retry_after (ms)
    RESUME_FAILED = "resume_failed"  # token unknown, expired or already used
    AUTH_FAILED = "auth_failed"  # listener token bad, expired or revoked; you stay a seeker
    FORBIDDEN = "forbidden"  # your role cannot do that (e.g. listen as a seeker)
    QUEUE_EMPTY = "queue_empty"  # accept: nobody is waiting on your topics
    NOT_WAITING = "not_waiting"  # cancel_support while not in a queue
    ALREADY_WAITING = "already_waiting"  # request_support while already in a queue
    SUSPENDED = "suspended"  # a moderator paused this session's messages; retry_after (ms)
    COOLDOWN = "cooldown"  # removed from this topic's rooms a short while ago; retry_after
    SLOW_MODE = "slow_mode"  # the room is in slow mode; retry_after (ms)
    NOT_FOUND = "not_found"  # no such participant, message or report
    INTERNAL = "internal"  # our fault; the request was not carried out


class CloseCode(enum.IntEnum):
    """Close codes the server sends. 4xxx mirror HTTP where one fits."""

    NORMAL = 1000  # the client asked to leave, or the session ended
    GOING_AWAY = 1001  # the server is shutting down; reconnect later or elsewhere
    PROTOCOL = 1002  # the websocket layer itself was violated
    UNSUPPORTED_DATA = 1003
    POLICY = 1008  # Origin not allowed, or an abuse policy was hit
    MESSAGE_TOO_BIG = 1009  # a frame above max_frame_bytes
    INTERNAL = 1011  # our fault; reconnect with resume
    SERVICE_RESTART = 1012  # node is draining: reconnect now (to another node) and resume
    TRY_AGAIN_LATER = 1013  # too many connections; reconnect after a pause
    TOO_MANY_ERRORS = 4400  # too many bad frames in a row; do not reconnect as-is
    IDLE_TIMEOUT = 4408  # nothing received for too long
    RATE_LIMIT = 4429  # sustained flooding after rate_limited errors
    SLOW_CONSUMER = 4503  # the client did not read fast enough; reconnect and resume


class ProtocolError(Exception):
    """A peer sent bytes or a frame the protocol does not allow.

    ``code`` is stable and machine-readable; ``message`` is a plain sentence that can be
    shown to a person as is.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        #: the ``ref`` of the refused frame, when it could be read
        self.ref: str | None = None

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r})"
