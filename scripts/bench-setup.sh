#!/usr/bin/env bash
# Tools the benchmarks (benchmarks/*.py) use, not the tests: wrk (load generator), nginx (the
# machine's ceiling). Run as root. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in wrk nginx-light; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" == "install ok installed" ]] || need+=("$pkg")
done
if [[ ${#need[@]} -gt 0 ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${need[@]}"
fi
if [[ -x .venv/bin/python ]]; then
    .venv/bin/python -m pip install --quiet -e ".[bench]"  # locust and py-spy
fi
echo "bench-setup.sh: wrk, nginx (and, in .venv, locust and py-spy) ready"
