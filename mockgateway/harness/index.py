"""`python -m mockgateway.harness.index`: write docs/catalogue.md (same as `… harness index`)."""

from __future__ import annotations

import sys

from mockgateway.harness.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main(["index", *sys.argv[1:]]))
