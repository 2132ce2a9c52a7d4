"""What a feature's admin route receives and may raise (docs/admin.md).

Features add routes to `gateway.admin_routes` ((method, path) → handler(AdminRequest) → (status,
body)); the admin transport (mockgateway/transports/admin.py) parses the HTTP request and calls
them. The request type lives here, below both, so that no service imports a transport.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class AdminRequest:
    method: str
    path: str
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise AdminError(400, f"body is not JSON: {exc}") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (ValueError, answered 400, for any other JSON value)."""
        doc = self.json()
        if not isinstance(doc, dict):
            raise ValueError("a JSON object is expected")
        return doc


AdminHandler = Callable[[AdminRequest], tuple[int, Any]]
