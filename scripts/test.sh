#!/usr/bin/env bash
# One command: set everything up, then lint (ruff), type-check (mypy --strict) and run the
# whole test suite (pytest, including the Japanese Gherkin catalogue). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
status=0
.venv/bin/pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "test.sh: pytest collected no tests" >&2
    exit 1
fi
exit $status
