"""Reading fixture files: YAML as data only, bounded, with errors that name the file.

A fixture is data, so the YAML reader refuses aliases (a 739-byte "billion laughs" once expanded
to 530 MB) and bounds nesting and size far above any real fixture; every refusal is a
FixtureError naming the file, as `fixtures check` and `serve` print it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml


class FixtureError(ValueError):
    def __init__(self, source: str, where: str, field_name: str, detail: str) -> None:
        super().__init__(f"{source}: {where}: {field_name}: {detail}")
        self.source, self.where, self.field, self.detail = source, where, field_name, detail


# Limits of a fixture document (docs/fixtures): a fixture is data, so YAML aliases (the billion
# laughs) are refused outright, and nesting and size are bounded far above any real fixture.
MAX_FIXTURE_DEPTH = 64
MAX_FIXTURE_BYTES = 256 * 1024 * 1024


class _FixtureLoader(yaml.BaseLoader):
    """BaseLoader (every scalar stays a string: 00 stays "00", 20240401 stays a date text) that
    refuses aliases and nesting deeper than MAX_FIXTURE_DEPTH while composing, before anything grows."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _LimitError(f"YAML のエイリアス *{event.anchor} は使えません (行 {event.start_mark.line + 1})")
        self.depth += 1
        try:
            if self.depth > MAX_FIXTURE_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _LimitError(f"入れ子が深すぎます (最大 {MAX_FIXTURE_DEPTH} 段, 行 {mark.line + 1})")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _LimitError(Exception):
    pass


def parse_yaml(raw: bytes | str, source: str) -> Any:
    """One fixture document, or FixtureError naming `source` (unreadable, alias, too deep, too big)."""
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > MAX_FIXTURE_BYTES:
        raise FixtureError(source, "-", "-", f"大きすぎます ({size} バイト > {MAX_FIXTURE_BYTES})")
    try:
        text = raw if isinstance(raw, str) else raw.decode("utf-8")
        return yaml.load(text, Loader=_FixtureLoader)
    except _LimitError as exc:
        raise FixtureError(source, "-", "-", str(exc)) from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise FixtureError(source, "-", "-", f"読めません: {' '.join(str(exc).split())}") from None


def read_files(paths: Sequence[Path]) -> list[tuple[str, Mapping[str, Any]]]:
    out: list[tuple[str, Mapping[str, Any]]] = []
    for path in paths:
        files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            try:
                if file.stat().st_size > MAX_FIXTURE_BYTES:
                    raise FixtureError(str(file), "-", "-", f"大きすぎます (> {MAX_FIXTURE_BYTES} バイト)")
                raw = file.read_bytes()
            except OSError as exc:
                raise FixtureError(str(file), "-", "-", f"読めません: {exc}") from None
            doc = parse_yaml(raw, str(file))
            out.append((str(file), doc or {}))
    return out
