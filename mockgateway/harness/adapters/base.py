"""What every adapter shares: the environment a scenario points the client at, the adapter
protocol, reading a result tree as a client would, capabilities, and the folders between scenarios."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mockgateway.client.folder import Exchange  # a raw request/result file pair, when the adapter saw it
from mockgateway.harness.catalogue import CAPABILITIES
from mockgateway.harness.orders import Order, Report
from mockgateway.wire.xmlcodec import Node, Tree

ADAPTERS = ("reference", "folder", "command")
# Shorthands accepted by --mg-capabilities: "card" is everything a My Number card brings.
CAPABILITY_ALIASES: dict[str, tuple[str, ...]] = {"card": ("face", "card-reader", "certificate")}


@dataclass(slots=True)
class Environment:
    """Where the client under test points, for one scenario."""

    root: Path  # folder transport root: req/ res/ face/ trash/
    http: str | None = None  # base URL of the convenience route and admin API, when served
    progress: Callable[[], str] | None = None  # what the gateway saw since the order (for timeouts)
    webapi: str | None = None  # base URL of the Web API's login host (TLS, client certificate), when served
    webapi_search: str | None = None  # … and of its search host (TLS, server certificate only)
    pki: Path | None = None  # the test PKI behind it: ca.pem, and <code>-<status>.pem / -key.pem per 医療機関


@dataclass(frozen=True, slots=True)
class Performed:
    report: Report
    exchange: Exchange | None = None


class ClientAdapter(Protocol):
    name: str
    capabilities: frozenset[str]

    def begin(self, env: Environment) -> None:
        """A scenario starts: remember where the client points."""

    def perform(self, order: Order) -> Performed:
        """Make the client act on the order and return what it reports (never raises for the client's
        own failures: those are reports with status no-answer / error)."""

    def end(self) -> None:
        """The scenario is over."""


class AdapterError(RuntimeError):
    """The harness could not talk to the client under test at all (a configuration problem)."""


# -- reading a result tree as a client would -----------------------------------------------------


def items_of(node: Node) -> list[Tree]:
    items = node if isinstance(node, list) else [node] if node is not None else []
    return [i for i in items if isinstance(i, dict)]


def flat(tree: Tree) -> dict[str, str]:
    """Element → text; a group (e.g. LimitApplicationCertificateRelatedInfo) → its children as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in tree.items() if v is not None}


def report_from_tree(order_id: str, tree: Tree, *, request_file: str | None, result_file: str | None) -> Report:
    """What a well-behaved client shows for a result tree: segment, error, validity, each result."""
    header = tree.get("MessageHeader")
    body = tree.get("MessageBody")
    header = header if isinstance(header, dict) else {}
    body = body if isinstance(body, dict) else {}
    listing = body.get("ResultList")
    results = items_of(listing.get("ResultOfQualificationConfirmation")) if isinstance(listing, dict) else []
    segment = header.get("SegmentOfResult")
    validity = body.get("QualificationValidity")
    error = header.get("ErrorCode")
    error_message = header.get("ErrorMessage")
    message = error_message or body.get("ProcessingResultMessage") or ""
    return Report(
        order_id=order_id,
        status="answered",
        segment=segment if isinstance(segment, str) else None,
        error_code=error if isinstance(error, str) else None,
        error_message=error_message if isinstance(error_message, str) else None,
        validity=validity if isinstance(validity, str) else None,
        results=tuple(flat(r) for r in results),
        message=message if isinstance(message, str) else "",
        request_file=request_file,
        result_file=result_file,
    )


def parse_capabilities(raw: str | Sequence[str] | None, default: Sequence[str] = ("eligibility",)) -> frozenset[str]:
    """`bulk,face` or a list → a set (`card` = face + card-reader + certificate, `all` = every one);
    unknown names are refused with the known ones listed."""
    if raw is None:
        return frozenset(default)
    items = [p.strip() for p in raw.split(",")] if isinstance(raw, str) else [str(p).strip() for p in raw]
    names = {p for p in items if p}
    if "all" in names:
        return frozenset(CAPABILITIES)
    for alias, meant in CAPABILITY_ALIASES.items():
        if alias in names:
            names = (names - {alias}) | set(meant)
    unknown = sorted(names - set(CAPABILITIES))
    if unknown:
        raise AdapterError(f"unknown capabilities {unknown}; known: {sorted(CAPABILITIES)} (or 'card', 'all')")
    return frozenset(names)


def cleanup_folders(root: Path) -> None:
    """Empty req/res/face/trash between scenarios, so no scenario sees another's files."""
    for sub in ("req", "res", "face", "trash"):
        folder = root / sub
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() or path.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
