"""The certification harness: the Japanese scenario catalogue run against a vendor's own client.

Public surface (everything else lives in the submodules and may change):
- the catalogue: `load_catalogue`, `check_catalogue`, `render_index`, `AREAS`, `CAPABILITIES`;
- the client under test: `ClientAdapter`, `ReferenceAdapter`, `FolderAdapter`, `CommandAdapter`,
  `Environment`, and what flows through them, `Order`, `Card`, `Report`;
- settings: `HarnessSettings`, `load_settings`;
- results: `RunSummary`, `ScenarioResult`, `compare`, `read_expected`, `render_report`;
- a gateway in a subprocess: `GatewayProcess`, `AdminClient`.
"""

from mockgateway.harness.adapters import (
    ClientAdapter,
    CommandAdapter,
    Environment,
    FolderAdapter,
    ReferenceAdapter,
)
from mockgateway.harness.catalogue import AREAS, CAPABILITIES, render_index
from mockgateway.harness.catalogue import check as check_catalogue
from mockgateway.harness.catalogue import load as load_catalogue
from mockgateway.harness.orders import Card, Order, Report
from mockgateway.harness.remote import AdminClient, GatewayProcess
from mockgateway.harness.report import render as render_report
from mockgateway.harness.results import RunSummary, ScenarioResult, compare, read_expected
from mockgateway.harness.settings import HarnessSettings
from mockgateway.harness.settings import load as load_settings

__all__ = [
    "AREAS",
    "CAPABILITIES",
    "AdminClient",
    "Card",
    "ClientAdapter",
    "CommandAdapter",
    "Environment",
    "FolderAdapter",
    "GatewayProcess",
    "HarnessSettings",
    "Order",
    "ReferenceAdapter",
    "Report",
    "RunSummary",
    "ScenarioResult",
    "check_catalogue",
    "compare",
    "load_catalogue",
    "load_settings",
    "read_expected",
    "render_index",
    "render_report",
]
