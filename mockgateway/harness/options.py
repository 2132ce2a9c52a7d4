"""The harness's --mg-… options, defined once: the pytest plugin registers them with pytest, and
`mockgateway-harness run --help` lists them (they reach pytest unchanged)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Option:
    flag: str
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    type: Callable[[str], object] | None = None

    def kwargs(self) -> dict[str, object]:
        found: dict[str, object] = {"help": self.help}
        if self.metavar is not None:
            found["metavar"] = self.metavar
        if self.choices is not None:
            found["choices"] = list(self.choices)
        if self.type is not None:
            found["type"] = self.type
        return found


OPTIONS: tuple[Option, ...] = (
    Option("--mg-config", "harness settings (TOML; see docs/vendor-guide.md)", metavar="FILE"),
    Option("--mg-adapter", "the client under test (default: reference)", choices=("reference", "folder", "command")),
    Option("--mg-command", "command adapter: the vendor command line, run once per order", metavar="CMD"),
    Option("--mg-capabilities", "what the client claims, e.g. eligibility,bulk (or 'all')", metavar="LIST"),
    Option("--mg-root", "the folder root the client watches (req/ res/ face/ trash/)", metavar="DIR"),
    Option("--mg-orders", "folder adapter: where orders and reports are exchanged", metavar="DIR"),
    Option("--mg-timeout", "how long the client may take per order", metavar="SECONDS", type=float),
    Option("--mg-report", "write summary.json, report.html (and junit.xml, cucumber.json) here", metavar="DIR"),
    Option("--mg-expected", "compare with an expected-results file (a summary.json)", metavar="FILE"),
    Option(
        "--mg-http-port",
        "during the catalogue, serve /oqs/{API_ID} and the Web API (plain HTTP) on this port (0: a free one)",
        metavar="PORT",
        type=int,
    ),
    Option("--mg-select", "run only these scenario ids (comma-separated, wildcards: OQS-ELIG-*)", metavar="IDS"),
)


def add_to(group: argparse._ArgumentGroup) -> None:
    """Declare every option on an argparse group (for `mockgateway-harness run --help`)."""
    for option in OPTIONS:
        group.add_argument(option.flag, **option.kwargs())  # type: ignore[arg-type]


def as_pytest_args(namespace: argparse.Namespace) -> list[str]:
    """The options given on the command line, back as pytest arguments (`--flag=value`: a value
    starting with '-' stays a value)."""
    argv = []
    for option in OPTIONS:
        value = getattr(namespace, option.flag.removeprefix("--").replace("-", "_"), None)
        if value is not None:
            argv.append(f"{option.flag}={value}")
    return argv
