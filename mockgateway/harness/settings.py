"""Harness settings: a TOML file (`--mg-config`), overridden by pytest options.

```toml
[client]
adapter = "command"                 # reference | folder | command
command = "python vendor_driver.py" # command adapter: run once per order
capabilities = ["eligibility"]      # what your software claims; the rest is omitted
timeout_seconds = 30                # how long the client may take for one order

[folders]
root = "/srv/oqs"                   # the folder your software watches (req/ res/ face/ trash/)
orders = "/srv/oqs-orders"          # folder adapter: where orders and reports are exchanged

[http]
port = 8080                         # also serve /oqs/{API_ID} and the Web API (plain HTTP); 0 = free port

[report]
dir = "mg-report"                   # summary.json, report.html, junit.xml, cucumber.json
expected = "baseline/summary.json"  # compare with a previous run
```
Relative paths are relative to the TOML file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mockgateway.harness.adapters import (
    ADAPTERS,
    AdapterError,
    ClientAdapter,
    CommandAdapter,
    FolderAdapter,
    ReferenceAdapter,
    parse_capabilities,
)

DEFAULT_TIMEOUT = 30.0
REFERENCE_TIMEOUT = 15.0


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class HarnessSettings:
    adapter: str = "reference"
    command: str | None = None
    capabilities: frozenset[str] | None = None  # None: the adapter's default
    timeout: float | None = None  # seconds per order; None: 15 for the reference client, else 30
    root: Path | None = None  # None: a fresh temporary root per scenario
    orders: Path | None = None  # folder adapter; None: <root>/../orders or a temporary folder
    report_dir: Path | None = None
    expected: Path | None = None
    http_port: int | None = None  # serve the convenience route + Web API (plain HTTP) here; 0 = a free port
    source: Path | None = None  # the TOML file, if any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def order_timeout(self) -> float:
        if self.timeout is not None:
            return self.timeout
        return REFERENCE_TIMEOUT if self.adapter == "reference" else DEFAULT_TIMEOUT

    def claimed(self) -> frozenset[str]:
        if self.adapter == "reference":
            return ReferenceAdapter().capabilities if self.capabilities is None else self.capabilities
        claimed = self.capabilities if self.capabilities is not None else frozenset({"eligibility"})
        # Software driven through the folder adapter talks to the terminal through its folders, by definition.
        return claimed | {"folder"} if self.adapter == "folder" else claimed

    def make_adapter(self, *, orders_fallback: Path | None = None) -> ClientAdapter:
        caps = self.claimed()
        if self.adapter == "reference":
            ref = ReferenceAdapter()
            ref.capabilities = caps
            return ref
        if self.adapter == "folder":
            orders = self.orders or (self.root.parent / "orders" if self.root else orders_fallback)
            if orders is None:
                raise SettingsError("the folder adapter needs an orders folder (--mg-orders or [folders] orders)")
            return FolderAdapter(orders=orders, capabilities=caps)
        if self.adapter == "command":
            if not self.command:
                raise SettingsError("the command adapter needs --mg-command or [client] command")
            cwd = self.source.parent if self.source else None
            return CommandAdapter.from_string(self.command, capabilities=caps, cwd=cwd)
        raise SettingsError(f"unknown adapter {self.adapter!r}; choose one of {list(ADAPTERS)}")

    def with_options(self, **options: Any) -> HarnessSettings:
        """Apply command-line options (None = not given) over the file's settings."""
        changes: dict[str, Any] = {}
        for key, given in options.items():
            if given is None:
                continue
            value: Any = given
            if key == "capabilities":
                try:
                    value = parse_capabilities(given)
                except AdapterError as exc:
                    raise SettingsError(str(exc)) from None
            elif key in ("root", "orders", "report_dir", "expected"):
                value = Path(given)
            elif key == "timeout":
                value = float(given)
            elif key == "http_port":
                value = int(given)
            changes[key] = value
        result = replace(self, **changes)
        if result.adapter not in ADAPTERS:
            raise SettingsError(f"unknown adapter {result.adapter!r}; choose one of {list(ADAPTERS)}")
        return result


def load(path: Path) -> HarnessSettings:
    """Read a harness TOML file; every unknown table or key is refused by name."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    known = {
        "client": {"adapter", "command", "capabilities", "timeout_seconds"},
        "folders": {"root", "orders"},
        "http": {"port"},
        "report": {"dir", "expected"},
    }
    for table, keys in doc.items():
        if table not in known:
            raise SettingsError(f"{path}: unknown table [{table}]; known: {sorted(known)}")
        if not isinstance(keys, dict):
            raise SettingsError(f"{path}: {table} must be a table")
        unknown = sorted(set(keys) - known[table])
        if unknown:
            raise SettingsError(f"{path}: unknown keys {unknown} in [{table}]; known: {sorted(known[table])}")
    base = path.resolve().parent

    def rel(value: Any) -> Path | None:
        if value is None:
            return None
        p = Path(str(value)).expanduser()
        return p if p.is_absolute() else base / p

    client = doc.get("client", {})
    folders = doc.get("folders", {})
    http = doc.get("http", {})
    report = doc.get("report", {})
    try:
        caps = parse_capabilities(client["capabilities"]) if "capabilities" in client else None
    except AdapterError as exc:
        raise SettingsError(f"{path}: [client] capabilities: {exc}") from None
    settings = HarnessSettings(
        adapter=str(client.get("adapter", "reference")),
        command=client.get("command"),
        capabilities=caps,
        timeout=float(client["timeout_seconds"]) if "timeout_seconds" in client else None,
        root=rel(folders.get("root")),
        orders=rel(folders.get("orders")),
        report_dir=rel(report.get("dir")),
        expected=rel(report.get("expected")),
        http_port=int(http["port"]) if "port" in http else None,
        source=path.resolve(),
    )
    if settings.adapter not in ADAPTERS:
        raise SettingsError(f"{path}: [client] adapter {settings.adapter!r}; choose one of {list(ADAPTERS)}")
    return settings
