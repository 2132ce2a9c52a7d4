"""The client under test, behind one interface: every step that acts as the レセコン goes here.

- `ReferenceAdapter`: our own client (mockgateway.client), so the catalogue is green out of the box.
- `FolderAdapter`: vendor software that only watches `req` / `res` / `face`. The harness writes
  nothing into `req`: it writes an *order* into the orders folder (`<id>.order.json`), announces
  it in words, and waits for the vendor's test driver (or a person) to make the software act and
  to write `<id>.report.json` with what the software displayed.
- `CommandAdapter`: runs a vendor command line once per order, the order as JSON on standard
  input, the report as JSON on standard output.

The JSON of orders and reports is in mockgateway.harness.orders and docs/vendor-guide.md.
"""

from mockgateway.harness.adapters.base import (
    ADAPTERS,
    CAPABILITY_ALIASES,
    AdapterError,
    ClientAdapter,
    Environment,
    Performed,
    cleanup_folders,
    parse_capabilities,
    report_from_tree,
)
from mockgateway.harness.adapters.command import CommandAdapter
from mockgateway.harness.adapters.folder import FolderAdapter
from mockgateway.harness.adapters.reference import ReferenceAdapter, card_query, read_result_file

__all__ = [
    "ADAPTERS",
    "CAPABILITY_ALIASES",
    "AdapterError",
    "ClientAdapter",
    "CommandAdapter",
    "Environment",
    "FolderAdapter",
    "Performed",
    "ReferenceAdapter",
    "card_query",
    "cleanup_folders",
    "parse_capabilities",
    "read_result_file",
    "report_from_tree",
]
