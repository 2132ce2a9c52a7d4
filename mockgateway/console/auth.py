"""Console sessions: the admin token exchanged once for an HttpOnly, SameSite=Strict cookie, and
the CSRF rules every state change passes.

A state change (any method but GET/HEAD) needs all of: a live session cookie; a same-origin
request by the browser's own account (`Sec-Fetch-Site: same-origin`, or an `Origin` equal to the
`Host` it was sent to; a request carrying neither is refused, because every browser this console
supports sends at least one); and the session's CSRF token in `X-CSRF-Token` (or the form field
`csrf`). SameSite=Strict alone would stop most cross-site posts; the token and the origin check
cover old browsers and same-site (other port on 127.0.0.1) pages.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

COOKIE = "mgw_console"
LANG_COOKIE = "mgw_lang"
IDLE_SECONDS = 12 * 3600  # a working day at the reception desk
MAX_SESSIONS = 64  # loopback only: a handful of browser tabs, never thousands


@dataclass(slots=True)
class Session:
    id: str
    csrf: str
    last_seen: float


class Sessions:
    """In memory on purpose: a restart logs everyone out, and nothing secret touches the disk."""

    def __init__(self) -> None:
        self._now = time.monotonic
        self._items: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def create(self) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self._now())
        with self._lock:
            self._items[session.id] = session
            while len(self._items) > MAX_SESSIONS:
                self._items.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._items.get(session_id)
            if session is None:
                return None
            now = self._now()
            if now - session.last_seen > IDLE_SECONDS:
                del self._items[session_id]
                return None
            session.last_seen = now
            self._items.move_to_end(session_id)
            return session

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def token_matches(sent: str | None, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(str(sent).encode(), expected.encode())


def cookies(header: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in out:
            out[name] = value
    return out


def session_cookie(session_id: str) -> str:
    return f"{COOKIE}={session_id}; Path=/console; HttpOnly; SameSite=Strict"


def expired_cookie() -> str:
    return f"{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"


def same_origin(headers: dict[str, str]) -> str | None:
    """None when the request comes from a page of this console; else why it is refused."""
    site = headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return f"Sec-Fetch-Site is {site!r}, not same-origin"
    origin = headers.get("origin")
    host = headers.get("host")
    if origin is not None:
        if not host or origin.lower() not in (f"http://{host}".lower(), f"https://{host}".lower()):
            return f"Origin {origin!r} is not this console's ({host!r})"
        return None
    if site is None:
        return "neither Origin nor Sec-Fetch-Site: cannot tell where the request comes from"
    return None
