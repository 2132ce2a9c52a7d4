#!/usr/bin/env bash
# One command: set everything up, then run the gateway on its embedded default —
# SQLite file and folders under ./var/oqs, the default personas, HTTP on 127.0.0.1:8080,
# the Web API's login host (TLS, client certificates) on 127.0.0.1:8443 and its search host
# (TLS, Authorization header) on 127.0.0.1:8444. Extra arguments go to
# `mockgateway serve` (see `.venv/bin/mockgateway serve --help`). Once listening it prints the web
# console's URL (http://127.0.0.1:8080/console/, docs/console.md) and where the login token is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/mockgateway serve "$@"
