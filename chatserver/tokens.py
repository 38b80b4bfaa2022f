"""Signed role tokens for listeners and moderators, and the revocation list.

Format: ``v1.<claims>.<signature>``, both parts base64url without padding; the signature is
HMAC-SHA256 over ``v1.<claims>`` with the server's ``listener_secret``, compared in
constant time. Claims: ``lid`` (listener id), ``name`` (display name shown to seekers),
``topics``, ``exp`` (Unix seconds), ``role`` (``listener`` or ``moderator``), and
optionally ``langs``: the languages the listener can support a seeker in (primary
subtags, "en", "es"); a token without it is read as "not stated" (the server then
applies its default language).

Lifetime: a token lives ``listener_token_ttl`` seconds (default 8 hours). Why 8: a
volunteer shift is usually 2 to 4 hours, sometimes a long night; 8 hours covers a long
shift with its handover, and bounds a leaked token to one working day (the old 12 hours
spanned two shifts). The server refuses a token that would live longer than the setting
(plus a minute of clock skew), so a token minted too long cannot outlive the policy.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from protocol.fields import LANGUAGE

#: Most languages one token may carry.
MAX_LANGUAGES = 16

ROLES = ("listener", "moderator")
#: Default lifetime of a token, seconds: a shift and its handover (see the module docs).
SHIFT_SECONDS = 8 * 3600
#: Clock skew allowed between the machine that issued a token and a node.
SKEW_SECONDS = 60


class TokenError(Exception):
    """A token cannot be used; ``reason`` is a stable code (bad, expired, revoked,
    too_long: it would outlive the service's token lifetime)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Claims:
    lid: str
    name: str
    topics: tuple[str, ...]
    exp: int
    role: str = "listener"
    languages: tuple[str, ...] = ()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(body: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def issue(claims: Claims, secret: str) -> str:
    data: dict[str, object] = {
        "lid": claims.lid,
        "name": claims.name,
        "topics": list(claims.topics),
        "exp": claims.exp,
        "role": claims.role,
    }
    if claims.languages:
        data["langs"] = list(claims.languages)
    body = "v1." + _b64(orjson.dumps(data))
    return body + "." + _sign(body, secret)


def verify(
    token: str,
    secret: str,
    *,
    now: float | None = None,
    revoked: Callable[[str], bool] = lambda _lid: False,
    longest: float | None = None,
) -> Claims:
    """The token's claims, or :class:`TokenError` (``bad``, ``expired``, ``revoked``,
    ``too_long``: it expires more than ``longest`` seconds from now, skew aside)."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "v1":
        raise TokenError("bad")
    body = parts[0] + "." + parts[1]
    if not hmac.compare_digest(_sign(body, secret).encode(), parts[2].encode()):
        raise TokenError("bad")
    try:
        data = orjson.loads(_unb64(parts[1]))
        claims = Claims(
            lid=str(data["lid"]),
            name=str(data["name"])[:64],
            topics=tuple(str(t) for t in data["topics"]),
            exp=int(data["exp"]),
            role=str(data.get("role", "listener")),
            languages=tuple(str(x) for x in data.get("langs", ())),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("bad") from exc
    if claims.role not in ROLES or not valid_languages(claims.languages):
        raise TokenError("bad")
    now = time.time() if now is None else now
    if claims.exp < now:
        raise TokenError("expired")
    if longest is not None and claims.exp > now + longest + SKEW_SECONDS:
        raise TokenError("too_long")
    if revoked(claims.lid):
        raise TokenError("revoked")
    return claims


def valid_languages(languages: Sequence[str]) -> bool:
    """At most :data:`MAX_LANGUAGES`, no repeats, each a language as on the wire."""
    return (
        len(languages) <= MAX_LANGUAGES
        and len(set(languages)) == len(languages)
        and all(LANGUAGE.matches(x) for x in languages)
    )


def parse_languages(text: str) -> tuple[str, ...]:
    """ "es, en" -> ("es", "en"); ValueError with a one-line reason if one is not valid."""
    languages = tuple(x.strip().lower() for x in text.split(",") if x.strip())
    if not valid_languages(languages):
        raise ValueError(
            f"languages must be distinct codes such as en,es (at most {MAX_LANGUAGES})"
        )
    return languages


class RevocationList:
    """Listener ids from a file (one per line, ``#`` comments), re-read when it changes, so
    a revocation takes effect without a restart."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path else None
        self._stamp: float | None = None
        self._ids: frozenset[str] = frozenset()

    def __call__(self, lid: str) -> bool:
        return lid in self.ids()

    def ids(self) -> frozenset[str]:
        if self.path is None:
            return frozenset()
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError:
            return self._ids  # keep the last known list if the file is briefly missing
        if stamp != self._stamp:
            lines = self.path.read_text().splitlines()
            self._ids = frozenset(
                line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()
            )
            self._stamp = stamp
        return self._ids


def token_main(argv: Sequence[str]) -> int:
    """``chatserver listener-token``: print a signed token for a listener or moderator."""
    parser = argparse.ArgumentParser(
        prog="chatserver listener-token",
        description="Issue a signed listener (or moderator) token. The secret must be the "
        "server's --listener-secret / CHATSERVER_LISTENER_SECRET.",
    )
    parser.add_argument("--id", required=True, help="listener id (used for revocation)")
    parser.add_argument("--name", required=True, help="display name shown to seekers")
    parser.add_argument("--topics", required=True, help="comma-separated topics")
    default_ttl = int(os.environ.get("CHATSERVER_LISTENER_TOKEN_TTL") or SHIFT_SECONDS)
    parser.add_argument(
        "--ttl",
        type=int,
        default=default_ttl,
        help="seconds until expiry (default: the servers' --listener-token-ttl, "
        f"CHATSERVER_LISTENER_TOKEN_TTL, else {SHIFT_SECONDS}: a shift)",
    )
    parser.add_argument("--role", choices=ROLES, default="listener")
    parser.add_argument(
        "--languages",
        default="",
        help="comma-separated languages the listener can support seekers in (en,es)",
    )
    parser.add_argument("--secret", default=os.environ.get("CHATSERVER_LISTENER_SECRET", ""))
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("set --secret or CHATSERVER_LISTENER_SECRET (the server's secret)")
    topics = tuple(t.strip() for t in args.topics.split(",") if t.strip())
    try:
        languages = parse_languages(args.languages)
    except ValueError as exc:
        parser.error(str(exc))
    claims = Claims(args.id, args.name, topics, int(time.time()) + args.ttl, args.role, languages)
    sys.stdout.write(issue(claims, args.secret) + "\n")
    return 0
