#!/usr/bin/env bash
# One command: set everything up, then lint (ruff), type-check (mypy --strict) and run the
# whole test suite (pytest, including the Japanese Gherkin catalogue). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
status=0
if [[ "$(id -u)" -eq 0 ]] && command -v unshare >/dev/null && unshare --mount --propagation private true 2>/dev/null; then
    # pcscd's socket path /run/pcscd is compiled in: give this run a private one, so the card
    # tests' own pcscd never collides with another pcscd on the machine (or a parallel run).
    mkdir -p /run/pcscd
    # A private network namespace too (loopback only), where the machine allows it: vpcd's ports
    # are fixed, so two runs side by side would otherwise take each other's card readers.
    net=""
    export MG_NETNS=""
    if command -v ip >/dev/null && unshare --net true 2>/dev/null; then
        net="--net"
        MG_NETNS=1
    fi
    unshare --mount --propagation private $net sh -c \
        '{ [ -z "$MG_NETNS" ] || ip link set lo up; } && mount -t tmpfs tmpfs /run/pcscd && exec "$0" "$@"' \
        .venv/bin/pytest "$@" || status=$?
else
    .venv/bin/pytest "$@" || status=$?
fi
if [[ $status -eq 5 ]]; then
    echo "test.sh: pytest collected no tests" >&2
    exit 1
fi
exit $status
