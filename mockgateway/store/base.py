"""The repository interface the engine depends on.

The store keeps the truth (people as normalised fixture documents, insurers, control state);
the engine keeps an in-memory index built from it (`PeopleIndex`), because a per-request
database lookup halves throughput (docs/performance-baseline.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol


class Repository(Protocol):
    def replace_people(self, insurers: Mapping[str, str], documents: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace every insurer and person in one transaction."""

    def upsert_people(self, insurers: Mapping[str, str], documents: Mapping[str, Mapping[str, Any]]) -> None: ...

    def insurers(self) -> dict[str, str]: ...

    def documents(self) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def count_people(self) -> int: ...

    def get_state(self, key: str) -> Any | None: ...

    def set_state(self, key: str, value: Any) -> None: ...

    def close(self) -> None: ...
