"""`python -m mockgateway …`: the same as the `mockgateway` command."""

from mockgateway.cli import main

raise SystemExit(main(prog="mockgateway"))
