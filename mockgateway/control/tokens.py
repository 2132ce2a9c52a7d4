"""Web API login tokens (`idToken`), expiring by the gateway's virtual clock.

The real login's JSON body ("ユーザー名、パスワードなどの情報", [H] onshi-login.js) is not
public; the security that matters is the TLS client certificate, verified at the handshake.
A login must name a valid 医療機関コード and the token is bound to it, so a client that logs in
as one institution and queries as another is refused. A token is also bound to the instant it
was issued: moving the virtual clock back before it does not revive (or pre-date) a token, and a
token once seen expired is gone for good.

Not bound to the client certificate's 医療機関コード: granian's RSGI scope does not expose the
peer certificate (docs/reliability.md), so the certificate is verified at the handshake (CA, CRL,
validity) and the code named at login is what the token carries.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass


def new_admin_token() -> str:
    """A fresh admin API token: hex, so it can never start with '-' and be read as a command-line
    option when passed on (`serve --admin-token …`)."""
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    medical_institution: str | None
    issued: dt.datetime
    expires: dt.datetime


class TokenBook:
    def __init__(self, ttl: dt.timedelta, max_tokens: int = 100_000) -> None:
        self.ttl = ttl
        self.max_tokens = max_tokens
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def issue(self, now: dt.datetime, medical_institution: str | None) -> Token:
        token = Token(secrets.token_urlsafe(32), medical_institution, now, now + self.ttl)
        with self._lock:
            if len(self._tokens) >= self.max_tokens:  # bounded: drop expired, then the oldest
                self._tokens = {k: t for k, t in self._tokens.items() if t.expires > now}
                while len(self._tokens) >= self.max_tokens:
                    self._tokens.pop(next(iter(self._tokens)))
            self._tokens[token.value] = token
        return token

    def check(self, header: str | None, now: dt.datetime) -> tuple[Token | None, str]:
        """(token, "") when valid, else (None, why)."""
        if not header:
            return None, "Authorization ヘッダがありません"
        value = header.removeprefix("Bearer ").strip()
        token = self._tokens.get(value)
        if token is None:
            return None, "認証トークンが不明です"
        if now < token.issued:
            return None, f"認証トークンは {token.issued:%Y%m%d%H%M%S} に発行されました (現在時刻はそれより前です)"
        if now >= token.expires:
            with self._lock:  # seen expired once, gone: moving the clock back cannot revive it
                self._tokens.pop(value, None)
            return None, f"認証トークンの有効期限 {token.expires:%Y%m%d%H%M%S} を過ぎています"
        return token, ""

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
